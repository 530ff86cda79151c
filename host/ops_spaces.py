"""Ops on spaces, channels and members. Each handler's docstring gives its result ``r``.

Shapes used below: a *channel* is ``{id, name, seq, ttl_s}`` (``seq``: the last
sequence number stored in it; ``ttl_s``: its disappearing-message timer, 0 for none)
and a *space* is ``{id, name, role, channels: [channel...]}``
(``role``: the caller's role).
"""

from __future__ import annotations

from typing import Any

from hearth.b64 import b64e
from hearth.errors import ErrorCode
from hearth.rpc import (
    ChannelArgs,
    ChannelNameArgs,
    Empty,
    MemberArgs,
    MemberRoleArgs,
    NameArgs,
    SpaceArgs,
    SpaceNameArgs,
)
from host.context import ROLE_RANK, Context, decode_key, fail
from host.ids import new_id
from host.store import Store

DEFAULT_CHANNEL = "general"


def channel_shape(row: Any) -> dict[str, Any]:
    """The *channel* shape of a channels row (id, name, last_seq, ttl_s)."""
    return {"id": row["id"], "name": row["name"], "seq": row["last_seq"], "ttl_s": row["ttl_s"]}


async def channels_of(store: Store, space: str) -> list[dict[str, Any]]:
    rows = await store.fetchall(
        "SELECT id, name, last_seq, ttl_s FROM channels WHERE space = ? "
        "ORDER BY created_at, rowid",
        (space,),
    )
    return [channel_shape(r) for r in rows]


async def spaces_of(store: Store, acct: bytes) -> list[dict[str, Any]]:
    """Every space ``acct`` is a member of, with its role and channels."""
    rows = await store.fetchall(
        "SELECT s.id, s.name, m.role FROM members m JOIN spaces s ON s.id = m.space "
        "WHERE m.acct = ? ORDER BY m.joined_at, m.rowid",
        (acct,),
    )
    return [
        {"id": r["id"], "name": r["name"], "role": r["role"],
         "channels": await channels_of(store, r["id"])}
        for r in rows
    ]


async def space_entry(ctx: Context, space: str) -> dict[str, Any]:
    role = await ctx.role_in(space)
    name = await ctx.require_space(space)
    channels = await channels_of(ctx.store, space)
    return {"id": space, "name": name, "role": role, "channels": channels}


async def add_member(ctx: Context, space: str, role: str) -> None:
    """Make the caller a member (inside the caller's transaction). Its markers start at
    each channel's last seq: what was sent before it joined is not unread for it."""
    await ctx.store.execute(
        "INSERT INTO members (space, acct, role, joined_at) VALUES (?, ?, ?, ?)",
        (space, ctx.acct, role, ctx.now),
    )
    await ctx.store.execute(
        "INSERT OR REPLACE INTO markers (channel_id, acct, read, delivered, ts) "
        "SELECT id, ?, last_seq, last_seq, ? FROM channels WHERE space = ?",
        (ctx.acct, ctx.now, space),
    )
    ctx.emit_member_change(space, ctx.acct, role)


async def _revoke_member(ctx: Context, space: str, acct: bytes) -> None:
    await ctx.store.execute("DELETE FROM members WHERE space = ? AND acct = ?", (space, acct))
    await ctx.store.execute(
        "DELETE FROM markers WHERE acct = ? AND channel_id IN "
        "(SELECT id FROM channels WHERE space = ?)",
        (acct, space),
    )
    # Kept so members can still verify what the departed member sent before leaving.
    await ctx.store.execute(
        "INSERT INTO departures (space, acct, left_at) VALUES (?, ?, ?)", (space, acct, ctx.now)
    )
    await ctx.revoke(acct=acct, space=space)
    ctx.emit_member_change(space, acct, None)


# ---- spaces -----------------------------------------------------------------------

