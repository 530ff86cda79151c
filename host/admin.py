"""Host administration from the machine itself (``hearth host status|members|…``).

The operator who can read the data directory is the host's ultimate authority, so
these act without a signed request. Invariants: reads use a read-only connection and
never migrate (``status`` can report an old schema); writes reuse the ops' own
functions inside one transaction, so a member removed here is removed exactly as by
``member.remove`` — membership row gone and a ``revocations`` row committed with it,
which the running node sends to the relay (host.revocation_feed).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearth.b64 import b64d, b64e
from hearth.errors import ProtocolError
from hearth.keys import now_ms
from host.config import db_path, host_id_of, load_host_key
from host.context import Context
from host.errors import HostConfigError
from host.migrations import SCHEMA_VERSION, schema_version
from host.node_status import NodeStatus, read_status
from host.ops_invites import _COLUMNS as INVITE_COLUMNS
from host.ops_invites import _entry as invite_entry
from host.ops_spaces import _owner_count, _revoke_member
from host.store import Store


def _existing_db(data_dir: Path) -> Path:
    host_id_of(data_dir)  # refuses an uninitialised or unsafe data dir, naming it
    path = db_path(data_dir)
    if not path.exists():
        raise HostConfigError(f"no database at {str(path)!r}: run 'hearth host init' first")
    return path


def read_only(data_dir: Path) -> sqlite3.Connection:
    """A connection that cannot write (and so cannot migrate) the host's database."""
    conn = sqlite3.connect(f"{_existing_db(data_dir).as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


@asynccontextmanager
async def admin_context(data_dir: Path, op: str) -> AsyncIterator[Context]:
    """A Context acting as the operator (no account, no device) on a migrated store."""
    path = _existing_db(data_dir)
    key = load_host_key(data_dir)
    store = await Store.open(path)
    try:
        yield Context(store, key, host_id_of(data_dir), op, now_ms(), b"", b"")
    finally:
        await store.close()


# ---- status -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HostStatus:
    host_id: str
    data_dir: str
    schema: int
    node: NodeStatus | None
    storage_bytes: int
    counts: dict[str, int]
    retired_host_ids: list[str]

    @property
    def schema_current(self) -> bool:
        return self.schema == SCHEMA_VERSION

    def as_json(self) -> dict[str, Any]:
        node = self.node
        return {
            "host_id": self.host_id, "data_dir": self.data_dir,
            "schema": self.schema, "schema_supported": SCHEMA_VERSION,
            "running": bool(node and node.running),
            "node": None if node is None else {
                "pid": node.pid, "state": node.state, "relay": node.relay,
                "since": node.since, "detail": node.detail,
            },
            "storage_bytes": self.storage_bytes, "counts": self.counts,
            "retired_host_ids": self.retired_host_ids,
        }


_COUNTS = {
    "spaces": "SELECT count(*) FROM spaces",
    "channels": "SELECT count(*) FROM channels",
    "members": "SELECT count(DISTINCT acct) FROM members",
    "memberships": "SELECT count(*) FROM members",
    "devices": "SELECT count(*) FROM devices WHERE revoked_at IS NULL",
    "messages": "SELECT count(*) FROM messages",
    "owners": "SELECT count(*) FROM host_owners",
    "open_owner_links": "SELECT count(*) FROM owner_claims WHERE used_at IS NULL "
                        "AND expires_at > :now",
    "open_invites": "SELECT count(*) FROM invites WHERE revoked_at IS NULL AND uses < max_uses "
                    "AND (expires_at IS NULL OR expires_at > :now)",
}


def storage_bytes(data_dir: Path) -> int:
    """The database with its WAL and shared-memory files, as on disk now."""
    base = db_path(data_dir)
    return sum(p.stat().st_size for p in (base, base.with_name(base.name + "-wal"),
                                          base.with_name(base.name + "-shm")) if p.exists())


def host_status(data_dir: Path) -> HostStatus:
    conn = read_only(data_dir)
    try:
        version = schema_version(conn)
        now = {"now": now_ms()}
        counts = {name: int(conn.execute(sql, now).fetchone()[0]) for name, sql in _COUNTS.items()}
        retired = [] if version < 2 else [
            str(r[0]) for r in conn.execute(
                "SELECT host_id FROM retired_host_keys ORDER BY retired_at")
        ]
    finally:
        conn.close()
    return HostStatus(host_id_of(data_dir), str(data_dir.resolve()), version,
                      read_status(data_dir), storage_bytes(data_dir), counts, retired)


# ---- members --------------------------------------------------------------------------

def list_members(data_dir: Path, space: str | None = None) -> list[dict[str, Any]]:
    """Every membership (or those of ``space``), by space then join order."""
    conn = read_only(data_dir)
    try:
        if space is not None and conn.execute(
                "SELECT 1 FROM spaces WHERE id = ?", (space,)).fetchone() is None:
            raise HostConfigError(f"space {space!r} does not exist on this host")
        rows = conn.execute(
            "SELECT m.space, s.name AS space_name, m.acct, u.name, m.role, m.joined_at "
            "FROM members m JOIN spaces s ON s.id = m.space JOIN users u ON u.acct = m.acct "
            "WHERE ? IS NULL OR m.space = ? ORDER BY s.created_at, s.id, m.joined_at, m.rowid",
            (space, space),
        ).fetchall()
    finally:
        conn.close()
    return [{"space": r["space"], "space_name": r["space_name"], "acct": b64e(r["acct"]),
             "name": r["name"], "role": r["role"], "joined_at": r["joined_at"]} for r in rows]


def _account(text: str) -> bytes:
    try:
        return b64d(text, field="account", size=32)
    except ProtocolError as exc:
        raise HostConfigError(f"account {text!r} is not a base64url public key: "
                              f"{exc.message}") from None


async def remove_member(data_dir: Path, space: str, acct: str) -> str:
    """Remove ``acct`` from ``space`` and revoke its subscriptions; returns its role.
    Refuses the space's last owner (nobody could administer the space any more)."""
    target = _account(acct)
    async with admin_context(data_dir, "admin.remove-member") as ctx, ctx.store.transaction():
        if await ctx.store.fetchval("SELECT 1 FROM spaces WHERE id = ?", (space,)) is None:
            raise HostConfigError(f"space {space!r} does not exist on this host")
        role = await ctx.store.fetchval(
            "SELECT role FROM members WHERE space = ? AND acct = ?", (space, target))
        if role is None:
            raise HostConfigError(f"account {acct!r} is not a member of space {space!r}")
        if role == "owner" and await _owner_count(ctx, space) == 1:
            raise HostConfigError(
                f"account {acct!r} is the last owner of space {space!r}; make another "
                "member owner first, or delete the space from a client")
        await _revoke_member(ctx, space, target)
    return str(role)


# ---- invite links and owner links -----------------------------------------------------

def list_invites(data_dir: Path, space: str | None = None,
                 include_closed: bool = False) -> list[dict[str, Any]]:
    """Invites (``kind`` key or link) and owner links (``kind`` owner; their id is
    the link's public key), newest first; only usable ones unless ``include_closed``."""
    now = now_ms()
    conn = read_only(data_dir)
    try:
        rows = conn.execute(
            f"SELECT {INVITE_COLUMNS} FROM invites WHERE ? IS NULL OR space = ? "
            "ORDER BY created_at DESC, rowid DESC", (space, space),
        ).fetchall()
        claims = [] if space is not None else conn.execute(
            "SELECT pk, created_at, expires_at, used_at, used_by FROM owner_claims "
            "ORDER BY created_at DESC, rowid DESC").fetchall()
    finally:
        conn.close()
    out: list[dict[str, Any]] = []
    for row in rows:
        entry = {**invite_entry(row), "space": row["space"]}
        entry["open"] = (row["revoked_at"] is None and row["uses"] < row["max_uses"]
                         and (row["expires_at"] is None or row["expires_at"] > now))
        out.append(entry)
    for claim in claims:
        out.append({
            "id": b64e(claim["pk"]), "kind": "owner", "space": None, "role": "host owner",
            "created_at": claim["created_at"], "expires_at": claim["expires_at"],
            "max_uses": 1, "uses": 0 if claim["used_at"] is None else 1,
            "used_by": None if claim["used_by"] is None else b64e(claim["used_by"]),
            "open": claim["used_at"] is None and claim["expires_at"] > now,
        })
    out.sort(key=lambda e: -int(e["created_at"]))
    return out if include_closed else [e for e in out if e["open"]]


async def revoke_invite(data_dir: Path, invite: str) -> str:
    """Revoke an invite by id, or an owner link by its public key (it expires now);
    returns what was revoked. Revoking twice is harmless."""
    async with admin_context(data_dir, "admin.revoke-invite") as ctx, ctx.store.transaction():
        changed = await ctx.store.execute(
            "UPDATE invites SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
            (ctx.now, invite))
        if changed:
            return "invite"
        try:
            pk = b64d(invite, field="invite", size=32)
        except ProtocolError:
            pk = b""
        # An owner link has no revoked state: ending its life now refuses it
        # (host.claim answers invite_expired).
        changed = await ctx.store.execute(
            "UPDATE owner_claims SET expires_at = min(expires_at, ?) WHERE pk = ?",
            (ctx.now, pk))
        if changed:
            return "owner link"
    raise HostConfigError(
        f"no invite or owner link {invite!r} on this host ('hearth host invites' lists them)")
