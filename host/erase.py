"""Erasing messages: a deleted or expired message keeps its row as a tombstone (so seqs
stay gap-free) but loses its envelope and session id, and so do its annotations
(docs/protocol.md §13.2). ``del`` events announce what was erased.

Invariants: an erased row has ``deleted = 1``, ``env = x''`` and ``sess`` NULL, and is
never erased (or announced) twice. The connection runs with ``secure_delete`` on
(host/store.py), so the envelope's bytes are overwritten in the database file, not just
unlinked; ``Store.checkpoint`` then clears them from the write-ahead log.
"""

from __future__ import annotations

import sqlite3

from hearth.limits import DEL_EVENT_IDS
from hearth.rpc import EventBody


def erase(conn: sqlite3.Connection, chan: str, msg_id: str) -> list[str]:
    """On the database thread, inside the caller's transaction: erase message ``msg_id``
    of ``chan`` and every annotation of it not erased yet; their ids, the message first
    (if it was not erased already), the annotations in seq order."""
    rows = conn.execute(
        "UPDATE messages SET env = x'', sess = NULL, deleted = 1 "
        "WHERE channel_id = ? AND (msg_id = ? OR target = ?) AND deleted = 0 "
        "RETURNING seq, msg_id",
        (chan, msg_id, msg_id),
    ).fetchall()
    ids = [row["msg_id"] for row in sorted(rows, key=lambda r: int(r["seq"]))]
    if msg_id in ids:
        ids.remove(msg_id)
        ids.insert(0, msg_id)
    return ids


def del_events(host_id: str, space: str, chan: str, acct: str, now: int,
               ids: list[str]) -> list[EventBody]:
    """The unsigned ``del`` events announcing ``ids`` (DEL_EVENT_IDS per event);
    ``acct`` is who deleted them, ``""`` for an expiry."""
    return [
        EventBody(v=1, host=host_id, space=space, chan=chan, k="del", acct=acct, ts=now,
                  info={"ids": ids[at:at + DEL_EVENT_IDS]})
        for at in range(0, len(ids), DEL_EVENT_IDS)
    ]
