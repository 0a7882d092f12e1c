"""The decision log keeps each request's lines by request id, in evidence's format."""

from __future__ import annotations

import threading
from pathlib import Path

from harness.evidence import DecisionEvidence, PolicyKind, StatementCited
from harness.policy import Decision, StatementRef
from harness.targets.local.decision_log import DecisionLog, LoggedDecision

DENY = StatementRef("bucket policy of b", "resource", "DenyPlain", "Deny")
ALLOW = StatementRef("policy 'p' of role r", "identity", 0, "Allow")


def _line(request_id: str, decision: Decision, action: str = "s3:PutObject") -> LoggedDecision:
    return LoggedDecision.of(
        decision,
        request_id=request_id,
        principal="arn:aws:sts::111111111111:assumed-role/r/s",
        action=action,
        resource="arn:aws:s3:::b/k",
        operation="s3:PutObject",
        transport="https",
    )


def test_lines_read_as_evidence(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "decisions.jsonl")
    log.record(_line("r1", Decision(False, "Denied: explicit Deny", (DENY,), (ALLOW, DENY))))
    log.record(_line("r2", Decision(False, "Denied: implicit", lacking=("key", "identity"))))
    (denied,) = map(DecisionEvidence.from_log, log.for_request("r1"))
    cited_deny = StatementCited("bucket policy of b", PolicyKind.RESOURCE, "DenyPlain", "Deny")
    assert denied.deciding == (cited_deny,)
    assert denied.matched == (
        StatementCited("policy 'p' of role r", PolicyKind.IDENTITY, 0, "Allow"),
        cited_deny,
    )
    (implicit,) = map(DecisionEvidence.from_log, log.for_request("r2"))
    assert implicit.lacking == (PolicyKind.KEY, PolicyKind.IDENTITY)
    assert implicit.decided_by == {PolicyKind.KEY, PolicyKind.IDENTITY}
    assert log.for_request("unknown") == []
    assert [e["request_id"] for e in log.entries()] == ["r1", "r2"]
    log.close()
    log.record(_line("r3", Decision(True, "Allowed")))  # opens the file again
    assert [e["request_id"] for e in log.entries()] == ["r1", "r2", "r3"]
    log.close()


def test_for_request_keeps_order_across_threads(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "decisions.jsonl")

    def write(request_id: str) -> None:
        for index in range(50):
            log.record(_line(request_id, Decision(True, "Allowed"), action=f"s3:Op{index}"))

    threads = [threading.Thread(target=write, args=(f"r{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n in range(4):
        assert [e["action"] for e in log.for_request(f"r{n}")] == [f"s3:Op{i}" for i in range(50)]
    assert len(log.entries()) == 200
    log.close()
