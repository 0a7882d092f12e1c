"""Verify AWS Signature Version 4 on a WSGI request, server side, as AWS does.

Both forms botocore produces are checked: the ``Authorization`` header and the presigned query
string. The canonical request is rebuilt from what arrived on the wire (raw path, raw query,
signed headers, payload hash), so a request that AWS would reject is rejected here too.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote, unquote_to_bytes

from harness.gateway.credentials import Credential, CredentialStore
from harness.gateway.errors import ErrorKind, GatewayError

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600
_AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_HEX_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_AUTH_FIELD = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]*)")
# Services whose signer neither normalises nor re-encodes the path (botocore's S3SigV4Auth).
_RAW_PATH_SERVICES = frozenset({"s3", "s3-object-lambda", "s3-outposts", "s3express"})


@dataclass(frozen=True)
class SignatureInfo:
    """What a request claims about its signature, parsed before any secret is looked at."""

    access_key_id: str
    scope_date: str
    region: str
    service: str  # the signing name, e.g. "s3", "states", "sagemaker"
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: datetime.datetime
    presigned: bool
    expires: int | None
    session_token: str | None

    @property
    def credential_scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/aws4_request"

    @property
    def auth_type(self) -> str:
        """Value of ``s3:authType``: how the signature was carried."""
        return "REST-QUERY-STRING" if self.presigned else "REST-HEADER"


@dataclass(frozen=True)
class VerifiedRequest:
    """A request whose signature checked out: who sent it, and how it was signed."""

    credential: Credential
    signature: SignatureInfo


def header(environ: Mapping[str, Any], name: str) -> str | None:
    """A request header from a WSGI environ by its HTTP name (case-insensitive)."""
    key = name.upper().replace("-", "_")
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return environ.get(key) or None
    return environ.get(f"HTTP_{key}")


def raw_path(environ: Mapping[str, Any]) -> str:
    """The request path exactly as the client sent it, still percent-encoded.

    Werkzeug and gunicorn keep it in ``RAW_URI``/``REQUEST_URI``; otherwise it is re-encoded
    from ``PATH_INFO`` the way botocore encodes paths, which is exact for botocore clients
    except for an encoded ``/`` inside a path segment.
    """
    uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if uri:
        path = uri.split("?", 1)[0]
        if "://" in path:  # absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        return path or "/"
    path_bytes = environ.get("PATH_INFO", "").encode("latin-1")
    return quote(environ.get("SCRIPT_NAME", "").encode("latin-1") + path_bytes, safe="/~") or "/"


def query_pairs(query_string: str) -> list[tuple[str, str]]:
    """Decoded (name, value) pairs of a raw query string, blanks kept, order preserved."""
    pairs = []
    for part in query_string.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def _parse_amz_date(value: str) -> datetime.datetime:
    if _is_basic_iso(value):
        # The form SigV4 writes (20261202T075702Z): fromisoformat reads it in C, a twentieth
        # of strptime's cost, which every request paid.
        return datetime.datetime.fromisoformat(value)
    try:
        return datetime.datetime.strptime(value, _AMZ_DATE_FORMAT).replace(tzinfo=datetime.UTC)
    except ValueError:
        parsed = parsedate_to_datetime(value)  # the plain HTTP Date header, RFC 7231 form
        return parsed.astimezone(datetime.UTC)


def _is_basic_iso(value: str) -> bool:
    """``YYYYMMDDTHHMMSSZ`` in ASCII digits (what ``_AMZ_DATE_FORMAT`` parses, strictly)."""
    date, time, zone = value[:8], value[9:15], value[15:]
    return (
        len(value) == 16
        and value[8:9] == "T"
        and zone == "Z"
        and value.isascii()
        and date.isdigit()
        and time.isdigit()
    )


def _split_credential(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise GatewayError(
            ErrorKind.INCOMPLETE_SIGNATURE, f"Credential should be scoped correctly: {credential}"
        )
    return parts[0], parts[1], parts[2], parts[3]


def parse_signature(environ: Mapping[str, Any]) -> SignatureInfo | None:
    """Parse the SigV4 fields of a request; ``None`` if it carries no signature at all."""
    query = dict(query_pairs(environ.get("QUERY_STRING", "")))
    authorization = header(environ, "Authorization")
    try:
        if authorization is not None:
            algorithm, _, rest = authorization.strip().partition(" ")
            if algorithm != ALGORITHM:
                raise GatewayError(
                    ErrorKind.INCOMPLETE_SIGNATURE, f"Unsupported authorization type: {algorithm}"
                )
            fields = dict(_AUTH_FIELD.findall(rest))
            missing = {"Credential", "SignedHeaders", "Signature"} - fields.keys()
            if missing:
                raise GatewayError(
                    ErrorKind.INCOMPLETE_SIGNATURE,
                    f"Authorization header requires {', '.join(sorted(missing))} parameter(s).",
                )
            date_text = header(environ, "X-Amz-Date") or header(environ, "Date")
            if date_text is None:
                raise GatewayError(
                    ErrorKind.INCOMPLETE_SIGNATURE, "Authorization requires an X-Amz-Date header."
                )
            credential, signed, signature = (
                fields["Credential"],
                fields["SignedHeaders"],
                fields["Signature"],
            )
            token = header(environ, "X-Amz-Security-Token")
            presigned, expires = False, None
        elif "X-Amz-Signature" in query:
            if query.get("X-Amz-Algorithm") != ALGORITHM:
                raise GatewayError(ErrorKind.INCOMPLETE_SIGNATURE, "Unsupported X-Amz-Algorithm.")
            credential = query["X-Amz-Credential"]
            signed = query["X-Amz-SignedHeaders"]
            signature = query["X-Amz-Signature"]
            date_text = query["X-Amz-Date"]
            token = query.get("X-Amz-Security-Token")
            presigned, expires = True, int(query["X-Amz-Expires"])
            if not 1 <= expires <= MAX_PRESIGN_EXPIRES:
                raise GatewayError(
                    ErrorKind.INCOMPLETE_SIGNATURE,
                    "X-Amz-Expires must be between 1 and 604800 seconds.",
                )
        elif "AWSAccessKeyId" in query or (authorization or "").startswith("AWS "):
            raise GatewayError(
                ErrorKind.INCOMPLETE_SIGNATURE,
                "Signature Version 2 is not supported by the local target; "
                "configure the client with signature_version='s3v4'.",
            )
        else:
            return None
        amz_date = _parse_amz_date(date_text)
    except (KeyError, ValueError, TypeError) as exc:
        raise GatewayError(ErrorKind.INCOMPLETE_SIGNATURE, f"Malformed signature: {exc}") from exc
    key_id, scope_date, region, service = _split_credential(credential)
    return SignatureInfo(
        access_key_id=key_id,
        scope_date=scope_date,
        region=region,
        service=service,
        signed_headers=tuple(signed.split(";")),
        signature=signature,
        amz_date=amz_date,
        presigned=presigned,
        expires=expires,
        session_token=token,
    )


def canonical_uri(environ: Mapping[str, Any], service: str) -> str:
    """The path as the client's signer saw it: S3 signs it verbatim, others re-encode it."""
    path = raw_path(environ)
    if service in _RAW_PATH_SERVICES:
        return path
    segments = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    normalized = "/" + "/".join(segments)
    if path.endswith("/") and segments:
        normalized += "/"
    return quote(normalized, safe="/~")