async def space_create(ctx: Context, args: NameArgs) -> dict[str, Any]:
    """Host owners only. r = ``{space: space}``; the caller is its owner and it has
    one channel, "general"."""
    is_owner = await ctx.store.fetchval(
        "SELECT 1 FROM host_owners WHERE acct = ?", (ctx.acct,)
    )
    if not is_owner:
        raise fail(
            ErrorCode.FORBIDDEN,
            f"account {ctx.acct_b64!r} is not a host owner; only host owners create spaces",
        )
    space = new_id()
    async with ctx.store.transaction():
        await ctx.store.execute(
            "INSERT INTO spaces (id, name, created_by, created_at) VALUES (?, ?, ?, ?)",
            (space, args.name, ctx.acct, ctx.now),
        )
        await ctx.store.execute(
            "INSERT INTO channels (id, space, name, created_at) VALUES (?, ?, ?, ?)",
            (new_id(), space, DEFAULT_CHANNEL, ctx.now),
        )
        await add_member(ctx, space, "owner")
    return {"space": await space_entry(ctx, space)}


async def space_list(ctx: Context, args: Empty) -> dict[str, Any]:
    """r = ``{spaces: [space...]}``: the caller's spaces, oldest membership first."""
    return {"spaces": await spaces_of(ctx.store, ctx.acct)}


async def space_rename(ctx: Context, args: SpaceNameArgs) -> dict[str, Any]:
    """Space owner. r = ``{space: id, name}``."""
    await ctx.require_role(args.space, "owner")
    async with ctx.store.transaction():
        await ctx.store.execute("UPDATE spaces SET name = ? WHERE id = ?", (args.name, args.space))
    return {"space": args.space, "name": args.name}


async def space_delete(ctx: Context, args: SpaceArgs) -> dict[str, Any]:
    """Space owner. Deletes channels, messages, invites and memberships; every member's
    subscriptions are revoked. r = ``{space: id, deleted: true}``."""
    await ctx.require_role(args.space, "owner")
    async with ctx.store.transaction():
        members = await ctx.store.fetchall(
            "SELECT acct FROM members WHERE space = ?", (args.space,)
        )
        for row in members:
            await ctx.revoke(acct=row["acct"], space=args.space)
        # ON DELETE CASCADE removes channels (and their messages), members and invites.
        await ctx.store.execute("DELETE FROM spaces WHERE id = ?", (args.space,))
    return {"space": args.space, "deleted": True}


async def _owner_count(ctx: Context, space: str) -> int:
    return int(await ctx.store.fetchval(
        "SELECT count(*) FROM members WHERE space = ? AND role = 'owner'", (space,)
    ))


async def space_leave(ctx: Context, args: SpaceArgs) -> dict[str, Any]:
    """Any member except the last owner (who must delete the space or promote someone).
    r = ``{space: id, left: true}``."""
    role = await ctx.role_in(args.space)
    async with ctx.store.transaction():
        if role == "owner" and await _owner_count(ctx, args.space) == 1:
            raise fail(
                ErrorCode.FORBIDDEN,
                f"you are the last owner of space {args.space!r}: "
                "make another member owner or delete the space",
            )
        await _revoke_member(ctx, args.space, ctx.acct)
    return {"space": args.space, "left": True}


# ---- channels ---------------------------------------------------------------------

async def _check_channel_name_free(ctx: Context, space: str, name: str) -> None:
    taken = await ctx.store.fetchval(
        "SELECT 1 FROM channels WHERE space = ? AND name = ?", (space, name)
    )
    if taken:
        raise fail(ErrorCode.CONFLICT, f"space {space!r} already has a channel named {name!r}")


async def channel_create(ctx: Context, args: SpaceNameArgs) -> dict[str, Any]:
    """Admin+. Names are unique within a space (conflict). r = ``{channel: channel}``."""
    await ctx.require_role(args.space, "admin")
    chan = new_id()
    async with ctx.store.transaction():
        await _check_channel_name_free(ctx, args.space, args.name)
        await ctx.store.execute(
            "INSERT INTO channels (id, space, name, created_at) VALUES (?, ?, ?, ?)",
            (chan, args.space, args.name, ctx.now),
        )
    channel = {"id": chan, "name": args.name, "seq": 0, "ttl_s": 0}
    ctx.emit_channel_change(args.space, chan, {"channel": channel})
    return {"channel": channel}


async def channel_list(ctx: Context, args: SpaceArgs) -> dict[str, Any]:
    """Member. r = ``{channels: [channel...]}``."""
    await ctx.role_in(args.space)
    return {"channels": await channels_of(ctx.store, args.space)}


