"""The access matrix of this project's own infra, computed from its rendered templates.

The three account templates are resolved offline for a set of account ids (the same resolver
the local target deploys with), every role's trust and identity policies, the key policy and
the bucket policy are taken from them, and the policy engine decides each cell of the
allow-list's matrix. A difference from ``policies/access/allowlist.yaml`` is a finding that
names the principal, the action and the deciding statement, before anything is deployed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.allowlist import (
    ALLOWLIST,
    DEFAULT_ACCOUNTS,
    DEFAULT_OUTSIDER,
    DEPLOYER_ROLE,
    allowlist_path,
    load_allowlist,
    static_bindings,
)
from harness.cloudformation import ResolvedTemplate, resolve
from harness.exit_codes import exit_codes_help
from harness.policy import Policy
from harness.policy.access_matrix import (
    Allowlist,
    Bucket,
    Finding,
    Key,
    Matrix,
    Role,
    compute_matrix,
    diff,
    guarded_organization,
    subjects_from_allowlist,
)
from harness.targets import OUTSIDER
from harness.templates import ACCOUNT_TEMPLATES, load_template
from harness.validation import Inputs, refuse


def deployment_allowlist(
    accounts: Mapping[str, str], deployers: Mapping[str, str], prefix: str
) -> Allowlist:
    """The allow-list bound to a deployment: ``accounts`` and ``deployers`` by account role
    (an outsider the target lacks keeps the rendered default) and the prefix."""
    values = {letter: accounts[role] for role, letter in STACK_ACCOUNT.items()}
    values["Outsider"] = accounts.get(OUTSIDER, DEFAULT_OUTSIDER)
    values |= {f"Deployer{letter}": deployers[role] for role, letter in STACK_ACCOUNT.items()}
    return load_allowlist(allowlist_path(), values, prefix=prefix)


SCP_HELP = (
    "an SCP (JSON) attached to the training and production accounts, as harness run --scp "
    "attaches it (A, the management account, is exempt); repeatable"
)
# A key id for the resolved key ARN: any well-formed id will do, nothing is created.
STATIC_KEY_ID = "0b1e5e6c-0000-4000-8000-00000000a11c"
STACK_ACCOUNT = {"shared-services": "A", "training": "B", "production": "C"}


@dataclass(frozen=True)
class AccessReport:
    """The matrix, the findings against the allow-list, and what it was computed from."""

    matrix: Matrix
    findings: list[Finding]
    accounts: Mapping[str, str]


def resolve_account_stacks(
    accounts: Mapping[str, str],
    prefix: str = "mlops",
    region: str = "us-east-1",
    templates: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, ResolvedTemplate]:
    """Resolve A, then B and C with A's outputs, as a deployment would wire them."""
    loaded = templates or {name: load_template(path) for name, path in ACCOUNT_TEMPLATES.items()}
    a, b, c = (accounts[k] for k in "ABC")
    shared = resolve(
        loaded["shared-services"],
        {
            "Prefix": prefix,
            "TrainingAccountId": b,
            "ProductionAccountId": c,
            "DataPublisherPrincipalArn": f"arn:aws:iam::{a}:role/{DEPLOYER_ROLE}",
        },
        a,
        region,
        f"{prefix}-shared-services",
        physical_ids={"ArtifactKey": STATIC_KEY_ID},
    )
    outputs = {name: out.value for name, out in shared.outputs.items()}
    downstream = {
        "Prefix": prefix,
        "SharedServicesAccountId": a,
        "ArtifactBucketName": outputs["ArtifactBucketName"],
        "ArtifactKeyArn": outputs["ArtifactKeyArn"],
    }
    resolved = {"shared-services": shared}
    for name in ("training", "production"):
        resolved[name] = resolve(
            loaded[name], downstream, accounts[STACK_ACCOUNT[name]], region, f"{prefix}-{name}"
        )
    return resolved


def _of_type(stacks: Mapping[str, ResolvedTemplate], type_name: str):
    for stack_name, stack in stacks.items():
        for resource in stack.resources.values():
            if resource.type == type_name:
                yield stack_name, resource


