"""The aws CLI run command after command in one process: each line of stdin is a command's
arguments (a JSON list), answered on stdout by one JSON line of its exit code, stdout and
stderr. Each command gets a new driver (a new botocore session reading the config files
again), as a new ``aws`` process would; the process only saves importing the CLI again,
~0.8 s of CPU a command."""

from __future__ import annotations

import contextlib
import io
import json
import sys

from awscli.clidriver import create_clidriver


def run(args: list[str]) -> dict[str, object]:
    """What ``aws *args`` exits with and prints."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = create_clidriver().main(args)
    return {"returncode": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


def main() -> None:
    replies = sys.stdout
    for line in sys.stdin:
        replies.write(json.dumps(run(json.loads(line))) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
