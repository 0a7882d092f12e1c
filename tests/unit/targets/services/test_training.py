"""The training stack's state machine runs on the local target: a real job, a real model."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.targets.local import LocalTarget
from harness.targets.local.faults import STUCK_ALGORITHM, Fault
from tests.unit.targets.services.conftest import (
    INPUT,
    SAGEMAKER,
    Stacks,
    run_training,
    wait_for,
)


def test_execution_trains_model_under_the_artifact_key(
    target: LocalTarget, stacks: Stacks, trained: dict[str, Any]
) -> None:
    assert trained["status"] == "SUCCEEDED", trained.get("cause")
    output = json.loads(trained["output"])
    assert output["TrainingJobName"] == "mlops-train-1"
    model_url = output["ModelArtifacts"]
    assert model_url == f"s3://{stacks.bucket}/models/mlops-train-1/output/model.tar.gz"

    reader = stacks.outputs["production"]["SageMakerHostingRoleArn"]
    s3 = target.client("s3", target.session_as_service(reader, SAGEMAKER))
    head = s3.head_object(Bucket=stacks.bucket, Key=model_url.split("/", 3)[3])
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == stacks.key_arn

    sagemaker = target.client("sagemaker", target.session("training"))
    job = sagemaker.describe_training_job(TrainingJobName="mlops-train-1")
    assert job["TrainingJobStatus"] == "Completed"
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == model_url
    assert job["TrainingEndTime"] >= job["TrainingStartTime"]
    assert "FailureReason" not in job
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    assert {m["MetricName"] for m in job["FinalMetricDataList"]} >= {"validation:auc"}


def test_history_records_the_task_and_names_are_unique(
    target: LocalTarget, stacks: Stacks, trained: dict[str, Any]
) -> None:
    sfn = target.client("stepfunctions", target.session("training"))
    events = sfn.get_execution_history(executionArn=trained["executionArn"])["events"]
    kinds = [event["type"] for event in events]
    assert kinds == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    scheduled = json.loads(events[2]["taskScheduledEventDetails"]["parameters"])
    assert scheduled["TrainingJobName"] == "mlops-train-1"  # from $$.Execution.Name
    assert scheduled["HyperParameters"] == INPUT["hyperparameters"]

    listed = sfn.list_executions(stateMachineArn=stacks.state_machine_arn)["executions"]
    assert [e["name"] for e in listed] == ["mlops-train-1"]
    try:
        sfn.start_execution(stateMachineArn=stacks.state_machine_arn, name="mlops-train-1")
    except sfn.exceptions.ExecutionAlreadyExists:
        pass
    else:
        raise AssertionError("a second execution with the same name was started")


def test_job_name_outside_the_role_policy_is_refused(target: LocalTarget, stacks: Stacks) -> None:
    """The task calls CreateTrainingJob as the state machine's role: a job named outside
    ``training-job/mlops-*`` fails the execution with SageMaker's AccessDenied."""
    described = run_training(target, stacks, "other-job")

    assert described["status"] == "FAILED"
    assert described["error"] == "SageMaker.AccessDeniedException"
    assert "mlops-b-stepfunctions" in described["cause"]
    assert "sagemaker:CreateTrainingJob" in described["cause"]


def test_stopping_the_execution_stops_its_job(target: LocalTarget, stacks: Stacks) -> None:
    sfn = target.client("stepfunctions", target.session("training"))
    sagemaker = target.client("sagemaker", target.session("training"))
    arn = sfn.start_execution(
        stateMachineArn=stacks.state_machine_arn, name="mlops-stopped", input=json.dumps(INPUT)
    )["executionArn"]
    wait_for(
        lambda: sfn.get_execution_history(executionArn=arn)["events"],
        lambda events: any(e["type"] == "TaskSubmitted" for e in events),
    )

    sfn.stop_execution(executionArn=arn)

    described = wait_for(
        lambda: sfn.describe_execution(executionArn=arn), lambda d: d["status"] != "RUNNING"
    )
    assert described["status"] == "ABORTED"
    job = wait_for(
        lambda: sagemaker.describe_training_job(TrainingJobName="mlops-stopped"),
        lambda j: j["TrainingJobStatus"] not in ("InProgress", "Stopping"),
    )
    assert job["TrainingJobStatus"] == "Stopped"


def test_a_stuck_training_job_fails_the_execution_at_its_bound_naming_it_and_is_stopped(
    target: LocalTarget, stacks: Stacks, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert target.runtimes is not None
    monkeypatch.setattr(target.runtimes.context, "fault", Fault(algorithm=STUCK_ALGORITHM))
    monkeypatch.setenv("HARNESS_BOUND_TRAINING_JOB", "0.3")

    described = run_training(target, stacks, "mlops-stuck")

    assert described["status"] == "FAILED"
    assert (described["error"], described["cause"]) == (
        "States.Timeout",
        "training job mlops-stuck to end: gave up after 0.3 s (bound)",
    )
    sagemaker = target.client("sagemaker", target.session("training"))
    job = wait_for(
        lambda: sagemaker.describe_training_job(TrainingJobName="mlops-stuck"),
        lambda j: j["TrainingJobStatus"] not in ("InProgress", "Stopping"),
    )
    assert job["TrainingJobStatus"] == "Stopped"


def test_role_sagemaker_may_not_assume_is_refused(target: LocalTarget, stacks: Stacks) -> None:
    """The state machine role trusts only Step Functions: SageMaker cannot run a job as it."""
    sagemaker = target.client("sagemaker", target.session("training"))
    with pytest.raises(ClientError) as refused:
        sagemaker.create_training_job(
            TrainingJobName="mlops-wrong-role",
            AlgorithmSpecification={"TrainingImage": "any", "TrainingInputMode": "File"},
            RoleArn=stacks.wiring.StateMachineRoleArn,
            OutputDataConfig={"S3OutputPath": f"s3://{stacks.bucket}/models/"},
            ResourceConfig={"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1},
            StoppingCondition={"MaxRuntimeInSeconds": 60},
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "Could not assume role" in refused.value.response["Error"]["Message"]


def test_training_role_without_decrypt_fails_the_job(target: LocalTarget, stacks: Stacks) -> None:
    """Fault drill: kms:Decrypt removed from the training role -> the job cannot read the
    data published under the key; the job and the execution fail with that AccessDenied."""
    iam = target.client("iam", target.session("training"))
    role = stacks.wiring.SageMakerTrainingRoleArn.rsplit("/", 1)[1]
    document = iam.get_role_policy(RoleName=role, PolicyName="training-job")["PolicyDocument"]
    for statement in document["Statement"]:
        if statement.get("Sid") == "UseArtifactKey":
            statement["Action"] = [a for a in statement["Action"] if a != "kms:Decrypt"]
    iam.put_role_policy(
        RoleName=role, PolicyName="training-job", PolicyDocument=json.dumps(document)
    )

    described = run_training(target, stacks, "mlops-no-decrypt")

    assert described["status"] == "FAILED"
    assert described["error"] == "States.TaskFailed"
    job = json.loads(described["cause"])
    assert job["TrainingJobStatus"] == "Failed"
    assert "AccessDenied" in job["FailureReason"]
    assert "kms:Decrypt" in job["FailureReason"]
    sagemaker = target.client("sagemaker", target.session("training"))
    recorded = sagemaker.describe_training_job(TrainingJobName="mlops-no-decrypt")
    assert recorded["TrainingJobStatus"] == "Failed"
    assert recorded["FailureReason"] == job["FailureReason"]
    assert "ModelArtifacts" not in recorded
