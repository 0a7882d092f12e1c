"""Input validation: every rule refuses its bad input with one line naming it, and every
command exits 2 on a bad input before it starts a target, pytest or the gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness.gate.gate
import harness.run
from harness import validation
from harness.allowlist import ALLOWLIST
from harness.cli import main
from harness.validation import Inputs, problems


def lines(inputs: Inputs) -> list[str]:
    return [problem.line("harness x") for problem in problems(inputs)]


def test_good_inputs_have_no_problem(tmp_path: Path) -> None:
    inputs = validation.target_inputs(
        "local",
        "mlops-2",
        report=tmp_path / "new" / "report",
        templates=validation.deployed_templates(None),
        allowlist=ALLOWLIST,
    )
    assert problems(inputs) == []


def test_the_local_target_s_drill_fault_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_FAULT", "training-hangs")
    assert problems(validation.target_inputs("local", None)) == []
    monkeypatch.setenv("HARNESS_FAULT", "bogus")
    [line] = lines(validation.target_inputs("local", None))
    assert line.startswith("harness x: HARNESS_FAULT 'bogus' (a drill's fault): must be one of")


@pytest.mark.parametrize(
    ("inputs", "named", "rule"),
    [
        (Inputs(target="cloud"), "--target 'cloud'", "must be one of aws, local, localstack"),
        (Inputs(prefix="BAD_Prefix!"), "--prefix 'BAD_Prefix!'", "must match ^[a-z][a-z0-9-]"),
        (Inputs(prefix="a" * 21), "--prefix 'aaaa", "must match"),
        (Inputs(regions=("mars-1",)), "region 'mars-1'", "must be an AWS region name"),
        (Inputs(accounts={"A": "12345"}), "account id of A '12345'", "exactly 12 digits"),
        (
            Inputs(accounts={"A": "111111111111", "B": "111111111111"}),
            "account id 111111111111",
            "given to A, B: must differ",
        ),
        (
            Inputs(accounts={"A": "111111111111"}, account_roles=("A", "B")),
            "accounts 111111111111",
            "one id for each of A, B",
        ),
        (
            Inputs(paths={"outputs": ("file", Path("/nonexistent/o.json"))}),
            "outputs /nonexistent/o.json",
            "must be an existing file",
        ),
        (
            Inputs(
                target="aws",
                environ={
                    "HARNESS_FAULT": "provider-raises:3",
                    "HARNESS_AWS_ACCOUNTS": "shared-services=111111111111,"
                    "training=222222222222,production=333333333333",
                },
            ),
            "HARNESS_FAULT (a drill's fault)",
            "must not be set for the aws target",
        ),
        (
            Inputs(target="aws", environ={}),
            "aws target settings (HARNESS_AWS_*)",
            "HARNESS_AWS_ACCOUNTS is not set",
        ),
        (
            Inputs(target="localstack", environ={"HARNESS_LOCAL_ENDPOINT": "https://127.0.0.1:1"}),
            "--endpoint / HARNESS_LOCAL_ENDPOINT",
            "--target localstack does not use it",
        ),
        (
            Inputs(target="local", environ={"HARNESS_FAULT": "training-hang"}),
            "HARNESS_FAULT 'training-hang' (a drill's fault)",
            "must be one of provider-raises:<n>, stack-hangs:<resource type>, training-hangs",
        ),
    ],
)
def test_each_rule_names_the_input_and_the_rule(inputs: Inputs, named: str, rule: str) -> None:
    [line] = lines(inputs)
    assert line.startswith(f"harness x: {named}"), line
    assert rule in line, line


def test_an_unwritable_report_folder_is_refused_without_creating_it(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    [line] = lines(Inputs(report=a_file / "report"))
    assert f"report folder {a_file / 'report'}: must be writable" in line
    assert "is not a folder" in line


def test_a_template_that_does_not_decode_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "training.yaml"
    broken.write_text("Resources: [unclosed\n")
    missing = tmp_path / "absent.yaml"
    found = lines(Inputs(templates={"training": broken, "production": missing}))
    assert len(found) == 2
    assert f"template training ({broken}): must decode as YAML or JSON" in found[0]
    assert f"template production ({missing}): must be an existing file" in found[1]


def test_an_allowlist_with_an_unbound_placeholder_is_refused(tmp_path: Path) -> None:
    allowlist = tmp_path / "allowlist.yaml"
    allowlist.write_text("principals:\n  x: {arn: 'arn:aws:iam::${Nowhere}:root'}\n")
    [line] = lines(Inputs(allowlist=allowlist))
    assert f"allow-list {allowlist}: must be valid" in line
    assert "Nowhere" in line


def test_a_loopback_that_cannot_bind_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse_bind(self: object, address: object) -> None:
        raise OSError(99, "Cannot assign requested address")

    monkeypatch.setattr(validation.socket.socket, "bind", refuse_bind)
    [line] = lines(Inputs(loopback=True))
    assert "loopback ports: a free port on 127.0.0.1 must be bindable" in line


@pytest.fixture
def nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command that got past validation would start a target, pytest or the gate."""

    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("a command started work despite bad input")

    monkeypatch.setattr(harness.run, "make_target", started)
    monkeypatch.setattr(harness.run.pytest, "main", started)
    monkeypatch.setattr(harness.gate.gate, "run_gate", started)


