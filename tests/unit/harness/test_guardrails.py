"""``--scp FILE``: a bad file is named and refused before anything starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.deploy.guardrails import GuardrailError, read_scp
from harness.run import run_main

EXAMPLES = Path(__file__).resolve().parents[3] / "policies" / "examples"


def test_the_sample_scps_are_valid() -> None:
    for path in EXAMPLES.glob("scp-*.json"):
        assert read_scp(path).name == path.stem


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (None, "cannot read it"),
        ("{not json", "not JSON"),
        (json.dumps({"Statement": [{"Effect": "Maybe", "Action": "*"}]}), "not a valid SCP"),
        (
            json.dumps(
                {
                    "Statement": [
                        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}
                    ]
                }
            ),
            "has a Principal",
        ),
    ],
)
def test_a_bad_scp_file_is_refused_naming_it(
    tmp_path: Path, content: str | None, complaint: str
) -> None:
    path = tmp_path / "guardrail.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(GuardrailError, match=complaint) as raised:
        read_scp(path)
    assert str(path) in str(raised.value)


def test_harness_run_refuses_a_bad_scp_and_a_target_without_an_organization(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    assert run_main(["--scp", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err
    good = EXAMPLES / "scp-training-only-in-us-east-1.json"
    assert run_main(["--target", "aws", "--scp", str(good)]) == 2
    assert "needs a target whose accounts form an organization" in capsys.readouterr().err
