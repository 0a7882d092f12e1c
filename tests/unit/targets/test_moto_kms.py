"""KMS keys on the local target make their private key on first use: a symmetric key never
does, and an asymmetric key signs, verifies and gives its public key as moto's own does."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from moto.kms.models import kms_backends

from harness.targets.local import LocalTarget
from harness.targets.local.moto_kms import PrivateKeyOnFirstUse

MESSAGE = b"model.tar.gz sha256"


def _private_key(target: LocalTarget, key_id: str) -> Any:
    account = target.accounts["shared-services"]
    return kms_backends[account][target.region].keys[key_id].private_key


def test_a_symmetric_key_encrypts_without_ever_making_a_private_key(target: LocalTarget) -> None:
    kms = target.client("kms", target.session("shared-services"))
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=MESSAGE)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == MESSAGE
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert len(data_key["Plaintext"]) == 32

    private_key = _private_key(target, key_id)
    assert isinstance(private_key, PrivateKeyOnFirstUse)
    assert not private_key.made


def test_an_asymmetric_key_signs_verifies_and_gives_its_public_key(target: LocalTarget) -> None:
    kms = target.client("kms", target.session("shared-services"))
    key_id = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    assert not _private_key(target, key_id).made
    algorithm = "RSASSA_PKCS1_V1_5_SHA_256"

    signature = kms.sign(KeyId=key_id, Message=MESSAGE, SigningAlgorithm=algorithm)["Signature"]

    assert _private_key(target, key_id).made
    verified = kms.verify(
        KeyId=key_id, Message=MESSAGE, Signature=signature, SigningAlgorithm=algorithm
    )
    assert verified["SignatureValid"] is True
    der = kms.get_public_key(KeyId=key_id)["PublicKey"]
    public_key = serialization.load_der_public_key(der)
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())
