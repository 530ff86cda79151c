"""Schema upgrades in place: a data directory made by schema 1 (its SQL written out
here, as released) is migrated, keeps every row, and serves a real client."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hearth.b64 import b64e
from hearth.identity import Identity
from host.migrations import SCHEMA_VERSION
from tests.conftest import Relay, connect_user, start_host
from tests.ops.support import ok, refused, status_json

SCHEMA_1 = """
CREATE TABLE host_owners (acct BLOB PRIMARY KEY, added_at INTEGER NOT NULL);
CREATE TABLE owner_claims (pk BLOB PRIMARY KEY, created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, used_at INTEGER, used_by BLOB);
CREATE TABLE users (acct BLOB PRIMARY KEY, name TEXT, created_at INTEGER NOT NULL);
CREATE TABLE devices (dev BLOB PRIMARY KEY, acct BLOB NOT NULL REFERENCES users(acct),
    cert BLOB NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER);
CREATE INDEX devices_by_acct ON devices(acct);
CREATE TABLE spaces (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_by BLOB NOT NULL,
    created_at INTEGER NOT NULL);
CREATE TABLE channels (id TEXT PRIMARY KEY,
    space TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE, name TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, UNIQUE (space, name));
CREATE TABLE members (space TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    acct BLOB NOT NULL REFERENCES users(acct),
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at INTEGER NOT NULL, PRIMARY KEY (space, acct));
CREATE INDEX members_by_acct ON members(acct);
CREATE TABLE invites (id TEXT PRIMARY KEY,
    space TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('key', 'link')), invitee BLOB, link_pk BLOB UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_by BLOB NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER,
    max_uses INTEGER NOT NULL, uses INTEGER NOT NULL DEFAULT 0, revoked_at INTEGER,
    CHECK ((kind = 'key') = (invitee IS NOT NULL)),
    CHECK ((kind = 'link') = (link_pk IS NOT NULL)));
CREATE INDEX invites_by_space ON invites(space);
CREATE INDEX invites_by_invitee ON invites(invitee, space) WHERE invitee IS NOT NULL;
CREATE TABLE messages (channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, msg_id TEXT NOT NULL, sender_acct BLOB NOT NULL,
    sender_dev BLOB NOT NULL, env BLOB NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (channel_id, seq), UNIQUE (channel_id, msg_id));
CREATE TABLE mailbox (id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient BLOB NOT NULL REFERENCES devices(dev), sender_dev BLOB NOT NULL,
    sender_acct BLOB NOT NULL, payload BLOB NOT NULL, created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL);
CREATE INDEX mailbox_by_recipient ON mailbox(recipient, id);
CREATE INDEX mailbox_by_expiry ON mailbox(expires_at);
CREATE TABLE key_backups (acct BLOB PRIMARY KEY REFERENCES users(acct),
    version INTEGER NOT NULL, blob BLOB NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE revocations (id INTEGER PRIMARY KEY, acct BLOB, dev BLOB, space TEXT,
    before INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    CHECK ((acct IS NULL) != (dev IS NULL)));
CREATE INDEX revocations_by_expiry ON revocations(expires_at);
PRAGMA user_version = 1;
"""


def make_schema_1_host(data: Path, owner: Identity) -> tuple[str, str]:
    """A data dir as Hearth with schema 1 left it: a space, its owner, 3 messages."""
    ok("host", "init", "--data", str(data))
    db = data / "hearth.sqlite3"
    for path in data.glob("hearth.sqlite3*"):
        path.unlink()
    acct = owner.device.certificate.account
    dev = owner.device.public_key
    with sqlite3.connect(db) as conn:
        conn.executescript(SCHEMA_1)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("INSERT INTO users VALUES (?, 'owner', 1)", (acct,))
        conn.execute("INSERT INTO devices VALUES (?, ?, ?, 1, NULL)",
                     (dev, acct, owner.device.certificate.to_bytes()))
        conn.execute("INSERT INTO host_owners VALUES (?, 1)", (acct,))
        conn.execute("INSERT INTO spaces VALUES ('sp', 'Old times', ?, 1)", (acct,))
        conn.execute("INSERT INTO channels VALUES ('ch', 'sp', 'general', 3, 1)")
        conn.execute("INSERT INTO members VALUES ('sp', ?, 'owner', 1)", (acct,))
        for seq in (1, 2, 3):
            conn.execute("INSERT INTO messages VALUES ('ch', ?, ?, ?, ?, ?, ?)",
                         (seq, f"m{seq}", acct, dev, f"old {seq}".encode(), seq))
    db.chmod(0o600)
    return "sp", "ch"


async def test_a_schema_1_data_dir_is_upgraded_in_place_and_serves(
    tmp_path: Path, relay: Relay,
) -> None:
    owner = Identity.generate()
    data = tmp_path / "old-host"
    space, chan = make_schema_1_host(data, owner)
    assert status_json(data)["schema"] == 1  # status reads without migrating
    assert "(older: run 'hearth host upgrade')" in ok("host", "status", "--data", str(data))

    out = ok("host", "upgrade", "--data", str(data))
    assert f"upgraded schema 1 -> {SCHEMA_VERSION}" in out
    kept = list(data.glob("hearth.sqlite3.schema1-*.bak"))
    assert len(kept) == 1
    with sqlite3.connect(kept[0]) as conn:  # the copy is the old database, untouched
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 3
    with sqlite3.connect(data / "hearth.sqlite3") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "retired_host_keys" in tables
    assert "nothing to do" in ok("host", "upgrade", "--data", str(data))

    host = start_host(tmp_path, relay, data)
    try:
        client = await connect_user(relay, host, "owner", owner)
        api = client.host(host.host_id)
        hello = await api.hello("owner")
        assert hello["owner"] is True and hello["spaces"][0]["name"] == "Old times"
        page = await api.history(space, chan)
        assert [m["env"] for m in page["messages"]] == [b64e(f"old {i}".encode())
                                                        for i in (1, 2, 3)]
        ack = await api.publish(space, chan, b"new")
        assert ack["seq"] == 4
        await client.close()
    finally:
        host.process.stop()


def test_a_database_newer_than_the_code_is_refused_by_upgrade_and_run(tmp_path: Path) -> None:
    data = tmp_path / "h"
    make_schema_1_host(data, Identity.generate())
    with sqlite3.connect(data / "hearth.sqlite3") as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    err = refused("host", "upgrade", "--data", str(data))
    assert f"database schema version {SCHEMA_VERSION + 1} is newer than this host supports " \
           f"({SCHEMA_VERSION})" in err
    err = refused("host", "run", "--data", str(data), "--relay", "ws://127.0.0.1:9")
    assert f"version {SCHEMA_VERSION + 1} is newer" in err
    assert not list(data.glob("*.bak"))
