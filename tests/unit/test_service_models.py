"""The server side's botocore models: one per service and process, shared by the gateway and
the local APIs, and kept apart from the clients' (whose models botocore changes in place)."""

from __future__ import annotations

from botocore.stub import Stubber

from harness import service_models
from harness.cloudformation import query
from harness.gateway.operations import OperationMapper
from harness.targets.sessions import new_session


def test_one_model_per_service_for_every_reader() -> None:
    model = service_models.service_model("cloudformation")
    assert OperationMapper().service_model("cloudformation") is model
    assert query.service_model() is model
    assert model.service_name == "cloudformation"
    assert "CreateStack" in model.operation_names


def test_a_clients_changes_do_not_reach_the_servers_model() -> None:
    """botocore strips ``/{Bucket}`` from an S3 client's request URIs on its first call, in the
    model the client was made from; the gateway, which matches ``PUT /bucket`` against the
    published URI, would then map no bucket request at all."""
    client = new_session(region_name="us-east-1").client(
        "s3", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stub:
        stub.add_response("create_bucket", {})
        client.create_bucket(Bucket="amzn-s3-demo-bucket")
    assert client.meta.service_model.operation_model("CreateBucket").http["requestUri"] == ""
    published = service_models.service_model("s3").operation_model("CreateBucket")
    assert published.http["requestUri"] == "/{Bucket}"


def test_partitions_in_botocores_order() -> None:
    names = [partition["partition"] for partition in service_models.partitions()]
    assert names[0] == "aws"
    assert {"aws-cn", "aws-us-gov"} <= set(names)
