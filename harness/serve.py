"""``harness serve``: the ``local`` target as a long-running server for the aws CLI, boto3,
Terraform and CDK.

The same :class:`~harness.targets.local.LocalTarget` that ``harness run`` starts (enforcement,
CloudFormation, training, endpoints, Lambda, CodePipeline), kept up until Ctrl-C or SIGTERM.
It prints, and writes into its folder, one ``~/.aws/config`` profile and one credentials block
per account: the target's own deployer session (administrator in that account), issued by the
target and accepted nowhere else, with the HTTPS endpoint and the local CA. Nothing is read
from the environment's AWS credentials, so no real key can reach the output.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from harness.exit_codes import exit_codes_help
from harness.targets import ACCOUNT_ROLES, OUTSIDER
from harness.targets.local_environment import CA_VARIABLE, ENDPOINT_VARIABLE, TOKEN_VARIABLE
from harness.validation import Inputs, Problem, problems, refuse, writable_problem

if TYPE_CHECKING:
    from harness.targets.local import LocalTarget

PROG = "harness serve"
PROFILE_PREFIX = "harness-"
ENVIRONMENT_FILE = "harness.env"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
ACCOUNT_NAMES = (*ACCOUNT_ROLES, OUTSIDER)


def _parser(defaults: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Serve the local target (the enforcing local AWS of `harness run`) on "
        "127.0.0.1 until Ctrl-C or SIGTERM, printing an aws profile per account.",
        epilog=exit_codes_help("serve"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="HTTPS port; HTTP listens on the next one (default 0: free ports, printed)",
    )
    parser.add_argument(
        "--accounts",
        help="comma-separated 12-digit ids of shared-services, training, production and "
        "optionally the outsider (default: " + ",".join(defaults.values()) + ")",
    )
    parser.add_argument("--region", default="us-east-1", help="the profiles' region")
    parser.add_argument(
        "--decisions", type=Path, help="stream the decision log here (JSON lines, overwritten)"
    )
    parser.add_argument(
        "--dir",
        type=Path,
        help="keep the CA, aws config and credentials files and the target's log here "
        "(default: a temporary folder, removed on stop)",
    )
    return parser


def _accounts(given: str | None, defaults: Mapping[str, str]) -> dict[str, str]:
    """The accounts by name; ids beyond the outsider get a name too, so the count is checked."""
    if given is None:
        return dict(defaults)
    ids = [part.strip() for part in given.split(",")]
    extra = [f"account {n}" for n in range(len(ACCOUNT_NAMES) + 1, len(ids) + 1)]
    return dict(zip([*ACCOUNT_NAMES, *extra], ids, strict=False))


def _port_problems(port: int) -> Iterator[Problem]:
    if port == 0:
        return
    if not 1 <= port <= 65534:
        yield Problem(f"--port {port}", "must be 0 (free ports) or 1-65534 (HTTP takes port+1)")
        return
    for taken in (port, port + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # as the listener binds: a port left in TIME_WAIT by the last serve is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", taken))
            except OSError as error:
                yield Problem(f"--port {port}", f"127.0.0.1:{taken} is not free: {error}")


def _problems(args: argparse.Namespace, accounts: Mapping[str, str]) -> list[Problem]:
    found = list(_port_problems(args.port))
    names = ACCOUNT_NAMES if len(accounts) > len(ACCOUNT_ROLES) else ACCOUNT_ROLES
    found += problems(Inputs(accounts=accounts, account_roles=names))
    for option in ("decisions", "dir"):
        path = getattr(args, option)
        folder = None if path is None else (path if option == "dir" else path.parent)
        if folder is not None and (problem := writable_problem(folder)) is not None:
            found.append(Problem(f"--{option} {path}", f"must be writable ({problem})"))
    return found


def profiles(target: LocalTarget, ca_bundle: Path) -> tuple[str, str]:
    """The aws config and credentials files' text: one profile per account, named
    ``harness-<account>``, on the target's HTTPS endpoint with its CA."""
    config, credentials = [], []
    for name in target.accounts:
        profile = PROFILE_PREFIX + name
        config += [
            f"[profile {profile}]",
            f"region = {target.region}",
            f"endpoint_url = {target.endpoint_url}",
            f"ca_bundle = {ca_bundle}",
            "s3 =",
            "    addressing_style = path",
            "",
        ]
        credential = target.deployer_credential(name)
        credentials += [
            f"[{profile}]",
            f"aws_access_key_id = {credential.access_key_id}",
            f"aws_secret_access_key = {credential.secret_access_key}",
            f"aws_session_token = {credential.session_token}",
            "",
        ]
    return "\n".join(config), "\n".join(credentials)


