"""The real sender-key crypto as the load generator's envelope: seal on the publisher,
verify + decrypt on a sample of subscribers.

``SenderKeySeal`` is the publisher's side: each message is the next message of a real
``OutboundSession`` sealed by ``hearth.crypto.envelope.seal`` (one AES-256-GCM, one
Ed25519 signature by the publishing device) for its place (host, space, channel, the
client-chosen message id); the plaintext starts with the 8-byte *intended* send time
(``time.monotonic_ns``), padded so the envelope is ``ENVELOPE_BYTES`` like the opaque one.

``SenderKeyOpen`` is one receiving device: for every ``event`` frame it does what
``hearth.client.Client`` and ``hearth.e2e.secure.SecureClient.decrypt`` do per message
(decode the frame, verify the host's signature on the event body, check its route,
parse the envelope, check the sender device is the one the host names, then
``envelope.open``: Ed25519 verify, replay check, ratchet step, AES-256-GCM) and only
then reads the stamp. Not done per message here: the roster lookup of the sender
(a dict lookup once the roster is cached) and key shares: the session key is handed
to the receivers out of band before each run (key distribution is measured in the
*Envelope vs members* rows).
"""

from __future__ import annotations

from nacl.signing import SigningKey

from benchmarks.envelope import ENVELOPE_BYTES
from hearth.b64 import b64d, b64e
from hearth.crypto import envelope
from hearth.crypto.sender_session import InboundSession, OutboundSession, SessionKey
from hearth.errors import ProtocolError
from hearth.frames import Event, decode_frame
from hearth.keys import now_ms
from hearth.rpc import EventBody, open_host_body

PLAINTEXT_BYTES = ENVELOPE_BYTES - envelope.OVERHEAD
"""Plaintext size that makes the sealed envelope as big as the opaque one."""
_EVENT_HEAD = b'{"t":"event"'


class _Mismatch(Exception):
    """An event that verifies but does not say what it should (a real client drops it)."""


def is_event(frame: bytes) -> bool:
    return frame.startswith(_EVENT_HEAD)


class SenderKeySeal:
    """The publishing device's outbound session in one channel."""

    def __init__(self, device: SigningKey, host: str, space: str, chan: str) -> None:
        self.device, self.host, self.space, self.chan = device, host, space, chan
        self.session = OutboundSession.create(now_ms())
        self._padding = b"\x00" * (PLAINTEXT_BYTES - 8)

    def rotate(self) -> str:
        """A fresh session; returns its session key (b64url) for the receivers."""
        self.session = OutboundSession.create(now_ms())
        return b64e(self.session.export().to_bytes())

    def seal(self, stamp_ns: int, msg_id: str) -> bytes:
        place = envelope.Place(self.host, self.space, self.chan, msg_id)
        return envelope.seal(self.device, self.session, place,
                             stamp_ns.to_bytes(8, "big") + self._padding, now_ms())


class SenderKeyOpen:
    """One receiving device holding the session key: verify + decrypt every event."""

    def __init__(self, session_key: str) -> None:
        key = SessionKey.from_bytes(b64d(session_key, field="session_key"))
        self.session = InboundSession.from_key(key)
        self.failures = 0

    def stamp(self, frame: bytes) -> int | None:
        """The send time inside the decrypted message (None: not an event, or it failed)."""
        if not is_event(frame):
            return None
        try:
            event = decode_frame(frame, Event)
            body = open_host_body(event.host, event.body, event.sig, EventBody)
            if (body.space, body.chan) != (event.space, event.chan):
                raise _Mismatch("the event's signed channel differs from its route")
            parsed = envelope.parse(b64d(body.env, field="env"))
            if b64e(parsed.header.sender) != body.dev:
                raise _Mismatch("the envelope names another device than the host does")
            place = envelope.Place(body.host, body.space, body.chan, body.id)
            plaintext = envelope.open(parsed, place, self.session)
        except (ProtocolError, ValueError, _Mismatch):
            self.failures += 1
            return None
        return int.from_bytes(plaintext[:8], "big")