async def channel_rename(ctx: Context, args: ChannelNameArgs) -> dict[str, Any]:
    """Admin+. r = ``{channel: channel}``."""
    await ctx.require_role(args.space, "admin")
    async with ctx.store.transaction():
        row = await ctx.require_channel(args.space, args.chan)
        if row["name"] != args.name:
            await _check_channel_name_free(ctx, args.space, args.name)
            await ctx.store.execute(
                "UPDATE channels SET name = ? WHERE id = ?", (args.name, args.chan)
            )
    channel = {**channel_shape(row), "name": args.name}
    if row["name"] != args.name:
        ctx.emit_channel_change(args.space, args.chan, {"channel": channel})
    return {"channel": channel}


async def channel_delete(ctx: Context, args: ChannelArgs) -> dict[str, Any]:
    """Admin+. Deletes the channel, its messages and markers.
    r = ``{channel: id, deleted: true}``."""
    await ctx.require_role(args.space, "admin")
    async with ctx.store.transaction():
        row = await ctx.require_channel(args.space, args.chan)
        await ctx.store.execute("DELETE FROM channels WHERE id = ?", (args.chan,))
    ctx.emit_channel_change(args.space, args.chan,
                            {"channel": channel_shape(row), "deleted": True})
    return {"channel": args.chan, "deleted": True}


# ---- members ----------------------------------------------------------------------

async def member_list(ctx: Context, args: SpaceArgs) -> dict[str, Any]:
    """Member. r = ``{members: [{acct, name, role, joined_at}...]}`` (``name`` may be
    null), oldest first."""
    await ctx.role_in(args.space)
    rows = await ctx.store.fetchall(
        "SELECT m.acct, u.name, m.role, m.joined_at FROM members m "
        "JOIN users u ON u.acct = m.acct WHERE m.space = ? ORDER BY m.joined_at, m.rowid",
        (args.space,),
    )
    return {"members": [
        {"acct": b64e(r["acct"]), "name": r["name"], "role": r["role"],
         "joined_at": r["joined_at"]}
        for r in rows
    ]}


async def _target_role(ctx: Context, space: str, acct: bytes, shown: str) -> str:
    role = await ctx.store.fetchval(
        "SELECT role FROM members WHERE space = ? AND acct = ?", (space, acct)
    )
    if role is None:
        raise fail(ErrorCode.NOT_FOUND, f"account {shown!r} is not a member of space {space!r}")
    return str(role)


async def member_remove(ctx: Context, args: MemberArgs) -> dict[str, Any]:
    """Admin+, and only over lower roles (admins remove members; owners remove admins
    and members). Not yourself: use space.leave. The removed account's subscriptions
    are revoked. r = ``{space, acct, removed: true}``."""
    role = await ctx.require_role(args.space, "admin")
    target = decode_key(args.acct)
    if target == ctx.acct:
        raise fail(ErrorCode.FORBIDDEN, "you cannot remove yourself; use space.leave")
    async with ctx.store.transaction():
        target_role = await _target_role(ctx, args.space, target, args.acct)
        if ROLE_RANK[target_role] >= ROLE_RANK[role]:
            raise fail(
                ErrorCode.FORBIDDEN,
                f"a {role!r} cannot remove a {target_role!r} ({args.acct!r})",
            )
        await _revoke_member(ctx, args.space, target)
    return {"space": args.space, "acct": args.acct, "removed": True}


async def member_role(ctx: Context, args: MemberRoleArgs) -> dict[str, Any]:
    """Space owner. Refused if it would leave the space without an owner.
    r = ``{space, acct, role}``."""
    await ctx.require_role(args.space, "owner")
    target = decode_key(args.acct)
    async with ctx.store.transaction():
        current = await _target_role(ctx, args.space, target, args.acct)
        if current == "owner" and args.role != "owner" and await _owner_count(ctx, args.space) == 1:
            raise fail(
                ErrorCode.FORBIDDEN,
                f"{args.acct!r} is the last owner of space {args.space!r}; "
                "make someone else owner first",
            )
        await ctx.store.execute(
            "UPDATE members SET role = ? WHERE space = ? AND acct = ?",
            (args.role, args.space, target),
        )
        if args.role != current:
            ctx.emit_member_change(args.space, target, args.role)
    return {"space": args.space, "acct": args.acct, "role": args.role}

