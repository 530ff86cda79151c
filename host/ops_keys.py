"""Key shares stored beside the messages they unlock. Docstrings give the result ``r``.

A *share* is ``{sess, from_dev, from_acct, share, seq}``: ``share`` is an opaque
key share (hearth/crypto/key_share.py, sealed to the calling device), ``sess`` the
sender session it opens and ``seq`` the channel's last sequence number when it was
stored (it precedes message ``seq + 1``). The host never opens a share.
"""

from __future__ import annotations

from typing import Any

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.rpc import KeysFetchArgs, KeysPutArgs
from host.context import Context, decode_key, fail


async def shares_for(ctx: Context, chan: str, sessions: list[str]) -> list[dict[str, Any]]:
    """Shares to the calling device for ``sessions`` of ``chan``, oldest first."""
    if not sessions:
        return []
    marks = ",".join("?" * len(sessions))
    rows = await ctx.store.fetchall(
        "SELECT sess, sender_dev, sender_acct, share, seq FROM key_shares "
        f"WHERE channel_id = ? AND recipient = ? AND sess IN ({marks}) ORDER BY id",
        (chan, ctx.dev, *sessions),
    )
    return [
        {"sess": r["sess"], "from_dev": b64e(r["sender_dev"]),
         "from_acct": b64e(r["sender_acct"]), "share": b64e(r["share"]), "seq": r["seq"]}
        for r in rows
    ]


async def _check_recipient(ctx: Context, space: str, dev: bytes, shown: str) -> None:
    """A share goes only to an unrevoked device of a current member of ``space``."""
    row = await ctx.store.fetchone(
        "SELECT d.acct, d.revoked_at, m.acct IS NOT NULL AS member FROM devices d "
        "LEFT JOIN members m ON m.acct = d.acct AND m.space = ? WHERE d.dev = ?",
        (space, dev),
    )
    if row is None:
        raise fail(ErrorCode.NOT_FOUND, f"device {shown!r} is not registered")
    if row["revoked_at"] is not None:
        raise fail(
            ErrorCode.DEVICE_REVOKED,
            f"device {shown!r} was revoked at {row['revoked_at']}: it gets no keys",
        )
    if not row["member"]:
        raise fail(
            ErrorCode.NOT_MEMBER,
            f"device {shown!r} belongs to account {b64e(row['acct'])!r}, "
            f"not a member of space {space!r}",
        )


async def keys_put(ctx: Context, args: KeysPutArgs) -> dict[str, Any]:
    """Member. Stores one share per recipient device for session ``sess``; every
    recipient must be an unrevoked device of a current member (else the whole call is
    refused: not_found, device_revoked or not_member naming the device).
    r = ``{stored: n, seq}``."""
    await ctx.role_in(args.space)
    decoded: list[tuple[bytes, bytes]] = []
    for shown, text in args.shares.items():
        try:
            decoded.append((decode_key(shown, field="dev"), b64d(text, field="share")))
        except ProtocolError as exc:
            raise fail(ErrorCode.BAD_REQUEST, exc.message) from None
    async with ctx.store.transaction():
        channel = await ctx.require_channel(args.space, args.chan)
        for (dev, _), shown in zip(decoded, args.shares, strict=True):
            await _check_recipient(ctx, args.space, dev, shown)
        for dev, share in decoded:
            await ctx.store.execute(
                "INSERT INTO key_shares (channel_id, sess, recipient, sender_dev, sender_acct, "
                "share, seq, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (args.chan, args.sess, dev, ctx.dev, ctx.acct, share, channel["last_seq"],
                 ctx.now),
            )
    return {"stored": len(decoded), "seq": channel["last_seq"]}


async def keys_fetch(ctx: Context, args: KeysFetchArgs) -> dict[str, Any]:
    """Member. The shares addressed to the calling device for sessions ``sess`` of the
    channel (a client asks again whenever it shows a message it cannot open yet).
    r = ``{keys: [share...]}``."""
    await ctx.role_in(args.space)
    await ctx.require_channel(args.space, args.chan)
    return {"keys": await shares_for(ctx, args.chan, sorted(set(args.sess)))}
