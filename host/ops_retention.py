"""Deleting messages and disappearing-message timers (docs/protocol.md §13.3). Each
handler's docstring gives its result ``r``."""

from __future__ import annotations

import sqlite3
from typing import Any

from hearth.errors import ErrorCode
from hearth.rpc import ChannelTtlArgs, MessageArgs
from host.context import ROLE_RANK, Context, channel_row, fail
from host.erase import del_events, erase
from host.ops_spaces import channel_shape


def _delete(conn: sqlite3.Connection, args: MessageArgs, acct: bytes,
            is_admin: bool) -> list[str]:
    """On the database thread: check and erase; the erased ids."""
    channel_row(conn, args.space, args.chan)
    row = conn.execute(
        "SELECT sender_acct, deleted FROM messages WHERE channel_id = ? AND msg_id = ?",
        (args.chan, args.id),
    ).fetchone()
    if row is None:
        raise fail(ErrorCode.NOT_FOUND, f"message {args.id!r} is not in channel {args.chan!r}")
    if row["deleted"]:
        raise fail(ErrorCode.NOT_FOUND, f"message {args.id!r} was deleted")
    if row["sender_acct"] != acct and not is_admin:
        raise fail(
            ErrorCode.FORBIDDEN,
            f"message {args.id!r} was sent by another member: "
            "only its author or an admin can delete it",
        )
    return erase(conn, args.chan, args.id)


async def message_delete(ctx: Context, args: MessageArgs) -> dict[str, Any]:
    """The message's author (any of its devices) or admin+. Erases the envelope of the
    message and of every annotation of it (host/erase.py), then sends ``del``.
    r = ``{id, deleted: [ids]}`` (the message first)."""
    role = await ctx.role_in(args.space)
    is_admin = ROLE_RANK[role] >= ROLE_RANK["admin"]
    async with ctx.store.transaction():
        ids = await ctx.store.run(_delete, args, ctx.acct, is_admin)
    ctx.shared.erased = True
    for event in del_events(ctx.host_id, args.space, args.chan, ctx.acct_b64, ctx.now, ids):
        ctx.emit_event(event)
    return {"id": args.id, "deleted": ids}


async def channel_ttl(ctx: Context, args: ChannelTtlArgs) -> dict[str, Any]:
    """Admin+. Sets the channel's disappearing-message timer for messages published
    from now on (0: they stay); a ``chan`` event carries the channel.
    r = ``{channel}``."""
    await ctx.require_role(args.space, "admin")
    async with ctx.store.transaction():
        await ctx.require_channel(args.space, args.chan)
        await ctx.store.execute("UPDATE channels SET ttl_s = ? WHERE id = ?",
                                (args.ttl_s, args.chan))
        channel = channel_shape(await ctx.require_channel(args.space, args.chan))
    ctx.emit_channel_change(args.space, args.chan, {"channel": channel})
    return {"channel": channel}
