"""One device's end-to-end state: prekey private keys, outbound and inbound sessions.

Invariants: a one-time prekey's private key is deleted the moment a share sealed to it
is opened; an outbound session remembers, per recipient device, the index it was first
shared at, so a removed recipient is noticed (and the session rotated) on the next send;
inbound sessions keep the earliest key they were given (what the key backup stores).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from nacl.signing import SigningKey

from hearth.crypto import x25519
from hearth.crypto.backup import BackedUpSession
from hearth.crypto.prekeys import Kind, Prekey, make_prekey
from hearth.crypto.sender_session import InboundSession, OutboundSession, SessionKey


@dataclass(slots=True)
class PrekeyVault:
    """Private halves of this device's prekeys, by (kind, id)."""

    keys: dict[tuple[Kind, int], X25519PrivateKey] = field(default_factory=dict)
    next_id: int = 1

    def lookup(self, kind: Kind, key_id: int) -> X25519PrivateKey | None:
        return self.keys.get((kind, key_id))

    def used(self, kind: Kind, key_id: int) -> None:
        """Forget a one-time prekey once a share sealed to it was opened."""
        if kind is Kind.ONE_TIME:
            self.keys.pop((kind, key_id), None)

    def make(self, device: SigningKey, kind: Kind, now_ms: int) -> Prekey:
        private = x25519.generate()
        key_id, self.next_id = self.next_id, self.next_id + 1
        self.keys[(kind, key_id)] = private
        return make_prekey(device, kind, key_id, now_ms, private)


ChannelRef = tuple[str, str, str]
"""(host, space, channel)"""
InboundRef = tuple[str, str, str, bytes, bytes]
"""(host, space, channel, sender device, session id)"""


@dataclass(slots=True)
class Outbound:
    session: OutboundSession
    origin: SessionKey
    """The session key at index 0: re-derives what a device was owed."""
    shared_with: dict[bytes, int] = field(default_factory=dict)
    """recipient device -> the index it was first shared at"""
    owed: dict[bytes, int] = field(default_factory=dict)
    """recipient device that had no prekey left -> the index it should have got"""

    @classmethod
    def start(cls, session: OutboundSession) -> Outbound:
        return cls(session, session.export())


@dataclass(slots=True)
class KeyStore:
    prekeys: PrekeyVault = field(default_factory=PrekeyVault)
    outbound: dict[ChannelRef, Outbound] = field(default_factory=dict)
    inbound: dict[InboundRef, InboundSession] = field(default_factory=dict)

    def add_inbound(self, ref: InboundRef, key: SessionKey) -> bool:
        """Keep ``key``; True if it is new or reaches further back than what was held."""
        held = self.inbound.get(ref)
        if held is None:
            self.inbound[ref] = InboundSession.from_key(key)
            return True
        return held.merge(key)

    def backed_up(self) -> list[BackedUpSession]:
        return [BackedUpSession(host, space, chan, sender, session.export())
                for (host, space, chan, sender, _), session in sorted(
                    self.inbound.items(), key=lambda item: item[0])]

    def restore(self, sessions: list[BackedUpSession]) -> int:
        """Import backed-up sessions; returns how many were new or extended."""
        return sum(
            self.add_inbound((s.host, s.space, s.chan, s.sender, s.key.session_id), s.key)
            for s in sessions
        )
