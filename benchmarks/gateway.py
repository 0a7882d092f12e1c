"""Cost of the enforcement gateway: the same boto3 calls through the local target's gateway and
against bare moto (the same moto app, dispatcher and server, without the middleware), in one run, on
two paths. Both are measured on plain HTTP so the ratio is the middleware's cost, not TLS's.

* ``deployer``: account A's deployer (``Action: *``) on its own bucket and key, no resource
  policy: the cheapest path.
* ``cross-account``: account B's deployer on account A's bucket and key; the bucket policy and
  the key policy decide too (B's identity policy allows, A's policies must grant), and every
  SSE-KMS put and get is also checked against the key policy on S3's behalf.

GetCallerIdentity is not in either: the gateway answers it without moto, so it has no bare
moto counterpart. Bare moto and the gateway are served side by side and their timed runs
alternate; each path prints both CPU times (best of ``--repeat`` runs each) and
``overhead_ratio_<path>=<gateway / bare>``;
the script exits 1 when a path is at or above the goal, 1.5.

    python benchmarks/gateway.py [--rounds 30] [--repeat 9] [--warm-up 2]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from harness.targets.local import LocalTarget, moto_state
from harness.targets.local.server import Listener, MotoDispatcher

GOAL = 1.5
A, B = "111111111111", "222222222222"
DEPLOYER = "harness-deployer"
Clients = Callable[[str, str], BaseClient]  # (account id, service) -> client
_CONFIG = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})


@dataclass(frozen=True)
class Scenario:
    """Who owns the bucket and key, who calls, and whether resource policies grant the caller."""

    name: str
    owner: str
    caller: str

    @property
    def cross_account(self) -> bool:
        return self.owner != self.caller


PATHS = (Scenario("deployer", A, A), Scenario("cross-account", A, B))


def bucket_policy(bucket: str, caller: str) -> str:
    """Grants the caller's deployer the object calls, with the denies a real bucket has."""
    objects = f"arn:aws:s3:::{bucket}/*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyWrongEncryption",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": objects,
                    "Condition": {
                        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}
                    },
                },
                {
                    "Sid": "DenyDeletes",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:DeleteObject",
                    "Resource": objects,
                },
                {
                    "Sid": "CallerObjects",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{caller}:role/{DEPLOYER}"},
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": objects,
                },
                {
                    "Sid": "CallerList",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{caller}:role/{DEPLOYER}"},
                    "Action": "s3:ListBucket",
                    "Resource": f"arn:aws:s3:::{bucket}",
                },
            ],
        }
    )


def key_policy(owner: str, caller: str) -> str:
    """The owner administers the key; the caller's deployer may use it."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Owner",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{owner}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CallerUse",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{caller}:role/{DEPLOYER}"},
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                },
            ],
        }
    )


def sequence(clients: Clients, path: Scenario, rounds: int) -> float:
    """Set up the owner's bucket and key (untimed), then time the caller's calls: CPU seconds
    of the process (client and server threads alike), so other load on the box does not
    count, as it does in wall time."""
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    owner_s3, owner_kms = clients(path.owner, "s3"), clients(path.owner, "kms")
    owner_s3.create_bucket(Bucket=bucket)
    key_arn = owner_kms.create_key()["KeyMetadata"]["Arn"]
    if path.cross_account:
        owner_s3.put_bucket_policy(Bucket=bucket, Policy=bucket_policy(bucket, path.caller))
        owner_kms.put_key_policy(
            KeyId=key_arn, PolicyName="default", Policy=key_policy(path.owner, path.caller)
        )
    s3, kms = clients(path.caller, "s3"), clients(path.caller, "kms")
    # What earlier runs left (a stopped target's state) is collected now, not by a full
    # collection that lands in whichever path is timed next (0.6 s of a 2 s run, at times).
    gc.collect()
    began = time.process_time()
    for index in range(rounds):
        name = f"objects/{index}.txt"
        s3.put_object(
            Bucket=bucket,
            Key=name,
            Body=b"x" * 1024,
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=key_arn,
        )
        s3.get_object(Bucket=bucket, Key=name)["Body"].read()
        s3.head_object(Bucket=bucket, Key=name)
        blob = kms.encrypt(KeyId=key_arn, Plaintext=b"secret")["CiphertextBlob"]
        kms.decrypt(CiphertextBlob=blob, KeyId=key_arn)
    s3.list_objects_v2(Bucket=bucket)
    return time.process_time() - began


def calls(rounds: int) -> int:
    return 5 * rounds + 1


@contextmanager
def through_gateway() -> Iterator[Clients]:
    """Clients of the local target's gateway, one per account and service."""
    with LocalTarget() as target:
        cache: dict[tuple[str, str], BaseClient] = {}
        sessions = {account: target.session(account) for account in (A, B)}

        def clients(account: str, service: str) -> BaseClient:
            if (account, service) not in cache:
                cache[account, service] = sessions[account].client(
                    service,
                    region_name=target.region,
                    endpoint_url=target.http_endpoint_url,
                    config=_CONFIG,
                )
            return cache[account, service]

        yield clients


