"""Every cell of the suite, by check, for a world: the live one of a run, or the one rendered
from the templates before anything is deployed (which is how pytest names each cell at
collection time; the run then judges the live cell of the same id)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from harness.access import resolve_account_stacks
from harness.allowlist import (
    DEFAULT_ACCOUNTS,
    DEFAULT_OUTSIDER,
    DEPLOYER_ROLE,
    allowlist_path,
    load_allowlist,
    static_bindings,
)
from harness.deploy.deploy import template_path
from harness.probes.cells import (
    Cell,
    LiveRole,
    World,
    key_cells,
    object_cells,
    trust_cells,
    trusted_services,
)
from harness.probes.encryption import put_cells, tls_cells
from harness.targets import OUTSIDER
from harness.templates import ACCOUNT_TEMPLATES, load_template

CHECKS: dict[str, Callable[[World], Iterator[Cell]]] = {
    "put": put_cells,
    "tls": tls_cells,
    "key": key_cells,
    "object": object_cells,
    "trust": trust_cells,
}
STATIC_PREFIX = "mlops"
STATIC_REGION = "us-east-1"
_LETTERS = {"A": "shared-services", "B": "training", "C": "production"}


def catalog(world: World) -> dict[str, dict[str, Cell]]:
    """check -> cell id -> cell."""
    return {check: {cell.id: cell for cell in build(world)} for check, build in CHECKS.items()}


def rendered_world(templates: Path | None = None) -> World:
    """The world of the rendered account templates (``templates`` replacing ``infra/``'s)."""
    loaded = {
        account: load_template(template_path(account, templates)) for account in ACCOUNT_TEMPLATES
    }
    stacks = resolve_account_stacks(DEFAULT_ACCOUNTS, STATIC_PREFIX, STATIC_REGION, loaded)
    outputs = {name: output.value for name, output in stacks["shared-services"].outputs.items()}
    roles = [
        LiveRole(
            resource.attributes["Arn"],
            resource.properties["RoleName"],
            trusted_services(resource.properties["AssumeRolePolicyDocument"]),
        )
        for stack in stacks.values()
        for resource in stack.resources.values()
        if resource.type == "AWS::IAM::Role"
    ]
    accounts = {role: DEFAULT_ACCOUNTS[letter] for letter, role in _LETTERS.items()}
    accounts[OUTSIDER] = DEFAULT_OUTSIDER
    key_arn = outputs["ArtifactKeyArn"]
    return World(
        bucket=outputs["ArtifactBucketName"],
        key_arn=key_arn,
        other_key_arn=key_arn.rsplit("/", 1)[0] + "/other",
        prefix=STATIC_PREFIX,
        region=STATIC_REGION,
        accounts=accounts,
        deployers={
            role: f"arn:aws:iam::{account}:role/{DEPLOYER_ROLE}"
            for role, account in accounts.items()
        },
        allowlist=load_allowlist(
            allowlist_path(), static_bindings(DEFAULT_ACCOUNTS), STATIC_PREFIX
        ),
        roles=roles,
    )
