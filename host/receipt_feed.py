"""Coalesced ``rcpt`` events: which channels' markers moved since they were last
announced, and when each channel's last ``rcpt`` went out (docs/protocol.md §13.2).

Invariants: at most one ``rcpt`` event per channel per RECEIPT_INTERVAL_MS; an event
carries the markers as committed when it is built (``ReceiptFeed.flush`` reads them
after the batch that moved them committed), only for current members whose account
shares receipts. A noted mark whose transaction rolled back only costs an event
repeating stored values. Memory is bounded by the (channel, account) pairs noted since
the last flush plus the channels announced within the last interval.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from hearth.b64 import b64e
from hearth.limits import RECEIPT_INTERVAL_MS
from hearth.rpc import EventBody
from host.store import Store


def shared_marks(conn: sqlite3.Connection, chan: str, accts: list[bytes]) -> list[dict[str, Any]]:
    """On the database thread: ``{acct, read, delivered}`` of those of ``accts`` who are
    current members of ``chan``'s space and share receipts."""
    marks: list[dict[str, Any]] = []
    for acct in accts:
        row = conn.execute(
            "SELECT k.read, k.delivered FROM markers k "
            "JOIN channels c ON c.id = k.channel_id "
            "JOIN members m ON m.space = c.space AND m.acct = k.acct "
            "JOIN users u ON u.acct = k.acct "
            "WHERE k.channel_id = ? AND k.acct = ? AND u.receipts = 1",
            (chan, acct),
        ).fetchone()
        if row is not None:
            marks.append({"acct": b64e(acct), "read": row["read"],
                          "delivered": row["delivered"]})
    return marks


class ReceiptFeed:
    """Markers that moved, per channel, waiting for their channel's next ``rcpt``."""

    def __init__(self) -> None:
        self._dirty: dict[tuple[str, str], set[bytes]] = {}
        self._sent: dict[str, int] = {}

    def note(self, space: str, chan: str, acct: bytes) -> None:
        self._dirty.setdefault((space, chan), set()).add(acct)

    def due(self, now: int) -> list[tuple[str, str, list[bytes]]]:
        """(space, chan, accounts) of every channel whose ``rcpt`` may go out now; they
        count as sent at ``now``. The rest stay noted for a later tick."""
        self._sent = {c: t for c, t in self._sent.items() if now - t < RECEIPT_INTERVAL_MS}
        ready = [key for key in self._dirty if key[1] not in self._sent]
        out: list[tuple[str, str, list[bytes]]] = []
        for space, chan in ready:
            out.append((space, chan, sorted(self._dirty.pop((space, chan)))))
            self._sent[chan] = now
        return out

    async def flush(self, store: Store, host_id: str, now: int) -> list[EventBody]:
        """The unsigned ``rcpt`` events due now (none for a channel whose movers all
        keep their receipts to themselves)."""
        events: list[EventBody] = []
        for space, chan, accts in self.due(now):
            marks = await store.run(shared_marks, chan, accts)
            if marks:
                events.append(EventBody(v=1, host=host_id, space=space, chan=chan, k="rcpt",
                                        ts=now, info={"marks": marks}))
        return events
