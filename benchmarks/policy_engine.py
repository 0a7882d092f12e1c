"""Benchmark the policy engine, side by side with principalmapper's local simulation.

Runs the documented corpus (tests/unit/policy/corpus) and a generated set of distinct
requests through ``harness.policy.evaluate`` (policies compiled once), then the very same
cases through principalmapper's ``local_check_authorization_full`` in its own venv
(``benchmarks/.venv-pmapper``, created on first run) in a subprocess. Prints every case where
the two disagree and what the corpus (i.e. AWS's documentation) says, and ends with the line
``decisions_per_s=<N> vs_pmapper=<ratio>`` (N on the generated set; the ratio compares both
engines on the generated cases principalmapper can express). Rates are per CPU second of the
deciding process (``time.process_time``), so other load on the box does not distort them.

    .venv/bin/python benchmarks/policy_engine.py [--generated 30000] [--seed 7]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.policy import Policy, Principal, Request, evaluate  # noqa: E402
from tests.unit.policy.corpus_cases import load_corpus  # noqa: E402

PMAPPER_VENV = ROOT / "benchmarks" / ".venv-pmapper"
PMAPPER_PACKAGE = "principalmapper==1.1.5"

# Runs inside the principalmapper venv: reads cases (JSON), decides each, prints JSON results.
PMAPPER_WORKER = r"""
import collections, collections.abc, gc, json, sys, time
collections.Mapping = collections.abc.Mapping  # principalmapper predates Python 3.10
collections.MutableMapping = collections.abc.MutableMapping
from principalmapper.common import Node, Policy
from principalmapper.querying.query_interface import local_check_authorization_full

def pol(doc, n):
    return Policy("arn:aws:iam::000000000000:policy/bench-%d" % n, "bench-%d" % n, doc)

cases = json.load(open(sys.argv[1]))
prepared = []
for i, c in enumerate(cases):
    is_role = ":role/" in c["node_arn"]
    node = Node(c["node_arn"], "AROABENCH%d" % i, [pol(d, j) for j, d in enumerate(c["identity"])],
                None, {} if is_role else None, None, 0, False, False,
                pol(c["boundary"], 99) if c["boundary"] else None, False, None)
    scps = [[pol(d, 100 + j)] for j, d in enumerate(c["scps"])] or None
    prepared.append((node, c["action"], c["resource"], c["context"], c["resource_policy"],
                     c["resource_owner"] if c["resource_policy"] else None, scps))
results, errors = [], []
gc.collect()
gc.freeze()  # same treatment as the engine gets: do not rescan the prepared cases
start = time.process_time()
for n, (node, action, resource, context, rp, owner, scps) in enumerate(prepared):
    try:
        results.append(local_check_authorization_full(node, action, resource, dict(context), rp,
                                                      owner, scps))
    except Exception as error:  # report, do not hide: the case counts as inexpressible
        results.append(None)
        errors.append([n, repr(error)[:160]])
