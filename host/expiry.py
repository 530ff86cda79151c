"""Disappearing messages: erase what has expired (docs/protocol.md §13.3).

Invariants: one call erases at most EXPIRY_BATCH expired messages (plus their
annotations) in the caller's transaction, oldest ``exp`` first, and is idempotent: an
erased row has left the expiry index (``deleted = 0`` is part of it), so a second call
finds nothing. The ``del`` events it returns must be sent only after that transaction
committed.
"""

from __future__ import annotations

import sqlite3

from hearth.limits import EXPIRY_BATCH
from hearth.rpc import EventBody
from host.erase import del_events, erase


def any_due(conn: sqlite3.Connection, now: int) -> bool:
    """On the database thread, outside any transaction: whether anything has expired
    (one probe of the expiry index, so an idle tick takes no write lock)."""
    return conn.execute(
        "SELECT 1 FROM messages WHERE expires_at <= ? AND deleted = 0 LIMIT 1", (now,)
    ).fetchone() is not None


def expire_due(conn: sqlite3.Connection, now: int,
               limit: int = EXPIRY_BATCH) -> dict[tuple[str, str], list[str]]:
    """On the database thread: erase up to ``limit`` messages whose ``exp`` <= ``now``
    and their annotations; the erased ids per (space, chan)."""
    due = conn.execute(
        "SELECT c.space, m.channel_id, m.msg_id FROM messages m "
        "JOIN channels c ON c.id = m.channel_id "
        "WHERE m.expires_at <= ? AND m.deleted = 0 ORDER BY m.expires_at LIMIT ?",
        (now, limit),
    ).fetchall()
    erased: dict[tuple[str, str], list[str]] = {}
    for row in due:
        ids = erase(conn, row["channel_id"], row["msg_id"])
        if ids:
            erased.setdefault((row["space"], row["channel_id"]), []).extend(ids)
    return erased


def expiry_events(host_id: str, now: int,
                  erased: dict[tuple[str, str], list[str]]) -> list[EventBody]:
    """The ``del`` events (``acct: ""``) of what ``expire_due`` erased."""
    return [event for (space, chan), ids in erased.items()
            for event in del_events(host_id, space, chan, "", now, ids)]
