"""infra/'s policies as mutation sites, bound to a deployment's names."""

from __future__ import annotations

import json
from collections import Counter
from types import SimpleNamespace

from harness.access import STATIC_KEY_ID
from harness.deploy.settings import Settings
from harness.evidence import PolicyKind, StatementCited
from harness.mutate.sites import Kind, infra_sites

ACCOUNTS = {
    "shared-services": "111111111111",
    "training": "222222222222",
    "production": "333333333333",
}
LIVE_KEY = "arn:aws:kms:us-east-1:111111111111:key/0d6c5e1a-1111-4222-8333-444455556666"
DEPLOYER = "arn:aws:iam::111111111111:role/ci"


def _sites() -> list:
    deployment = SimpleNamespace(
        settings=Settings("team", "us-east-1", ACCOUNTS),
        key_arn=LIVE_KEY,
        deployer_arns={"shared-services": DEPLOYER},
    )
    return infra_sites(deployment)  # type: ignore[arg-type]


def test_every_policy_of_infra_is_a_site_bound_to_the_deployment() -> None:
    sites = _sites()
    kinds = Counter(site.kind for site in sites)
    roles = {site.resource for site in sites if site.kind is Kind.TRUST}
    assert kinds[Kind.KEY] == kinds[Kind.BUCKET] == 1
    assert kinds[Kind.TRUST] == len(roles) >= 9
    assert kinds[Kind.IDENTITY] >= kinds[Kind.TRUST]  # every role has an inline policy
    assert all(role.split(":")[5].startswith("role/team-") for role in roles)
    text = json.dumps([site.document for site in sites])
    assert STATIC_KEY_ID not in text and LIVE_KEY in text
    publisher = next(s for s in sites if s.resource.endswith("role/team-data-publisher"))
    assert publisher.statements[0]["Principal"] == {"AWS": DEPLOYER}


def test_sites_recognise_their_statements_in_evidence() -> None:
    sites = {(s.kind, s.policy_name or s.resource): s for s in _sites()}
    bucket = next(s for (kind, _), s in sites.items() if kind is Kind.BUCKET)
    on_object = StatementCited(
        f"resource policy of arn:aws:s3:::{bucket.resource}/data/x.csv",
        PolicyKind.RESOURCE,
        "DenyDataReadsByOthers",
        "Deny",
    )
    assert bucket.cites(on_object, "DenyDataReadsByOthers")
    assert not bucket.cites(on_object, "DenyModelReadsByOthers")
    pipeline = sites[Kind.IDENTITY, "pipeline"]
    cited = StatementCited(pipeline.name, PolicyKind.IDENTITY, "UseArtifactKey", "Allow")
    assert pipeline.name == "policy 'pipeline' of role team-pipeline"
    assert pipeline.cites(cited, "UseArtifactKey")
    trust = sites[Kind.TRUST, pipeline.resource]
    assert not trust.cites(cited, "UseArtifactKey")
