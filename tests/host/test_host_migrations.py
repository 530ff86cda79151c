"""Schema migrations: fresh databases, re-opening, and refusing a newer schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from host.errors import HostConfigError
from host.migrations import SCHEMA_VERSION
from host.store import Store, prepare_database

TABLES = {
    "host_owners", "owner_claims", "users", "devices", "spaces", "channels", "members",
    "invites", "messages", "mailbox", "key_backups", "revocations", "retired_host_keys",
    "prekeys", "key_shares", "departures", "link_slots", "link_posts",
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