seconds = time.process_time() - start
print(json.dumps({"results": results, "seconds": seconds, "errors": errors}))
"""


def document(value: Any) -> dict[str, Any] | None:
    """A policy input as principalmapper wants it: a full document dict."""
    if value is None:
        return None
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, dict) and "Statement" in value:
        statements = value["Statement"]
        return {**value, "Statement": statements if isinstance(statements, list) else [statements]}
    return {"Version": "2012-10-17", "Statement": value if isinstance(value, list) else [value]}


def pmapper_node_arn(principal: Principal) -> str | None:
    """principalmapper models IAM users and roles only; a role session is checked as its role."""
    if principal.kind.value in ("User", "Role"):
        return principal.arn
    if principal.kind.value == "AssumedRole":
        return principal.role_arn
    return None


_COMPILED: dict[tuple[int, str], tuple[Any, Policy]] = {}


def compiled(raw: Any, name: str) -> Policy:
    """Compile each policy document once, however many requests use it."""
    key = (id(raw), name)
    if key not in _COMPILED:
        _COMPILED[key] = (raw, Policy.coerce(raw, name))  # holding raw keeps its id unique
    return _COMPILED[key][1]


class BenchCase:
    """One request with its raw policy documents and its compiled policies."""

    def __init__(
        self, name: str, request: Request, kwargs: dict[str, Any], expected: bool | None
    ) -> None:
        self.name, self.request, self.expected = name, request, expected
        self.raw = kwargs
        self.compiled = {
            **kwargs,
            "identity": [
                compiled(p, f"identity policy #{i}") for i, p in enumerate(kwargs["identity"])
            ],
            "resource": None
            if kwargs["resource"] is None
            else compiled(kwargs["resource"], "resource policy"),
            "boundary": None
            if kwargs["boundary"] is None
            else compiled(kwargs["boundary"], "permissions boundary"),
            "scps": [compiled(p, f"SCP #{i}") for i, p in enumerate(kwargs["scps"])],
        }

    def decide(self) -> Any:
        return evaluate(self.request, **self.compiled)

    def for_pmapper(self) -> dict[str, Any] | None:
        node_arn = pmapper_node_arn(self.request.principal)
        if node_arn is None:
            return None
        resource = self.request.resource
        owner = self.raw.get("resource_account") or resource.split(":")[4]
        derived = self.request.principal.context()  # principalmapper infers these itself
        context = {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in self.request.context
            if derived.get(k) != v
        }
        return {
            "node_arn": node_arn,
            "action": self.request.action,
            "resource": resource,
            "context": context,
            "identity": [document(p) for p in self.raw["identity"]],
            "resource_policy": document(self.raw["resource"]),
            "resource_owner": owner,
            "boundary": document(self.raw["boundary"]),
            "scps": [document(p) for p in self.raw["scps"]],
        }


def corpus_cases() -> list[BenchCase]:
    return [BenchCase(c.id, c.request, c.kwargs, c.allowed) for c in load_corpus()]


def generated_cases(count: int, seed: int) -> list[BenchCase]:
    """Distinct requests (random object keys, principals, contexts) against varied policies."""
    rng = random.Random(seed)
    accounts = ["111111111111", "222222222222", "333333333333"]
    key_arn = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    bucket = "bench-artifacts"
    principals = [f"arn:aws:iam::{a}:role/r{i}" for a in accounts for i in range(6)]
    principals += [f"arn:aws:iam::{a}:user/u{i}" for a in accounts for i in range(3)]
    principals += [f"arn:aws:sts::{a}:assumed-role/r{i}/s{i}" for a in accounts for i in range(3)]
    prefixes = ["data/", "models/", "mlops/", "tmp/"]
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Admin",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": ["kms:Describe*", "kms:Put*", "kms:Get*", "kms:List*"],
                "Resource": "*",
            },
            {
                "Sid": "Use",
                "Effect": "Allow",
                "Principal": {
                    "AWS": [f"arn:aws:iam::{a}:role/r{i}" for a in accounts for i in (0, 1)]
                },
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            },
            {
                "Sid": "ViaS3",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
            },
            {
                "Sid": "NoPlaintextDecrypt",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "DenyWrongEncryption",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
            },
            {
                "Sid": "CrossAccountRead",
                "Effect": "Allow",
                "Principal": {"AWS": ["222222222222", "arn:aws:iam::333333333333:role/r1"]},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}/data/*", f"arn:aws:s3:::{bucket}/models/*"],
            },
            {
                "Sid": "CrossAccountWrite",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::222222222222:role/r0"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/models/*",
            },
            {
                "Sid": "SessionRead",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:sts::333333333333:assumed-role/r2/s2"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            },
            {
                "Sid": "OnlyPipelineDeletes",
                "Effect": "Deny",
                "NotPrincipal": {"AWS": ["arn:aws:iam::111111111111:role/r0", "111111111111"]},
                "Action": "s3:DeleteObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            },
        ],
    }
    statement_pool = [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"arn:aws:s3:::{bucket}/data/*",
        },
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:Get*", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key_arn},
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/models/*",
            "Condition": {"StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        },
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}},
        },
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/tmp/*",
            "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        },
        {
            "Effect": "Deny",
            "Action": "s3:PutObject",
            "Resource": "*",
            "Condition": {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["project", "owner"]}},
        },
        {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/tmp/*",
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["project"]}},
        },
    ]
    identities = {
        p: [{"Version": "2012-10-17", "Statement": rng.sample(statement_pool, rng.randint(1, 4))}]
        for p in principals
    }
    cases = []
    seen: set[Request] = set()
    while len(cases) < count:
        principal_arn = rng.choice(principals)
        principal = Principal.from_arn(principal_arn)
        context: dict[str, Any] = {
            "aws:SecureTransport": rng.choice(["true", "true", "true", "false"]),
            "aws:SourceIp": f"{rng.choice([10, 192, 203])}.0.{rng.randint(0, 2)}."
            f"{rng.randint(1, 250)}",
            "aws:CurrentTime": f"20{rng.randint(24, 31)}-0{rng.randint(1, 9)}-"
            f"1{rng.randint(0, 9)}T00:00:00Z",
        }
        if rng.random() < 0.3:
            context["aws:TagKeys"] = rng.sample(["project", "owner", "secret"], rng.randint(0, 2))
        if rng.random() < 0.5:
            action = rng.choice(
                ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
            )
            resource, kind, rp, owner = key_arn, "kms-key", key_policy, None
            if rng.random() < 0.5:
                context["kms:ViaService"] = "s3.us-east-1.amazonaws.com"
        else:
            action = rng.choice(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
            object_key = f"{rng.choice(prefixes)}{rng.getrandbits(40):x}.bin"
            resource = f"arn:aws:s3:::{bucket}/{object_key}"
            kind, rp, owner = "generic", bucket_policy, "111111111111"
            if action == "s3:PutObject" and rng.random() < 0.7:
                context["s3:x-amz-server-side-encryption"] = rng.choice(["aws:kms", "AES256"])
        request = Request(principal, action, resource, context)
        if request in seen:
            continue
        seen.add(request)
        kwargs = {
            "identity": identities[principal_arn],
            "resource": rp,
            "resource_account": owner,
            "resource_kind": kind,
            "boundary": None,
            "scps": [],
        }
        cases.append(BenchCase(f"generated #{len(cases)}", request, kwargs, None))
    return cases


def settle_garbage_collector() -> None:
    """Collect, then freeze the benchmark's own objects so collections do not rescan them."""
    gc.collect()
    gc.freeze()


