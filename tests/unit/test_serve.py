"""``harness serve`` as a user runs it: a subprocess the aws CLI deploys to and calls with the
profiles it printed, enforcing a key policy (a deny and its allowed control), streaming the
decision log, binding loopback only, printing no credential of its environment, and stopping
cleanly on Ctrl-C and SIGTERM."""

from __future__ import annotations

import json
import os
import select
import shlex
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import cli, serve
from harness.deadlines import poll
from harness.targets.local_environment import ENDPOINT_VARIABLE, TOKEN_VARIABLE

REPO = Path(__file__).resolve().parents[2]
AWS = Path(sys.executable).parent / "aws"  # awscli, from the test extra
START_BOUND_S = 90.0  # generous: the machine running the unit tests may be busy
STOP_BOUND_S = 30.0
CLI_BOUND_S = 120.0
# Look like real credentials in serve's environment; they must never reach its output.
REAL_LOOKING = {"AWS_ACCESS_KEY_ID": "AKIAREALKEY7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "real/Sec"}
A, B = "111111111111", "222222222222"
OWNER_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OwnerAccountOnly",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}


class AwsCli:
    """The aws CLI with nothing but the files written from serve's output, each command run
    by ``aws_cli.py`` in one process (a process a command paid ~0.8 s of CPU to import it)."""

    def __init__(self, folder: Path) -> None:
        assert AWS.is_file(), f"the aws CLI is missing at {AWS}: install the test extra"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        environ["AWS_CONFIG_FILE"] = str(folder / "from-output.config")
        environ["AWS_SHARED_CREDENTIALS_FILE"] = str(folder / "from-output.credentials")
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("aws_cli.py"))],
            env=environ,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(args) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], CLI_BOUND_S)
        assert ready, f"aws {shlex.join(args)}: no answer in {CLI_BOUND_S} s"
        answer = self.process.stdout.readline()
        assert answer, f"aws {shlex.join(args)}: the CLI exited {self.process.wait()}"
        return subprocess.CompletedProcess([str(AWS), *args], **json.loads(answer))

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(STOP_BOUND_S)


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    folder: Path
    stdout: Path
    stderr: Path
    decisions: Path
    cli: AwsCli

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def aws(self, profile: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cli("--profile", profile, "--output", "json", *args)


def _start(folder: Path) -> Served:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    options = ["--dir", str(folder / "serve"), "--decisions", str(folder / "decisions.jsonl")]
    with (folder / "stdout").open("wb") as stdout, (folder / "stderr").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "harness.cli", "serve", *options],
            cwd=REPO,
            env={**environ, **REAL_LOOKING},
            stdout=stdout,
            stderr=stderr,
        )
    for _ in poll("harness serve to print its profiles", START_BOUND_S):
        if "# serving" in (folder / "stdout").read_text():
            break
        output = (folder / "stdout").read_text() + (folder / "stderr").read_text()
        assert process.poll() is None, output
    _write_profiles(folder)
    return Served(
        process,
        folder,
        folder / "stdout",
        folder / "stderr",
        folder / "decisions.jsonl",
        AwsCli(folder),
    )


def _write_profiles(folder: Path) -> None:
    """The config and credentials blocks as a user copies them from the output."""
    text = (folder / "stdout").read_text()
    config = text.split("# ~/.aws/config\n", 1)[1].split("# ~/.aws/credentials\n", 1)[0]
    credentials = text.split("# ~/.aws/credentials\n", 1)[1].split("# serving", 1)[0]
    (folder / "from-output.config").write_text(config)
    (folder / "from-output.credentials").write_text(credentials)


def _stop(served: Served, number: signal.Signals) -> int:
    served.process.send_signal(number)
    return served.process.wait(STOP_BOUND_S)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    started = _start(tmp_path_factory.mktemp("serve"))
    yield started
    started.cli.close()
    if started.process.poll() is None:
        started.process.kill()
        started.process.wait()


def test_the_aws_cli_is_denied_what_the_key_policy_does_not_grant(served: Served) -> None:
    created = served.aws(
        "harness-shared-services", "kms", "create-key", "--policy", json.dumps(OWNER_ONLY)
    )
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["KeyMetadata"]["Arn"]
    plaintext = ("--plaintext", "aGVsbG8=")
    allowed = served.aws("harness-shared-services", "kms", "encrypt", "--key-id", key, *plaintext)
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["KeyId"] == key
    # B's deployer has kms:* in its own policy; the key policy grants B nothing.
    denied = served.aws("harness-training", "kms", "encrypt", "--key-id", key, *plaintext)
    assert denied.returncode != 0
    assert "AccessDeniedException" in denied.stderr
    assert f"arn:aws:sts::{B}:assumed-role/harness-deployer" in denied.stderr
    encrypts = [
        line
        for line in map(json.loads, served.decisions.read_text().splitlines())
        if line["action"] == "kms:Encrypt" and line["resource"] == key
    ]
    assert [(line["principal"].split(":")[4], line["decision"]) for line in encrypts] == [
        (A, "allow"),
        (B, "deny"),
    ]
    assert encrypts[0]["deciding"][0]["sid"] == "OwnerAccountOnly"
    assert encrypts[1]["lacking"] == ["key"]


