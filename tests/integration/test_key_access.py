"""Promise 2: only the allow-list's roles can use the key, directly or through S3.

Every principal of the allow-list (its roles, the canaries, each account's deployer) and every
role of the deployment makes each KMS call on the key and each object call through S3 (which
makes the KMS call for it); each outcome must be what ``policies/access/allowlist.yaml`` says.
A refusal counts only next to the same call by a principal allowed to make it, and only if the
key policy (or for objects the bucket or key policy) is what refused; a role of the deployment
is also probed with an admin-like identity policy attached. See ``harness/probes/cells.py``.
Then the matrix computed from the deployed policies must equal the allow-list too.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.access import format_table
from harness.deploy import Deployment
from harness.policy.access_matrix import (
    Allowlist,
    Bucket,
    Key,
    Role,
    compute_matrix,
    diff,
    guarded_organization,
    subjects_from_allowlist,
)
from harness.probes.cells import World, role_label
from harness.probes.judge import Verdict
from harness.prove.deployed import deployed_system
from harness.pytest_plugin import SCPS
from harness.report import RunRecord
from harness.targets import Capability, Target
from tests.integration.conftest import rendered_roles
from tests.integration.evidence import conclude

pytestmark = pytest.mark.promise(2)
VerdictOf = Callable[[str, str], Verdict]


@pytest.mark.requires(Capability.ENFORCES_KEY_POLICY, Capability.ENFORCES_IDENTITY_POLICY)
@pytest.mark.cells("key")
def test_direct_key_use(cell_id: str, verdict_of: VerdictOf, harness_record: RunRecord) -> None:
    conclude(verdict_of("key", cell_id), harness_record, "key")


@pytest.mark.requires(Capability.ENFORCES_KEY_POLICY, Capability.ENFORCES_BUCKET_POLICY)
@pytest.mark.cells("object")
def test_key_use_through_s3(cell_id: str, verdict_of: VerdictOf, harness_record: RunRecord) -> None:
    conclude(verdict_of("object", cell_id), harness_record, "object")


def test_every_role_of_the_deployment_is_in_the_matrix(
    pytestconfig: pytest.Config, world: World
) -> None:
    """The cells are named from the rendered templates; a live role they do not have would
    have no cells, so it fails here, by name."""
    rendered = rendered_roles(pytestconfig.getoption("templates"))
    unchecked = sorted(
        role.arn for role in world.roles if role_label(role.name, world.prefix) not in rendered
    )
    assert not unchecked, (
        f"roles of the deployment no cell of the matrix probes: {unchecked}. They are not made "
        "by the templates the suite was collected for; deploy and check the same templates"
    )


# Computed, not measured: the engine decides every cell from the deployed policies, so the
# target need not enforce them, only hold them as written. The live probes above measure.
@pytest.mark.requires(Capability.APPLIES_TEMPLATE_SETTINGS)
def test_matrix_computed_from_the_deployed_policies_equals_allowlist(
    pytestconfig: pytest.Config,
    deployment: Deployment,
    allowlist: Allowlist,
    harness_target: Target,
    harness_record: RunRecord,
) -> None:
    """The matrix computed from the deployed policies (GetKeyPolicy, GetBucketPolicy, GetRole,
    role policies and boundaries, as ``harness prove --target`` reads them) by the same engine
    as ``harness access-matrix``, under the run's ``--scp`` files: what the policies mean, for
    every principal the allow-list names, including the cells no live probe makes on this
    target."""
    system = deployed_system(harness_target, deployment)
    unread = [(r.arn, r.unread, r.unread_boundary) for r in system.roles]
    assert not [u for u in unread if u[1] or u[2]], f"policies that cannot be read: {unread}"
    assert system.key_policy is not None and system.bucket_policy is not None
    accounts = deployment.settings.accounts
    scps = [scp.policy for scp in pytestconfig.stash[SCPS]]
    guarded = [accounts["training"], accounts["production"]]
    matrix = compute_matrix(
        subjects_from_allowlist(
            allowlist,
            {r.arn: [d.policy for d in r.identity] for r in system.roles},
            boundaries={r.arn: r.boundary.policy for r in system.roles if r.boundary},
        ),
        Key(deployment.key_arn, system.key_policy.policy),
        Bucket(deployment.bucket, accounts["shared-services"], system.bucket_policy.policy),
        [Role(r.arn, r.trust.policy) for r in system.roles],
        allowlist,
        deployment.settings.region,
        guarded_organization(accounts["shared-services"], guarded, scps),
    )
    findings = diff(matrix, allowlist)
    harness_record.matrix_cells = [
        {
            "subject": c.subject,
            "principal": c.principal_arn,
            "category": c.category,
            "action": c.action,
            "target": c.target,
            "allowed": c.allowed,
            "reason": c.reason,
        }
        for c in matrix.cells
    ]
    harness_record.matrix_table = format_table(matrix)
    harness_record.matrix_findings = [str(f) for f in findings]
    assert not findings, "the live policies disagree with the allow-list:\n" + "\n".join(
        map(str, findings)
    )
