"""What the load generator puts in a message envelope, and how a receiver reads it back.

Every envelope carries the publisher's send time (``time.monotonic_ns``: one clock
for every process on the machine) so a receiver can compute publish-to-deliver
latency. ``OpaqueEnvelope`` is what the host and relay see today: opaque bytes of a
typical ciphertext size. The real sender-key crypto is the other codec
(benchmarks.sender_key: seal = encrypt + sign with the channel's outbound session,
stamp = verify + decrypt), used by the latency-with-real-crypto runs.
"""

from __future__ import annotations

import base64
import os
from typing import Protocol

ENVELOPE_BYTES = 256
"""Envelope size used throughout (a short chat message after encryption)."""

_ENV_MARK = b'env\\":\\"'
"""How the envelope's field starts inside an event frame (the body is an escaped string)."""
_STAMP_CHARS = 12
"""base64url characters of the first 9 envelope bytes: the 8-byte stamp and a fixed byte."""


class Sealer(Protocol):
    def seal(self, stamp_ns: int, msg_id: str) -> bytes:
        """An envelope carrying ``stamp_ns``, for the message ``msg_id``."""
        ...


class Stamper(Protocol):
    def stamp(self, frame: bytes) -> int | None:
        """The send time inside a received ``event`` frame (None for any other frame)."""
        ...


class EnvelopeCodec(Sealer, Stamper, Protocol):
    """Both sides of one envelope format (the real crypto splits them: one publisher
    session, one inbound session per receiving device)."""


class OpaqueEnvelope:
    """Stamp (8 bytes, big-endian) + one fixed byte + random padding: no crypto.

    Because the first 9 bytes are exactly 12 base64url characters, a receiver finds the
    stamp with one ``find`` in the raw frame, and a publisher can re-stamp a template
    frame by replacing 12 characters.
    """

    def __init__(self, size: int = ENVELOPE_BYTES) -> None:
        if size < 9:
            raise ValueError(f"an envelope needs at least 9 bytes for its stamp, got {size}")
        self._padding = b"\x01" + os.urandom(size - 9)

    def seal(self, stamp_ns: int, msg_id: str = "") -> bytes:
        return stamp_ns.to_bytes(8, "big") + self._padding

    def stamp(self, frame: bytes) -> int | None:
        at = frame.find(_ENV_MARK)
        if at < 0:
            return None
        start = at + len(_ENV_MARK)
        head = base64.urlsafe_b64decode(frame[start:start + _STAMP_CHARS])
        return int.from_bytes(head[:8], "big")


def stamp_text(stamp_ns: int) -> str:
    """The 12 base64url characters that begin an OpaqueEnvelope stamped ``stamp_ns``."""
    head = stamp_ns.to_bytes(8, "big") + b"\x01"
    return base64.urlsafe_b64encode(head).decode("ascii")
