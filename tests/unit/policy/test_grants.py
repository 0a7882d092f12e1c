"""KMS grants weighed after the policies (harness.policy.grants).

https://docs.aws.amazon.com/kms/latest/developerguide/grants.html: a grant only allows;
https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html: nothing is allowed
that a policy denies. That an SCP which does not allow the request also keeps a grant from
allowing it is our reading (doubtful, see the module's docstring).
"""

from __future__ import annotations

from harness.policy import Principal, Request, evaluate
from harness.policy.grants import Grant, with_grants

KEY = "arn:aws:kms:us-east-1:111111111111:key/k"
ROLE = "arn:aws:iam::222222222222:role/grantee"
SESSION = Principal.from_arn("arn:aws:sts::222222222222:assumed-role/grantee/s")
KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}
GRANT = Grant.from_api(KEY, {"GrantId": "g1", "GranteePrincipal": ROLE, "Operations": ["Decrypt"]})


def _decide(scps: list[dict] | None = None, action: str = "kms:Decrypt"):  # type: ignore[no-untyped-def]
    request = Request(SESSION, action, KEY, {"kms:EncryptionContextKeys": []})
    decision = evaluate(request, resource=KEY_POLICY, resource_kind="kms-key", scps=scps or [])
    return with_grants(decision, request, [GRANT])


def test_a_grant_allows_its_grantee_across_accounts_and_is_cited() -> None:
    decision = _decide()
    assert decision.allowed
    assert decision.deciding_kinds == ("grant",)


def test_a_grant_allows_no_operation_it_does_not_list() -> None:
    assert not _decide(action="kms:Encrypt").allowed


def test_an_scp_that_does_not_allow_keeps_the_grant_from_allowing() -> None:
    scp = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    decision = _decide(scps=[scp])
    assert not decision.allowed
    assert decision.deciding_kinds == ("scp",)
