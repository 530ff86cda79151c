"""Domain-separated signing: every signature covers ``b"hearth/v1/" + context + b"\\0" + bytes``.

A signature made for one purpose can never be replayed as another, because the
context string is part of the signed bytes and no context is a prefix of another.
"""

from __future__ import annotations

from enum import Enum

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from hearth.errors import ErrorCode, ProtocolError

SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32


class Context(Enum):
    """Every purpose a Hearth Ed25519 signature can have."""

    HOST_AUTH = b"host-auth"
    CLIENT_AUTH = b"client-auth"
    DEVICE_CERT = b"device-cert"
    REQUEST = b"request"
    RESPONSE = b"response"
    EVENT = b"event"
    CAPABILITY = b"capability"
    INVITE = b"invite"
    PREKEY = b"prekey"
    MESSAGE = b"message"
    KEY_SHARE = b"key-share"
    EPHEMERAL = b"ephemeral"
    """Presence and typing bodies, signed by the sending device (hearth/ephemeral.py)."""


def signing_input(context: Context, payload: bytes) -> bytes:
    """The exact bytes that are signed for ``payload`` under ``context``."""
    return b"hearth/v1/" + context.value + b"\x00" + payload


def sign(key: SigningKey, context: Context, payload: bytes) -> bytes:
    """Sign ``payload`` for ``context``; returns the 64-byte signature."""
    return bytes(key.sign(signing_input(context, payload)).signature)


def verify(
    public_key: bytes | VerifyKey,
    context: Context,
    payload: bytes,
    signature: bytes,
    *,
    code: ErrorCode = ErrorCode.BAD_SIGNATURE,
) -> None:
    """Raise ProtocolError(code) unless ``signature`` is valid for ``payload`` under ``context``."""
    if len(signature) != SIGNATURE_SIZE:
        raise ProtocolError(code, f"signature must be 64 bytes, got {len(signature)}")
    try:
        vk = public_key if isinstance(public_key, VerifyKey) else VerifyKey(public_key)
        vk.verify(signing_input(context, payload), signature)
    except (BadSignatureError, ValueError, TypeError):
        raise ProtocolError(
            code, f"{context.value.decode()} signature does not verify"
        ) from None
