"""botocore's data files (service models, endpoint partitions) as AWS publishes them, read
once per process, for the side that answers requests.

A botocore session makes its own loader, and a loader reads and parses a service's JSON model
again (SageMaker's takes 80 ms; the fifteen or so services a run serves, 0.3 s). The gateway's
operation mapper, the local CloudFormation, CodePipeline and CodeCommit APIs, the policy
simulator, the pipeline's renderer and the pseudo parameters each made one, some per call:
they share this loader and one ``ServiceModel`` per service built from it.

Never hand these to a client: the clients' sessions have their own loader
(:mod:`harness.targets.sessions`), because botocore's handlers change a client's model in
place (an S3 client's first call strips ``/{Bucket}`` from every request URI), and the
server side must match requests against the model as published.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore.loaders import Loader
from botocore.model import ServiceModel


@functools.cache
def loader() -> Loader:
    """The process's loader, made as a session makes its own (``AWS_DATA_PATH`` and the
    ``data_path`` setting are honoured). It caches every file it has read."""
    return botocore.session.Session().get_component("data_loader")


@functools.cache
def service_model(service_name: str) -> ServiceModel:
    """botocore's model of ``service_name``'s API (its latest version), as
    ``Session.get_service_model`` builds it."""
    return ServiceModel(loader().load_service_model(service_name, "service-2"), service_name)


def partitions() -> list[dict[str, Any]]:
    """botocore's partitions (aws, aws-cn, aws-us-gov, ...), in its endpoint data's order."""
    return loader().load_data("endpoints")["partitions"]
