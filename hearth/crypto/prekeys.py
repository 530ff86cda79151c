"""Prekeys: X25519 keys a device publishes, signed by its device key, for key shares.

Layout (110 bytes)::

    0   1  version 0x01
    1   1  kind: 0x01 signed prekey (reused until rotated), 0x02 one-time prekey
    2   4  key id, big-endian (unique per device and kind)
    6  32  X25519 public key
    38  8  created at, ms, big-endian
    46 64  Ed25519 signature by the device key over
           "hearth/v1/prekey" 0x00 || device public key (32) || bytes 0..45

Invariants: a prekey verifies only against the device that made it (its key is inside
the signed bytes), so a host cannot hand out its own key in a device's name. The
private half never leaves the device; a one-time prekey's is deleted after its first use.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from nacl.signing import SigningKey

from hearth.crypto import x25519
from hearth.crypto.wire import Reader
from hearth.errors import ErrorCode
from hearth.signing import Context, sign, verify

VERSION = 1
_LAYOUT = struct.Struct(">BBI32sQ")
PAYLOAD_SIZE = _LAYOUT.size
SIZE = PAYLOAD_SIZE + 64


class Kind(IntEnum):
    """Which prekey a key share was sealed to; the share says so in its header."""

    SIGNED = 1
    ONE_TIME = 2


@dataclass(frozen=True, slots=True)
class Prekey:
    """A device's signed, public prekey."""

    kind: Kind
    key_id: int
    public: bytes
    created_at: int
    signature: bytes

    @property
    def payload(self) -> bytes:
        return _LAYOUT.pack(VERSION, self.kind, self.key_id, self.public, self.created_at)

    def to_bytes(self) -> bytes:
        return self.payload + self.signature

    @classmethod
    def from_bytes(cls, raw: bytes, device: bytes) -> Prekey:
        """Parse and verify against ``device``; bad_key if malformed, bad_signature if forged."""
        reader = Reader(raw, "prekey", ErrorCode.BAD_KEY)
        reader.version(VERSION)
        kind = reader.uint(1)
        if kind not in (Kind.SIGNED, Kind.ONE_TIME):
            raise reader.fail(f"kind {kind} is neither 1 (signed) nor 2 (one-time)")
        key_id, public, created = reader.uint(4), reader.take(32), reader.uint(8)
        signature = reader.take(64)
        reader.end()
        prekey = cls(Kind(kind), key_id, public, created, signature)
        verify(device, Context.PREKEY, device + prekey.payload, signature)
        return prekey


def make_prekey(
    device: SigningKey, kind: Kind, key_id: int, created_at: int, private: X25519PrivateKey
) -> Prekey:
    """Sign the public half of ``private`` as ``device``'s prekey ``(kind, key_id)``."""
    if not 0 <= key_id < 2**32:
        raise ValueError(f"prekey id must fit 4 bytes, got {key_id}")
    unsigned = Prekey(kind, key_id, x25519.public_key(private), created_at, b"")
    signature = sign(device, Context.PREKEY, bytes(device.verify_key) + unsigned.payload)
    return Prekey(kind, key_id, unsigned.public, created_at, signature)