def canonical_query(query_string: str, *, drop: str | None = None) -> str:
    """Query pairs re-encoded with RFC 3986 unreserved characters, sorted by name then value."""
    encoded = sorted(
        (quote(unquote_to_bytes(name), safe="-_.~"), quote(unquote_to_bytes(value), safe="-_.~"))
        for name, _, value in (p.partition("=") for p in query_string.split("&") if p)
        if unquote(name) != drop
    )
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_headers(environ: Mapping[str, Any], names: tuple[str, ...]) -> str:
    lines = []
    for name in names:
        value = header(environ, name) or ""
        lines.append(f"{name}:{' '.join(value.split())}\n")
    return "".join(lines)


def payload_hash(environ: Mapping[str, Any], body: bytes, info: SignatureInfo) -> str:
    """The payload hash the client signed.

    S3 always states it in ``x-amz-content-sha256`` (a hex digest, ``UNSIGNED-PAYLOAD`` or a
    streaming marker); a presigned S3 URL signs ``UNSIGNED-PAYLOAD``; other services sign the
    SHA-256 of the body.
    """
    declared = header(environ, "X-Amz-Content-SHA256")
    if declared is not None:
        return declared
    if info.presigned and info.service in _RAW_PATH_SERVICES:
        return UNSIGNED_PAYLOAD
    return hashlib.sha256(body).hexdigest()


