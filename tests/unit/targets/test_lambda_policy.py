"""Lambda function policies (AddPermission) on the local target: who may invoke a function
besides its own account's identity policies.

Lambda developer guide: resource-based policies
https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html, other accounts
https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-cross-account.html, AWS
services with SourceArn/SourceAccount
https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-services.html.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.gateway.authz_map import AuthzCall
from harness.policy import Principal
from harness.targets.local import LocalTarget
from harness.targets.local.authorization import check_for
from harness.targets.local.gateway import Exchange
from tests.unit.targets.roles import deployer_role, trust

C, B = "production", "training"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    with LocalTarget(workdir=tmp_path_factory.mktemp("function-policy")) as started:
        yield started


def _function(target: LocalTarget, name: str) -> str:
    """A function of C; its ARN."""
    session = target.session(C)
    role = target.client("iam", session).create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust({"Service": "lambda.amazonaws.com"})),
    )
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    created = target.client("lambda", session).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )
    arn: str = created["FunctionArn"]
    return arn


def _last(target: LocalTarget, action: str) -> dict[str, Any]:
    entries: list[dict[str, Any]] = target.decision_log.entries()
    return next(e for e in reversed(entries) if e["action"] == action)


def test_an_account_id_principal_lets_that_account_invoke(target: LocalTarget) -> None:
    function = _function(target, "shared-fn")
    functions_b = target.client("lambda", target.session(B))
    with pytest.raises(ClientError) as refused:
        functions_b.invoke(FunctionName=function, InvocationType="DryRun")
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "[decided by: resource policy]" in _last(target, "lambda:InvokeFunction")["reason"]

    target.client("lambda", target.session(C)).add_permission(
        FunctionName="shared-fn",
        StatementId="training-invokes",
        Action="lambda:InvokeFunction",
        Principal=target.account_id(B),
    )
    # the control: the same call, now the function policy names B's account
    answer = functions_b.invoke(FunctionName=function, InvocationType="DryRun")
    assert answer["StatusCode"] == 204
    logged = _last(target, "lambda:InvokeFunction")
    assert logged["decision"] == "allow"
    assert "training-invokes" in logged["reason"]
    assert f"resource policy of {function}" in logged["reason"]
    assert {c["kind"] for c in logged["deciding"]} == {"resource", "identity"}
    # the policy names the invoke only: another action stays the caller's account's own
    with pytest.raises(ClientError):
        functions_b.get_function(FunctionName=function)
    # and a principal of a third account is not named
    with pytest.raises(ClientError):
        target.client("lambda", target.session("shared-services")).invoke(
            FunctionName=function, InvocationType="DryRun"
        )


def test_the_caller_identity_policy_must_allow_too(target: LocalTarget) -> None:
    function = _function(target, "needs-both")
    target.client("lambda", target.session(C)).add_permission(
        FunctionName="needs-both",
        StatementId="training",
        Action="lambda:InvokeFunction",
        Principal=target.account_id(B),
    )
    role = deployer_role(target, B, "no-lambda", [])
    caller = target.client("lambda", target.session(B, role))
    with pytest.raises(ClientError) as refused:
        caller.invoke(FunctionName=function, InvocationType="DryRun")
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    logged = _last(target, "lambda:InvokeFunction")
    assert "no identity policy does" in logged["reason"]
    assert logged["reason"].endswith("[decided by: identity policy]")


def _invoked_by_service(target: LocalTarget, function: str, source_arn: str) -> Any:
    """Decide lambda:InvokeFunction as EventBridge would ask it for the rule ``source_arn``."""
    context: dict[str, str | list[str]] = {
        "aws:SourceArn": source_arn,
        "aws:SourceAccount": source_arn.split(":")[4],
    }
    call = AuthzCall("lambda:InvokeFunction", function, context)
    check = check_for(call, target.account_id(C), target.region)
    assert target.gateway is not None
    exchange = Exchange("test-service-invoke", "lambda:Invoke", secure=True)
    return target.gateway.decide(Principal.service("events.amazonaws.com"), None, check, exchange)


def test_a_service_principal_is_held_to_its_source_arn_and_account(target: LocalTarget) -> None:
    function = _function(target, "on-schedule")
    account = target.account_id(C)
    rule = f"arn:aws:events:{target.region}:{account}:rule/nightly"
    assert not _invoked_by_service(target, function, rule)  # no function policy yet
    target.client("lambda", target.session(C)).add_permission(
        FunctionName="on-schedule",
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule,
        SourceAccount=account,
    )
    allowed = _invoked_by_service(target, function, rule)
    assert allowed and "events" in allowed.reason
    assert allowed.deciding_kinds == ("resource",)
    other = f"arn:aws:events:{target.region}:{account}:rule/hourly"
    refused = _invoked_by_service(target, function, other)
    assert not refused and refused.deciding_kinds == ("resource",)
    elsewhere = f"arn:aws:events:{target.region}:{target.account_id(B)}:rule/nightly"
    assert not _invoked_by_service(target, function, elsewhere)
