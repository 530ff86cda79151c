"""Base64url without padding: the only binary-to-text encoding on Hearth's wire."""

from __future__ import annotations

import base64
import binascii

from hearth.errors import ErrorCode, ProtocolError


def b64e(data: bytes) -> str:
    """Encode bytes as unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str, *, field: str = "value", size: int | None = None) -> bytes:
    """Decode unpadded base64url, refusing padding, stray characters and wrong sizes."""
    if not isinstance(text, str) or "=" in text:
        raise ProtocolError(ErrorCode.BAD_FRAME, f"{field}: {text!r} is not unpadded base64url")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"{field}: {text[:64]!r} is not unpadded base64url"
        ) from None
    if b64e(data) != text:
        # Refuses '+', '/' and non-zero spare bits: every value has exactly one spelling.
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"{field}: {text[:64]!r} is not canonical unpadded base64url"
        )
    if size is not None and len(data) != size:
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"{field}: expected {size} bytes, got {len(data)}"
        )
    return data
