"""Sealed personal data: libsodium sealed boxes (X25519) through PyNaCl.

The server holds only an organisation's public key, so it can seal but never open. The private key stays with the
organisation, offline, and opens the data on its own machine (flask export --private-key FILE).
"""

from __future__ import annotations

import base64
import json

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

SEALED_FIELDS = ("first_name", "last_name", "email", "phone")


class SealingError(ValueError):
    pass


def generate_keypair() -> tuple[str, str]:
    """A new key pair as (public, private), base64."""
    private = PrivateKey.generate()
    return (base64.b64encode(bytes(private.public_key)).decode(), base64.b64encode(bytes(private)).decode())


def _key(raw: str, kind):
    try:
        data = base64.b64decode(raw.strip(), validate=True)
        return kind(data)
    except (ValueError, TypeError) as error:
        raise SealingError(f"not a valid {kind.__name__} (base64 of 32 bytes)") from error


def seal(public_key: str, values: dict[str, str | None]) -> bytes:
    return SealedBox(_key(public_key, PublicKey)).encrypt(json.dumps(values, ensure_ascii=False).encode())


def unseal(private_key: str, blob: bytes) -> dict[str, str | None]:
    try:
        return json.loads(SealedBox(_key(private_key, PrivateKey)).decrypt(bytes(blob)))
    except CryptoError as error:
        raise SealingError("this private key does not open the data (wrong organisation's key?)") from error


def public_key_of(private_key: str) -> str:
    return base64.b64encode(bytes(_key(private_key, PrivateKey).public_key)).decode()
