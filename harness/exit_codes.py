"""The exit codes of every ``harness`` command, in one table that each command's ``--help``
prints and README.md repeats (a unit test keeps the three equal).

Codes are text because one line may cover two ("2, 4"). Everywhere 2 also means a wrong
command line (argparse's own exit).
"""

from __future__ import annotations

import textwrap

from harness.promises import EXIT_CODES as SUITE_EXIT_CODES

ExitCodes = tuple[tuple[str, str], ...]
USAGE = "the command line is wrong"

BY_COMMAND: dict[str, ExitCodes] = {
    "run": SUITE_EXIT_CODES,
    "check": SUITE_EXIT_CODES,
    "deploy": (
        ("0", "deployed (on `local`, which ends with the process, also torn down, nothing left)"),
        ("1", "the deployment failed (what it made is torn down) or teardown left resources"),
        ("2", USAGE),
    ),
    "destroy": (
        ("0", "nothing of the run is left"),
        ("1", "resources are left behind (each printed)"),
        ("2", USAGE),
    ),
    "serve": (
        ("0", "stopped by Ctrl-C (SIGINT) or SIGTERM, every worker ended"),
        ("1", "stopped, but a worker was still running after its bound (named on stderr)"),
        ("2", "a port, account id or folder is wrong or taken (each named), or " + USAGE),
    ),
    "gate": (
        ("0", "nothing fails: no finding, or each one skipped with its reason or in the baseline"),
        ("1", "a finding fails the gate (an inline skip without a reason is one)"),
        (
            "2",
            "the gate cannot run (checkov missing, a custom check that does not load, a path or "
            "baseline that does not exist) or " + USAGE,
        ),
    ),
    "prove": (
        ("0", "every property proven"),
        ("1", "a property fails (its counterexample printed and written as a replayable case)"),
        ("2", "cannot run (a template that cannot be rendered, a deployment missing) or " + USAGE),
        ("3", "a property is UNKNOWN or a file could not be proven (the output says why)"),
    ),
    "rules": (("0", "listed"), ("2", "an unknown rule id, a broken rule file, or " + USAGE)),
    "render": (
        ("0", "written"),
        ("1", "a stack output is missing or malformed (named)"),
        ("2", "the outputs file cannot be read, or " + USAGE),
    ),
    "access-matrix": (
        ("0", "the rendered infra grants exactly what the allow-list says"),
        ("1", "a cell differs from the allow-list (each printed with its deciding statement)"),
        ("2", USAGE),
    ),
    "mutate": (
        ("0", "no mutant survived"),
        ("1", "a mutant survived, the suite failed unmutated, or teardown left resources"),
        ("2", USAGE),
        ("130", "interrupted by SIGINT: the mutant in place restored, everything torn down"),
        ("143", "interrupted by SIGTERM, as 130"),
    ),
    "data": (("0", "the training data is written"), ("2", USAGE)),
    "config": (
        ("0", "the settings are printed"),
        ("2", "a setting is wrong (each named) or " + USAGE),
    ),
}


def exit_codes_help(command: str, heading: str = "exit codes:") -> str:
    """The command's exit codes as an argparse epilog (use RawDescriptionHelpFormatter)."""
    lines = [heading]
    for code, meaning in BY_COMMAND[command]:
        lines += textwrap.wrap(
            meaning.replace("`", ""), 88, initial_indent=f"  {code:<6}", subsequent_indent=" " * 8
        )
    return "\n".join(lines)


def readme_table() -> str:
    """README.md's table of the other commands' codes (``run`` and ``check`` have their own)."""
    rows = ["| command | code | meaning |", "|---|---|---|"]
    for command, codes in BY_COMMAND.items():
        if codes is not SUITE_EXIT_CODES:
            rows += [f"| `{command}` | {code} | {meaning} |" for code, meaning in codes]
    return "\n".join(rows) + "\n"