def project_access(
    accounts: Mapping[str, str] = DEFAULT_ACCOUNTS,
    prefix: str = "mlops",
    region: str = "us-east-1",
    templates: Mapping[str, dict[str, Any]] | None = None,
    allowlist_path: Path = ALLOWLIST,
    scps: Sequence[Policy] = (),
) -> AccessReport:
    """Compute the matrix of the rendered infra and diff it with the allow-list; ``scps``
    attached to B and C as ``harness run --scp`` attaches them (A, the management account,
    is exempt)."""
    stacks = resolve_account_stacks(accounts, prefix, region, templates)
    managed = {  # customer managed policies of the templates, by ARN (their Ref)
        policy.physical_id: Policy.parse(
            policy.properties["PolicyDocument"], name=f"managed policy {policy.physical_id}"
        )
        for _, policy in _of_type(stacks, "AWS::IAM::ManagedPolicy")
    }
    identities: dict[str, list[Policy]] = {}
    boundaries: dict[str, Policy] = {}
    roles = []
    for stack_name, role in _of_type(stacks, "AWS::IAM::Role"):
        arn = role.attributes["Arn"]
        where = f"{stack_name} {role.logical_id}"
        trust = role.properties["AssumeRolePolicyDocument"]
        roles.append(Role(arn, Policy.parse(trust, name=f"trust policy of {where}")))
        identities[arn] = [
            Policy.parse(p["PolicyDocument"], name=f"policy {p['PolicyName']} of {where}")
            for p in role.properties.get("Policies", [])
        ]
        identities[arn] += [
            managed[a] for a in role.properties.get("ManagedPolicyArns", []) if a in managed
        ]
        boundary = managed.get(role.properties.get("PermissionsBoundary", ""))
        if boundary is not None:
            boundaries[arn] = boundary
    [(_, key)] = list(_of_type(stacks, "AWS::KMS::Key"))
    [(_, bucket_policy)] = list(_of_type(stacks, "AWS::S3::BucketPolicy"))
    bucket_name = bucket_policy.properties["Bucket"]
    allowlist = load_allowlist(allowlist_path, static_bindings(accounts), prefix=prefix)
    organization = guarded_organization(accounts["A"], [accounts["B"], accounts["C"]], scps)
    matrix = compute_matrix(
        subjects_from_allowlist(allowlist, identities, boundaries=boundaries),
        Key(key.attributes["Arn"], Policy.parse(key.properties["KeyPolicy"], name="key policy")),
        Bucket(
            bucket_name,
            accounts["A"],
            Policy.parse(bucket_policy.properties["PolicyDocument"], name="bucket policy"),
        ),
        roles,
        allowlist,
        region,
        organization,
    )
    return AccessReport(matrix, diff(matrix, allowlist), accounts)


def format_table(matrix: Matrix) -> str:
    """One row per principal: what it may do with the key, each object, and which roles."""
    rows: dict[str, dict[str, list[str]]] = {}
    for cell in matrix.cells:
        row = rows.setdefault(cell.subject, {"key": [], "bucket": [], "assume": []})
        if not cell.allowed:
            continue
        if cell.category == "key":
            row["key"].append(cell.action.removeprefix("kms:"))
        elif cell.category == "bucket":
            row["bucket"].append(f"{cell.action.removeprefix('s3:')} {cell.target}")
        else:
            row["assume"].append(cell.target.rsplit("/", 1)[-1])
    width = max(len(name) for name in rows)
    lines = [f"{'principal':<{width}}  key | bucket | assume"]
    for name, row in rows.items():
        cells = [", ".join(row[c]) or "-" for c in ("key", "bucket", "assume")]
        lines.append(f"{name:<{width}}  {' | '.join(cells)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="harness access-matrix",
        description="Who may use the key, write the bucket and assume the roles, from the "
        "rendered infra, compared with policies/access/allowlist.yaml.",
        epilog=exit_codes_help("access-matrix"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--accounts",
        default=",".join(DEFAULT_ACCOUNTS.values()),
        help="account ids of A,B,C (default: the test accounts)",
    )
    parser.add_argument("--prefix", default="mlops")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--json", type=Path, help="also write the matrix as JSON here")
    parser.add_argument("--scp", type=Path, action="append", default=[], help=SCP_HELP)
    args = parser.parse_args(argv)
    ids = args.accounts.split(",")
    accounts = {("ABC"[n] if n < 3 else f"#{n + 1}"): i for n, i in enumerate(ids)}
    inputs = Inputs(
        prefix=args.prefix,
        regions=(args.region,),
        accounts=accounts,
        account_roles=("A", "B", "C"),
        templates=dict(ACCOUNT_TEMPLATES),
        allowlist=ALLOWLIST,
        report=None if args.json is None else args.json.parent,
        scps=tuple(args.scp),
    )
    if (refused := refuse("harness access-matrix", inputs)) is not None:
        return refused
    from harness.deploy.guardrails import read_scp  # the deploy layer, only when asked

    scps = [read_scp(path).policy for path in args.scp]
    report = project_access(accounts, args.prefix, args.region, scps=scps)
    print(format_table(report.matrix))
    if args.json:
        cells = [
            {
                k: getattr(c, k)
                for k in (
                    "subject",
                    "principal_arn",
                    "category",
                    "action",
                    "target",
                    "allowed",
                    "reason",
                )
            }
            for c in report.matrix.cells
        ]
        args.json.write_text(json.dumps({"cells": cells}, indent=2) + "\n")
    for finding in report.findings:
        print(f"FINDING: {finding}")
    print(f"{len(report.findings)} finding(s) against {ALLOWLIST.name}")
    return 1 if report.findings else 0
