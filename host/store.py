"""The host's SQLite database: one aiosqlite connection (one thread), WAL, FULL sync.

Invariants:

- Every write happens inside ``transaction()`` (BEGIN IMMEDIATE ... COMMIT with
  ``synchronous = FULL``, rolled back on any exception), and only one transaction runs
  at a time. A ``transaction()`` (or ``savepoint()``) entered by the task that already
  holds the transaction nests as a SAVEPOINT: its work rolls back alone on an exception,
  and commits with the enclosing transaction, never before.
- Every database call is one round trip to the database thread: ``run`` executes a
  plain function there (so an op can do all its statements in one hop), and
  ``execute``/``fetch*`` are one-statement ``run`` calls.
- SAVEPOINT and RELEASE statements are *deferred*: queued, and executed on the database
  thread at the start of the next call, in order, inside the same hop. A savepoint whose
  body touched no table is never sent at all. ROLLBACK TO, COMMIT and ROLLBACK are
  sent at once.
- If the transaction is found no longer open where one should be (SQLite rolls the
  whole transaction back by itself on some I/O and disk-full errors) or a savepoint
  statement fails, ``TransactionLost`` is raised and nothing further runs in it: the
  caller must treat the whole transaction as rolled back.
- ``authz_generation`` changes whenever the rows that authorise requests (``devices``,
  ``members``) may have changed: a write to them on this connection (temporary
  triggers, so foreign-key cascades count too), any rollback, or a commit by another
  connection (``PRAGMA data_version``, checked at every BEGIN). Anything cached from
  those tables is valid only while the generation it was read at is current.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import aiosqlite

from host.migrations import migrate

BUSY_TIMEOUT_MS = 5000
# Per-connection settings; WAL is a property of the file, set once in prepare_database.
# secure_delete: erased envelopes (host/erase.py) are overwritten with zeros, not left
# in free space of the file.
PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA secure_delete = ON",
    "PRAGMA synchronous = FULL",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
)
# Tables whose rows decide who may do what; see ``authz_generation``.
AUTHZ_TABLES = ("devices", "members")
_AUTHZ_FUNCTION = "hearth_authz_changed"

Params = Iterable[Any]
P = ParamSpec("P")
T = TypeVar("T")


class TransactionLost(Exception):
    """The open transaction is gone or its savepoints are inconsistent: none of its
    work may be reported as done."""


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


# ---- functions that run on the database thread ---------------------------------------

def _execute(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    cursor = conn.execute(sql, params)
    count = cursor.rowcount
    cursor.close()
    return count


def _fetchone(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(sql, params).fetchone()
    return row


def _fetchall(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[sqlite3.Row]:
    return conn.execute(sql, params).fetchall()


def _data_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def _begin(conn: sqlite3.Connection) -> int:
    """BEGIN IMMEDIATE; returns the data version seen once the write lock is held."""
    conn.execute("BEGIN IMMEDIATE")
    return _data_version(conn)


def _commit(conn: sqlite3.Connection) -> None:
    conn.execute("COMMIT")


def _rollback_to(conn: sqlite3.Connection, name: str) -> None:
    conn.execute(f"ROLLBACK TO {name}")
    conn.execute(f"RELEASE {name}")


def _install_authz_triggers(conn: sqlite3.Connection, changed: Callable[[], None]) -> None:
    """Temporary (this connection only) triggers calling ``changed`` on every write to
    the authorisation tables, cascades included."""
    conn.create_function(_AUTHZ_FUNCTION, 0, changed)
    for table in AUTHZ_TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            conn.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS hearth_authz_{table}_{event.lower()} "
                f"AFTER {event} ON main.{table} BEGIN SELECT {_AUTHZ_FUNCTION}(); END"
            )


def _in_hop(
    conn: sqlite3.Connection, deferred: list[str], in_txn: bool,
    fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any],
) -> T:
    """One round trip: the deferred savepoint statements, in order, then ``fn``."""
    if in_txn and not conn.in_transaction:
        raise TransactionLost("the transaction was rolled back by SQLite")
    for sql in deferred:
        try:
            conn.execute(sql)
        except sqlite3.Error as exc:
            raise TransactionLost(f"{sql} failed: {exc}") from exc
    return fn(conn, *args, **kwargs)


class Store:
    """Async access to the database through its single connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        """The task holding the transaction lock (None: no transaction)."""
        self._open = False
        """BEGIN succeeded and no COMMIT/ROLLBACK was sent yet."""
        self._depth = 0
        """Savepoints open inside the transaction."""
        self._deferred: list[str] = []
        """SAVEPOINT/RELEASE statements to run at the start of the next call."""
        self._data_version = -1
        self.authz_generation = 0
        """See the module docstring: bumped whenever cached authorisation may be stale."""

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Migrate (refusing a newer schema), then open the one runtime connection."""
        await asyncio.to_thread(prepare_database, path)
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            for pragma in PRAGMAS:
                await db.execute(pragma)
            store = cls(db)
            await store.run(_install_authz_triggers, store._authz_changed)
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        await self._db.close()

    def _authz_changed(self) -> None:
        # Called on the database thread during a hop; the event loop reads the counter
        # only after that hop's result arrives, so a plain increment is enough.
        self.authz_generation += 1

    # ---- calls ------------------------------------------------------------------------

    async def run(
        self, fn: Callable[Concatenate[sqlite3.Connection, P], T], /,
        *args: P.args, **kwargs: P.kwargs,
    ) -> T:
        """``fn(connection, *args, **kwargs)`` on the database thread, in one round trip
        (after any deferred savepoint statements). ``fn`` must not begin or end
        transactions; inside a transaction, its statements are part of it."""
        deferred, self._deferred = self._deferred, []
        in_txn = self._open
        conn = self._db._conn  # only ever used on the database thread, by _in_hop
        result: T = await self._db._execute(  # type: ignore[no-untyped-call]
            _in_hop, conn, deferred, in_txn, fn, args, kwargs,
        )
        return result

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; returns the number of rows it changed."""
        return await self.run(_execute, sql, tuple(params))

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        return await self.run(_fetchone, sql, tuple(params))

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return await self.run(_fetchall, sql, tuple(params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file and truncate it, so bytes
        overwritten since (erased envelopes) no longer linger in the log. Waits for any
        transaction in progress; best effort while another connection reads (SQLite
        then checkpoints what it can and the rest goes at a later checkpoint)."""
        async with self._lock:
            await self.run(_execute, "PRAGMA wal_checkpoint(TRUNCATE)", ())

    # ---- transactions -----------------------------------------------------------------

    def _holds_transaction(self) -> bool:
        return self._owner is not None and self._owner is asyncio.current_task()

    @asynccontextmanager
    async def transaction(
        self, *, while_committing: Callable[[], Awaitable[object]] | None = None,
    ) -> AsyncIterator[None]:
        """One write transaction; IMMEDIATE so a concurrent CLI writer waits, not fails.
        Inside this task's own transaction it is a savepoint (see the module docstring).

        ``while_committing`` runs on the event loop while the COMMIT (and its fsync) runs
        on the database thread, and the transaction ends when both have: work that
        needs no database and must not be *released* before the commit (signing what
        will be sent once it returned) overlaps the commit instead of following it. If it
        raises, the exception leaves the ``async with`` after the COMMIT, which stands."""
        if self._holds_transaction():
            if while_committing is not None:
                raise RuntimeError("while_committing in a nested transaction")
            async with self.savepoint():
                yield
            return
        async with self._lock:
            self._owner = asyncio.current_task()
            try:
                version = await self.run(_begin)
                self._open = True
                if version != self._data_version:  # another connection committed
                    self._data_version = version
                    self.authz_generation += 1
                try:
                    yield
                    failed = await self._commit(while_committing)
                except BaseException:
                    self._open, self._deferred = False, []
                    self.authz_generation += 1
                    await self._db.rollback()  # a no-op if SQLite already rolled back
                    raise
                if failed is not None:
                    raise failed  # after a successful COMMIT: nothing to roll back
            finally:
                self._owner, self._open, self._depth, self._deferred = None, False, 0, []

    async def _commit(
        self, overlap: Callable[[], Awaitable[object]] | None,
    ) -> Exception | None:
        """COMMIT, running ``overlap`` meanwhile; raises if the COMMIT failed, else
        returns what ``overlap`` raised (None if nothing)."""
        if overlap is None:
            await self.run(_commit)
            return None
        commit = asyncio.ensure_future(self.run(_commit))
        await asyncio.sleep(0)  # let the COMMIT reach the database thread first
        failed: Exception | None = None
        try:
            await overlap()
        except Exception as exc:
            failed = exc
        except BaseException:  # cancelled: the COMMIT runs on; only its outcome is lost
            commit.add_done_callback(lambda done: done.cancelled() or done.exception())
            raise
        await commit
        return failed

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A unit of work inside this task's transaction that rolls back alone when an
        exception leaves it (the exception still propagates). Costs no round trip of
        its own unless it rolls back."""
        if not self._holds_transaction():
            raise RuntimeError("savepoint() outside this task's transaction")
        self._depth += 1
        name = f"sp{self._depth}"
        opening = f"SAVEPOINT {name}"
        self._deferred.append(opening)
        try:
            yield
        except BaseException:
            if self._deferred and self._deferred[-1] == opening:
                self._deferred.pop()  # nothing ran inside: nothing to undo
            else:
                self.authz_generation += 1
                try:
                    await self.run(_rollback_to, name)
                except sqlite3.Error as exc:
                    raise TransactionLost(f"ROLLBACK TO {name} failed: {exc}") from exc
            raise
        finally:
            self._depth -= 1
        if self._deferred and self._deferred[-1] == opening:
            self._deferred.pop()
        else:
            self._deferred.append(f"RELEASE {name}")
