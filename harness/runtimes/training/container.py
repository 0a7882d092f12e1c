"""A training container's process, started while the job's input is still downloading.

`python -m harness.runtimes.training.container <algorithm module> <root>` imports the
algorithm at once (XGBoost and its stack: most of the process's start-up), then waits for
:data:`GO` on stdin, which the executor writes once the input is in place under `<root>`,
and only then runs the algorithm's `main`. The import so overlaps the download instead of
following it; the algorithm reads nothing before its input is complete, as in SageMaker.
Anything else on stdin (it closed: the job failed or stopped while downloading) ends the
process without running the algorithm.
"""

from __future__ import annotations

import importlib
import sys

GO = b"go\n"
NOT_STARTED_EXIT = 3


def main(argv: list[str]) -> int:
    algorithm = importlib.import_module(argv[1])
    if sys.stdin.buffer.readline() != GO:
        return NOT_STARTED_EXIT
    code: int = algorithm.main([argv[1], argv[2]])
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
