"""The gate's semantic checks: ``harness prove`` on the templates the gate checks.

Where checkov judges a statement by its shape, the proof decides what the policies allow for
every principal and request: it finds a bucket policy that lets an unencrypted put, a put
under another key or a request without TLS through, or lets anyone read objects, however the
statements are written. Each property that does not hold (or cannot be decided) is one
finding, at the file and line of the statement at fault: for a property not decided, the
statement its reason names; for a promise kept by a deny (encryption, TLS), the deny on the
counterexample's action that failed to refuse it; else the resource-side statement that
allows the counterexample; else the policy that should have refused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.gate.findings import Finding
from harness.proof import Result, Verdict
from harness.prove.proofs import Proof, account_templates, of_files
from harness.prove.report import caller_context

_RESOURCE_SIDE = ("key", "resource", "trust")
_KEPT_BY_A_DENY = {  # group -> the condition keys its deny tests (lower case)
    "encryption": "s3:x-amz-server-side-encryption",
    "tls": "aws:securetransport",
}


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    fix: str


RULES = {
    "key-use": Rule(
        "PROOF_KEY_USE",
        "A principal outside the allow-list can use the key, or an allow-listed one beyond "
        "its actions",
        "Grant key use only to the allow-listed roles (an account root pinned by an exact "
        "aws:PrincipalArn), each only its listed actions.",
    ),
    "encryption": Rule(
        "PROOF_ENCRYPTION",
        "A put that is not SSE-KMS under the artifact key is not denied",
        "Deny s3:PutObject on the bucket's objects unless s3:x-amz-server-side-encryption is "
        "aws:kms and s3:x-amz-server-side-encryption-aws-kms-key-id is the key's ARN.",
    ),
    "tls": Rule(
        "PROOF_TLS",
        "A request without TLS to the bucket or its objects is not denied",
        'Deny s3:* on the bucket and on bucket/* when aws:SecureTransport is "false".',
    ),
    "object-access": Rule(
        "PROOF_OBJECT_ACCESS",
        "The bucket policy lets a principal outside the allow-list read or write objects",
        "Grant object access only to allow-listed roles, on their prefixes (an account root "
        "pinned by an exact aws:PrincipalArn, never Principal *).",
    ),
    "trust": Rule(
        "PROOF_TRUST",
        "A role can be assumed by a principal the allow-list does not name for it",
        "Trust only the principals (or the service) the allow-list names for the role.",
    ),
    "liveness": Rule(
        "PROOF_LIVENESS",
        "An access the allow-list grants cannot succeed: the pipeline cannot run",
        "Let the key, bucket and trust policies (and the role's own) allow the cell.",
    ),
}
UNDECIDED = Rule(
    "PROOF_UNDECIDED",
    "A promise could not be proven (a construct the model cannot encode, or no decision in time)",
    "Rewrite the construct the detail names, or prove the promise by other means.",
)


def _statement_at(proof: Proof, result: Result) -> tuple[str, Path, int] | None:
    """The resource-side statement that decided the first counterexample, if in a file."""
    for example in result.examples[:1]:
        for decided in example.requests:
            for ref in decided.decision.statements:
                where = proof.locate(ref)
                if where is not None and ref.kind in _RESOURCE_SIDE:
                    return ref.policy, *where
    return None


def _wanted(proof: Proof) -> dict[str, str]:
    """The value each deny-tested key must have for the promise to hold (lower-case keys)."""
    key_arn = next((v for v, name in proof.placeholders.values.items() if name == "${KeyArn}"), "")
    return {
        "s3:x-amz-server-side-encryption": "aws:kms",
        "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn,
        "aws:securetransport": "true",
    }


def _deny_at(proof: Proof, result: Result) -> tuple[str, Path, int] | None:
    """For a promise kept by a deny, the deny (in a policy the property reads, on the first
    counterexample's action, testing the promise's condition keys) that let it through:
    first one testing a key the counterexample sets wrong, else the first such deny."""
    keys = _KEPT_BY_A_DENY.get(result.property.group)
    found: list[tuple[bool, str, Path, int]] = []
    for example in result.examples[:1] if keys else ():
        request = example.requests[0].request
        context = {k.lower(): str(v).lower() for k, v in request.context}
        wrong = {k for k, v in _wanted(proof).items() if context.get(k) != v.lower()}
        for document in result.property.reads:
            where = proof.locations.get(document.name)
            for statement in document.policy.statements if where else ():
                named = statement.actions.match(request.action) is not None
                tested = {t.key for t in statement.conditions if t.key.startswith(keys)}
                if not statement.allow and named != statement.not_action and tested:
                    line = where.of(statement.index)
                    found.append((not tested & wrong, document.name, where.file, line))
    return min(found, key=lambda f: f[0])[1:] if found else None


def _named_at(proof: Proof, result: Result) -> tuple[str, Path, int] | None:
    """For a property that could not be decided, the statement its reason names."""
    if result.verdict is not Verdict.UNKNOWN:
        return None
    for document in result.property.reads:
        where = proof.locations.get(document.name)
        for statement in document.policy.statements if where else ():
            if statement.label in result.reason:
                return document.name, where.file, where.of(statement.index)
    return None


def _policy_at(proof: Proof, result: Result) -> tuple[str, Path, int | None]:
    """The policy the property reads (that should have refused), else the file proven."""
    for document in result.property.reads:
        where = proof.locations.get(document.name)
        if where is not None:
            return document.name, where.file, where.line
    return "file", proof.about[0] if proof.about else Path(proof.source), None


def _example(result: Result) -> str:
    for example in result.examples[:1]:
        decided = example.requests[0]
        request = decided.request
        context = ", ".join(f"{k}={v}" for k, v in caller_context(decided).items())
        verb = "allowed" if decided.decision.allowed else "denied"
        return (
            f"e.g. {request.action} on {request.resource} by {request.principal.arn}"
            + (f" with {context}" if context else "")
            + f" is {verb}"
        )
    return result.reason


def findings(proofs: Sequence[Proof]) -> list[Finding]:
    """One finding per rule and place: every property (and variant) that fails at the same
    statement is named in it, with the first counterexample."""
    places: dict[tuple[str, str, str, int | None], list[Result]] = {}
    for proof in proofs:
        for result in proof.failed:
            rule = UNDECIDED if result.verdict is Verdict.UNKNOWN else RULES[result.property.group]
            policy, file, line = (
                _named_at(proof, result)
                or _deny_at(proof, result)
                or _statement_at(proof, result)
                or _policy_at(proof, result)
            )
            places.setdefault((rule.id, policy, str(file), line), []).append(result)
    found = []
    for (rule_id, policy, file, line), results in places.items():
        rule = next(r for r in (*RULES.values(), UNDECIDED) if r.id == rule_id)
        names = sorted({f"{r.property.id} [{r.variant}]" for r in results})
        detail = f"{len(names)} failing: {', '.join(names)}; {_example(results[0])}"
        found.append(
            Finding("prove", file, policy, rule.id, rule.name, detail, rule.fix, line=line)
        )
    return found


def check(templates: Sequence[Path]) -> tuple[list[Finding], list[Path], list[str]]:
    """Findings of the proof of ``templates``, the files it proved, and why any other
    template holding policies was not proven (a fragment that cannot be put into the infra
    is not a fault of the file: it is reported, not a finding)."""
    bases = account_templates()
    missing = sorted(str(path) for path in bases.values() if not path.is_file())
    if missing:  # the gate run on other templates, away from a checkout of this project
        return (
            [],
            [],
            [
                f"the proof did not run: it puts templates into this project's infra, "
                f"and {', '.join(missing)} is not here (run from a checkout)"
            ],
        )
    proofs = of_files(templates, limit=1)  # a finding shows one counterexample
    proven = sorted({f for p in proofs if not p.unproven for f in p.about})
    notes = [f"{p.source}: not proven: {note}" for p in proofs for note in p.notes]
    return findings(proofs), proven, notes
