"""CloudFormation for the embedded `local` target: templates are resolved here and every
resource is created through the real service APIs (boto3 clients from the caller's factory,
so the enforcement gateway sees each call), because moto's own CloudFormation drops settings.

Entry points: `resolve()` for static rendering, `CloudFormationService` for stack operations,
`CloudFormationApi` (WSGI) for the CloudFormation query API."""

from harness.cloudformation.api import CloudFormationApi
from harness.cloudformation.errors import ValidationError
from harness.cloudformation.resolve import ResolvedResource, ResolvedTemplate, resolve
from harness.cloudformation.service import Caller, CloudFormationService

__all__ = [
    "Caller",
    "CloudFormationApi",
    "CloudFormationService",
    "ResolvedResource",
    "ResolvedTemplate",
    "ValidationError",
    "resolve",
]
