"""Devices and memberships as last read from the database, so a request's admission and
role check usually cost no database round trip.

Invariant: an entry is used only while ``Store.authz_generation`` still has the value it
had *before* the entry was read. The store bumps that generation on every write to the
``devices`` or ``members`` tables by this connection (triggers; cascades included), on
every rollback, and when another connection (``hearth host`` admin commands) committed
since the last BEGIN — so a revoked device, a removed member or a changed role is seen
by the very next lookup, exactly as without the cache. Refusals (unknown device, not a
member) are never cached.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, NamedTuple

from hearth.errors import ErrorCode, ProtocolError

if TYPE_CHECKING:
    from host.store import Store

MAX_ENTRIES = 50_000  # both maps are dropped whole beyond this (cheap, and rare)


# ---- lookups that run on the database thread (Store.run) ------------------------------

def space_name(conn: sqlite3.Connection, space: str) -> str:
    """The space's name; not_found if it does not exist."""
    row = conn.execute("SELECT name FROM spaces WHERE id = ?", (space,)).fetchone()
    if row is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"space {space!r} does not exist")
    return str(row[0])


def member_role(conn: sqlite3.Connection, space: str, acct: bytes) -> str:
    """``acct``'s role in ``space``; not_found if no such space, else not_member."""
    row = conn.execute(
        "SELECT role FROM members WHERE space = ? AND acct = ?", (space, acct)
    ).fetchone()
    if row is not None:
        return str(row[0])
    space_name(conn, space)
    raise ProtocolError(ErrorCode.NOT_MEMBER, f"you are not a member of space {space!r}")


class DeviceRow(NamedTuple):
    acct: bytes
    revoked_at: int | None


def _device_row(conn: sqlite3.Connection, dev: bytes) -> DeviceRow | None:
    row = conn.execute("SELECT acct, revoked_at FROM devices WHERE dev = ?", (dev,)).fetchone()
    return None if row is None else DeviceRow(bytes(row[0]), row[1])


class AuthzCache:
    """device → (account, revoked_at) and (space, account) → role."""

    def __init__(self) -> None:
        self._generation = -1
        self._devices: dict[bytes, DeviceRow] = {}
        self._roles: dict[tuple[str, bytes], str] = {}

    def _current(self, store: Store) -> int:
        """The store's generation, after dropping everything read under an older one."""
        generation = store.authz_generation
        if generation != self._generation or \
                len(self._devices) + len(self._roles) > MAX_ENTRIES:
            self._devices.clear()
            self._roles.clear()
            self._generation = generation
        return generation

    async def device(self, store: Store, dev: bytes) -> DeviceRow | None:
        """The device's row (None if it is not registered)."""
        generation = self._current(store)
        found = self._devices.get(dev)
        if found is None:
            found = await store.run(_device_row, dev)
            if found is not None and store.authz_generation == generation:
                self._devices[dev] = found
        return found

    async def role(self, store: Store, space: str, acct: bytes) -> str:
        """``acct``'s role in ``space``; not_found / not_member (never cached) otherwise."""
        generation = self._current(store)
        key = (space, acct)
        found = self._roles.get(key)
        if found is None:
            found = await store.run(member_role, space, acct)
            if store.authz_generation == generation:
                self._roles[key] = found
        return found
