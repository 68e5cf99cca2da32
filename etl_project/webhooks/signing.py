"""Webhook signatures: HighLevel's Ed25519 and legacy RSA, SendOwl's HMAC. Signing and verifying, over raw bytes.

The receiver verifies with these; the sandbox's stand-ins sign with them, so both sides share one definition.
Every function takes the request body exactly as it travelled: re-serialising parsed JSON changes the bytes (key
order, spacing, escapes) and breaks the signature. Verification never raises on bad input (wrong base64, wrong
length, wrong key type): a signature that cannot be checked is simply not valid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

HIGHLEVEL_HEADER = "x-ghl-signature"
HIGHLEVEL_LEGACY_HEADER = "x-wh-signature"
SENDOWL_HEADER = "x-sendowl-hmac-sha256"

# HighLevel's published keys (SPKI, the base64 body of a `PUBLIC KEY` PEM): docs/oauth/WebhookAuthentication.md and
# the Marketplace webhook guide. Rotation is announced by email with no key id, so the receiver takes a list.
HIGHLEVEL_ED25519_KEY = "MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg="
HIGHLEVEL_RSA_KEY = (
    "MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAokvo/r9tVgcfZ5DysOSCFrm602qYV0MaAiNnX9O8KxMbiyRKWeL9JpCpVpt4XHIcBOK4"
    "u3cLSqJGOLaPuXw6dO0t6Q/ZVdAV5Phz+ZtzPL16iCGeK9po6D6JHBpbi989mmzMryUnQJezlYJ3DVfBcsedpinheNnyYeFXolrJvcsjDtfAeRx5"
    "ByHQmTnSdFUzuAnC9/GepgLT9SM4nCpvuxmZMxrJt5Rw+VUaQ9B8JSvbMPpez4peKaJPZHBbU3OdeCVx5klVXXZQGNHOs8gF3kvoV5rTnXV0IknL"
    "BXlcKKAQLZcY/Q9rG6Ifi9c+5vqlvHPCUJFT5XUGG5RKgOKUJ062fRtN+rLYZUV+BjafxQauvC8wSWeYja63VSUruvmNj8xkx2zE/Juc+yjLjTXp"
    "IocmaiFeAO6fUtNjDeFVkhf5LNb59vECyrHD2SQIrhgXpO4Q3dVNA5rw576PwTzNh/AMfHKIjE4xQA1SZuYJmNnmVZLIZBlQAF9Ntd03rfadZ+yD"
    "iOXCCs9FkHibELhCHULgCsnuDJHcrGNd5/Ddm5hxGQ0ASitgHeMZ0kcIOwKDOzOU53lDza6/Y09T7sYJPQe7z0cvj7aE4B+Ax1ZoZGPzpJlZtGXC"
    "su9aTEGEnKzmsFqwcSsnw3JB31IGKAykT1hhTiaCeIY/OwwwNUY2yvcCAwEAAQ=="
)


def _public_key(text: str) -> object:
    """One key: a PEM (literal `\\n` escapes allowed, as env files write them) or the base64 body of SPKI DER."""
    text = text.strip().replace("\\n", "\n")
    if text.startswith("-----BEGIN"):
        return serialization.load_pem_public_key(text.encode())
    return serialization.load_der_public_key(base64.b64decode("".join(text.split()), validate=True))


def _split(spec: str) -> list[str]:
    return [item for item in (part.strip() for part in spec.split(",")) if item]


def load_ed25519_keys(spec: str) -> list[Ed25519PublicKey]:
    """Comma-separated keys; anything that is not an Ed25519 public key fails loudly at start-up."""
    keys = [_public_key(item) for item in _split(spec)]
    if not keys or not all(isinstance(key, Ed25519PublicKey) for key in keys):
        raise ValueError("HighLevel webhook keys must be one or more Ed25519 public keys (SPKI base64 or PEM)")
    return keys  # type: ignore[return-value]  # checked above


def load_rsa_keys(spec: str) -> list[RSAPublicKey]:
    keys = [_public_key(item) for item in _split(spec)]
    if not keys or not all(isinstance(key, RSAPublicKey) for key in keys):
        raise ValueError("HighLevel legacy webhook keys must be one or more RSA public keys (SPKI base64 or PEM)")
    return keys  # type: ignore[return-value]


def public_key_b64(key: Ed25519PublicKey | RSAPublicKey) -> str:
    """The form `HIGHLEVEL_WEBHOOK_PUBLIC_KEYS` takes (what the sandbox prints for the receiver)."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def _decode(signature: str) -> bytes | None:
    try:
        return base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def sign_ed25519(private_key: Ed25519PrivateKey, body: bytes) -> str:
    return base64.b64encode(private_key.sign(body)).decode()


def verify_ed25519(keys: Sequence[Ed25519PublicKey], body: bytes, signature: str) -> bool:
    raw = _decode(signature)
    if raw is None or len(raw) != 64:
        return False
    for key in keys:
        try:
            key.verify(raw, body)
            return True
        except InvalidSignature:
            continue
    return False


def sign_rsa(private_key: RSAPrivateKey, body: bytes) -> str:
    """RSA-SHA256, PKCS#1 v1.5: HighLevel's legacy `x-wh-signature`."""
    return base64.b64encode(private_key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify_rsa(keys: Sequence[RSAPublicKey], body: bytes, signature: str) -> bool:
    raw = _decode(signature)
    if not raw:
        return False
    for key in keys:
        try:
            key.verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
            return True
        except (InvalidSignature, ValueError):
            continue
    return False


def sign_sendowl(secret: str, body: bytes) -> str:
    """Base64 of HMAC-SHA256 over the raw body, keyed by the account's signing secret."""
    if not secret:
        raise ValueError("an empty HMAC secret signs nothing: anyone could compute it")
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_sendowl(secret: str, body: bytes, signature: str) -> bool:
    # An empty secret would make the HMAC computable by anyone: never a valid configuration.
    if not secret:
        return False
    raw = _decode(signature)
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return raw is not None and hmac.compare_digest(raw, expected)
