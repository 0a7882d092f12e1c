"""The matrix of a live deployment, as the compliance suite and ``harness mutate`` both build
it: the world (names, allow-list, roles found live) and a prober primed with the objects the
read probes read."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from harness.deploy import Deployment
from harness.deploy.principals import PrincipalSessions
from harness.policy.access_matrix import Allowlist
from harness.probes.calls import Call
from harness.probes.cells import Cell, World, live_roles
from harness.probes.encryption import copy_sources
from harness.probes.prober import PROBE_WORKERS, Prober
from harness.targets import Target


def live_world(
    target: Target, deployment: Deployment, allowlist: Allowlist, principals: PrincipalSessions
) -> World:
    """The live deployment's names, its roles as IAM holds them, and a ciphertext under the
    key made by the pipeline role (which may encrypt)."""
    settings = deployment.settings
    roles = live_roles(target, settings.accounts, settings.prefix, settings.canary_role_name)
    pipeline_role = deployment.outputs["shared-services"]["PipelineRoleArn"]

    @functools.cache
    def ciphertext() -> bytes:
        kms = principals.client(pipeline_role, "kms")
        blob = kms.encrypt(KeyId=deployment.key_arn, Plaintext=b"harness")["CiphertextBlob"]
        return bytes(blob)

    return World.of(deployment, allowlist, roles, ciphertext)


def primed_prober(
    target: Target,
    principals: PrincipalSessions,
    world: World,
    cells: Mapping[str, Mapping[str, Cell]],
) -> Prober:
    """A prober of every cell of ``cells`` (check -> id -> cell) that has first written the
    objects the read probes read, as principals allowed to write them."""
    prober = Prober(target, principals, (c for group in cells.values() for c in group.values()))
    writes = [
        cell.call
        for cell in cells["object"].values()
        if cell.call.intent.action == "s3:PutObject" and cell.expected
    ]
    # Objects side by side (most of a write is its principal's first session); the writes of
    # one object in order, so the same writer's copy is the one the read probes read.
    by_object: dict[str, list[Call]] = {}
    for call in [*writes, *copy_sources(world)]:
        by_object.setdefault(call.intent.resource, []).append(call)
    with ThreadPoolExecutor(PROBE_WORKERS, thread_name_prefix="prime") as pool:
        list(pool.map(lambda calls: [prober.observe(c) for c in calls], by_object.values()))
    return prober
