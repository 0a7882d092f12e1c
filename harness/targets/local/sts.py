"""STS answered by the gateway: the responses botocore parses for AssumeRole and
GetCallerIdentity.

moto's STS would hand out keys the gateway never issued and ignore trust policies, so the
gateway issues session credentials from its own store and only these two operations exist.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.gateway.credentials import Credential, PrincipalType

XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"


def _document(operation: str, fields: dict[str, object], request_id: str) -> bytes:
    root = ET.Element(f"{operation}Response", xmlns=XMLNS)
    _fill(ET.SubElement(root, f"{operation}Result"), fields)
    metadata = ET.SubElement(root, "ResponseMetadata")
    ET.SubElement(metadata, "RequestId").text = request_id
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _fill(parent: ET.Element, fields: dict[str, object]) -> None:
    for name, value in fields.items():
        child = ET.SubElement(parent, name)
        if isinstance(value, dict):
            _fill(child, value)
        else:
            child.text = str(value)


def user_id(credential: Credential, role_id: str | None) -> str:
    """``aws:userid`` as STS reports it: the account for a root, ``<role id>:<session>``
    for a role session (the role's unique id, as IAM shows it)."""
    if credential.principal_type is PrincipalType.ACCOUNT:
        return credential.account_id
    if credential.principal_type is PrincipalType.ASSUMED_ROLE:
        session = credential.arn.rsplit("/", 1)[1]
        return f"{role_id or 'AROA' + credential.account_id}:{session}"
    return credential.access_key_id


def caller_identity(credential: Credential, role_id: str | None, request_id: str) -> bytes:
    return _document(
        "GetCallerIdentity",
        {
            "UserId": user_id(credential, role_id),
            "Account": credential.account_id,
            "Arn": credential.arn,
        },
        request_id,
    )


def assumed_role(session: Credential, role_id: str | None, request_id: str) -> bytes:
    assert session.expiration is not None and session.session_token is not None
    return _document(
        "AssumeRole",
        {
            "Credentials": {
                **session.as_sts(),
                "Expiration": session.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "AssumedRoleUser": {
                "AssumedRoleId": user_id(session, role_id),
                "Arn": session.arn,
            },
            "PackedPolicySize": 0,
        },
        request_id,
    )
