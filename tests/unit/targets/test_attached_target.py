"""A local target served by another process (``harness serve``), used through its endpoint:
the same sessions, service principals and decision-log evidence as the embedded target."""

from __future__ import annotations

import json
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from botocore.exceptions import ClientError

from harness import run
from harness.gateway.tls import generate_tls_material
from harness.targets.local import LocalTarget
from harness.targets.local.attached import AdminCallFailed, AttachedLocalTarget
from harness.targets.local.endpoints import ServiceRoleDenied
from harness.targets.local_environment import (
    CA_VARIABLE,
    ENDPOINT_VARIABLE,
    TOKEN_VARIABLE,
    attached_problems,
)
from harness.targets.registry import make_target
from tests.unit import serving

ACCOUNTS = {
    "shared-services": "121212121212",
    "training": "232323232323",
    "production": "343434343434",
}
TOKEN = "a-test-token-of-this-server"
SAGEMAKER = "sagemaker.amazonaws.com"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    workdir = tmp_path_factory.mktemp("served")
    with LocalTarget(ACCOUNTS, workdir=workdir, admin_token=TOKEN) as target:
        yield target


@pytest.fixture
def attached(served: LocalTarget) -> AttachedLocalTarget:
    target = AttachedLocalTarget(served.endpoint_url, TOKEN, served.ca_bundle)
    target.start()
    return target


def test_it_has_the_served_accounts_and_their_deployers(
    served: LocalTarget, attached: AttachedLocalTarget
) -> None:
    assert attached.accounts == served.accounts
    assert attached.http_endpoint_url == served.http_endpoint_url
    identity = attached.client("sts", attached.session("training")).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::232323232323:assumed-role/harness-deployer/harness"
    root = attached.client("sts", attached.root_session("production")).get_caller_identity()
    assert root["Arn"] == "arn:aws:iam::343434343434:root"


def test_a_refusal_carries_the_served_decision_log_evidence(
    served: LocalTarget, attached: AttachedLocalTarget
) -> None:
    owner = attached.client("s3", attached.session("shared-services"))
    owner.create_bucket(Bucket="attached-evidence")
    owner.put_object(Bucket="attached-evidence", Key="x", Body=b"x")
    assert owner.get_object(Bucket="attached-evidence", Key="x")["Body"].read() == b"x"  # control
    other = attached.client("s3", attached.session("training"))
    with pytest.raises(ClientError) as denied:
        other.get_object(Bucket="attached-evidence", Key="x")
    request_id = denied.value.response["ResponseMetadata"]["RequestId"]
    entries = attached.decision_log.for_request(request_id)  # type: ignore[union-attr]
    assert entries == served.decision_log.for_request(request_id)
    assert [e["decision"] for e in entries] == ["deny"]
    assert entries[0]["principal"].startswith("arn:aws:sts::232323232323:assumed-role/")
    assert any(e["request_id"] == request_id for e in attached.decision_log.entries())  # type: ignore[union-attr]


def _role_for(target: AttachedLocalTarget, service: str) -> str:
    iam = target.client("iam", target.session("training"))
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    try:
        role = iam.create_role(
            RoleName="attached-worker", AssumeRolePolicyDocument=json.dumps(trust)
        )
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName="attached-worker")
    return str(role["Role"]["Arn"])


def test_service_principals_are_held_to_the_served_trust_policies(
    attached: AttachedLocalTarget,
) -> None:
    role_arn = _role_for(attached, SAGEMAKER)
    session = attached.session_as_service(role_arn, SAGEMAKER)
    identity = attached.client("sts", session).get_caller_identity()
    assert identity["Arn"].startswith("arn:aws:sts::232323232323:assumed-role/attached-worker/")
    with pytest.raises(ServiceRoleDenied, match=r"lambda\.amazonaws\.com"):
        attached.session_as_service(role_arn, "lambda.amazonaws.com")


def test_forward_access_only_for_credentials_the_server_issued(
    attached: AttachedLocalTarget,
) -> None:
    via = attached.session_via_service(attached.session("training"), SAGEMAKER)
    assert attached.client("sts", via).get_caller_identity()["Account"] == "232323232323"
    forged = attached.session("training")
    forged._session.set_credentials("ASIAFORGED", "not-issued", "token")
    with pytest.raises(ValueError, match="not issued by this local target"):
        attached.session_via_service(forged, SAGEMAKER)