def canonical_request(environ: Mapping[str, Any], body: bytes, info: SignatureInfo) -> str:
    return "\n".join(
        [
            environ.get("REQUEST_METHOD", "GET").upper(),
            canonical_uri(environ, info.service),
            canonical_query(
                environ.get("QUERY_STRING", ""), drop="X-Amz-Signature" if info.presigned else None
            ),
            canonical_headers(environ, info.signed_headers),
            ";".join(info.signed_headers),
            payload_hash(environ, body, info),
        ]
    )


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def expected_signature(secret: str, info: SignatureInfo, canonical: str) -> str:
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            info.amz_date.strftime(_AMZ_DATE_FORMAT),
            info.credential_scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = _hmac(f"AWS4{secret}".encode(), info.scope_date)
    for part in (info.region, info.service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _check_token(credential: Credential, info: SignatureInfo, now: datetime.datetime) -> None:
    if credential.session_token is None:
        if info.session_token is not None:
            raise GatewayError(ErrorKind.INVALID_TOKEN)
        return
    if info.session_token is None or not hmac.compare_digest(
        credential.session_token, info.session_token
    ):
        raise GatewayError(ErrorKind.INVALID_TOKEN)
    if credential.is_expired(now):
        raise GatewayError(ErrorKind.EXPIRED_TOKEN)


def _check_time(info: SignatureInfo, now: datetime.datetime, max_skew: datetime.timedelta) -> None:
    if info.amz_date.strftime("%Y%m%d") != info.scope_date:
        raise GatewayError(
            ErrorKind.SIGNATURE_MISMATCH, "Date in Credential scope does not match request date."
        )
    if info.presigned:
        assert info.expires is not None
        if now > info.amz_date + datetime.timedelta(seconds=info.expires):
            raise GatewayError(ErrorKind.PRESIGNED_URL_EXPIRED)
        if info.amz_date - now > max_skew:
            raise GatewayError(ErrorKind.REQUEST_TIME_SKEWED)
        return
    if abs(now - info.amz_date) > max_skew:
        stamp = info.amz_date.strftime(_AMZ_DATE_FORMAT)
        raise GatewayError(
            ErrorKind.REQUEST_TIME_SKEWED,
            f"Signature expired: {stamp} is now earlier than "
            f"{(now - max_skew).strftime(_AMZ_DATE_FORMAT)} "
            f"({now.strftime(_AMZ_DATE_FORMAT)} - {int(max_skew.total_seconds() // 60)} min.)",
        )


def _check_payload(body: bytes, declared: str) -> None:
    if _HEX_SHA256.match(declared):
        if not hmac.compare_digest(declared, hashlib.sha256(body).hexdigest()):
            raise GatewayError(ErrorKind.CONTENT_SHA256_MISMATCH)
    elif declared.startswith("STREAMING-") and declared != STREAMING_UNSIGNED_TRAILER:
        # Per-chunk signatures are not verified here; refuse rather than accept unverified data.
        raise GatewayError(
            ErrorKind.INCOMPLETE_SIGNATURE,
            f"x-amz-content-sha256 {declared} is not supported by the local target.",
        )
    elif declared not in (UNSIGNED_PAYLOAD, STREAMING_UNSIGNED_TRAILER):
        raise GatewayError(ErrorKind.CONTENT_SHA256_MISMATCH)


def verify(
    environ: Mapping[str, Any],
    body: bytes,
    store: CredentialStore,
    *,
    now: datetime.datetime | None = None,
    max_skew: datetime.timedelta = MAX_CLOCK_SKEW,
    signature: SignatureInfo | None = None,
) -> VerifiedRequest:
    """Authenticate a request or raise :class:`GatewayError` with the kind AWS would report.

    ``body`` is the request body exactly as received (for S3 streaming uploads still
    ``aws-chunked``). Order of checks follows AWS: a key it never issued, then the session
    token and its expiry, then the clock, then the signature, then the declared payload hash.
    ``signature`` is ``parse_signature(environ)`` where the caller has parsed it already.
    """
    info = signature or parse_signature(environ)
    if info is None:
        raise GatewayError(ErrorKind.MISSING_AUTHENTICATION)
    now = now or datetime.datetime.now(datetime.UTC)
    credential = store.lookup(info.access_key_id)
    if credential is None:
        raise GatewayError(ErrorKind.UNKNOWN_ACCESS_KEY)
    _check_token(credential, info, now)
    _check_time(info, now, max_skew)
    if "host" not in info.signed_headers:
        raise GatewayError(ErrorKind.INCOMPLETE_SIGNATURE, "'Host' must be a signed header.")
    canonical = canonical_request(environ, body, info)
    computed = expected_signature(credential.secret_access_key, info, canonical)
    if not hmac.compare_digest(computed, info.signature):
        raise GatewayError(ErrorKind.SIGNATURE_MISMATCH)
    declared = header(environ, "X-Amz-Content-SHA256")
    if declared is not None:
        _check_payload(body, declared)
    return VerifiedRequest(credential=credential, signature=info)
