"""Stack outputs as the three account stacks produce them, for test account ids."""

from __future__ import annotations

A, B, C = "111111111111", "222222222222", "333333333333"
KEY_ARN = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def stack_outputs(prefix: str = "mlops") -> dict[str, dict[str, str]]:
    """Outputs keyed by stack role, named exactly as the templates' Outputs."""
    return {
        "shared-services": {
            "ArtifactBucketName": f"{prefix}-artifacts-{A}-us-east-1",
            "ArtifactKeyArn": KEY_ARN,
            "PipelineRoleArn": f"arn:aws:iam::{A}:role/{prefix}-pipeline",
            "RepositoryName": f"{prefix}-training-source",
        },
        "training": {
            "PipelineActionRoleArn": f"arn:aws:iam::{B}:role/{prefix}-b-pipeline-action",
            "CloudFormationRoleArn": f"arn:aws:iam::{B}:role/{prefix}-b-cloudformation",
            "StateMachineRoleArn": f"arn:aws:iam::{B}:role/{prefix}-b-stepfunctions",
            "SageMakerTrainingRoleArn": f"arn:aws:iam::{B}:role/{prefix}-b-sagemaker-training",
            "TrainingStackName": f"{prefix}-training",
        },
        "production": {
            "PipelineActionRoleArn": f"arn:aws:iam::{C}:role/{prefix}-c-pipeline-action",
            "DeployFunctionName": f"{prefix}-deploy-endpoint",
        },
    }


SETTINGS = {"Prefix": "mlops", "Region": "us-east-1"}
