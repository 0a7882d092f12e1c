"""The localstack target's own logic, offline: flavours, endpoint discovery, the host runtime's
lifecycle (with a stand-in runtime module), and resource types without a provider."""

from __future__ import annotations

import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from harness.targets.deployer import DEPLOYER_ROLE
from harness.targets.localstack import FLAVOURS, LocalStackTarget, LocalStackUnavailable
from harness.targets.localstack import target as target_module
from harness.targets.localstack.runtime import HostRuntime, RuntimeFailed, serving
from harness.templates import ACCOUNT_TEMPLATES, load_template
from tests.unit.serving import moto_server, served

FAKE_RUNTIME = """
import http.server, json, os

host, port = os.environ["GATEWAY_LISTEN"].rsplit(":", 1)
services = os.environ["SERVICES"].split(",")
assert not any(k.startswith("AWS_") for k in os.environ), "AWS settings leaked in"


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"services": {s: "available" for s in services}}).encode()
        self.send_response(200 if self.path == "/_fakestack/health" else 404)
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer((host, int(port)), Health).serve_forever()
"""


@pytest.fixture
def fake_package(tmp_path: Path) -> Path:
    """A package ``fakestack`` whose ``runtime.main`` answers health like LocalStack."""
    root = tmp_path / "pkgs"
    (root / "fakestack" / "runtime").mkdir(parents=True)
    (root / "fakestack" / "__init__.py").write_text("")
    (root / "fakestack" / "runtime" / "__init__.py").write_text("")
    (root / "fakestack" / "runtime" / "main.py").write_text(textwrap.dedent(FAKE_RUNTIME))
    return root


def test_localemu_runs_with_enforcement_and_the_accounts_as_root_keys():
    env = FLAVOURS["localemu"].environment(["333333333333", "111111111111"])
    assert env == {"IAM_ENFORCEMENT": "1", "ROOT_ACCESS_KEYS": "111111111111,333333333333"}
    assert FLAVOURS["localstack"].environment(["111111111111"]) == {}
    assert FLAVOURS["localemu"].health_path == "/_localemu/health"


def test_an_emulator_named_by_the_environment_is_used_through_localstack_client():
    assert target_module.configured_endpoint({}) is None
    endpoint = target_module.configured_endpoint({"LOCALSTACK_HOST": "127.0.0.1:4777"})
    assert endpoint == "http://127.0.0.1:4777"
    given = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4888", "LOCALSTACK_HOST": "127.0.0.1:4777"}
    assert target_module.configured_endpoint(given) == "http://127.0.0.1:4888"


def test_a_configured_endpoint_that_does_not_answer_is_an_error_not_a_new_runtime(monkeypatch):
    monkeypatch.setenv("LOCALSTACK_HOST", "127.0.0.1:9")
    target = LocalStackTarget()
    with pytest.raises(LocalStackUnavailable, match="no localstack answers at"):
        target.start()
    assert target.runtime is None


def test_without_the_emulator_or_an_endpoint_start_says_how_to_get_one():
    target = LocalStackTarget(flavour="localemu", environ={})
    if target_module.find_spec("localemu") is not None:
        pytest.skip("LocalEmu is installed here")
    with pytest.raises(LocalStackUnavailable, match="tox -e localstack"):
        target.start()


def test_accounts_must_be_12_digit_access_keys_and_flavours_known():
    with pytest.raises(ValueError, match="12 digits"):
        LocalStackTarget(accounts={"shared-services": "abc"}, environ={})
    with pytest.raises(ValueError, match="unknown flavour"):
        LocalStackTarget(flavour="moto", environ={})
    assert LocalStackTarget(environ={"HARNESS_LOCALSTACK_FLAVOUR": "localemu"}).flavour.name == (
        "localemu"
    )


