"""The environment the ``local`` target reads: a drill's fault, and the target another process
serves (``harness serve``) that a command should use instead of starting its own.

Light on purpose: the CLI and the input validation read these names without importing the
local target (and moto with it), which the gate's environment does not install.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

FAULT_VARIABLE = "HARNESS_FAULT"  # a drill's fault (harness/targets/local/faults.py)
ENDPOINT_VARIABLE = "HARNESS_LOCAL_ENDPOINT"
TOKEN_VARIABLE = "HARNESS_LOCAL_TOKEN"
CA_VARIABLE = "HARNESS_LOCAL_CA_BUNDLE"


def attached_problems(environ: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(input, rule) for each reason the environment's served target cannot be reached:
    HTTPS on loopback only (the admin token must not travel in clear, nor leave the
    machine), with the token and CA file ``harness serve`` prints."""
    endpoint = environ.get(ENDPOINT_VARIABLE, "")
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or parts.hostname not in {"127.0.0.1", "localhost"}:
        yield (
            f"{ENDPOINT_VARIABLE} (--endpoint) {endpoint!r}",
            "must be the https://127.0.0.1:PORT endpoint `harness serve` prints",
        )
    if not environ.get(TOKEN_VARIABLE):
        yield TOKEN_VARIABLE, "must be set to the admin token `harness serve` prints"
    ca_bundle = environ.get(CA_VARIABLE, "")
    if not ca_bundle or not Path(ca_bundle).is_file():
        yield f"{CA_VARIABLE} {ca_bundle!r}", "must name the CA file `harness serve` prints"
