"""HMAC-SHA256 (RFC 2104) with a constant-time check.

Any key length is allowed (HMAC hashes keys longer than 64 bytes and zero-pads shorter
ones); the tag is always the full 32 bytes.
"""

from __future__ import annotations

import hashlib
import hmac

from hearth.errors import ErrorCode, ProtocolError

TAG_SIZE = 32


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """The 32-byte HMAC-SHA256 of ``message`` under ``key``."""
    return hmac.digest(key, message, hashlib.sha256)


def hmac_sha256_verify(key: bytes, message: bytes, tag: bytes) -> None:
    """Raise ProtocolError(BAD_SIGNATURE) unless ``tag`` is the 32-byte HMAC of ``message``."""
    if len(tag) != TAG_SIZE or not hmac.compare_digest(hmac_sha256(key, message), tag):
        raise ProtocolError(ErrorCode.BAD_SIGNATURE, "HMAC-SHA256 tag does not verify")
