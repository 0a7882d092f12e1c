"""Evidence behind a check's outcome: which statements of which policies decided a request,
as the target itself reports it (the local gateway's decision log, by request id), as the
harness's engine computes it from the fetched policies, or as AWS's policy simulator answers.
"""

from harness.evidence.model import (
    DecisionEvidence,
    Explanation,
    Intent,
    PolicyKind,
    Source,
    StatementCited,
)

__all__ = ["DecisionEvidence", "Explanation", "Intent", "PolicyKind", "Source", "StatementCited"]