def test_resource_types_without_a_provider_entry_point_are_listed(monkeypatch):
    served = "AWS::S3::Bucket AWS::S3::BucketPolicy AWS::KMS::Key AWS::KMS::Alias AWS::IAM::Role"
    providers = [
        metadata.EntryPoint(name=t.lower(), value="x:y", group="localstack.cloudformation")
        for t in [*served.split(), "AWS::Events::Rule"]
    ]
    monkeypatch.setattr(target_module.metadata, "entry_points", lambda group: providers)
    shared = load_template(ACCOUNT_TEMPLATES["shared-services"])
    target = LocalStackTarget(environ={})
    assert target.unsupported_resource_types(shared) == ["AWS::CodeCommit::Repository"]
    monkeypatch.setattr(target_module.metadata, "entry_points", lambda group: [])
    assert target.unsupported_resource_types(shared) == []  # not installed here: unknown


def test_the_runtime_serves_every_service_the_project_deploys():
    training_stack = ACCOUNT_TEMPLATES["training"].parents[1] / "pipeline" / "training-stack.yaml"
    types = {
        resource.get("Type", "")
        for path in (*ACCOUNT_TEMPLATES.values(), training_stack)
        for resource in load_template(path).get("Resources", {}).values()
    }
    used = {t.split("::")[1].lower() for t in types if t.startswith("AWS::")}
    assert used == target_module.PROJECT_SERVICES


def test_serving_waits_only_for_services_the_build_has():
    health = {"services": {"s3": "available", "kms": "running", "lambda": "initializing"}}
    assert serving(health, ["s3", "kms", "codecommit"])
    assert not serving(health, ["s3", "lambda"])


def test_the_host_runtime_starts_answers_health_and_is_stopped_and_cleaned(
    fake_package, monkeypatch
):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "must-not-leak")
    runtime = HostRuntime(
        services=["s3", "sts"],
        package="fakestack",
        health_path="/_fakestack/health",
        extra_env={"PYTHONPATH": str(fake_package)},
        startup_timeout=20,
        health_poll_seconds=0.05,
    )
    runtime.start()
    workdir, process = runtime.workdir, runtime._process
    assert workdir is not None and (workdir / "home").is_dir()
    assert process is not None and process.poll() is None
    runtime.stop()
    assert process.poll() is not None
    assert not workdir.exists()


def test_a_runtime_that_dies_fails_start_with_its_log(fake_package):
    runtime = HostRuntime(
        services=["s3"],
        package="nosuchstack",
        extra_env={"PYTHONPATH": str(fake_package)},
        startup_timeout=20,
        health_poll_seconds=0.05,
    )
    with pytest.raises(RuntimeFailed, match="No module named 'nosuchstack'"):
        runtime.start()
    assert runtime.workdir is None


def test_the_deployer_is_bootstrapped_as_a_root_trusted_administrator_and_removed():
    """Against bare moto (which takes every access key as one account and enforces nothing):
    the role's documents as the emulator receives them, a role left by a killed run adopted,
    and an emulator we did not start left as we found it."""
    account = target_module.DEFAULT_ACCOUNTS["shared-services"]
    server = moto_server()
    with served(server):
        target = LocalStackTarget(environ={})
        target.endpoint_url = f"http://127.0.0.1:{server.server_port}"
        iam = target.client("iam", target.root_session(account))
        for _ in ("fresh", "left by a killed run"):
            deployer = target._bootstrap_deployer(account)
            identity = target.client("sts", deployer).get_caller_identity()["Arn"]
            assert identity.endswith(f":assumed-role/{DEPLOYER_ROLE}/harness")
        trust = iam.get_role(RoleName=DEPLOYER_ROLE)["Role"]["AssumeRolePolicyDocument"]
        assert [(s["Effect"], s["Principal"], s["Action"]) for s in trust["Statement"]] == [
            ("Allow", {"AWS": f"arn:aws:iam::{account}:root"}, "sts:AssumeRole")
        ]
        inline = iam.get_role_policy(RoleName=DEPLOYER_ROLE, PolicyName="AdministratorAccess")
        statements = inline["PolicyDocument"]["Statement"]
        assert [(s["Effect"], s["Action"], s["Resource"]) for s in statements] == [
            ("Allow", "*", "*")
        ]
        target._deployers[account] = deployer
        target.stop()
        assert iam.list_roles()["Roles"] == []
        assert target.endpoint_url is None
