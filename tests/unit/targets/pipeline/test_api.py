"""CodeCommit and CodePipeline APIs of the local target on a small pipeline (Source, then a
manual approval) in one account: errors in AWS's shapes, queueing, stopping, and who may
start a pipeline."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.targets.local import LocalTarget

ACCOUNTS = {
    "shared-services": "777777777777",
    "training": "888888888888",
    "production": "999999999999",
}
REPO = "demo-source"
BUCKET = "demo-artifacts"
NAME = "demo"
FINAL = {"Succeeded", "Failed", "Stopped", "Superseded"}


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def _allow(*statements: tuple[list[str], str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": actions, "Resource": resource}
                for actions, resource in statements
            ],
        }
    )


class Demo:
    def __init__(self, target: LocalTarget) -> None:
        self.target = target
        self.account = target.account_id("shared-services")
        self.repo_arn = f"arn:aws:codecommit:us-east-1:{self.account}:{REPO}"
        self.pipeline_role = ""  # set once the role exists

    def client(self, service: str, **config: Any) -> BaseClient:
        session = self.target.session("shared-services")
        if config:
            settings = self.target.client_settings(service)
            settings["config"] = settings["config"].merge(Config(**config))
            return session.client(service, region_name="us-east-1", **settings)
        return self.target.client(service, session)

    def role(self, name: str, service: str, policy: str) -> str:
        iam = self.client("iam")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(service))["Role"]
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=policy)
        return str(arn["Arn"])

    def declaration(self, name: str, role_arn: str, mode: str = "QUEUED") -> dict[str, Any]:
        return {
            "name": name,
            "roleArn": role_arn,
            "executionMode": mode,
            "pipelineType": "V2",
            "artifactStore": {"type": "S3", "location": BUCKET},
            "stages": [
                {
                    "name": "Source",
                    "actions": [
                        {
                            "name": "Source",
                            "actionTypeId": {
                                "category": "Source",
                                "owner": "AWS",
                                "provider": "CodeCommit",
                                "version": "1",
                            },
                            "configuration": {"RepositoryName": REPO, "BranchName": "main"},
                            "outputArtifacts": [{"name": "Src"}],
                            "namespace": "Source",
                        }
                    ],
                },
                {
                    "name": "Approve",
                    "actions": [
                        {
                            "name": "Approve",
                            "actionTypeId": {
                                "category": "Approval",
                                "owner": "AWS",
                                "provider": "Manual",
                                "version": "1",
                            },
                            "configuration": {"CustomData": "commit #{Source.CommitId}"},
                        }
                    ],
                },
            ],
        }

    def execution(self, execution_id: str, name: str = NAME) -> dict[str, Any]:
        return dict(
            self.client("codepipeline").get_pipeline_execution(
                pipelineName=name, pipelineExecutionId=execution_id
            )["pipelineExecution"]
        )

    def wait(self, execution_id: str, done: Any, name: str = NAME) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while not done(execution := self.execution(execution_id, name)):
            assert time.monotonic() < deadline, execution
            time.sleep(0.05)
        return execution

    def approval(self, execution_id: str, name: str = NAME) -> dict[str, Any]:
        """The approval action's latest state, once this execution's approval waits."""
        codepipeline = self.client("codepipeline")
        deadline = time.monotonic() + 30
        while True:
            stages = codepipeline.get_pipeline_state(name=name)["stageStates"]
            approve = stages[1]
            latest = approve["actionStates"][0].get("latestExecution", {})
            mine = approve.get("latestExecution", {}).get("pipelineExecutionId") == execution_id
            if mine and latest.get("token"):
                return dict(latest)
            assert time.monotonic() < deadline, stages
            time.sleep(0.05)

    def commit(self, files: dict[str, bytes], message: str = "change", repo: str = REPO) -> str:
        codecommit = self.client("codecommit")
        try:
            parent = {
                "parentCommitId": codecommit.get_branch(repositoryName=repo, branchName="main")[
                    "branch"
                ]["commitId"]
            }
        except codecommit.exceptions.BranchDoesNotExistException:
            parent = {}
        return str(
            codecommit.create_commit(
                repositoryName=repo,
                branchName="main",
                commitMessage=message,
                putFiles=[{"filePath": p, "fileContent": c} for p, c in files.items()],
                **parent,
            )["commitId"]
        )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with LocalTarget(ACCOUNTS, workdir=tmp_path_factory.mktemp("demo")) as target:
        demo = Demo(target)
        demo.client("codecommit").create_repository(repositoryName=REPO)
        demo.client("s3").create_bucket(Bucket=BUCKET)
        demo.pipeline_role = demo.role(
            "demo-pipeline",
            "codepipeline.amazonaws.com",
            _allow(
                (["codecommit:GetBranch", "codecommit:GetCommit"], demo.repo_arn),
                (["s3:PutObject", "s3:GetObject"], f"arn:aws:s3:::{BUCKET}/*"),
            ),
        )
        yield demo


def _error(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    return dict(raised.value.response["Error"])


def test_codecommit_commits_branches_and_files(demo: Demo) -> None:
    codecommit = demo.client("codecommit")
    repo = "demo-files"  # this test's own repository: it sees every commit
    codecommit.create_repository(repositoryName=repo)
    first = demo.commit({"a.txt": b"one", "dir/b.txt": b"two"}, "first", repo)
    assert codecommit.list_branches(repositoryName=repo)["branches"] == ["main"]
    commit = codecommit.get_commit(repositoryName=repo, commitId=first)["commit"]
    assert commit["message"] == "first" and commit["parents"] == []
    folder = codecommit.get_folder(repositoryName=repo, folderPath="/")
    assert [f["absolutePath"] for f in folder["files"]] == ["a.txt"]
    assert [f["absolutePath"] for f in folder["subFolders"]] == ["dir"]
    got = codecommit.get_file(repositoryName=repo, filePath="dir/b.txt", commitSpecifier="main")
    assert got["fileContent"] == b"two" and got["commitId"] == first

    no_parent = _error(
        lambda: codecommit.put_file(
            repositoryName=repo, branchName="main", fileContent=b"x", filePath="a.txt"
        )
    )
    assert no_parent["Code"] == "ParentCommitIdRequiredException"
    second = codecommit.put_file(
        repositoryName=repo,
        branchName="main",
        fileContent=b"three",
        filePath="a.txt",
        parentCommitId=first,
    )["commitId"]
    stale = _error(
        lambda: codecommit.put_file(
            repositoryName=repo,
            branchName="main",
            fileContent=b"four",
            filePath="a.txt",
            parentCommitId=first,
        )
    )
    assert stale["Code"] == "ParentCommitIdOutdatedException"
    unchanged = _error(lambda: demo.commit({"a.txt": b"three"}, repo=repo))
    assert unchanged["Code"] == "NoChangeException"
    assert codecommit.get_file(repositoryName=repo, filePath="a.txt")["commitId"] == second
    missing = _error(lambda: codecommit.get_branch(repositoryName="nope", branchName="main"))
    assert missing["Code"] == "RepositoryDoesNotExistException"


def test_pipeline_errors_have_codepipeline_shapes(demo: Demo) -> None:
    codepipeline = demo.client("codepipeline")
    assert _error(lambda: codepipeline.get_pipeline(name="absent"))["Code"] == (
        "PipelineNotFoundException"
    )
    one_stage = demo.declaration("one-stage", demo.pipeline_role)
    one_stage["stages"] = one_stage["stages"][:1]
    invalid = _error(lambda: codepipeline.create_pipeline(pipeline=one_stage))
    assert invalid["Code"] == "InvalidStructureException"
    unchecked = demo.client("codepipeline", parameter_validation=False)
    malformed = _error(lambda: unchecked.create_pipeline(pipeline={"name": "x"}))
    assert malformed["Code"] == "ValidationException"
    assert "roleArn" in malformed["Message"]
    unknown_job = _error(lambda: codepipeline.put_job_success_result(jobId=str(uuid.uuid4())))
    assert unknown_job["Code"] == "JobNotFoundException"


def test_updates_keep_earlier_versions(demo: Demo) -> None:
    codepipeline = demo.client("codepipeline")
    declaration = demo.declaration("demo-versions", demo.pipeline_role, "PARALLEL")
    codepipeline.create_pipeline(pipeline=declaration)
    approve = declaration["stages"][1]["actions"][0]
    approve["configuration"]["CustomData"] = "second version"
    assert codepipeline.update_pipeline(pipeline=declaration)["pipeline"]["version"] == 2
    first = codepipeline.get_pipeline(name="demo-versions", version=1)["pipeline"]
    current = codepipeline.get_pipeline(name="demo-versions")["pipeline"]
    assert first["version"] == 1 and current["version"] == 2
    assert (
        first["stages"][1]["actions"][0]["configuration"]["CustomData"]
        == "commit #{Source.CommitId}"
    )
    assert current["stages"][1]["actions"][0]["configuration"]["CustomData"] == "second version"
    missing = _error(lambda: codepipeline.get_pipeline(name="demo-versions", version=3))
    assert missing["Code"] == "PipelineVersionNotFoundException"
    codepipeline.delete_pipeline(name="demo-versions")
    gone = _error(lambda: codepipeline.get_pipeline_state(name="demo-versions"))
    assert gone["Code"] == "PipelineNotFoundException"


def _wait_source(demo: Demo, execution_id: str, name: str = NAME) -> None:
    demo.wait(execution_id, lambda e: e["artifactRevisions"], name)


def test_queued_executions_enter_each_stage_in_order_and_tokens_are_checked(demo: Demo) -> None:
    codepipeline = demo.client("codepipeline")
    demo.commit({"c.txt": b"queued"}, "queued")
    codepipeline.create_pipeline(pipeline=demo.declaration(NAME, demo.pipeline_role))
    first = codepipeline.list_pipeline_executions(pipelineName=NAME)["pipelineExecutionSummaries"][
        0
    ]["pipelineExecutionId"]
    approval = demo.approval(first)
    second = codepipeline.start_pipeline_execution(name=NAME)["pipelineExecutionId"]
    _wait_source(demo, second)
    third = codepipeline.start_pipeline_execution(name=NAME)["pipelineExecutionId"]
    _wait_source(demo, third)
    # Both passed Source while the first holds Approve; they wait for it, in order.
    assert demo.approval(first)["token"] == approval["token"]
    assert {demo.execution(e)["status"] for e in (second, third)} == {"InProgress"}
    wrong = _error(
        lambda: codepipeline.put_approval_result(
            pipelineName=NAME,
            stageName="Approve",
            actionName="Approve",
            result={"summary": "", "status": "Approved"},
            token="00000000-0000-0000-0000-000000000000",
        )
    )
    assert wrong["Code"] == "InvalidApprovalTokenException"
    codepipeline.put_approval_result(
        pipelineName=NAME,
        stageName="Approve",
        actionName="Approve",
        result={"summary": "fine", "status": "Approved"},
        token=approval["token"],
    )
    assert demo.wait(first, lambda e: e["status"] in FINAL)["status"] == "Succeeded"
    demo.approval(second)
    codepipeline.stop_pipeline_execution(
        pipelineName=NAME, pipelineExecutionId=second, abandon=True, reason="not now"
    )
    stopped = demo.wait(second, lambda e: e["status"] in FINAL)
    assert stopped["status"] == "Stopped"
    details = codepipeline.list_action_executions(
        pipelineName=NAME, filter={"pipelineExecutionId": second}
    )["actionExecutionDetails"]
    assert {d["actionName"]: d["status"] for d in details} == {
        "Source": "Succeeded",
        "Approve": "Abandoned",
    }
    summaries = codepipeline.list_pipeline_executions(pipelineName=NAME)[
        "pipelineExecutionSummaries"
    ]
    assert next(s for s in summaries if s["pipelineExecutionId"] == second)["stopTrigger"] == {
        "reason": "not now"
    }
    demo.approval(third)
    codepipeline.stop_pipeline_execution(pipelineName=NAME, pipelineExecutionId=third, abandon=True)


def test_superseded_mode_lets_only_the_newest_waiting_execution_through(demo: Demo) -> None:
    name = "demo-superseded"
    codepipeline = demo.client("codepipeline")
    demo.commit({"s.txt": b"superseded"}, "superseded")
    codepipeline.create_pipeline(pipeline=demo.declaration(name, demo.pipeline_role, "SUPERSEDED"))
    first = codepipeline.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"][
        0
    ]["pipelineExecutionId"]
    demo.approval(first, name)
    second = codepipeline.start_pipeline_execution(name=name)["pipelineExecutionId"]
    demo.wait(second, lambda e: e["artifactRevisions"], name)
    third = codepipeline.start_pipeline_execution(name=name)["pipelineExecutionId"]
    superseded = demo.wait(second, lambda e: e["status"] in FINAL, name)
    assert superseded["status"] == "Superseded"
    assert third in superseded["statusSummary"]
    assert demo.execution(third, name)["status"] == "InProgress"
    codepipeline.delete_pipeline(name=name)


def test_pipeline_role_that_codepipeline_may_not_assume_fails_the_execution(demo: Demo) -> None:
    role = demo.role("demo-not-for-pipelines", "lambda.amazonaws.com", _allow((["s3:*"], "*")))
    codepipeline = demo.client("codepipeline")
    codepipeline.create_pipeline(pipeline=demo.declaration("untrusted", role, "PARALLEL"))
    execution_id = codepipeline.list_pipeline_executions(pipelineName="untrusted")[
        "pipelineExecutionSummaries"
    ][0]["pipelineExecutionId"]
    failed = demo.wait(execution_id, lambda e: e["status"] in FINAL, "untrusted")
    assert failed["status"] == "Failed"
    assert f"cannot assume the pipeline role {role}" in failed["statusSummary"]


def test_a_push_starts_the_pipeline_only_through_a_rule_role_allowed_to(demo: Demo) -> None:
    events = demo.client("events")
    name = "demo-push"
    pipeline_arn = f"arn:aws:codepipeline:us-east-1:{demo.account}:{name}"
    demo.client("codepipeline").create_pipeline(
        pipeline=demo.declaration(name, demo.pipeline_role, "PARALLEL")
    )
    allowed = demo.role(
        "demo-trigger",
        "events.amazonaws.com",
        _allow((["codepipeline:StartPipelineExecution"], pipeline_arn)),
    )
    other = demo.role(
        "demo-trigger-elsewhere",
        "events.amazonaws.com",
        _allow((["codepipeline:StartPipelineExecution"], f"{pipeline_arn}-other")),
    )
    pattern = {
        "source": ["aws.codecommit"],
        "detail-type": ["CodeCommit Repository State Change"],
        "resources": [demo.repo_arn],
        "detail": {"referenceType": ["branch"], "referenceName": ["main"]},
    }
    for rule, role in (("allowed", allowed), ("denied", other)):
        events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=rule, Targets=[{"Id": "p", "Arn": pipeline_arn, "RoleArn": role}])
    events.put_rule(
        Name="other-branch",
        EventPattern=json.dumps(pattern | {"detail": {"referenceName": ["dev"]}}),
    )
    events.put_targets(
        Rule="other-branch", Targets=[{"Id": "p", "Arn": pipeline_arn, "RoleArn": allowed}]
    )
    delivery = demo.target.pipelines
    assert delivery is not None
    before = len(delivery.events.deliveries)
    demo.commit({"d.txt": b"pushed"}, "pushed")
    delivery.events.wait()
    outcomes = {d.rule_arn.rsplit("/", 1)[1]: d for d in delivery.events.deliveries[before:]}
    assert set(outcomes) == {"allowed", "denied"}
    assert outcomes["allowed"].delivered
    assert not outcomes["denied"].delivered
    assert "AccessDenied" in outcomes["denied"].detail
    started = demo.execution(outcomes["allowed"].detail, name)
    assert started["trigger"]["triggerDetail"].split("/")[1] == "demo-trigger"
    for rule in ("allowed", "denied", "other-branch"):
        events.remove_targets(Rule=rule, Ids=["p"])
        events.delete_rule(Name=rule)


def test_source_revisions_pin_the_commit_an_execution_reads(demo: Demo) -> None:
    codepipeline = demo.client("codepipeline")
    name = "demo-pinned"
    older = demo.commit({"pinned.txt": b"older"}, "older")
    demo.commit({"pinned.txt": b"newer"}, "newer")
    codepipeline.create_pipeline(pipeline=demo.declaration(name, demo.pipeline_role, "PARALLEL"))
    pin = {"actionName": "Source", "revisionType": "COMMIT_ID", "revisionValue": older}
    unknown = _error(
        lambda: codepipeline.start_pipeline_execution(
            name=name, sourceRevisions=[pin | {"actionName": "Build"}]
        )
    )
    assert unknown["Code"] == "ValidationException"
    execution_id = codepipeline.start_pipeline_execution(name=name, sourceRevisions=[pin])[
        "pipelineExecutionId"
    ]
    demo.wait(execution_id, lambda e: e["artifactRevisions"], name)
    assert demo.execution(execution_id, name)["artifactRevisions"][0]["revisionId"] == older
    details = codepipeline.list_action_executions(
        pipelineName=name, filter={"pipelineExecutionId": execution_id}
    )["actionExecutionDetails"]
    source = next(d for d in details if d["actionName"] == "Source")
    assert source["output"]["outputVariables"]["CommitMessage"] == "older"
    codepipeline.stop_pipeline_execution(
        pipelineName=name, pipelineExecutionId=execution_id, abandon=True
    )
