"""Sender-key sessions (Megolm-style): one hash-ratchet chain per (device, channel).

The chain key ``C_i`` of message index ``i`` gives that message's AES-256-GCM key and
nonce and the next chain key, both with HKDF-SHA256 (empty salt)::

    key || nonce = HKDF(C_i, info="hearth/v1/hkdf/message-keys", L=44)   (32 + 12 bytes)
    C_{i+1}      = HKDF(C_i, info="hearth/v1/hkdf/chain-key",    L=32)

A *session key* is the shareable state ``(session id, index i, C_i)``: whoever holds it
reads messages ``i, i+1, ...`` and nothing before ``i`` (HKDF is one-way).

Layout of a session key (53 bytes)::

    0  1  version 0x01
    1 16  session id (random)
    17 4  index, big-endian
    21 32 chain key at that index

Invariants: an outbound session never yields the same index twice, so no AEAD key or
nonce is ever used twice. An inbound session ratchets forward at most MAX_SKIP steps
for one message (index_too_far beyond), refuses an index before the earliest it holds
(index_too_old) and a second message id for an index it already opened (replay).
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass, field

from hearth.crypto import hkdf
from hearth.crypto.labels import Label
from hearth.crypto.wire import Reader
from hearth.errors import ErrorCode, ProtocolError

VERSION = 1
SESSION_ID_SIZE = 16
CHAIN_KEY_SIZE = 32
MAX_SKIP = 10_000
"""Most ratchet steps one inbound message may cost; rotation keeps real chains far shorter."""
MAX_INDEX = 2**32 - 1
_LAYOUT = struct.Struct(">B16sI32s")
SESSION_KEY_SIZE = _LAYOUT.size


@dataclass(frozen=True, slots=True)
class MessageKeys:
    """The AES-256-GCM key and nonce of one message index."""

    key: bytes
    nonce: bytes


def message_keys(chain_key: bytes) -> MessageKeys:
    """The message key and nonce for the index whose chain key is ``chain_key``."""
    okm = hkdf.hkdf(chain_key, salt=b"", info=Label.HKDF_MESSAGE_KEYS.value, length=44)
    return MessageKeys(okm[:32], okm[32:])


def next_chain_key(chain_key: bytes) -> bytes:
    """C_{i+1} from C_i."""
    return hkdf.hkdf(chain_key, salt=b"", info=Label.HKDF_CHAIN_KEY.value, length=32)


@dataclass(frozen=True, slots=True)
class SessionKey:
    """What a key share carries: a session id, an index and the chain key at it."""

    session_id: bytes
    index: int
    chain_key: bytes

    def to_bytes(self) -> bytes:
        return _LAYOUT.pack(VERSION, self.session_id, self.index, self.chain_key)

    @classmethod
    def from_bytes(cls, raw: bytes) -> SessionKey:
        reader = Reader(raw, "session key", ErrorCode.BAD_ENVELOPE)
        reader.version(VERSION)
        session_id, index, chain_key = reader.take(16), reader.uint(4), reader.take(32)
        reader.end()
        return cls(session_id, index, chain_key)


def ratchet_to(key: SessionKey, index: int) -> SessionKey:
    """The session key at ``index`` from an earlier one (never backwards)."""
    if index < key.index:
        raise ValueError(f"cannot ratchet session key at {key.index} back to {index}")
    chain = key.chain_key
    for _ in range(index - key.index):
        chain = next_chain_key(chain)
    return SessionKey(key.session_id, index, chain)


@dataclass(slots=True)
class OutboundSession:
    """This device's sending chain in one channel; ``index`` is the next message's index."""

    session_id: bytes
    index: int
    chain_key: bytes
    created_at: int

    @classmethod
    def create(cls, now_ms: int, *, session_id: bytes | None = None,
               chain_key: bytes | None = None) -> OutboundSession:
        """A fresh session at index 0 (fixed ids and keys are for test vectors only)."""
        return cls(secrets.token_bytes(SESSION_ID_SIZE) if session_id is None else session_id, 0,
                   secrets.token_bytes(CHAIN_KEY_SIZE) if chain_key is None else chain_key,
                   now_ms)

    def export(self) -> SessionKey:
        """The state to share now: it opens the next message and every later one."""
        return SessionKey(self.session_id, self.index, self.chain_key)

    def advance(self) -> tuple[int, MessageKeys]:
        """The index and keys for the next message; the chain moves past them at once."""
        if self.index >= MAX_INDEX:
            raise OverflowError("sender session used all 2**32 indices; rotate it")
        index, keys = self.index, message_keys(self.chain_key)
        self.chain_key = next_chain_key(self.chain_key)
        self.index += 1
        return index, keys


@dataclass(slots=True)
class InboundSession:
    """A session key received from a sender device: opens ``first_index`` onwards."""

    session_id: bytes
    first_index: int
    first_chain_key: bytes
    seen: dict[int, str] = field(default_factory=dict)
    """index -> message id it opened as (replay detection)."""
    _cursor: tuple[int, bytes] | None = None

    @classmethod
    def from_key(cls, key: SessionKey) -> InboundSession:
        return cls(key.session_id, key.index, key.chain_key)

    def export(self) -> SessionKey:
        """The earliest state held (what a key backup keeps)."""
        return SessionKey(self.session_id, self.first_index, self.first_chain_key)

    def merge(self, key: SessionKey) -> bool:
        """Adopt ``key`` if it reaches further back; True if it did."""
        if key.session_id != self.session_id:
            raise ValueError("cannot merge keys of different sessions")
        if key.index >= self.first_index:
            return False
        self.first_index, self.first_chain_key, self._cursor = key.index, key.chain_key, None
        return True

    def keys_for(self, index: int) -> MessageKeys:
        """The keys of ``index``: index_too_old before the first held, index_too_far past
        MAX_SKIP steps."""
        if index < self.first_index:
            raise ProtocolError(
                ErrorCode.INDEX_TOO_OLD,
                f"message index {index} precedes index {self.first_index}, "
                "the earliest this device was given",
            )
        start, chain = self.first_index, self.first_chain_key
        if self._cursor is not None and self._cursor[0] <= index:
            start, chain = self._cursor
        if index - start > MAX_SKIP:
            raise ProtocolError(
                ErrorCode.INDEX_TOO_FAR,
                f"message index {index} is {index - start} steps past index {start} "
                f"(max {MAX_SKIP})",
            )
        for _ in range(index - start):
            chain = next_chain_key(chain)
        self._cursor = (index, chain)
        return message_keys(chain)

    def check_replay(self, index: int, message_id: str) -> None:
        """Refuse (replay) an index already opened under another message id."""
        earlier = self.seen.get(index)
        if earlier is not None and earlier != message_id:
            raise ProtocolError(
                ErrorCode.REPLAY,
                f"index {index} of session {self.session_id.hex()} already opened "
                f"message {earlier!r}; refusing it again as {message_id!r}",
            )

    def mark_seen(self, index: int, message_id: str) -> None:
        self.seen[index] = message_id