def environment(target: LocalTarget, folder: Path, ca_bundle: Path) -> str:
    """Shell exports that point the aws CLI at the profiles and the harness's commands at
    this server (its endpoint, admin token and CA); kept in a file, never printed, as the
    token is a secret."""
    exports = {
        "AWS_CONFIG_FILE": folder / "config",
        "AWS_SHARED_CREDENTIALS_FILE": folder / "credentials",
        ENDPOINT_VARIABLE: target.endpoint_url,
        TOKEN_VARIABLE: target.admin_token,
        CA_VARIABLE: ca_bundle,
    }
    return "".join(f"export {name}={shlex.quote(str(value))}\n" for name, value in exports.items())


def _write(path: Path, text: str) -> None:
    path.touch(mode=0o600)
    path.write_text(text, encoding="utf-8")


def _wait_for_stop_signal() -> str:
    """Block until SIGINT or SIGTERM; the name of the one that came."""
    stopped = threading.Event()
    received: list[str] = []

    def handle(number: int, _frame: FrameType | None) -> None:
        received.append(signal.Signals(number).name)
        stopped.set()

    previous = {number: signal.signal(number, handle) for number in STOP_SIGNALS}
    stopped.wait()
    for number, handler in previous.items():  # a second Ctrl-C interrupts the stop as usual
        signal.signal(number, handler)
    return received[0]


def main(argv: list[str]) -> int:
    # Imported here: the `harness` command must start where the local target's dependencies
    # are not installed (the gate's env); serving needs them.
    from harness.targets.local import DEFAULT_ACCOUNTS, LocalTarget

    args = _parser(DEFAULT_ACCOUNTS).parse_args(argv)
    accounts = _accounts(args.accounts, DEFAULT_ACCOUNTS)
    refused = refuse(PROG, Inputs(loopback=True), _problems(args, accounts))
    if refused is not None:
        return refused
    folder = args.dir or Path(tempfile.mkdtemp(prefix="harness-serve-"))
    folder.mkdir(parents=True, exist_ok=True)
    if args.decisions is not None:
        args.decisions.unlink(missing_ok=True)
    target = LocalTarget(
        accounts,
        region=args.region,
        workdir=folder / "target",
        port=args.port,
        decisions=args.decisions,
        admin_token=secrets.token_urlsafe(32),
    )
    try:
        target.start()
    except OSError as error:
        print(f"{PROG}: the local target did not start: {error}", file=sys.stderr)
        return 2
    try:
        ca_bundle = folder / "ca.pem"
        shutil.copyfile(target.ca_bundle, ca_bundle)
        config, credentials = profiles(target, ca_bundle)
        _write(folder / "config", config)
        _write(folder / "credentials", credentials)
        _write(folder / ENVIRONMENT_FILE, environment(target, folder, ca_bundle))
        print(f"# harness serve: {target.endpoint_url} (HTTP: {target.http_endpoint_url})")
        print(f"# decision log: {target.decision_log.path}")
        print(f"# export AWS_CONFIG_FILE={folder / 'config'}")
        print(f"# export AWS_SHARED_CREDENTIALS_FILE={folder / 'credentials'}")
        print(
            f"# source {folder / ENVIRONMENT_FILE}: the profiles, and `harness deploy|check|"
            "destroy --target local` on this server"
        )
        print(f"# ~/.aws/config\n{config}\n# ~/.aws/credentials\n{credentials}")
        if os.environ.get("AWS_CA_BUNDLE"):
            print(
                f"{PROG}: AWS_CA_BUNDLE is set and overrides the profiles' ca_bundle: unset "
                f"it, or set it to {ca_bundle}",
                file=sys.stderr,
            )
        print("# serving; Ctrl-C or SIGTERM stops", flush=True)
        stopped_by = _wait_for_stop_signal()
        print(f"# {stopped_by}: stopping", file=sys.stderr, flush=True)
    finally:
        target.stop()
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 1 if target.stuck_workers else 0
