"""Schema migrations: fresh databases, re-opening, and refusing a newer schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from host.errors import HostConfigError
from host.migrations import MIGRATIONS, SCHEMA_VERSION
from host.store import Store, prepare_database

TABLES = {
    "host_owners", "owner_claims", "users", "devices", "spaces", "channels", "members",
    "invites", "messages", "mailbox", "key_backups", "revocations", "retired_host_keys",
    "prekeys", "key_shares", "departures", "link_slots", "link_posts", "markers",
}


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows} - {"sqlite_sequence"}


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


async def test_fresh_database_gets_every_table_and_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite3"
    store = await Store.open(path)
    await store.close()
    assert tables(path) == TABLES
    assert user_version(path) == SCHEMA_VERSION
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_runtime_connection_enforces_foreign_keys_and_full_sync(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        assert await store.fetchval("PRAGMA foreign_keys") == 1
        assert await store.fetchval("PRAGMA synchronous") == 2  # FULL
        assert await store.fetchval("PRAGMA secure_delete") == 1  # erased bytes are zeroed
        with pytest.raises(sqlite3.IntegrityError):
            async with store.transaction():
                await store.execute(
                    "INSERT INTO channels (id, space, name, created_at) "
                    "VALUES ('c', 'nope', 'x', 0)"
                )
    finally:
        await store.close()


async def test_reopening_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path)
    async with store.transaction():
        await store.execute("INSERT INTO users (acct, name, created_at) VALUES (x'01', 'a', 1)")
    await store.close()
    assert prepare_database(path) == SCHEMA_VERSION
    store = await Store.open(path)
    try:
        assert await store.fetchval("SELECT name FROM users") == "a"
    finally:
        await store.close()
    assert user_version(path) == SCHEMA_VERSION


async def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    prepare_database(path)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(HostConfigError, match=rf"version {SCHEMA_VERSION + 1} is newer"):
        await Store.open(path)
    assert user_version(path) == SCHEMA_VERSION + 1  # untouched


async def test_a_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        with pytest.raises(RuntimeError):
            async with store.transaction():
                await store.execute(
                    "INSERT INTO users (acct, name, created_at) VALUES (x'01', 'a', 1)"
                )
                raise RuntimeError("boom")
        assert await store.fetchval("SELECT count(*) FROM users") == 0
    finally:
        await store.close()


async def test_a_version_3_database_upgrades_to_rich_messaging(tmp_path: Path) -> None:
    """Migration 4 on a database holding data: old messages read as plain, undeleted,
    never-expiring messages; channels get no timer; accounts share receipts."""
    path = tmp_path / "db.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[:3], start=1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
    conn.executescript(
        "INSERT INTO users (acct, name, created_at) VALUES (x'01', 'a', 1);"
        "INSERT INTO spaces (id, name, created_by, created_at) VALUES ('s', 'S', x'01', 1);"
        "INSERT INTO channels (id, space, name, last_seq, created_at) "
        "VALUES ('c', 's', 'general', 1, 1);"
        "INSERT INTO messages (channel_id, seq, msg_id, sender_acct, sender_dev, env, ts, sess)"
        " VALUES ('c', 1, 'm1', x'01', x'02', x'0304', 5, 'x');"
    )
    conn.close()
    assert user_version(path) == 3
    store = await Store.open(path)
    try:
        row = await store.fetchone(
            "SELECT env, sess, target, expires_at, deleted FROM messages WHERE msg_id = 'm1'")
        assert row is not None and tuple(row) == (b"\x03\x04", "x", None, None, 0)
        assert await store.fetchval("SELECT ttl_s FROM channels WHERE id = 'c'") == 0
        assert await store.fetchval("SELECT receipts FROM users") == 1
        assert await store.fetchval("SELECT count(*) FROM markers") == 0
    finally:
        await store.close()
    assert user_version(path) == SCHEMA_VERSION == 4
    assert "markers" in tables(path)
