"""Promise 2, the roles: each role of the deployment can be assumed only by whom the allow-list
says (``assume``), measured with live ``sts:AssumeRole`` calls from every principal class: each
role of the deployment, the admin-like canaries in A, B, C and the outsider, each account's
deployer and root. A refusal counts only next to an allowed assumption of the same role (by the
allow-listed caller, or by the service the role trusts) and only if the trust policy, or AWS's
rule that a root cannot assume roles, is what refused; a role of the deployment calling is also
probed with an admin-like identity policy attached, so only the trust policy stands between.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.probes.judge import Verdict
from harness.report import RunRecord
from harness.targets import Capability
from tests.integration.evidence import conclude

pytestmark = pytest.mark.promise(2)


@pytest.mark.requires(Capability.ENFORCES_TRUST_POLICY, Capability.ENFORCES_IDENTITY_POLICY)
@pytest.mark.cells("trust")
def test_assume_role(
    cell_id: str, verdict_of: Callable[[str, str], Verdict], harness_record: RunRecord
) -> None:
    conclude(verdict_of("trust", cell_id), harness_record, "trust")
