"""Copies of the host's database: ``backup``, ``restore``, and ``upgrade`` (which keeps
a copy of the old schema's database before migrating it in place).

Invariants: a backup is made with SQLite's online backup API in one step, so it is a
consistent snapshot even while the node writes (WAL readers never block writers), and
it passes ``PRAGMA integrity_check`` before it is reported written. The host key is
never put in a backup: it is the host's identity and is copied separately. Restore
refuses to run under a live node and never overwrites a database it has not set aside.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from hearth.keys import now_ms
from host.config import db_path, host_id_of
from host.errors import HostConfigError
from host.migrations import SCHEMA_VERSION, migrate, schema_version
from host.node_status import refuse_if_running
from host.store import connect_sync, prepare_database

REQUIRED_TABLES = ("spaces", "channels", "members", "messages", "users", "devices")


@dataclass(frozen=True, slots=True)
class Copy:
    path: Path
    schema: int
    size: int


def _copy(source: sqlite3.Connection, target: Path) -> Copy:
    """Snapshot ``source`` into a new file ``target`` (0600), verified."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)  # pages=-1: the whole database under one read transaction
        dest.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
        _check_integrity(dest, target)
        version = schema_version(dest)
    except BaseException:
        dest.close()
        target.unlink(missing_ok=True)
        raise
    dest.close()
    return Copy(target, version, target.stat().st_size)


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise HostConfigError(f"{str(path)!r} is not a readable SQLite database: {exc}") from None
    if result != "ok":
        raise HostConfigError(f"{str(path)!r} failed its integrity check: {result}")


def backup(data_dir: Path, target: Path) -> Copy:
    """Write a consistent copy of the running (or stopped) host's database to ``target``."""
    host_id_of(data_dir)
    source_path = db_path(data_dir)
    if not source_path.exists():
        raise HostConfigError(f"no database at {str(source_path)!r}: nothing to back up")
    if target.exists():
        raise HostConfigError(f"{str(target)!r} already exists; choose a new file name")
    source = connect_sync(source_path)
    try:
        return _copy(source, target)
    finally:
        source.close()


def _check_restorable(source: Path) -> int:
    if not source.is_file():
        raise HostConfigError(f"backup {str(source)!r} does not exist")
    conn = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        _check_integrity(conn, source)
        version = schema_version(conn)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if version < 1 or missing:
        raise HostConfigError(
            f"{str(source)!r} is not a Hearth host database (schema {version}, "
            f"missing tables {missing})")
    if version > SCHEMA_VERSION:
        raise HostConfigError(
            f"backup {str(source)!r} has schema {version}, newer than this Hearth supports "
            f"({SCHEMA_VERSION}); restore it with a newer Hearth")
    return version


def restore(data_dir: Path, source: Path, *, force: bool = False) -> tuple[Copy, Path | None]:
    """Make ``source`` the host's database (migrated to the current schema). An existing
    database is refused unless ``force``, and then moved aside, never deleted; returns
    the restored copy and where the old database went."""
    host_id_of(data_dir)  # the key must already be in place: a backup does not hold it
    refuse_if_running(data_dir, "restore")
    _check_restorable(source)
    target = db_path(data_dir)
    aside: Path | None = None
    if target.exists():
        if not force:
            raise HostConfigError(
                f"{str(target)!r} already exists; pass --force to set it aside and restore")
        aside = target.with_name(f"{target.name}.before-restore-{now_ms()}")
        old = connect_sync(target)
        try:  # a proper copy (WAL included) rather than a rename of half a database
            _copy(old, aside)
        finally:
            old.close()
        for suffix in ("", "-wal", "-shm"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        copy = _copy(src, target)
    finally:
        src.close()
    prepare_database(target)  # back to WAL, and migrated if the backup is older
    return Copy(target, SCHEMA_VERSION, copy.size), aside


def upgrade(data_dir: Path) -> tuple[int, int, Path | None]:
    """Migrate the database in place to the current schema, keeping a copy of the old
    one beside it first; returns (old version, new version, the copy or None)."""
    host_id_of(data_dir)
    refuse_if_running(data_dir, "upgrade")
    path = db_path(data_dir)
    if not path.exists():
        raise HostConfigError(f"no database at {str(path)!r}: run 'hearth host init' first")
    conn = connect_sync(path)
    try:
        before = schema_version(conn)
        if before > SCHEMA_VERSION:
            migrate(conn)  # raises, naming both versions
        if before == SCHEMA_VERSION:
            return before, before, None
        kept = _copy(conn, path.with_name(f"{path.name}.schema{before}-{now_ms()}.bak"))
    finally:
        conn.close()
    after = prepare_database(path)
    return before, after, kept.path
