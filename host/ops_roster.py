"""The roster a sender encrypts to: every member's devices, and who left. Docstring: ``r``.

Clients verify every device certificate against its account key themselves
(hearth/e2e/roster.py): the host reports, it cannot vouch.
"""

from __future__ import annotations

from typing import Any

from hearth.b64 import b64e
from hearth.rpc import SpaceArgs
from host.context import Context
from host.ops_account import device_entry


async def _devices(ctx: Context, acct: bytes) -> list[dict[str, Any]]:
    rows = await ctx.store.fetchall(
        "SELECT dev, cert, created_at, revoked_at FROM devices WHERE acct = ? "
        "ORDER BY created_at, rowid",
        (acct,),
    )
    return [device_entry(r) for r in rows]


async def space_devices(ctx: Context, args: SpaceArgs) -> dict[str, Any]:
    """Member. r = ``{members: [{acct, role, joined_at, devices: [device...]}...],
    departed: [{acct, left_at, devices: [device...]}...]}``: current members, and
    accounts that left or were removed and are not members now (``left_at``: their
    latest departure), each with every device including revoked ones."""
    await ctx.role_in(args.space)
    members = await ctx.store.fetchall(
        "SELECT acct, role, joined_at FROM members WHERE space = ? ORDER BY joined_at, rowid",
        (args.space,),
    )
    departed = await ctx.store.fetchall(
        "SELECT acct, max(left_at) AS left_at FROM departures WHERE space = ? AND acct NOT IN "
        "(SELECT acct FROM members WHERE space = ?) GROUP BY acct ORDER BY left_at",
        (args.space, args.space),
    )
    return {
        "members": [
            {"acct": b64e(r["acct"]), "role": r["role"], "joined_at": r["joined_at"],
             "devices": await _devices(ctx, r["acct"])}
            for r in members
        ],
        "departed": [
            {"acct": b64e(r["acct"]), "left_at": r["left_at"],
             "devices": await _devices(ctx, r["acct"])}
            for r in departed
        ],
    }
