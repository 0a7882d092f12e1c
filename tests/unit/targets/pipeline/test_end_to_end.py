"""The whole pipeline on the local target with its real runtimes (Step Functions interpreter,
SageMaker training and hosting, the deploy function from ``infra/lambda``), deployed as the
harness deploys it, from a push to main; and the training-key fault drill."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from harness.deploy.deploy import Deployment, deploy
from harness.deploy.pipeline import follow_execution
from harness.deploy.settings import Settings
from harness.targets.local import LocalTarget

ACCOUNTS = {
    "shared-services": "121212121212",
    "training": "232323232323",
    "production": "343434343434",
}
TIMEOUT_S = 240.0


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalTarget, Deployment]]:
    with LocalTarget(ACCOUNTS, workdir=tmp_path_factory.mktemp("e2e")) as target:
        yield target, deploy(target, Settings.for_target(target))


def _push_change(target: LocalTarget, deployment: Deployment, change: bytes) -> None:
    """Commit a change to main once no execution is in progress: the deploy's own push is
    followed to its end, its approval rejected. Abandoned instead, it could leave the training
    stack in CREATE_IN_PROGRESS, and this push's DeployTrainingStack then failed, as it would
    on AWS (seen under load)."""
    assert target.pipelines is not None
    target.pipelines.events.wait()  # the deploy's push has started its execution
    codepipeline = target.client("codepipeline", target.session("shared-services"))
    name = deployment.settings.pipeline_name
    for summary in codepipeline.list_pipeline_executions(pipelineName=name)[
        "pipelineExecutionSummaries"
    ]:
        if summary["status"] == "InProgress":
            execution_id = summary["pipelineExecutionId"]
            follow_execution(codepipeline, deployment, False, TIMEOUT_S, execution_id=execution_id)
    codecommit = target.client("codecommit", target.session("shared-services"))
    repository = deployment.wiring.RepositoryName
    head = codecommit.get_branch(repositoryName=repository, branchName="main")["branch"]
    deployment.commit_id = codecommit.put_file(
        repositoryName=repository,
        branchName="main",
        parentCommitId=head["commitId"],
        filePath="CHANGES",
        fileContent=change,
        commitMessage=change.decode(),
    )["commitId"]


def test_a_push_trains_asks_approval_and_deploys_the_endpoint(
    deployed: tuple[LocalTarget, Deployment],
) -> None:
    target, deployment = deployed
    _push_change(target, deployment, b"train and deploy")
    codepipeline = target.client("codepipeline", target.session("shared-services"))
    run = follow_execution(codepipeline, deployment, approve=True, timeout_s=TIMEOUT_S)
    assert run.status == "Succeeded", run.failures()
    assert run.approval is not None
    details = codepipeline.list_action_executions(
        pipelineName=run.pipeline, filter={"pipelineExecutionId": run.execution_id}
    )["actionExecutionDetails"]
    train = next(d for d in details if d["actionName"] == "Train")
    execution_arn = train["output"]["outputVariables"]["ExecutionArn"]
    stepfunctions = target.client("stepfunctions", target.session("training"))
    result = json.loads(stepfunctions.describe_execution(executionArn=execution_arn)["output"])
    sagemaker_b = target.client("sagemaker", target.session("training"))
    job = sagemaker_b.describe_training_job(TrainingJobName=result["TrainingJobName"])
    assert job["TrainingJobStatus"] == "Completed"
    endpoint = target.client("sagemaker", target.session("production")).describe_endpoint(
        EndpointName=deployment.settings.endpoint_name
    )
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == result["TrainingJobName"]


def test_training_role_without_decrypt_fails_training_before_any_approval(
    deployed: tuple[LocalTarget, Deployment],
) -> None:
    target, deployment = deployed
    iam = target.client("iam", target.session("training"))
    role = deployment.wiring.SageMakerTrainingRoleArn.rsplit("/", 1)[1]
    original = iam.get_role_policy(RoleName=role, PolicyName="training-job")["PolicyDocument"]
    weakened = json.loads(json.dumps(original))
    for statement in weakened["Statement"]:
        if statement.get("Sid") == "UseArtifactKey":
            statement["Action"] = [a for a in statement["Action"] if a != "kms:Decrypt"]
    iam.put_role_policy(
        RoleName=role, PolicyName="training-job", PolicyDocument=json.dumps(weakened)
    )
    codepipeline = target.client("codepipeline", target.session("shared-services"))
    try:
        _push_change(target, deployment, b"retrain without decrypt")
        run = follow_execution(codepipeline, deployment, approve=True, timeout_s=TIMEOUT_S)
    finally:
        iam.put_role_policy(
            RoleName=role, PolicyName="training-job", PolicyDocument=json.dumps(original)
        )
    assert run.status == "Failed"
    train = run.stages["Train"]["actionStates"][0]["latestExecution"]
    assert train["status"] == "Failed"
    assert "AccessDenied" in train["errorDetails"]["message"]
    assert "kms:Decrypt" in train["errorDetails"]["message"]
    actions = codepipeline.list_action_executions(
        pipelineName=run.pipeline, filter={"pipelineExecutionId": run.execution_id}
    )["actionExecutionDetails"]
    assert {a["actionName"] for a in actions} == {"Source", "DeployTrainingStack", "Train"}
