"""The generated CA and server certificate let a boto3 client talk TLS to 127.0.0.1."""

from __future__ import annotations

import ssl
import stat

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, SSLError
from cryptography import x509

from harness.gateway.tls import generate_tls_material

from .conftest import REGION, LoopbackGateway


def test_material_is_written_with_a_private_key_only_the_owner_reads(tmp_path):
    material = generate_tls_material(tmp_path)
    assert {material.ca_bundle, material.cert, material.key} <= set(tmp_path.iterdir())
    assert stat.S_IMODE(material.key.stat().st_mode) == 0o600
    assert "PRIVATE KEY" not in material.ca_bundle.read_text()


def test_server_certificate_names_loopback_and_chains_to_the_ca(tmp_path):
    material = generate_tls_material(tmp_path)
    cert = x509.load_pem_x509_certificate(material.cert.read_bytes())
    ca = x509.load_pem_x509_certificate(material.ca_bundle.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    cert.verify_directly_issued_by(ca)
    context = ssl.create_default_context(cafile=str(material.ca_bundle))
    assert context.cert_store_stats()["x509_ca"] == 1


def test_each_call_makes_a_fresh_ca(tmp_path):
    first = generate_tls_material(tmp_path / "one")
    second = generate_tls_material(tmp_path / "two")
    assert first.ca_bundle.read_bytes() != second.ca_bundle.read_bytes()


def test_boto3_connects_over_https_with_the_ca_bundle(make_client, gateway: LoopbackGateway):
    kms = make_client("kms", secure=True)
    with pytest.raises(ClientError) as raised:
        kms.describe_key(KeyId="alias/artifacts")
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert gateway.last().environ["wsgi.url_scheme"] == "https"


def test_boto3_without_the_ca_bundle_refuses_the_server(https_endpoint, role_session):
    kms = boto3.session.Session().client(
        "kms",
        region_name=REGION,
        endpoint_url=https_endpoint,
        aws_access_key_id=role_session.access_key_id,
        aws_secret_access_key=role_session.secret_access_key,
        aws_session_token=role_session.session_token,
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(SSLError):
        kms.describe_key(KeyId="alias/artifacts")
