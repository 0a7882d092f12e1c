"""How much of this machine a benchmark had: its speed and what the hypervisor took.

On a shared virtual machine the same code's figures swing with the host. The same local run
took 14 s and 42 s within half an hour with a fifth of the cores' time stolen (steal, which
Linux counts), and the unit suite took 54 s and 71 s ten minutes apart with almost none: the
host's cores themselves ran slower. A fixed workload's CPU seconds, taken beside a figure,
show the second; ``/proc/stat``'s steal column shows the first. Figures compare only between
runs where both are alike.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

PROC_STAT = Path("/proc/stat")
_WORDS = re.compile(r"k(\d+)")


def stolen_s(stat: Path = PROC_STAT) -> float | None:
    """CPU time the hypervisor has taken from this machine's cores so far, all cores added up
    (the steal column of Linux's ``/proc/stat``); None without that file or column."""
    try:
        first = stat.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if len(first) < 9 or first[0] != "cpu":
        return None
    return int(first[8]) / os.sysconf("SC_CLK_TCK")


def reference_s(rounds: int = 20) -> float:
    """CPU seconds of a fixed pure-Python workload (JSON, a regex, dicts and strings, as the
    harness's own work is): the lower, the faster the machine was just then."""
    records = [{f"k{i}": list(range(i % 17)), "s": "x" * (i % 50)} for i in range(2000)]
    start = time.process_time()
    checksum = 0
    for _ in range(rounds):
        text = json.dumps(records)
        checksum += sum(len(r) for r in json.loads(text)) + len(_WORDS.findall(text))
        table = {str(i): i * 2 for i in range(20000)}
        checksum += sum(table.values())
    seconds = time.process_time() - start
    assert checksum == rounds * (4000 + 2000 + 399980000), "the workload did not run as written"
    return seconds