def test_the_admin_api_needs_the_token_and_https(served: LocalTarget) -> None:
    wrong = AttachedLocalTarget(served.endpoint_url, "not-the-token", served.ca_bundle)
    with pytest.raises(AdminCallFailed, match="401"):
        wrong.start()
    right = AttachedLocalTarget(served.endpoint_url, TOKEN, served.ca_bundle)
    right.start()  # the control: the same call with the server's token is answered
    assert right.accounts == served.accounts
    context = ssl.create_default_context(cafile=str(served.ca_bundle))
    request = urllib.request.Request(
        served.endpoint_url + "/_harness/v1/nothing", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with pytest.raises(urllib.error.HTTPError) as unknown:
        urllib.request.urlopen(request, context=context, timeout=10)
    assert unknown.value.code == 404
    plain = urllib.request.Request(
        served.http_endpoint_url + "/_harness/v1/target",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:  # the AWS API answers, and refuses
        urllib.request.urlopen(plain, timeout=10)
    assert b"deployers" not in refused.value.read()


class _AdminStandIn(BaseHTTPRequestHandler):
    """Answers every admin call with a description of no accounts, keeping the connection
    open; the connection that ``drop_on`` names closes without answering its nth call, as a
    server closing an idle connection just as the client sends on it."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each answer's body waits 40 ms for an ACK
    drop_on: ClassVar[tuple[int, int] | None] = None
    connections: ClassVar[int] = 0
    calls: ClassVar[list[tuple[int, str]]] = []  # each fixture's subclass has its own
    closed: ClassVar[threading.Event]  # set when a client closes a connection

    def setup(self) -> None:
        super().setup()
        type(self).connections += 1
        self.number, self.served = type(self).connections, 0

    def finish(self) -> None:
        super().finish()
        type(self).closed.set()

    def do_GET(self) -> None:
        self.served += 1
        type(self).calls.append((self.number, self.path))
        if (self.number, self.served) == self.drop_on:
            self.close_connection = True
            return
        body = json.dumps(
            {"accounts": {}, "region": "us-east-1", "decision_log": "-", "entries": []}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def admin_stand_in(tmp_path: Path) -> Iterator[tuple[str, Path, type[_AdminStandIn]]]:
    """An admin API on loopback that counts the connections made to it."""
    tls = generate_tls_material(tmp_path)
    handler = type(
        "Handler", (_AdminStandIn,), {"connections": 0, "calls": [], "closed": threading.Event()}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.cert, tls.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving.served(server):
        yield f"https://127.0.0.1:{server.server_address[1]}", tls.ca_bundle, handler


def test_admin_calls_share_a_kept_alive_connection_until_stop(
    admin_stand_in: tuple[str, Path, type[_AdminStandIn]],
) -> None:
    endpoint, ca_bundle, handler = admin_stand_in
    target = AttachedLocalTarget(endpoint, TOKEN, ca_bundle)
    target.start()
    assert target.decision_log is not None
    for number in range(20):
        assert target.decision_log.for_request(f"request-{number}") == []
    assert (handler.connections, len(handler.calls)) == (1, 21)
    assert not handler.closed.is_set()
    target.stop()  # closes the kept connection; a later call opens another
    assert handler.closed.wait(10)
    assert target.decision_log.for_request("request-after-stop") == []
    assert (handler.connections, len(handler.calls)) == (2, 22)


def test_a_connection_closed_as_it_is_used_is_retried_once_on_a_new_one(
    admin_stand_in: tuple[str, Path, type[_AdminStandIn]],
) -> None:
    endpoint, ca_bundle, handler = admin_stand_in
    handler.drop_on = (1, 2)  # the first connection's second call gets no answer
    target = AttachedLocalTarget(endpoint, TOKEN, ca_bundle)
    target.start()
    assert target.decision_log is not None
    assert target.decision_log.for_request("request-1") == []
    assert handler.calls == [
        (1, "/_harness/v1/target"),
        (1, "/_harness/v1/decisions?request_id=request-1"),
        (2, "/_harness/v1/decisions?request_id=request-1"),
    ]


def test_an_endpoint_nobody_serves_and_a_bad_ca_are_named(
    served: LocalTarget, tmp_path: Path
) -> None:
    nobody = AttachedLocalTarget("https://127.0.0.1:9", TOKEN, served.ca_bundle)
    with pytest.raises(AdminCallFailed, match=r"no served local target answers at .*harness serve"):
        nobody.start()
    (tmp_path / "ca.pem").write_text("")
    bad_ca = AttachedLocalTarget(served.endpoint_url, TOKEN, tmp_path / "ca.pem")
    with pytest.raises(AdminCallFailed, match=f"{CA_VARIABLE} .*ca.pem: not the CA file"):
        bad_ca.start()


def test_the_environment_names_the_served_target(
    served: LocalTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENDPOINT_VARIABLE, served.endpoint_url)
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    monkeypatch.setenv(CA_VARIABLE, str(served.ca_bundle))
    assert isinstance(make_target("local"), AttachedLocalTarget)
    with pytest.raises(ValueError, match="organization: needs a local target this command starts"):
        make_target("local", organization=True)


def test_bad_served_settings_are_each_named(tmp_path: Path) -> None:
    found = dict(attached_problems({ENDPOINT_VARIABLE: "http://10.0.0.1:4566"}))
    assert found == {
        f"{ENDPOINT_VARIABLE} (--endpoint) 'http://10.0.0.1:4566'": (
            "must be the https://127.0.0.1:PORT endpoint `harness serve` prints"
        ),
        TOKEN_VARIABLE: "must be set to the admin token `harness serve` prints",
        f"{CA_VARIABLE} ''": "must name the CA file `harness serve` prints",
    }
    (tmp_path / "ca.pem").write_text("")
    good = {
        ENDPOINT_VARIABLE: "https://127.0.0.1:4443",
        TOKEN_VARIABLE: "t",
        CA_VARIABLE: str(tmp_path / "ca.pem"),
    }
    assert list(attached_problems(good)) == []


def test_check_refuses_a_bad_endpoint_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (ENDPOINT_VARIABLE, TOKEN_VARIABLE, CA_VARIABLE):
        monkeypatch.setenv(name, "")  # undone after the test: --endpoint writes the variable
    assert run.check_main(["--target", "local", "--endpoint", "http://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert f"harness check: {ENDPOINT_VARIABLE} (--endpoint) 'http://127.0.0.1:1': must be" in err
    assert f"harness check: {TOKEN_VARIABLE}: must be set" in err


def test_check_without_a_served_target_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENDPOINT_VARIABLE, raising=False)
    assert run.check_main(["--target", "local"]) == 2
    assert "`harness serve` and --endpoint" in capsys.readouterr().err