def rate(cases: list[BenchCase], min_seconds: float) -> tuple[float, list[Any]]:
    """Decisions per second over whole passes taking at least ``min_seconds``."""
    decisions = [c.decide() for c in cases]  # warm caches, keep the answers
    settle_garbage_collector()
    passes, start = 0, time.process_time()
    while True:
        for case in cases:
            case.decide()
        passes += 1
        elapsed = time.process_time() - start
        if elapsed >= min_seconds:
            return passes * len(cases) / elapsed, decisions


def single_pass_rate(cases: list[BenchCase]) -> tuple[float, list[Any]]:
    """One pass, every request different: nothing can be reused but compiled policies."""
    settle_garbage_collector()
    start = time.process_time()
    decisions = [c.decide() for c in cases]
    return len(cases) / (time.process_time() - start), decisions


def ensure_pmapper() -> Path:
    python = PMAPPER_VENV / "bin" / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(PMAPPER_VENV)
    probe = subprocess.run([str(python), "-c", "import principalmapper"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", PMAPPER_PACKAGE], check=True)
    return python


def run_pmapper(python: Path, cases: list[BenchCase]) -> tuple[list[bool | None], float, int]:
    """principalmapper's answer per case (None where it cannot express the principal)."""
    payload, index = [], []
    for i, case in enumerate(cases):
        spec = case.for_pmapper()
        if spec is not None:
            payload.append(spec)
            index.append(i)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(payload, handle)
    try:
        out = subprocess.run(
            [str(python), "-c", PMAPPER_WORKER, handle.name], capture_output=True, text=True
        )
    finally:
        Path(handle.name).unlink()
    if out.returncode != 0:
        raise SystemExit(f"principalmapper worker failed:\n{out.stderr}")
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    for n, error in answer["errors"]:
        print(f"principalmapper raised on {cases[index[n]].name}: {error}")
    results: list[bool | None] = [None] * len(cases)
    for i, value in zip(index, answer["results"], strict=True):
        results[i] = value
    return results, answer["seconds"], len(payload)


def report(
    title: str, cases: list[BenchCase], ours: list[Any], theirs: list[bool | None], grouped: bool
) -> None:
    """Print every disagreement; generated ones grouped by verdicts and deciding statements."""
    disagreements = [
        (c, d, t)
        for c, d, t in zip(cases, ours, theirs, strict=True)
        if t is not None and t != d.allowed
    ]
    skipped = sum(t is None for t in theirs)
    print(
        f"\n== {title}: {len(cases)} cases, principalmapper could not express {skipped}, "
        f"disagreements {len(disagreements)}"
    )
    if grouped:
        groups = Counter((d.allowed, t, d.statements) for _, d, t in disagreements)
        for (allowed, theirs_allowed, statements), count in groups.most_common():
            example = next(
                c
                for c, d, t in disagreements
                if (d.allowed, t, d.statements) == (allowed, theirs_allowed, statements)
            )
            print(
                f"- {count} x engine {'allow' if allowed else 'deny'}, principalmapper "
                f"{'allow' if theirs_allowed else 'deny'}, deciding {list(statements)}; e.g. "
                f"{example.request.principal.arn} {example.request.action} "
                f"{example.request.resource} {dict(example.request.context)}"
            )
        return
    for case, decision, theirs_allowed in disagreements:
        docs = (
            ""
            if case.expected is None
            else f" docs: {'allow' if case.expected else 'deny'}"
            f" ({'engine' if case.expected == decision.allowed else 'principalmapper'})"
        )
        print(
            f"- {case.name}: engine {'allow' if decision.allowed else 'deny'}, principalmapper "
            f"{'allow' if theirs_allowed else 'deny'};{docs}\n    {decision.reason}"
        )
    return disagreements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    corpus = corpus_cases()
    generated = generated_cases(args.generated, args.seed)
    corpus_rate, corpus_decisions = rate(corpus, 2.0)
    generated_rate, generated_decisions = single_pass_rate(generated)
    fresh_rates = [
        single_pass_rate(generated_cases(args.generated, args.seed + i))[0] for i in (1, 2)
    ]
    generated_rate = statistics.median([generated_rate, *fresh_rates])
    wrong = [
        c.name for c, d in zip(corpus, corpus_decisions, strict=True) if d.allowed != c.expected
    ]
    print(
        f"engine: corpus {len(corpus)} cases, {corpus_rate:,.0f} decisions/s "
        f"({len(wrong)} differ from the documented answer)"
    )
    print(
        f"engine: generated {len(generated)} distinct requests, {generated_rate:,.0f} "
        "decisions/s (median of single passes over three fresh sets)"
    )

    python = ensure_pmapper()
    corpus_theirs, _, _ = run_pmapper(python, corpus)
    generated_theirs, pm_seconds, pm_count = run_pmapper(python, generated)
    pm_rate = pm_count / pm_seconds
    comparable = [c for c, t in zip(generated, generated_theirs, strict=True) if t is not None]
    ours_on_same, _ = single_pass_rate(comparable)
    print(
        f"principalmapper: generated {pm_count} expressible requests, {pm_rate:,.0f} decisions/s;"
        f" engine on the same requests {ours_on_same:,.0f} decisions/s"
    )

    report("corpus", corpus, corpus_decisions, corpus_theirs, grouped=False)
    report("generated", generated, generated_decisions, generated_theirs, grouped=True)
    print(f"decisions_per_s={generated_rate:.0f} vs_pmapper={ours_on_same / pm_rate:.1f}")


if __name__ == "__main__":
    main()