def bare_app() -> moto_state.GatewayAuthorized:
    """moto's app as the gateway forwards to it: the same dispatcher, with moto's own
    bucket-policy check left out as the gateway leaves it out (it has decided already)."""
    return moto_state.GatewayAuthorized(MotoDispatcher())


@contextmanager
def bare_moto(path: Scenario) -> Iterator[Clients]:
    """Clients of moto's app served bare, acting in the account the gateway forwards to."""
    app = bare_app()
    listener = Listener(app)
    try:
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        cache: dict[tuple[str, str], BaseClient] = {}

        def clients(account: str, service: str) -> BaseClient:
            if (account, service) not in cache:
                client = session.client(service, endpoint_url=listener.url, config=_CONFIG)
                # The gateway forwards with this header (a KMS call on another account's key
                # in the key's account, as moto keeps keys per account); send it here too so
                # moto does the same work in both runs.
                moto_account = path.owner if service == "kms" else account

                def in_account(request, **_kwargs) -> None:  # type: ignore[no-untyped-def]
                    request.headers["x-moto-account-id"] = moto_account

                client.meta.events.register("before-sign", in_account)
                cache[account, service] = client
            return cache[account, service]

        yield clients
    finally:
        listener.close()
        app.close()


def best_of(path: Scenario, rounds: int, repeat: int, warm_up: int = 2) -> tuple[float, float]:
    """The least CPU time of ``repeat`` runs of ``path``, bare and through the gateway: both
    served at once and their runs interleaved, so drifting machine load hits both alike.
    ``warm_up`` rounds on each first, untimed: model loading, first connections."""
    with bare_moto(path) as bare_clients, through_gateway() as gateway_clients:
        if warm_up:
            sequence(bare_clients, path, warm_up)
            sequence(gateway_clients, path, warm_up)
        bare = gateway = float("inf")
        for _ in range(repeat):
            bare = min(bare, sequence(bare_clients, path, rounds))
            gateway = min(gateway, sequence(gateway_clients, path, rounds))
    return bare, gateway


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=9, help="best of this many runs each")
    parser.add_argument(
        "--warm-up", type=int, default=2, help="untimed rounds first (0: none, the figures cold)"
    )
    args = parser.parse_args()
    count = calls(args.rounds)
    print(f"calls={count} per path (GetCallerIdentity excluded: the gateway answers it itself)")
    over = []
    for path in PATHS:
        bare, gateway = best_of(path, args.rounds, args.repeat, args.warm_up)
        ratio = gateway / bare
        print(
            f"{path.name}: bare_moto_cpu_seconds={bare:.3f} ({1000 * bare / count:.2f} ms/call) "
            f"gateway_cpu_seconds={gateway:.3f} ({1000 * gateway / count:.2f} ms/call)"
        )
        print(f"overhead_ratio_{path.name}={ratio:.2f}")
        if ratio >= GOAL:
            over.append(path.name)
    if over:
        print(f"overhead at or above {GOAL}x bare moto on: {', '.join(over)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
