"""What an op handler gets: the verified caller, the clock, and the host's outbox.

Invariant: ``acct`` is the account in the caller's registered device certificate,
never something the relay or the request body asserted.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from nacl.signing import SigningKey

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.frames import Frame, Publish, Revoke
from hearth.limits import TOKEN_MAX_LIFETIME_MS
from hearth.rpc import EventBody, sign_host_body
from host.authz import AuthzCache, space_name
from host.receipt_feed import ReceiptFeed
from host.store import Store

ROLE_RANK = {"member": 1, "admin": 2, "owner": 3}


def fail(code: ErrorCode, message: str) -> ProtocolError:
    """A refusal to raise: ``raise fail(ErrorCode.NOT_FOUND, f"... {value!r} ...")``."""
    return ProtocolError(code, message)


def decode_key(text: str, field: str = "acct") -> bytes:
    """A 32-byte public key from its base64url text; bad_request if malformed."""
    try:
        return b64d(text, field=field, size=32)
    except ProtocolError as exc:
        raise fail(ErrorCode.BAD_REQUEST, exc.message) from None


# ---- lookups that run on the database thread (Store.run) ------------------------------

def channel_row(conn: sqlite3.Connection, space: str, chan: str) -> sqlite3.Row:
    """The channel row (id, name, last_seq, ttl_s); not_found unless it is in ``space``."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT id, name, last_seq, ttl_s FROM channels WHERE id = ? AND space = ?",
        (chan, space),
    ).fetchone()
    if row is None:
        raise fail(ErrorCode.NOT_FOUND, f"channel {chan!r} does not exist in space {space!r}")
    return row


def member_event(host_id: str, space: str, by: str, now: int, acct: bytes,
                 role: str | None) -> EventBody:
    """A ``mem`` event on the space's own topic (``chan`` = the space id, which no
    channel has): ``acct`` is now ``role`` in ``space``, or gone (None); ``by`` made the
    change ("" for the host's administrator) (docs/protocol.md §13.2)."""
    return EventBody(v=1, host=host_id, space=space, chan=space, k="mem", acct=by, ts=now,
                     info={"acct": b64e(acct), "role": role})


def event_frame(host_key: SigningKey, event: EventBody) -> Publish:
    """The host-signed ``pub`` frame of a channel event (pure; safe in any thread)."""
    text, sig = sign_host_body(host_key, event)
    return Publish(space=event.space, chan=event.chan, body=text, sig=sig)


@dataclass
class Shared:
    """What ops leave for the node's tick (``Service.tick``), in memory."""

    receipts: ReceiptFeed = field(default_factory=ReceiptFeed)
    erased: bool = False
    """Envelopes were erased since the last WAL checkpoint (set before the commit, so a
    rollback at worst costs one needless checkpoint)."""


@dataclass
class Context:
    store: Store
    host_key: SigningKey
    host_id: str
    op: str
    now: int
    dev: bytes
    acct: bytes
    outbound: list[Frame] = field(default_factory=list)
    authz: AuthzCache = field(default_factory=AuthzCache)
    shared: Shared = field(default_factory=Shared)

    @property
    def acct_b64(self) -> str:
        return b64e(self.acct)

    @property
    def dev_b64(self) -> str:
        return b64e(self.dev)

    # ---- authorisation ---------------------------------------------------------

    async def role_in(self, space: str) -> str:
        """The caller's role in ``space``; not_found / not_member otherwise."""
        return await self.authz.role(self.store, space, self.acct)

    async def require_role(self, space: str, minimum: str) -> str:
        role = await self.role_in(space)
        if ROLE_RANK[role] < ROLE_RANK[minimum]:
            raise fail(
                ErrorCode.FORBIDDEN,
                f"{self.op} in space {space!r} needs role {minimum!r} or above; you are {role!r}",
            )
        return role

    async def require_space(self, space: str) -> str:
        """The space's name; not_found if it does not exist."""
        return await self.store.run(space_name, space)

    async def require_channel(self, space: str, chan: str) -> Any:
        """The channel row (id, name, last_seq, ttl_s); not_found unless it is in ``space``."""
        return await self.store.run(channel_row, space, chan)

    async def shares_space_with(self, acct: bytes) -> bool:
        """Whether ``acct`` is the caller's own account or shares a space with it: who a
        device may send to-device items, prekey claims and key shares to."""
        if acct == self.acct:
            return True
        shared = await self.store.fetchval(
            "SELECT 1 FROM members a JOIN members b ON a.space = b.space "
            "WHERE a.acct = ? AND b.acct = ? LIMIT 1",
            (self.acct, acct),
        )
        return shared is not None

    # ---- outbound frames ---------------------------------------------------------

    def emit_event(self, event: EventBody) -> None:
        """Queue a host-signed channel event. It is sent after the response, and only
        once the batch's transaction has committed (host-first); if the request is
        refused after this, the event is dropped with the rest of its work."""
        self.outbound.append(event_frame(self.host_key, event))

    def emit_channel_change(self, space: str, chan: str, info: dict[str, Any]) -> None:
        """Queue a ``chan`` event on the channel's own topic (so every follower of the
        space's ``*`` hears it): the channel was created, renamed, deleted or given a
        timer (docs/protocol.md §13.2)."""
        self.emit_event(EventBody(v=1, host=self.host_id, space=space, chan=chan, k="chan",
                                  acct=self.acct_b64, ts=self.now, info=info))

    def emit_member_change(self, space: str, acct: bytes, role: str | None) -> None:
        """Queue a ``mem`` event: ``acct`` is now ``role`` in ``space``, or gone (None)."""
        self.emit_event(member_event(self.host_id, space, self.acct_b64, self.now, acct, role))

    async def revoke(
        self, *, acct: bytes | None = None, dev: bytes | None = None, space: str | None = None
    ) -> None:
        """End subscriptions at the relay and remember to say so again on reconnect.

        Must run inside the transaction that made the change, so the change and its
        revocation record commit together. Kept until every token it covers expired.
        """
        await self.store.execute(
            "INSERT INTO revocations (acct, dev, space, before, expires_at) VALUES (?, ?, ?, ?, ?)",
            (acct, dev, space, self.now, self.now + TOKEN_MAX_LIFETIME_MS),
        )
        self.outbound.append(
            Revoke(
                before=self.now,
                acct=None if acct is None else b64e(acct),
                dev=None if dev is None else b64e(dev),
                space=space,
            )
        )


async def pending_revocations(store: Store, now: int) -> list[Revoke]:
    """Revocations still covering unexpired tokens (resent after every reconnect)."""
    async with store.transaction():
        await store.execute("DELETE FROM revocations WHERE expires_at <= ?", (now,))
    rows = await store.fetchall(
        "SELECT acct, dev, space, before FROM revocations ORDER BY id"
    )
    return [revoke_frame(row) for row in rows]


def revoke_frame(row: Any) -> Revoke:
    """The ``revoke`` frame for a row of the revocations table."""
    return Revoke(
        before=row["before"],
        acct=None if row["acct"] is None else b64e(row["acct"]),
        dev=None if row["dev"] is None else b64e(row["dev"]),
        space=row["space"],
    )
