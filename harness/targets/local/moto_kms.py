"""moto's KMS keys with their asymmetric key made when first used, not at CreateKey.

moto gives every key an RSA or ECC private key for Sign, Verify and GetPublicKey, and a
2048-bit RSA one to every symmetric key, which those calls never use: generating it was
~80 ms of CPU per CreateKey (4 s of the unit suite's CPU, for 52 keys). While a local
target's moto adapter is open (``moto_state.GatewayAuthorized``), moto makes its keys with
:class:`PrivateKeyOnFirstUse`: the same key, made by moto's own code, on the first call that
needs it.
"""

from __future__ import annotations

import threading

from moto.kms import models as moto_kms_models
from moto.kms.utils import AbstractPrivateKey

MOTO_GENERATE = moto_kms_models.generate_private_key
"""moto's own generator, which this module's keys call on first use."""


class PrivateKeyOnFirstUse(AbstractPrivateKey):
    """Stands where moto keeps a key's private key (``Key.private_key``); makes it with
    moto's generator on the first Sign, Verify or GetPublicKey, once (a lock: two first
    calls at once must not each make a key, and sign with one and verify with the other)."""

    def __init__(self, key_spec: str) -> None:
        self._key_spec = key_spec
        self._key: AbstractPrivateKey | None = None
        self._lock = threading.Lock()

    @property
    def made(self) -> bool:
        return self._key is not None

    def _once(self) -> AbstractPrivateKey:
        with self._lock:
            if self._key is None:
                self._key = MOTO_GENERATE(self._key_spec)
            return self._key

    def sign(self, message: bytes, signing_algorithm: str) -> bytes:
        return self._once().sign(message, signing_algorithm)

    def verify(self, message: bytes, signature: bytes, signing_algorithm: str) -> bool:
        return self._once().verify(message, signature, signing_algorithm)

    def public_key(self) -> bytes:
        return self._once().public_key()
