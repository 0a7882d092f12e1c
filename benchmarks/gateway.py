"""Cost of the enforcement gateway: one sequence of boto3 calls, through the local target's
gateway and against bare moto (the same moto app and server, without the middleware), in one
run. Both are measured on plain HTTP so the ratio is the middleware's cost, not TLS's.

    python benchmarks/gateway.py [--rounds 30] [--repeat 3]

Last line: ``overhead_ratio=<gateway seconds / bare moto seconds>`` (goal: under 1.5).
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from harness.targets.local import LocalTarget
from harness.targets.local.server import Listener

Clients = Callable[[str], BaseClient]
_CONFIG = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})


def sequence(clients: Clients, rounds: int) -> float:
    """Run the calls; return the seconds they took (client creation excluded)."""
    s3, kms, iam, sts = (clients(name) for name in ("s3", "kms", "iam", "sts"))
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    role = f"bench-{uuid.uuid4().hex[:12]}"
    began = time.perf_counter()
    s3.create_bucket(Bucket=bucket)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    iam.create_role(RoleName=role, AssumeRolePolicyDocument='{"Version":"2012-10-17"}')
    for index in range(rounds):
        name = f"objects/{index}.txt"
        s3.put_object(
            Bucket=bucket,
            Key=name,
            Body=b"x" * 1024,
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=key_id,
        )
        s3.get_object(Bucket=bucket, Key=name)["Body"].read()
        s3.head_object(Bucket=bucket, Key=name)
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
        kms.decrypt(CiphertextBlob=blob)
        iam.get_role(RoleName=role)
        sts.get_caller_identity()
    s3.list_objects_v2(Bucket=bucket)
    return time.perf_counter() - began


def through_gateway(rounds: int) -> float:
    with LocalTarget() as target:
        session = target.session("shared-services")

        def clients(service: str) -> BaseClient:
            return session.client(
                service,
                region_name=target.region,
                endpoint_url=target.http_endpoint_url,
                config=_CONFIG,
            )

        sequence(clients, 2)  # warm up: model loading, first connections
        return sequence(clients, rounds)


def _same_account(request, **_kwargs) -> None:  # type: ignore[no-untyped-def]
    request.headers["x-moto-account-id"] = "111111111111"


def bare_moto(rounds: int) -> float:
    listener = Listener(DomainDispatcherApplication(create_backend_app))
    try:
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )

        def clients(service: str) -> BaseClient:
            client = session.client(service, endpoint_url=listener.url, config=_CONFIG)
            # The gateway forwards with this header; send it here too so moto does the same
            # work in both runs (without it moto scans every account for the access key).
            client.meta.events.register("before-sign", _same_account)
            return client

        sequence(clients, 2)
        return sequence(clients, rounds)
    finally:
        listener.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs each")
    args = parser.parse_args()
    rounds = args.rounds
    bare = gateway = float("inf")
    for _ in range(args.repeat):  # interleaved, so drifting machine load hits both alike
        bare = min(bare, bare_moto(rounds))
        gateway = min(gateway, through_gateway(rounds))
    calls = 3 + 7 * rounds + 1
    print(f"calls={calls}")
    print(f"bare_moto_seconds={bare:.3f} ({1000 * bare / calls:.2f} ms/call)")
    print(f"gateway_seconds={gateway:.3f} ({1000 * gateway / calls:.2f} ms/call)")
    print(f"overhead_ratio={gateway / bare:.2f}")


if __name__ == "__main__":
    main()
