"""Final metrics from the algorithm's log, as DescribeTrainingJob's FinalMetricDataList.

SageMaker's built-in XGBoost publishes `<channel>:<metric>` from the last round's log line
(`[59]#011train-auc:0.99#011validation-auc:0.92`); reading the same line keeps the numbers the
job reports identical to the numbers it printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ROUND = re.compile(r"^\[\d+\]#011(?P<scores>.+)$")
_SCORE = re.compile(
    r"^(?P<channel>[A-Za-z0-9_]+)-(?P<metric>[^:]+):(?P<value>[-+0-9.eE]+|nan|inf)$"
)


def final_metrics(log_lines: Iterable[str]) -> dict[str, float]:
    """`{"validation:auc": 0.925, ...}` from the last round line, or {} if none was printed."""
    last = None
    for line in log_lines:
        match = _ROUND.match(line.strip())
        if match:
            last = match["scores"]
    metrics: dict[str, float] = {}
    for score in (last or "").split("#011"):
        match = _SCORE.match(score)
        if match:
            metrics[f"{match['channel']}:{match['metric']}"] = float(match["value"])
    return metrics
