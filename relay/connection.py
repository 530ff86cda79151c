"""The relay's state for one WebSocket connection (no I/O: the shell owns the socket)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hearth.frames import Challenge
from hearth.ratelimit import TokenBucket
from relay.bus import Handler
from relay.outbox import Outbox
from relay.ratelimit import FrameLimiter


class Kind(StrEnum):
    CLIENT = "client"
    HOST = "host"


@dataclass(eq=False, slots=True)
class Connection:
    """Invariant: ``identity`` is None until the peer proved it by signing ``challenge``;
    then it is the account key (client, b64url) or the host id (host) and never changes,
    and ``challenge`` is None (it was used once).

    Memory: an idle authenticated connection keeps only what it needs (slots, no empty
    containers), since a relay holds tens of thousands of them.
    """

    kind: Kind
    id: str
    """Random; a client's opaque reply address (``conn``), a log key for both."""
    peer: str
    challenge: Challenge | None
    outbox: Outbox
    limiter: FrameLimiter
    flood: TokenBucket
    opened: float
    last_seen: float
    identity: str | None = None
    device: str | None = None
    """A client's device key (b64url), once authenticated."""
    handler: Handler | None = None
    """Its bus handler (``conn.<id>`` or ``host.<id>``), once authenticated."""
    watched: set[str] | None = None
    """Hosts this client sent requests to (told via ``host_status`` when they go away);
    None until the first request (an empty set alone costs 216 bytes)."""

    @property
    def authenticated(self) -> bool:
        return self.identity is not None

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


def host_of(conn: Connection) -> str:
    """The host id an authenticated host connection proved (never a frame field)."""
    assert conn.identity is not None and conn.kind is Kind.HOST
    return conn.identity
