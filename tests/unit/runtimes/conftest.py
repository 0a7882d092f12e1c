"""Fixtures: moto's server on loopback and real boto3 sessions pointed at it.

Each test gets its own moto account (`x-moto-account-id`), so tests share one moto process
without sharing state. The runtimes receive an `AwsAccess` exactly as the local target builds
one: a session with the role's credentials, and the endpoint URL. Fake credentials and the
loopback-only socket guard come from tests/unit/conftest.py.
"""

from __future__ import annotations

import io
import ipaddress
import itertools
import json
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
import xgboost as xgb
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness.runtimes.aws import AwsAccess
from harness.targets.sessions import new_session
from tests.unit.serving import moto_server, served

REGION = "us-east-1"
INFRA = Path(__file__).resolve().parents[3] / "infra"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
_accounts = itertools.count(200000000001)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = moto_server()
    with served(server):
        yield f"http://127.0.0.1:{server.server_port}"


def access_in(moto_url: str, account_id: str) -> AwsAccess:
    """An AwsAccess acting in `account_id` on moto, as the local target hands runtimes one
    (its sessions share one botocore loader: a fresh one reads every service model again)."""
    session = new_session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        region_name=REGION,
    )

    session.events.register("before-sign", _account_header(account_id))
    return AwsAccess(session=session, endpoint_url=moto_url)


@pytest.fixture
def account_id() -> str:
    return str(next(_accounts))


@pytest.fixture
def access(moto_url: str, account_id: str) -> AwsAccess:
    return access_in(moto_url, account_id)


@dataclass(frozen=True)
class Artifacts:
    """A bucket holding the training data under `data/`, and a KMS key for the model."""

    access: AwsAccess
    bucket: str
    key_arn: str
    account_id: str


def make_artifacts(moto_url: str, account_id: str) -> Artifacts:
    access = access_in(moto_url, account_id)
    bucket = f"artifacts-{account_id}"
    access.client("s3").create_bucket(Bucket=bucket)
    for channel in ("train", "validation"):
        access.client("s3").upload_file(
            str(INFRA / "data" / f"{channel}.csv"), bucket, f"data/{channel}/{channel}.csv"
        )
    key_arn = access.client("kms").create_key()["KeyMetadata"]["Arn"]
    return Artifacts(access, bucket, key_arn, account_id)


@pytest.fixture
def artifacts(moto_url: str, account_id: str) -> Artifacts:
    return make_artifacts(moto_url, account_id)


def training_request(artifacts: Artifacts, name: str = "mlops-job-1", **changes: Any) -> dict:
    """CreateTrainingJob's parameters as the training stack's state machine sends them."""
    hyperparameters = json.loads((INFRA / "pipeline" / "training-input.json").read_text())
    request = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "RoleArn": f"arn:aws:iam::{artifacts.account_id}:role/mlops-b-sagemaker-training",
        "HyperParameters": hyperparameters["hyperparameters"],
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{artifacts.bucket}/data/{channel}/",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
            for channel in ("train", "validation")
        ],
        "OutputDataConfig": {
            "S3OutputPath": f"s3://{artifacts.bucket}/models/",
            "KmsKeyId": artifacts.key_arn,
        },
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "EnableNetworkIsolation": True,
    }
    request.update(changes)
    return request


def load_csv(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of one of infra/data's CSV files."""
    rows = np.loadtxt(INFRA / "data" / f"{name}.csv", delimiter=",")
    return rows[:, 1:], rows[:, 0]


@contextmanager
def moto_iam_enforced(moto_url: str) -> Iterator[None]:
    """Make moto evaluate IAM identity policies for every request, then switch it off again."""
    previous = requests.post(f"{moto_url}/moto-api/reset-auth", data=b"0", timeout=5).json()
    try:
        yield
    finally:
        restore = previous["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]
        requests.post(f"{moto_url}/moto-api/reset-auth", data=restore.encode(), timeout=5)


def role_access(access: AwsAccess, account_id: str, name: str, statements: list[dict]) -> AwsAccess:
    """Temporary credentials of a new role in `account_id` allowed only `statements`, as the
    gateway would issue them; `access` is an administrator there."""
    iam = access.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(
        RoleName=name,
        PolicyName="only",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    credentials = access.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="runtime")[
        "Credentials"
    ]
    session = new_session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )
    session.events.register("before-sign", _account_header(account_id))
    return AwsAccess(session=session, endpoint_url=access.endpoint_url)


def _account_header(account_id: str) -> Any:
    def add_account(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account_id

    return add_account


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: the chance a positive outranks a negative (ties count half)."""
    positives, negatives = scores[labels == 1], scores[labels == 0]
    wins = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((wins + 0.5 * ties) / (len(positives) * len(negatives)))


def booster_from_artifact(body: bytes) -> xgb.Booster:
    """The booster inside a model.tar.gz, loaded independently of the runtimes."""
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        assert archive.getnames() == ["xgboost-model"]
        member = archive.extractfile("xgboost-model")
        assert member is not None
        booster = xgb.Booster()
        booster.load_model(bytearray(member.read()))
    return booster


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "runtimes test gateway")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "ca.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture(scope="session")
def moto_over_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """moto's app behind HTTPS on loopback, as the gateway serves it; (URL, CA bundle)."""
    cert_file, key_file = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    server = moto_server(tls=(str(cert_file), str(key_file)))
    with served(server):
        yield f"https://127.0.0.1:{server.server_port}", cert_file
