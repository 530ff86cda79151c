"""Read and delivery markers, unread counts and the receipts setting (docs/protocol.md
§13.3). Each handler's docstring gives its result ``r``.

Invariants: a marker only moves forward and ``read`` raises ``delivered`` with it; a
marker never points past its channel's last seq; an account with ``receipts`` off has
its markers neither announced (``rcpt``) nor returned to anyone but itself. Markers of a
departed member are deleted with its membership (ops_spaces), and with their channel.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from hearth.b64 import b64e
from hearth.errors import ErrorCode
from hearth.limits import UNREAD_CAP
from hearth.rpc import AccountSettingsArgs, ChannelArgs, ChannelMarkArgs, SpaceArgs
from host.context import Context, channel_row, fail


def _mark(conn: sqlite3.Connection, args: ChannelMarkArgs, acct: bytes,
          now: int) -> tuple[int, int, bool]:
    """On the database thread: (read, delivered, moved) after moving the markers."""
    last = int(channel_row(conn, args.space, args.chan)["last_seq"])
    for name, value in (("read", args.read), ("delivered", args.delivered)):
        if value is not None and value > last:
            raise fail(ErrorCode.BAD_REQUEST,
                       f"{name} {value} is beyond the last seq {last} of channel {args.chan!r}")
    row = conn.execute("SELECT read, delivered FROM markers WHERE channel_id = ? AND acct = ?",
                       (args.chan, acct)).fetchone()
    read0, delivered0 = (0, 0) if row is None else (int(row["read"]), int(row["delivered"]))
    read = max(read0, args.read or 0)
    delivered = max(delivered0, read, args.delivered or 0)
    moved = (read, delivered) != (read0, delivered0)
    if moved:
        conn.execute(
            "INSERT INTO markers (channel_id, acct, read, delivered, ts) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (channel_id, acct) DO UPDATE SET read = excluded.read, "
            "delivered = excluded.delivered, ts = excluded.ts",
            (args.chan, acct, read, delivered, now),
        )
    return read, delivered, moved


async def channel_mark(ctx: Context, args: ChannelMarkArgs) -> dict[str, Any]:
    """Member. Moves the caller's markers forward (lower values are ignored); the
    channel's next ``rcpt`` event announces them. r = ``{read, delivered}`` as stored."""
    if args.read is None and args.delivered is None:
        raise fail(ErrorCode.BAD_REQUEST, "channel.mark needs read or delivered")
    await ctx.role_in(args.space)
    async with ctx.store.transaction():
        read, delivered, moved = await ctx.store.run(_mark, args, ctx.acct, ctx.now)
    if moved:
        ctx.shared.receipts.note(args.space, args.chan, ctx.acct)
    return {"read": read, "delivered": delivered}


def _receipts(conn: sqlite3.Connection, args: ChannelArgs, acct: bytes) -> list[sqlite3.Row]:
    channel_row(conn, args.space, args.chan)
    return conn.execute(
        "SELECT k.acct, k.read, k.delivered, k.ts FROM markers k "
        "JOIN members m ON m.space = ? AND m.acct = k.acct "
        "JOIN users u ON u.acct = k.acct "
        "WHERE k.channel_id = ? AND (u.receipts = 1 OR k.acct = ?) ORDER BY k.ts, k.acct",
        (args.space, args.chan, acct),
    ).fetchall()


async def channel_receipts(ctx: Context, args: ChannelArgs) -> dict[str, Any]:
    """Member. r = ``{marks: [{acct, read, delivered, ts}...]}``: every current member
    sharing receipts, and the caller (oldest change first)."""
    await ctx.role_in(args.space)
    rows = await ctx.store.run(_receipts, args, ctx.acct)
    return {"marks": [{"acct": b64e(r["acct"]), "read": r["read"], "delivered": r["delivered"],
                       "ts": r["ts"]} for r in rows]}


def _unread(conn: sqlite3.Connection, space: str, acct: bytes, now: int) -> list[dict[str, Any]]:
    """On the database thread: one entry per channel of ``space``; each count is bounded
    by a LIMIT subquery, so a huge backlog costs UNREAD_CAP rows, not all of them."""
    channels = conn.execute(
        "SELECT c.id, c.last_seq, coalesce(k.read, 0) AS read FROM channels c "
        "LEFT JOIN markers k ON k.channel_id = c.id AND k.acct = ? "
        "WHERE c.space = ? ORDER BY c.created_at, c.rowid",
        (acct, space),
    ).fetchall()
    out: list[dict[str, Any]] = []
    for chan in channels:
        unread, first = conn.execute(
            "SELECT count(*), min(seq) FROM (SELECT seq FROM messages "
            "WHERE channel_id = ? AND seq > ? AND deleted = 0 AND target IS NULL "
            "AND sender_acct != ? AND (expires_at IS NULL OR expires_at > ?) "
            "ORDER BY seq LIMIT ?)",
            (chan["id"], chan["read"], acct, now, UNREAD_CAP),
        ).fetchone()
        out.append({"chan": chan["id"], "read": chan["read"], "last": chan["last_seq"],
                    "unread": unread, "first_unread": first})
    return out


async def space_unread(ctx: Context, args: SpaceArgs) -> dict[str, Any]:
    """Member. r = ``{channels: [{chan, read, last, unread, first_unread}...]}``:
    ``unread`` counts messages after ``read`` that are not deleted (or expired), not
    annotations and not the caller's own, at most UNREAD_CAP ("that many or more");
    ``first_unread`` is the first one's seq, or null."""
    await ctx.role_in(args.space)
    return {"channels": await ctx.store.run(_unread, args.space, ctx.acct, ctx.now)}


async def account_settings(ctx: Context, args: AccountSettingsArgs) -> dict[str, Any]:
    """Registered. Changes the settings given, then r = ``{receipts}`` (default true:
    the account's markers are announced and shown to the members of its spaces)."""
    if args.receipts is not None:
        async with ctx.store.transaction():
            await ctx.store.execute("UPDATE users SET receipts = ? WHERE acct = ?",
                                    (int(args.receipts), ctx.acct))
    receipts = await ctx.store.fetchval("SELECT receipts FROM users WHERE acct = ?",
                                        (ctx.acct,))
    return {"receipts": bool(receipts)}
