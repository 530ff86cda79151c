"""The channel-message envelope: one AES-256-GCM seal and one Ed25519 signature.

Layout::

    header (61 bytes)
      0   1  version 0x01
      1  32  sender device Ed25519 public key
      33 16  session id
      49  4  message index, big-endian
      53  8  sent at, ms, big-endian (the sender's clock)
    ciphertext   AES-256-GCM(key, nonce, plaintext, aad): len(plaintext) + 16 bytes
    signature    64 bytes, Ed25519 by the sender device over
                 "hearth/v1/message" 0x00 || aad || ciphertext

    aad = header || fields(host id, space id, channel id, message id)

``key``/``nonce`` are ``message_keys(C_index)`` of the session (sender_session.py);
``fields`` is wire.fields (1 length byte per ASCII id). Because the delivery place is in
the AAD and under the signature, an envelope moved to another host, space, channel or
message id fails; because the signature is the device's, a member holding the session key
still cannot write in the sender's name.

Invariants: ``seal`` costs one AEAD and one signature whatever the group size; ``open``
verifies the signature before it decrypts, and refuses a replayed index.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from nacl.signing import SigningKey

from hearth.crypto import aead
from hearth.crypto.sender_session import InboundSession, OutboundSession
from hearth.crypto.wire import Reader, fields
from hearth.errors import ErrorCode, ProtocolError
from hearth.signing import Context, sign, verify

VERSION = 1
_HEADER = struct.Struct(">B32s16sIQ")
HEADER_SIZE = _HEADER.size
OVERHEAD = HEADER_SIZE + aead.TAG_SIZE + 64


@dataclass(frozen=True, slots=True)
class Place:
    """Where a message was delivered: bound into its AAD."""

    host: str
    space: str
    chan: str
    msg_id: str

    def to_bytes(self) -> bytes:
        return fields(self.host, self.space, self.chan, self.msg_id)


@dataclass(frozen=True, slots=True)
class Header:
    sender: bytes
    session_id: bytes
    index: int
    sent_at: int

    def to_bytes(self) -> bytes:
        return _HEADER.pack(VERSION, self.sender, self.session_id, self.index, self.sent_at)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed (not yet verified) envelope."""

    header: Header
    ciphertext: bytes
    signature: bytes

    def signed_bytes(self, place: Place) -> bytes:
        return self.header.to_bytes() + place.to_bytes() + self.ciphertext


def parse(raw: bytes) -> Envelope:
    """Split an envelope into its parts; bad_envelope if it cannot be one."""
    reader = Reader(raw, "envelope", ErrorCode.BAD_ENVELOPE)
    reader.version(VERSION)
    sender, session_id = reader.take(32), reader.take(16)
    index, sent_at = reader.uint(4), reader.uint(8)
    ciphertext = reader.rest(keep=64)
    if len(ciphertext) < aead.TAG_SIZE:
        raise reader.fail(f"ciphertext is {len(ciphertext)} bytes, shorter than a tag")
    signature = reader.take(64)
    return Envelope(Header(sender, session_id, index, sent_at), ciphertext, signature)


def seal(device: SigningKey, session: OutboundSession, place: Place, plaintext: bytes,
         sent_at: int) -> bytes:
    """Encrypt ``plaintext`` as the session's next message, signed by ``device``."""
    index, keys = session.advance()
    header = Header(bytes(device.verify_key), session.session_id, index, sent_at).to_bytes()
    aad = header + place.to_bytes()
    ciphertext = aead.seal(keys.key, keys.nonce, plaintext, aad)
    return header + ciphertext + sign(device, Context.MESSAGE, aad + ciphertext)


def verify_signature(envelope: Envelope, place: Place) -> None:
    """bad_signature unless the header's device signed this envelope for ``place``."""
    try:
        verify(envelope.header.sender, Context.MESSAGE, envelope.signed_bytes(place),
               envelope.signature)
    except ProtocolError:
        raise ProtocolError(
            ErrorCode.BAD_SIGNATURE,
            f"envelope signature does not verify for host {place.host!r}, space "
            f"{place.space!r}, channel {place.chan!r}, message {place.msg_id!r}: "
            "it was altered or made for another place",
        ) from None


def open(envelope: Envelope, place: Place, session: InboundSession) -> bytes:
    """Verify, check for replay, decrypt, and remember the index as opened."""
    if envelope.header.session_id != session.session_id:
        raise ValueError("envelope and inbound session name different sessions")
    verify_signature(envelope, place)
    session.check_replay(envelope.header.index, place.msg_id)
    keys = session.keys_for(envelope.header.index)
    aad = envelope.header.to_bytes() + place.to_bytes()
    plaintext = aead.open(keys.key, keys.nonce, envelope.ciphertext, aad)
    session.mark_seen(envelope.header.index, place.msg_id)
    return plaintext
