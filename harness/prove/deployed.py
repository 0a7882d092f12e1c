"""The system under proof as a deployment holds it: policies read back through the APIs.

As each account's deployer: the key policy, the bucket policy, and every role of the
deployment (named ``<prefix>-*``, canaries aside) with its trust policy, inline policies and
attached managed policies and permissions boundary (one that cannot be read is named, and
the proof takes it as allowing everything, or as no boundary, the worst case).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from harness.deploy import Deployment
from harness.proof import Document, Role, System
from harness.targets import ACCOUNT_ROLES, Target


def _document(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else text


def _managed(iam: Any, policy_arn: str) -> Any | None:
    """A managed policy's default version, or None when it cannot be read."""
    try:
        version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
        text = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)
    except ClientError:
        return None
    return _document(text["PolicyVersion"]["Document"])


def _role(iam: Any, role: dict[str, Any]) -> Role:
    name, arn = role["RoleName"], role["Arn"]
    trust = Document(f"trust policy of {arn}", _document(role["AssumeRolePolicyDocument"]))
    identity = [
        Document(
            f"policy {policy} of {arn}",
            _document(iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]),
        )
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
    ]
    unread = []
    for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        document = _managed(iam, attached["PolicyArn"])
        if document is None:
            unread.append(attached["PolicyArn"])
        else:
            identity.append(Document(f"{attached['PolicyName']} of {arn}", document))
    boundary_arn = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    boundary = None if boundary_arn is None else _managed(iam, boundary_arn)
    return Role(
        arn,
        trust,
        tuple(identity),
        tuple(unread),
        None if boundary is None else Document(f"boundary {boundary_arn} of {arn}", boundary),
        boundary_arn if boundary_arn is not None and boundary is None else None,
    )


def deployed_system(target: Target, deployment: Deployment) -> System:
    """The system ``deployment`` runs, as its accounts hold it now."""
    settings = deployment.settings
    shared = target.session("shared-services")
    kms = target.client("kms", shared)
    key_policy = kms.get_key_policy(KeyId=deployment.key_arn, PolicyName="default")["Policy"]
    s3 = target.client("s3", shared)
    try:
        bucket_policy: Document | None = Document(
            "bucket policy", _document(s3.get_bucket_policy(Bucket=deployment.bucket)["Policy"])
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchBucketPolicy":
            raise
        bucket_policy = None
    roles = []
    for account in ACCOUNT_ROLES:
        iam = target.client("iam", target.session(account))
        for page in iam.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                name = role["RoleName"]
                if name.startswith(f"{settings.prefix}-") and name != settings.canary_role_name:
                    full = iam.get_role(RoleName=name)["Role"]
                    roles.append(_role(iam, full))
    return System(
        region=settings.region,
        key_arn=deployment.key_arn,
        key_policy=Document("key policy", _document(key_policy)),
        bucket=deployment.bucket,
        bucket_account=settings.accounts["shared-services"],
        bucket_policy=bucket_policy,
        roles=tuple(roles),
    )
