"""The credential store issues keys the way IAM and STS do, and never shows a secret."""

from __future__ import annotations

import datetime
import threading

import pytest

from harness.gateway.credentials import CredentialStore, PrincipalType

ROLE = "arn:aws:iam::222222222222:role/service-role/PipelineActionRole"


def test_long_term_key_for_an_account_root():
    store = CredentialStore()
    cred = store.issue_long_term("arn:aws:iam::111111111111:root")
    assert cred.access_key_id.startswith("AKIA") and len(cred.access_key_id) == 20
    assert cred.session_token is None and cred.expiration is None
    assert cred.principal_type is PrincipalType.ACCOUNT
    assert cred.account_id == "111111111111"
    assert store.lookup(cred.access_key_id) is cred


def test_long_term_key_may_be_chosen_by_the_caller():
    cred = CredentialStore().issue_long_term(
        "arn:aws:iam::111111111111:user/deployer", access_key_id="testing", secret_access_key="s"
    )
    assert (cred.access_key_id, cred.secret_access_key) == ("testing", "s")
    assert cred.principal_type is PrincipalType.USER


@pytest.mark.parametrize(
    "arn",
    [ROLE, "arn:aws:sts::111111111111:assumed-role/R/s", "not-an-arn", "arn:aws:s3:::bucket"],
)
def test_long_term_keys_only_for_roots_and_users(arn):
    with pytest.raises(ValueError):
        CredentialStore().issue_long_term(arn)


def test_role_session_is_temporary_and_drops_the_role_path():
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cred = CredentialStore().issue_role_session(
        ROLE, "deploy", duration=datetime.timedelta(minutes=15), now=now
    )
    assert cred.access_key_id.startswith("ASIA")
    assert cred.session_token and cred.is_temporary
    assert cred.arn == "arn:aws:sts::222222222222:assumed-role/PipelineActionRole/deploy"
    assert cred.principal_arn == ROLE
    assert cred.principal_type is PrincipalType.ASSUMED_ROLE
    assert not cred.is_expired(now + datetime.timedelta(minutes=14))
    assert cred.is_expired(now + datetime.timedelta(minutes=15))


def test_forward_access_is_the_same_principal_with_its_own_key():
    store = CredentialStore()
    session = store.issue_role_session(ROLE, "deploy")
    via = store.issue_forward_access(session, "cloudformation.amazonaws.com")
    again = store.issue_forward_access(via, "lambda.amazonaws.com")
    assert (via.arn, via.principal_arn, via.expiration) == (
        session.arn,
        session.principal_arn,
        session.expiration,
    )
    assert via.access_key_id != session.access_key_id and via.session_token
    assert store.lookup(via.access_key_id) is via and session.called_via == ()
    assert again.called_via == ("cloudformation.amazonaws.com", "lambda.amazonaws.com")


def test_role_sessions_need_a_role():
    with pytest.raises(ValueError):
        CredentialStore().issue_role_session("arn:aws:iam::111111111111:user/u", "s")


def test_secrets_never_appear_in_repr():
    store = CredentialStore()
    cred = store.issue_role_session(ROLE, "s")
    text = repr(cred) + repr(store) + str(cred)
    assert cred.secret_access_key not in text
    assert cred.session_token not in text
    assert cred.access_key_id in repr(cred)


def test_duplicate_key_ids_are_refused_and_revoked_keys_vanish():
    store = CredentialStore()
    store.issue_long_term("arn:aws:iam::111111111111:root", access_key_id="AKIAFIXED")
    with pytest.raises(ValueError):
        store.issue_long_term("arn:aws:iam::111111111111:root", access_key_id="AKIAFIXED")
    store.revoke("AKIAFIXED")
    assert store.lookup("AKIAFIXED") is None


def test_concurrent_issuing_keeps_every_key():
    store = CredentialStore()
    issued: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(50):
            key = store.issue_role_session(ROLE, "s").access_key_id
            with lock:
                issued.append(key)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(issued)) == 400
    assert all(store.lookup(key) is not None for key in issued)
