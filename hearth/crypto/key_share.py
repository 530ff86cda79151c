"""Key shares: a session key sealed with HPKE to one device's prekey, signed by the sharer.

Layout (235 bytes)::

    header (70 bytes)
      0   1  version 0x01
      1   1  prekey kind the share is sealed to: 0x01 signed prekey (fallback, no
             one-time prekey was left), 0x02 one-time prekey
      2   4  prekey id, big-endian
      6  32  sharing device Ed25519 public key
      38 32  recipient device Ed25519 public key
    enc          32 bytes, the HPKE encapsulated key
    ciphertext   69 bytes: HPKE SealBase(pkR = the prekey, info = "hearth/v1/hpke/key-share",
                 aad, session key (53 bytes, sender_session.SessionKey))
    signature    64 bytes, Ed25519 by the sharing device over
                 "hearth/v1/key-share" 0x00 || aad || enc || ciphertext

    aad = header || fields(host id, space id, channel id)

HPKE suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, mode base.

Invariants: a share opens only on its recipient device (wrong_recipient otherwise), only
for the channel it names (the place is in the AAD and under the signature), and only if
the sharing device signed it (bad_signature) -- the host that stores it learns nothing.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from nacl.signing import SigningKey

from hearth.crypto import hpke
from hearth.crypto.labels import Label
from hearth.crypto.prekeys import Kind, Prekey
from hearth.crypto.sender_session import SESSION_KEY_SIZE, SessionKey
from hearth.crypto.wire import Reader, fields
from hearth.errors import ErrorCode, ProtocolError
from hearth.signing import Context, sign, verify

VERSION = 1
_HEADER = struct.Struct(">BBI32s32s")
HEADER_SIZE = _HEADER.size
SIZE = HEADER_SIZE + hpke.N_ENC + SESSION_KEY_SIZE + 16 + 64


@dataclass(frozen=True, slots=True)
class ChannelPlace:
    """The channel a share is for: bound into its AAD."""

    host: str
    space: str
    chan: str

    def to_bytes(self) -> bytes:
        return fields(self.host, self.space, self.chan)


@dataclass(frozen=True, slots=True)
class Share:
    """A parsed (not yet opened) key share."""

    kind: Kind
    prekey_id: int
    sender: bytes
    recipient: bytes
    enc: bytes
    ciphertext: bytes
    signature: bytes

    def header(self) -> bytes:
        return _HEADER.pack(VERSION, self.kind, self.prekey_id, self.sender, self.recipient)


def parse(raw: bytes) -> Share:
    reader = Reader(raw, "key share", ErrorCode.BAD_ENVELOPE)
    reader.version(VERSION)
    kind = reader.uint(1)
    if kind not in (Kind.SIGNED, Kind.ONE_TIME):
        raise reader.fail(f"prekey kind {kind} is neither 1 (signed) nor 2 (one-time)")
    share = Share(Kind(kind), reader.uint(4), reader.take(32), reader.take(32),
                  reader.take(hpke.N_ENC), reader.take(SESSION_KEY_SIZE + 16), reader.take(64))
    reader.end()
    return share


def seal(sender: SigningKey, recipient: bytes, prekey: Prekey, place: ChannelPlace,
         key: SessionKey, *, ephemeral: X25519PrivateKey | None = None) -> bytes:
    """Seal ``key`` to ``recipient``'s verified ``prekey`` (``ephemeral``: vectors only)."""
    header = _HEADER.pack(VERSION, prekey.kind, prekey.key_id, bytes(sender.verify_key),
                          recipient)
    aad = header + place.to_bytes()
    enc, ciphertext = hpke.seal_base(prekey.public, Label.HPKE_KEY_SHARE.value, aad,
                                     key.to_bytes(), ephemeral=ephemeral)
    return header + enc + ciphertext + sign(sender, Context.KEY_SHARE, aad + enc + ciphertext)


PrekeyLookup = Callable[[Kind, int], X25519PrivateKey | None]


def open(raw: bytes, me: bytes, place: ChannelPlace, prekey_private: PrekeyLookup
         ) -> tuple[Share, SessionKey]:
    """The share and the session key in it, for device ``me``; the caller then deletes a
    used one-time prekey. Refusals: bad_envelope, wrong_recipient, bad_signature,
    unknown_prekey, decrypt_failed."""
    share = parse(raw)
    if share.recipient != me:
        raise ProtocolError(
            ErrorCode.WRONG_RECIPIENT,
            f"key share is for device {share.recipient.hex()}, this is {me.hex()}",
        )
    aad = share.header() + place.to_bytes()
    try:
        verify(share.sender, Context.KEY_SHARE, aad + share.enc + share.ciphertext,
               share.signature)
    except ProtocolError:
        raise ProtocolError(
            ErrorCode.BAD_SIGNATURE,
            f"key share signature by device {share.sender.hex()} does not verify for host "
            f"{place.host!r}, space {place.space!r}, channel {place.chan!r}",
        ) from None
    private = prekey_private(share.kind, share.prekey_id)
    if private is None:
        raise ProtocolError(
            ErrorCode.UNKNOWN_PREKEY,
            f"this device holds no {share.kind.name.lower()} prekey {share.prekey_id} "
            "(a one-time prekey is deleted after its first use)",
        )
    plaintext = hpke.open_base(share.enc, private, Label.HPKE_KEY_SHARE.value, aad,
                               share.ciphertext)
    return share, SessionKey.from_bytes(plaintext)
