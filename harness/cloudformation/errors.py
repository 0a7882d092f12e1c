"""Errors the engine raises, each carrying the message CloudFormation itself would show."""

from __future__ import annotations


class ValidationError(Exception):
    """Bad request or template: reported to the caller as CloudFormation's `ValidationError`."""

    code = "ValidationError"


class InsufficientCapabilitiesError(ValidationError):
    """The template creates IAM resources the caller did not acknowledge."""

    code = "InsufficientCapabilitiesException"


class AlreadyExistsError(ValidationError):
    """A stack of that name already exists."""

    code = "AlreadyExistsException"


class ResourceFailure(Exception):
    """A resource could not be created, updated or deleted; the message becomes the event reason.
    `code` is the service's error code when a service call failed (e.g. `NoSuchBucket`)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code
