"""Invites by account key and by link. Each handler's docstring gives its result ``r``.

An *invite* is ``{id, kind: "key"|"link", acct (key invites; else null), role,
created_by, created_at, expires_at (null: never), max_uses, uses, revoked_at}``.
A link's secret never reaches the host: the creator's client makes it, keeps it in the
link, and sends only its public key; redeeming proves possession (hearth.invite_link).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from hearth.b64 import b64e
from hearth.errors import ErrorCode
from hearth.invite_link import verify_invite_proof
from hearth.rpc import InviteArgs, KeyInviteArgs, LinkInviteArgs, RedeemArgs, SpaceArgs
from host.context import ROLE_RANK, Context, decode_key, fail
from host.ids import new_id
from host.ops_spaces import add_member, space_entry

_COLUMNS = (
    "id, space, kind, invitee, role, created_by, created_at, expires_at, max_uses, uses, "
    "revoked_at"
)


def _entry(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"], "kind": row["kind"],
        "acct": None if row["invitee"] is None else b64e(row["invitee"]),
        "role": row["role"], "created_by": b64e(row["created_by"]),
        "created_at": row["created_at"], "expires_at": row["expires_at"],
        "max_uses": row["max_uses"], "uses": row["uses"], "revoked_at": row["revoked_at"],
    }


def _refusal(row: sqlite3.Row, now: int) -> tuple[ErrorCode, str] | None:
    """Why this invite cannot be used now, or None if it can."""
    if row["revoked_at"] is not None:
        return ErrorCode.INVITE_REVOKED, f"invite {row['id']!r} was revoked"
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return ErrorCode.INVITE_EXPIRED, f"invite {row['id']!r} expired at {row['expires_at']}"
    if row["uses"] >= row["max_uses"]:
        return ErrorCode.INVITE_USED_UP, (
            f"invite {row['id']!r} was used {row['uses']} of {row['max_uses']} times"
        )
    return None


async def _check_grantable(ctx: Context, space: str, role: str) -> None:
    mine = await ctx.require_role(space, "admin")
    if ROLE_RANK[role] > ROLE_RANK[mine]:
        raise fail(ErrorCode.FORBIDDEN, f"a {mine!r} cannot invite with role {role!r}")


async def _is_member(ctx: Context, space: str) -> bool:
    found = await ctx.store.fetchval(
        "SELECT 1 FROM members WHERE space = ? AND acct = ?", (space, ctx.acct)
    )
    return found is not None


async def _join(ctx: Context, row: sqlite3.Row) -> dict[str, Any]:
    """Use ``row`` to join its space (inside a transaction); a member consumes nothing."""
    if not await _is_member(ctx, row["space"]):
        await ctx.store.execute("UPDATE invites SET uses = uses + 1 WHERE id = ?", (row["id"],))
        await add_member(ctx, row["space"], row["role"])
    return {"space": await space_entry(ctx, row["space"])}


async def invite_key(ctx: Context, args: KeyInviteArgs) -> dict[str, Any]:
    """Admin+, role no higher than the inviter's; the account must not be a member
    yet (conflict). Single use, no expiry. r = ``{invite: invite}``."""
    await _check_grantable(ctx, args.space, args.role)
    invitee = decode_key(args.acct)
    async with ctx.store.transaction():
        member = await ctx.store.fetchval(
            "SELECT 1 FROM members WHERE space = ? AND acct = ?", (args.space, invitee)
        )
        if member:
            raise fail(
                ErrorCode.CONFLICT, f"account {args.acct!r} is already a member of {args.space!r}"
            )
        invite = new_id()
        await ctx.store.execute(
            "INSERT INTO invites (id, space, kind, invitee, role, created_by, created_at, "
            "max_uses) VALUES (?, ?, 'key', ?, ?, ?, ?, 1)",
            (invite, args.space, invitee, args.role, ctx.acct, ctx.now),
        )
        row = await ctx.store.fetchone(f"SELECT {_COLUMNS} FROM invites WHERE id = ?", (invite,))
    assert row is not None
    return {"invite": _entry(row)}


async def invite_accept(ctx: Context, args: SpaceArgs) -> dict[str, Any]:
    """The invited account joins ``space`` with the invite's role (the newest usable
    key invite for it); a member accepting consumes nothing. r = ``{space: space}``."""
    await ctx.require_space(args.space)
    if await _is_member(ctx, args.space):
        return {"space": await space_entry(ctx, args.space)}  # a retried accept
    async with ctx.store.transaction():
        rows = await ctx.store.fetchall(
            f"SELECT {_COLUMNS} FROM invites WHERE kind = 'key' AND invitee = ? AND space = ? "
            "ORDER BY created_at DESC, rowid DESC",
            (ctx.acct, args.space),
        )
        if not rows:
            raise fail(
                ErrorCode.INVITE_INVALID,
                f"account {ctx.acct_b64!r} has no invite to space {args.space!r}",
            )
        refusals = [_refusal(row, ctx.now) for row in rows]
        for row, refusal in zip(rows, refusals, strict=True):
            if refusal is None:
                return await _join(ctx, row)
        code, message = refusals[0] or (ErrorCode.INVITE_INVALID, "")
        raise fail(code, message)


async def invite_link(ctx: Context, args: LinkInviteArgs) -> dict[str, Any]:
    """Admin+, role no higher than the inviter's; ``pk`` must be new (conflict).
    r = ``{invite: invite}``."""
    await _check_grantable(ctx, args.space, args.role)
    invite, link_pk = new_id(), decode_key(args.pk)
    async with ctx.store.transaction():
        if await ctx.store.fetchval("SELECT 1 FROM invites WHERE link_pk = ?", (link_pk,)):
            raise fail(ErrorCode.CONFLICT, f"an invite with key {args.pk!r} already exists")
        await ctx.store.execute(
            "INSERT INTO invites (id, space, kind, link_pk, role, created_by, created_at, "
            "expires_at, max_uses) VALUES (?, ?, 'link', ?, ?, ?, ?, ?, ?)",
            (invite, args.space, link_pk, args.role, ctx.acct, ctx.now,
             ctx.now + args.ttl_s * 1000, args.uses),
        )
        row = await ctx.store.fetchone(f"SELECT {_COLUMNS} FROM invites WHERE id = ?", (invite,))
    assert row is not None
    return {"invite": _entry(row)}


async def invite_list(ctx: Context, args: SpaceArgs) -> dict[str, Any]:
    """Admin+. r = ``{invites: [invite...]}``, newest first, never any secret."""
    await ctx.require_role(args.space, "admin")
    rows = await ctx.store.fetchall(
        f"SELECT {_COLUMNS} FROM invites WHERE space = ? ORDER BY created_at DESC, rowid DESC",
        (args.space,),
    )
    return {"invites": [_entry(row) for row in rows]}


async def invite_revoke(ctx: Context, args: InviteArgs) -> dict[str, Any]:
    """Admin+; revoking twice is harmless. r = ``{invite: id, revoked_at}``."""
    await ctx.require_role(args.space, "admin")
    async with ctx.store.transaction():
        row = await ctx.store.fetchone(
            "SELECT revoked_at FROM invites WHERE id = ? AND space = ?", (args.invite, args.space)
        )
        if row is None:
            raise fail(
                ErrorCode.NOT_FOUND, f"invite {args.invite!r} does not exist in {args.space!r}"
            )
        revoked_at = row["revoked_at"]
        if revoked_at is None:
            revoked_at = ctx.now
            await ctx.store.execute(
                "UPDATE invites SET revoked_at = ? WHERE id = ?", (revoked_at, args.invite)
            )
    return {"invite": args.invite, "revoked_at": revoked_at}


async def invite_redeem(ctx: Context, args: RedeemArgs) -> dict[str, Any]:
    """Anyone who proves they hold the link's secret joins its space with the invite's
    role, while the invite is unexpired, unrevoked and has uses left; an existing
    member consumes nothing. r = ``{space: space}``."""
    link_pk = decode_key(args.pk)
    async with ctx.store.transaction():
        row = await ctx.store.fetchone(
            f"SELECT {_COLUMNS} FROM invites WHERE link_pk = ?", (link_pk,)
        )
        if row is None:
            raise fail(ErrorCode.INVITE_INVALID, "this invite link is not valid on this host")
        verify_invite_proof(link_pk, ctx.host_id, ctx.dev, args.proof)
        if await _is_member(ctx, row["space"]):
            # Checked before validity so a retry after a lost response still succeeds.
            return {"space": await space_entry(ctx, row["space"])}
        refusal = _refusal(row, ctx.now)
        if refusal is not None:
            raise fail(*refusal)
        return await _join(ctx, row)