@pytest.mark.usefixtures("nothing_starts")
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "--prefix", "BAD_Prefix!"], ["--prefix 'BAD_Prefix!': must match"]),
        (
            ["run", "--target", "cloud", "--prefix", "X"],
            ["--target 'cloud': must be one of", "--prefix 'X': must match"],
        ),
        (["run", "--report", "/dev/null/r"], ["report folder /dev/null/r: must be writable"]),
        (["run", "--templates", "/nonexistent"], ["--templates /nonexistent: must be an existing"]),
        (["check", "--target", "aws", "--prefix", "Q!"], ["--prefix 'Q!'", "aws target settings"]),
        (["deploy", "--prefix=-x"], ["--prefix '-x': must match"]),
        (["destroy", "--target", "gcp"], ["--target 'gcp'"]),
        (["gate", "/nonexistent.yaml"], ["path 1 /nonexistent.yaml: must be an existing"]),
        (["gate", "--region", "moon-1"], ["region 'moon-1'"]),
        (["render", "/nonexistent.json"], ["outputs /nonexistent.json: must be an existing file"]),
        (
            ["access-matrix", "--accounts", "1,2"],
            ["accounts 1, 2:", "account id of A '1'", "account id of B '2'"],
        ),
        (["access-matrix", "--prefix", "UP"], ["--prefix 'UP'"]),
    ],
)
def test_every_command_refuses_bad_input_with_exit_2(
    argv: list[str], expected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    for text, line in zip(expected, err, strict=False):
        assert text in line, err
    assert len(err) == len(expected) + 1, err
    assert err[-1].endswith(f"{len(expected)} input problem(s); nothing was started")


def test_render_still_reads_a_good_outputs_file(tmp_path: Path) -> None:
    outputs = tmp_path / "o.json"
    outputs.write_text(json.dumps({"settings": {}}))
    assert main(["render", str(outputs), "--out", str(tmp_path / "r")]) == 1  # RenderError


@pytest.mark.usefixtures("nothing_starts")
@pytest.mark.parametrize("target", ["aws", "localstack"])
def test_an_endpoint_given_for_another_target_is_refused_not_ignored(
    target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # --endpoint sets the variable in this process: set it here first so that monkeypatch
    # restores it after (it records nothing for a delenv of a variable that is not set).
    monkeypatch.setenv("HARNESS_LOCAL_ENDPOINT", "set by the test")
    monkeypatch.setenv("HARNESS_AWS_ACCOUNTS", "a=111111111111,b=222222222222,c=333333333333")
    assert main(["run", "--target", target, "--endpoint", "https://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "--endpoint / HARNESS_LOCAL_ENDPOINT: names a local target served by" in err, err
    assert f"--target {target} does not use it" in err, err
