"""Versioned schema migrations, tracked by ``PRAGMA user_version``.

Invariant: migration N (1-based) brings the schema from version N-1 to N inside one
transaction together with the version bump, so a crash leaves either the old or the
new schema, never half of one. Migrations are append-only: never edit a released one.
"""

from __future__ import annotations

import sqlite3

from host.errors import HostConfigError

MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema. Keys are raw 32-byte BLOBs; ids are base64url TEXT;
    # every timestamp is ms since the epoch.
    """
    CREATE TABLE host_owners (
        acct BLOB PRIMARY KEY,
        added_at INTEGER NOT NULL
    );
    CREATE TABLE owner_claims (
        pk BLOB PRIMARY KEY,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER,
        used_by BLOB
    );
    CREATE TABLE users (
        acct BLOB PRIMARY KEY,
        name TEXT,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE devices (
        dev BLOB PRIMARY KEY,
        acct BLOB NOT NULL REFERENCES users(acct),
        cert BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
    );
    CREATE INDEX devices_by_acct ON devices(acct);
    CREATE TABLE spaces (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_by BLOB NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE channels (
        id TEXT PRIMARY KEY,
        space TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        UNIQUE (space, name)
    );
    CREATE TABLE members (
        space TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        acct BLOB NOT NULL REFERENCES users(acct),
        role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
        joined_at INTEGER NOT NULL,
        PRIMARY KEY (space, acct)
    );
    CREATE INDEX members_by_acct ON members(acct);
    CREATE TABLE invites (
        id TEXT PRIMARY KEY,
        space TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('key', 'link')),
        invitee BLOB,
        link_pk BLOB UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
        created_by BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        max_uses INTEGER NOT NULL,
        uses INTEGER NOT NULL DEFAULT 0,
        revoked_at INTEGER,
        CHECK ((kind = 'key') = (invitee IS NOT NULL)),
        CHECK ((kind = 'link') = (link_pk IS NOT NULL))
    );
    CREATE INDEX invites_by_space ON invites(space);
    CREATE INDEX invites_by_invitee ON invites(invitee, space) WHERE invitee IS NOT NULL;
    CREATE TABLE messages (
        channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        msg_id TEXT NOT NULL,
        sender_acct BLOB NOT NULL,
        sender_dev BLOB NOT NULL,
        env BLOB NOT NULL,
        ts INTEGER NOT NULL,
        PRIMARY KEY (channel_id, seq),
        UNIQUE (channel_id, msg_id)
    );
    CREATE TABLE mailbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        recipient BLOB NOT NULL REFERENCES devices(dev),
        sender_dev BLOB NOT NULL,
        sender_acct BLOB NOT NULL,
        payload BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX mailbox_by_recipient ON mailbox(recipient, id);
    CREATE INDEX mailbox_by_expiry ON mailbox(expires_at);
    CREATE TABLE key_backups (
        acct BLOB PRIMARY KEY REFERENCES users(acct),
        version INTEGER NOT NULL,
        blob BLOB NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE revocations (
        id INTEGER PRIMARY KEY,
        acct BLOB,
        dev BLOB,
        space TEXT,
        before INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        CHECK ((acct IS NULL) != (dev IS NULL))
    );
    CREATE INDEX revocations_by_expiry ON revocations(expires_at);
    """,
    # 2: every host key retired by ``hearth host rotate-key`` (its public key and the
    # host id it made), so an operator can tell members which ids were this host's.
    """
    CREATE TABLE retired_host_keys (
        pk BLOB PRIMARY KEY,
        host_id TEXT NOT NULL,
        retired_at INTEGER NOT NULL
    );
    """,
    # 3: end-to-end encryption (docs/security.md): device prekeys, key shares stored
    # beside the messages they unlock, each message's (opaque) sender session id,
    # departures (so old messages of a removed member still verify), link slots.
    """
    CREATE TABLE prekeys (
        dev BLOB NOT NULL REFERENCES devices(dev) ON DELETE CASCADE,
        kind INTEGER NOT NULL CHECK (kind IN (1, 2)),
        key_id INTEGER NOT NULL,
        prekey BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (dev, kind, key_id)
    );
    CREATE TABLE key_shares (
        id INTEGER PRIMARY KEY,
        channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        sess TEXT NOT NULL,
        recipient BLOB NOT NULL,
        sender_dev BLOB NOT NULL,
        sender_acct BLOB NOT NULL,
        share BLOB NOT NULL,
        seq INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX key_shares_by_recipient ON key_shares(channel_id, recipient, sess);
    ALTER TABLE messages ADD COLUMN sess TEXT;
    CREATE TABLE departures (
        space TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        acct BLOB NOT NULL,
        left_at INTEGER NOT NULL
    );
    CREATE INDEX departures_by_space ON departures(space, acct);
    CREATE TABLE link_slots (
        id TEXT PRIMARY KEY,
        opened_by BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE TABLE link_posts (
        slot TEXT NOT NULL REFERENCES link_slots(id) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        from_dev BLOB NOT NULL,
        msg BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (slot, n)
    );
    """,
    # 4: rich messaging (docs/protocol.md §13): a message's target (an annotation's
    # ``re``), expiry and tombstone flag (an erased message keeps its row, so seqs stay
    # gap-free); a channel's disappearing-message timer; read/delivered markers; the
    # account's receipts setting.
    """
    ALTER TABLE messages ADD COLUMN target TEXT;
    ALTER TABLE messages ADD COLUMN expires_at INTEGER;
    ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX messages_by_target ON messages(channel_id, target) WHERE target IS NOT NULL;
    CREATE INDEX messages_by_expiry ON messages(expires_at)
        WHERE expires_at IS NOT NULL AND deleted = 0;
    ALTER TABLE channels ADD COLUMN ttl_s INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE markers (
        channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        acct BLOB NOT NULL,
        read INTEGER NOT NULL DEFAULT 0,
        delivered INTEGER NOT NULL DEFAULT 0,
        ts INTEGER NOT NULL,
        PRIMARY KEY (channel_id, acct)
    ) WITHOUT ROWID;
    CREATE INDEX markers_by_acct ON markers(acct);
    ALTER TABLE users ADD COLUMN receipts INTEGER NOT NULL DEFAULT 1;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every pending migration; returns the resulting version.

    ``conn`` must be in autocommit mode (isolation_level=None) so that the explicit
    BEGIN below is the only transaction. Refuses a database newer than this code.
    """
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise HostConfigError(
            f"database schema version {current} is newer than this host supports "
            f"({SCHEMA_VERSION}); upgrade Hearth instead of downgrading it"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        script = MIGRATIONS[version - 1]
        try:
            # executescript runs statement by statement; BEGIN IMMEDIATE makes the whole
            # script and the version bump one transaction (DDL is transactional in SQLite).
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.rollback()
            raise HostConfigError(f"migration {version} failed: {exc}") from exc
    return SCHEMA_VERSION
