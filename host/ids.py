"""Random identifiers and bearer secrets; only a secret's hash is ever stored."""

from __future__ import annotations

import hashlib
import secrets

from hearth.b64 import b64e

ID_BYTES = 16
SECRET_BYTES = 24
"""32 base64url characters: inside the 16..64 the protocol accepts for secrets."""


def new_id() -> str:
    """A fresh space, channel or invite id: 16 random bytes, base64url."""
    return b64e(secrets.token_bytes(ID_BYTES))


def new_secret() -> str:
    """A fresh single-purpose bearer secret (invite link, owner claim)."""
    return b64e(secrets.token_bytes(SECRET_BYTES))


def hash_secret(secret: str) -> bytes:
    """What the database keeps instead of the secret: a leaked DB redeems nothing."""
    return hashlib.sha256(secret.encode("utf-8")).digest()
