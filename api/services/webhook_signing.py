"""Webhook signing secrets (kept encrypted at rest) and Standard Webhooks signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from functools import lru_cache

from cryptography.fernet import Fernet

from api.settings import Settings

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret


def new_secret() -> str:
    """A fresh signing secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@lru_cache(maxsize=4)
def _fernet(key: str | None, jwt_secret: str) -> Fernet:
    if key:
        return Fernet(key.encode())
    # Development and tests: a key derived from JWT_SECRET (itself required outside
    # development), so no key sits in code.
    digest = hashlib.sha256(b"briefboard webhook secrets\0" + jwt_secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def fernet(settings: Settings) -> Fernet:
    return _fernet(settings.webhooks_encryption_key, settings.jwt_secret)


def encrypt(settings: Settings, secret: str) -> str:
    return fernet(settings).encrypt(secret.encode()).decode()


def decrypt(settings: Settings, token: str) -> str:
    return fernet(settings).decrypt(token.encode()).decode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the decoded secret."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signature_header(secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature per active secret, space-separated (both during a rotation)."""
    return " ".join(signature(s, msg_id, timestamp, body) for s in secrets_)
