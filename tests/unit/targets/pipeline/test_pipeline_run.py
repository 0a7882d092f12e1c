"""The project's pipeline run by the local target from a push to main, as in the three
accounts: each stage as its role, through the gateway, with the fault drills."""

from __future__ import annotations

import json

from harness.targets.sessions import new_session
from tests.unit.targets.conftest import PREFIX
from tests.unit.targets.pipeline.conftest import Project


def test_creating_the_pipeline_runs_it_once_and_source_fails_without_a_branch(
    project: Project,
) -> None:
    codepipeline = project.client("codepipeline")
    first = codepipeline.list_pipeline_executions(pipelineName=project.name)[
        "pipelineExecutionSummaries"
    ][-1]
    assert first["trigger"]["triggerType"] == "CreatePipeline"
    execution = project.finished(first["pipelineExecutionId"])
    assert execution["status"] == "Failed"
    assert "Stage Source failed: action Source" in execution["statusSummary"]
    assert "BranchDoesNotExistException" in execution["statusSummary"]


def test_push_runs_source_deploy_and_train_then_rejection_deploys_nothing(
    project: Project,
) -> None:
    commit_id = project.push("first model")
    execution_id = project.execution_of(commit_id)
    token = project.waiting_approval(execution_id)
    execution = project.client("codepipeline").get_pipeline_execution(
        pipelineName=project.name, pipelineExecutionId=execution_id
    )["pipelineExecution"]
    source_role = f"arn:aws:sts::{project.target.account_id('shared-services')}:assumed-role/"
    assert execution["trigger"]["triggerType"] == "StartPipelineExecution"
    assert execution["trigger"]["triggerDetail"].startswith(
        f"{source_role}{PREFIX}-source-trigger/"
    )
    assert execution["artifactRevisions"][0]["revisionId"] == commit_id

    actions = project.actions(execution_id)
    source = actions["Source"]
    assert source["status"] == "Succeeded"
    assert source["output"]["outputVariables"]["CommitId"] == commit_id
    assert source["output"]["outputVariables"]["CommitMessage"] == "first model"
    artifact = source["output"]["outputArtifacts"][0]["s3location"]
    assert artifact["bucket"] == project.wiring.ArtifactBucketName
    assert artifact["key"].startswith(f"{PREFIX}/SourceOutp/")
    pipeline_role = project.target.session_as_service(
        project.wiring.PipelineRoleArn, "codepipeline.amazonaws.com"
    )
    s3 = project.target.client("s3", pipeline_role)
    head = s3.head_object(Bucket=artifact["bucket"], Key=artifact["key"])
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == project.wiring.ArtifactKeyArn

    deploy = actions["DeployTrainingStack"]
    assert deploy["status"] == "Succeeded", deploy
    assert deploy["input"]["roleArn"] == project.wiring.TrainingPipelineActionRoleArn
    stack = project.client("cloudformation", "training").describe_stacks(
        StackName=project.wiring.TrainingStackName
    )["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["RoleARN"] == project.wiring.TrainingCloudFormationRoleArn
    state_machine = deploy["output"]["outputVariables"]["StateMachineArn"]
    assert state_machine == next(
        o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "StateMachineArn"
    )

    train = actions["Train"]
    assert train["status"] == "Succeeded", train
    started = project.stepfunctions.started[-1]
    assert started["stateMachineArn"] == state_machine  # the #{TrainingStack...} variable
    assert started["name"] == f"{PREFIX}-{train['actionExecutionId']}"
    expected_input = json.loads((project.source / "training-input.json").read_text())
    assert json.loads(started["input"]) == expected_input
    assert ":assumed-role/mlops-b-pipeline-action/" in started["caller"]
    assert train["output"]["outputVariables"]["ExecutionArn"].startswith(
        state_machine.replace(":stateMachine:", ":execution:")
    )

    invocations = len(project.function.events)
    project.answer_approval(token, "Rejected", "not this one")
    execution = project.finished(execution_id)
    assert execution["status"] == "Failed"
    assert "Stage Approve failed" in execution["statusSummary"]
    assert "Rejected" in execution["statusSummary"]
    assert "DeployEndpoint" not in project.actions(execution_id)
    assert len(project.function.events) == invocations


def test_approved_run_invokes_the_function_in_c_until_its_job_succeeds(project: Project) -> None:
    project.function.outcome = "continue-then-succeed"
    execution_id = project.execution_of(project.push("second model"))
    token = project.waiting_approval(execution_id)
    project.answer_approval(token, "Approved", "ship it")
    execution = project.finished(execution_id)
    assert execution["status"] == "Succeeded", execution
    assert project.function.errors == []
    first, second = project.function.events[-2:]
    job = first["CodePipeline.job"]
    assert job["accountId"] == project.target.account_id("shared-services")
    assert job["data"]["actionConfiguration"]["configuration"] == {
        "FunctionName": project.wiring.DeployFunctionName
    }
    assert job["data"]["inputArtifacts"][0]["name"] == "TrainingOutput"
    assert "continuationToken" not in job["data"]
    assert second["CodePipeline.job"]["data"]["continuationToken"]
    # The artifact credentials are the C action role's session.
    credentials = job["data"]["artifactCredentials"]
    artifact_session = new_session(
        aws_access_key_id=credentials["accessKeyId"],
        aws_secret_access_key=credentials["secretAccessKey"],
        aws_session_token=credentials["sessionToken"],
    )
    identity = project.target.client("sts", artifact_session).get_caller_identity()
    assert identity["Arn"].split("/")[1] == f"{PREFIX}-c-pipeline-action"
    deploy = project.actions(execution_id)["DeployEndpoint"]
    assert deploy["status"] == "Succeeded"
    assert deploy["output"]["executionResult"]["externalExecutionSummary"] == "endpoint InService"
    assert deploy["output"]["outputVariables"] == {"EndpointConfigName": "mlops-job-1"}


def test_a_failed_deploy_job_fails_the_execution_with_its_reason(project: Project) -> None:
    project.function.outcome = "fail"
    execution_id = project.execution_of(project.push("third model"))
    token = project.waiting_approval(execution_id)
    project.answer_approval(token, "Approved", "ship it")
    execution = project.finished(execution_id)
    assert execution["status"] == "Failed"
    summary = execution["statusSummary"]
    assert "Stage Deploy failed: action DeployEndpoint" in summary
    assert project.wiring.ProductionPipelineActionRoleArn in summary
    assert "DeployError: endpoint for mlops-job-1 is Failed" in summary
    state = project.action_state("Deploy", "DeployEndpoint")["latestExecution"]
    assert state["status"] == "Failed"
    assert state["errorDetails"]["code"] == "JobFailed"


def test_a_broken_trust_policy_of_the_training_action_role_fails_its_stage(
    project: Project,
) -> None:
    iam = project.client("iam", "training")
    role_name = project.wiring.TrainingPipelineActionRoleArn.rsplit("/", 1)[1]
    original = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    broken = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{project.target.account_id('training')}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(broken))
    try:
        execution = project.finished(project.execution_of(project.push("fourth model")))
    finally:
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(original))
    assert execution["status"] == "Failed"
    summary = execution["statusSummary"]
    assert "Stage DeployTrainingStack failed" in summary
    assert "AccessDenied" in summary
    assert "sts:AssumeRole" in summary
    assert "Train" not in project.actions(execution["pipelineExecutionId"])
