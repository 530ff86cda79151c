"""Field types shared by frames, signed bodies and tokens: one definition of each shape.

Each is a msgspec ``Annotated`` constraint, so a value outside it is refused while
decoding, with a message naming the field.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from hearth.limits import MAX_ID

B64URL = r"^[A-Za-z0-9_-]+$"
"""Unpadded base64url characters (canonical form is checked where the bytes are used)."""


def b64_length(size: int) -> int:
    """Characters of unpadded base64url for ``size`` bytes."""
    return (size * 4 + 2) // 3


def b64_field(size: int) -> msgspec.Meta:
    """Exactly ``size`` bytes, as unpadded base64url."""
    return msgspec.Meta(min_length=b64_length(size), max_length=b64_length(size), pattern=B64URL)


def b64_upto(size: int) -> msgspec.Meta:
    """At most ``size`` bytes (and at least one), as unpadded base64url."""
    return msgspec.Meta(min_length=2, max_length=b64_length(size), pattern=B64URL)


Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID, pattern=B64URL)]
"""A space, channel, invite, message or connection id."""
HostId = Annotated[str, msgspec.Meta(min_length=56, max_length=56, pattern=r"^[a-z2-7]+$")]
Key = Annotated[str, b64_field(32)]
"""A 32-byte public key."""
Sig = Annotated[str, b64_field(64)]
"""A 64-byte Ed25519 signature."""
Seq = Annotated[int, msgspec.Meta(ge=0)]
