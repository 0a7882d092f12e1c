"""Promise 2: only the allow-list's roles can use the key, directly or through S3.

Every principal of the allow-list (its roles, the canaries, each account's deployer) and every
role of the deployment makes each KMS call on the key and each object call through S3 (which
makes the KMS call for it); each outcome must be what ``policies/access/allowlist.yaml`` says.
A refusal counts only next to the same call by a principal allowed to make it, and only if the
key policy (or for objects the bucket or key policy) is what refused; a role of the deployment
is also probed with an admin-like identity policy attached. See ``harness/probes/cells.py``.
Then the matrix computed from the deployed policies must equal the allow-list too.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from harness.access import format_table
from harness.deploy import Deployment
from harness.policy import Policy
from harness.policy.access_matrix import (
    Allowlist,
    Bucket,
    Key,
    Role,
    compute_matrix,
    diff,
    subjects_from_allowlist,
)
from harness.probes.cells import World, role_label
from harness.probes.judge import Verdict
from harness.report import RunRecord
from harness.targets import ACCOUNT_ROLES, Capability, Target
from tests.integration.conftest import rendered_roles
from tests.integration.evidence import conclude

pytestmark = pytest.mark.promise(2)
VerdictOf = Callable[[str, str], Verdict]


@pytest.mark.requires(Capability.ENFORCES_KEY_POLICY, Capability.ENFORCES_IDENTITY_POLICY)
@pytest.mark.cells("key")
def test_direct_key_use(cell_id: str, verdict_of: VerdictOf, harness_record: RunRecord) -> None:
    conclude(verdict_of("key", cell_id), harness_record, "key")


@pytest.mark.requires(Capability.ENFORCES_KEY_POLICY, Capability.ENFORCES_BUCKET_POLICY)
@pytest.mark.cells("object")
def test_key_use_through_s3(cell_id: str, verdict_of: VerdictOf, harness_record: RunRecord) -> None:
    conclude(verdict_of("object", cell_id), harness_record, "object")


def test_every_role_of_the_deployment_is_in_the_matrix(
    pytestconfig: pytest.Config, world: World
) -> None:
    """The cells are named from the rendered templates; a live role they do not have would
    have no cells, so it fails here, by name."""
    rendered = rendered_roles(pytestconfig.getoption("templates"))
    unchecked = sorted(
        role.arn for role in world.roles if role_label(role.name, world.prefix) not in rendered
    )
    assert not unchecked, (
        f"roles of the deployment no cell of the matrix probes: {unchecked}. They are not made "
        "by the templates the suite was collected for; deploy and check the same templates"
    )


def _live_roles(
    target: Target, prefix: str, canary: str
) -> tuple[list[Role], dict[str, list[Policy]]]:
    """Every role of the deployment (the harness's canaries aside) in the three accounts:
    trust policy and identity policies."""
    roles, identities = [], {}
    for account in ACCOUNT_ROLES:
        iam = target.client("iam", target.session(account))
        for page in iam.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                name = role["RoleName"]
                if not name.startswith(f"{prefix}-") or name == canary:
                    continue
                arn = role["Arn"]
                where = f"role {name} in {account}"
                trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
                roles.append(Role(arn, Policy.parse(trust, name=f"trust policy of {where}")))
                policies = [
                    Policy.parse(
                        iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"],
                        name=f"policy {policy} of {where}",
                    )
                    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
                ]
                for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                    managed = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
                    document = iam.get_policy_version(
                        PolicyArn=attached["PolicyArn"], VersionId=managed["DefaultVersionId"]
                    )["PolicyVersion"]["Document"]
                    policies.append(
                        Policy.parse(document, name=f"{attached['PolicyName']} of {where}")
                    )
                identities[arn] = policies
    return roles, identities


# Computed, not measured: the engine decides every cell from the deployed policies, so the
# target need not enforce them, only hold them as written. The live probes above measure.
@pytest.mark.requires(Capability.APPLIES_TEMPLATE_SETTINGS)
def test_matrix_computed_from_the_deployed_policies_equals_allowlist(
    deployment: Deployment,
    allowlist: Allowlist,
    harness_target: Target,
    harness_record: RunRecord,
) -> None:
    """The matrix computed from the deployed policies (GetKeyPolicy, GetBucketPolicy, GetRole
    and role policies) by the same engine as ``harness access-matrix``: what the policies
    mean, for every principal the allow-list names, including the cells no live probe makes
    on this target."""
    a = harness_target.session("shared-services")
    key_policy = harness_target.client("kms", a).get_key_policy(
        KeyId=deployment.key_arn, PolicyName="default"
    )["Policy"]
    bucket_policy = harness_target.client("s3", a).get_bucket_policy(Bucket=deployment.bucket)[
        "Policy"
    ]
    settings = deployment.settings
    roles, identities = _live_roles(harness_target, settings.prefix, settings.canary_role_name)
    matrix = compute_matrix(
        subjects_from_allowlist(allowlist, identities),
        Key(deployment.key_arn, Policy.parse(json.loads(key_policy), name="live key policy")),
        Bucket(
            deployment.bucket,
            deployment.settings.accounts["shared-services"],
            Policy.parse(json.loads(bucket_policy), name="live bucket policy"),
        ),
        roles,
        allowlist,
        deployment.settings.region,
    )
    findings = diff(matrix, allowlist)
    harness_record.matrix_cells = [
        {
            "subject": c.subject,
            "principal": c.principal_arn,
            "category": c.category,
            "action": c.action,
            "target": c.target,
            "allowed": c.allowed,
            "reason": c.reason,
        }
        for c in matrix.cells
    ]
    harness_record.matrix_table = format_table(matrix)
    harness_record.matrix_findings = [str(f) for f in findings]
    assert not findings, "the live policies disagree with the allow-list:\n" + "\n".join(
        map(str, findings)
    )
