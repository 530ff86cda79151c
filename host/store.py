"""The host's SQLite database: one aiosqlite connection (one thread), WAL, FULL sync.

Invariant: every write happens inside ``transaction()`` (BEGIN IMMEDIATE ... COMMIT,
rolled back on any exception), and only one transaction runs at a time.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from host.migrations import migrate

BUSY_TIMEOUT_MS = 5000
# Per-connection settings; WAL is a property of the file, set once in prepare_database.
PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = FULL",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
)

Params = Iterable[Any]


def connect_sync(path: Path) -> sqlite3.Connection:
    """A short-lived blocking connection for setup and CLI commands (autocommit mode)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return conn


def prepare_database(path: Path) -> int:
    """Create or migrate the database at ``path``; returns its schema version."""
    conn = connect_sync(path)
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"could not enable WAL (journal_mode={mode!r})")
        return migrate(conn)
    finally:
        conn.close()


class Store:
    """Async access to the database through its single connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Migrate (refusing a newer schema), then open the one runtime connection."""
        await asyncio.to_thread(prepare_database, path)
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            for pragma in PRAGMAS:
                await db.execute(pragma)
        except BaseException:
            await db.close()
            raise
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """One write transaction; IMMEDIATE so a concurrent CLI writer waits, not fails."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                await self._db.rollback()
                raise
            await self._db.commit()

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; returns the number of rows it changed."""
        cursor = await self._db.execute(sql, tuple(params))
        count = cursor.rowcount
        await cursor.close()
        return count

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._db.execute(sql, tuple(params)) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._db.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]