def test_profiles_hold_the_targets_keys_on_loopback_only(served: Served) -> None:
    output = served.output() + "".join(
        path.read_text() for path in (served.folder / "serve").glob("*") if path.is_file()
    )
    for value in REAL_LOOKING.values():
        assert value not in output
    identity = served.aws("harness-production", "sts", "get-caller-identity")
    assert identity.returncode == 0, identity.stderr
    assert json.loads(identity.stdout)["Account"] == "333333333333"
    config = (served.folder / "from-output.config").read_text()
    endpoints = {line.split(" = ")[1] for line in config.splitlines() if "endpoint_url" in line}
    [endpoint] = endpoints
    assert endpoint.startswith("https://127.0.0.1:")
    http = served.stdout.read_text().split("(HTTP: ", 1)[1].split(")", 1)[0]
    assert http.startswith("http://127.0.0.1:")
    listening = _listening_addresses()
    for url in (endpoint, http):
        assert listening[int(url.rsplit(":", 1)[1])] == {"127.0.0.1"}


def _listening_addresses() -> dict[int, set[str]]:
    """Port -> local IPv4 addresses listening on it, from the kernel's table."""
    found: dict[int, set[str]] = {}
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        if fields[3] != "0A":  # LISTEN
            continue
        address, port = fields[1].split(":")
        dotted = socket.inet_ntoa(bytes.fromhex(address)[::-1])
        found.setdefault(int(port, 16), set()).add(dotted)
    return found


def _exports(path: Path) -> dict[str, str]:
    """What ``source harness.env`` would export."""
    lines = [line.removeprefix("export ") for line in path.read_text().splitlines()]
    return {name: shlex.split(value)[0] for name, value in (line.split("=", 1) for line in lines)}


def test_harness_commands_reach_it_through_its_environment_file(
    served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command runs in this process (its modules are loaded here already: a subprocess
    paid ~2 s of CPU to import them again), in the environment of a shell that sourced the
    file and nothing else of AWS's or the harness's."""
    env_file = served.folder / "serve" / serve.ENVIRONMENT_FILE
    assert env_file.stat().st_mode & 0o777 == 0o600
    exports = _exports(env_file)
    assert exports[ENDPOINT_VARIABLE].startswith("https://127.0.0.1:")
    assert exports[TOKEN_VARIABLE] not in served.output()  # a secret: in the file only
    for name in [k for k in os.environ if k.startswith(("AWS_", "HARNESS_"))]:
        monkeypatch.delenv(name)
    for name, value in exports.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(REPO)
    decided_before = len(served.decisions.read_text().splitlines())
    capsys.readouterr()
    code = cli.main(["destroy", "--target", "local", "--prefix", "none"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[-1] == "nothing left"
    # its teardown looked for leftovers on the served target, not on one of its own
    assert len(served.decisions.read_text().splitlines()) > decided_before


def test_ctrl_c_stops_it_cleanly_and_exits_0(served: Served) -> None:
    assert _stop(served, signal.SIGINT) == 0, served.output()
    assert "SIGINT: stopping" in served.stderr.read_text()
    assert "Traceback" not in served.output()


def test_sigterm_stops_the_wait_and_restores_the_handlers() -> None:
    before = signal.getsignal(signal.SIGTERM)

    def terminate_once_handled() -> None:
        for _ in poll("serve's SIGTERM handler", STOP_BOUND_S):
            if signal.getsignal(signal.SIGTERM) != before:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=terminate_once_handled, daemon=True).start()
    assert serve._wait_for_stop_signal() == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--accounts", "111111111111,222222222222"], "must be one id for each of"),
        (["--accounts", "111111111111,2,333333333333"], "account id of training '2'"),
        (["--accounts", "111111111111,111111111111,333333333333"], "must differ"),
        (["--port", "70000"], "--port 70000: must be 0 (free ports) or 1-65534"),
        (["--decisions", "/proc/none/decisions.jsonl"], "--decisions /proc/none"),
    ],
)
def test_bad_input_is_named_and_nothing_starts(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve.main(argv) == 2
    assert named in capsys.readouterr().err


def test_a_taken_port_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        problems = list(serve._port_problems(port - 1))  # HTTP would take the taken one
    assert any(f"127.0.0.1:{port} is not free" in problem.rule for problem in problems)
