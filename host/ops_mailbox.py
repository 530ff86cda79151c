"""To-device mailbox for key distribution. Each handler's docstring gives its result ``r``.

Payloads are opaque (sealed by the sender to the recipient device). An item lives
until the recipient acknowledges it or MAILBOX_TTL_MS passes; expired rows are purged
on every put and fetch. An *item* is ``{id, from_dev, from_acct, payload, created_at,
expires_at}``.
"""

from __future__ import annotations

from typing import Any

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.limits import MAILBOX_MAX_ITEMS, MAILBOX_TTL_MS
from hearth.rpc import MailboxAckArgs, MailboxFetchArgs, MailboxPutArgs
from host.context import Context, decode_key, fail


async def _purge(ctx: Context) -> None:
    await ctx.store.execute("DELETE FROM mailbox WHERE expires_at <= ?", (ctx.now,))


async def mailbox_put(ctx: Context, args: MailboxPutArgs) -> dict[str, Any]:
    """To a registered, unrevoked device of the caller's own account or of one sharing
    a space with it; refused with mailbox_full once the recipient holds
    MAILBOX_MAX_ITEMS unacknowledged items. r = ``{id, expires_at}``."""
    recipient = decode_key(args.dev, field="dev")
    try:
        payload = b64d(args.payload, field="payload")
    except ProtocolError as exc:
        raise fail(ErrorCode.BAD_REQUEST, exc.message) from None
    async with ctx.store.transaction():
        row = await ctx.store.fetchone(
            "SELECT acct, revoked_at FROM devices WHERE dev = ?", (recipient,)
        )
        if row is None:
            raise fail(ErrorCode.NOT_FOUND, f"device {args.dev!r} is not registered")
        if row["revoked_at"] is not None:
            raise fail(ErrorCode.DEVICE_REVOKED, f"device {args.dev!r} was revoked")
        if not await ctx.shares_space_with(row["acct"]):
            raise fail(
                ErrorCode.FORBIDDEN,
                f"device {args.dev!r} belongs to no one you share a space with",
            )
        await _purge(ctx)
        held = int(await ctx.store.fetchval(
            "SELECT count(*) FROM mailbox WHERE recipient = ?", (recipient,)
        ))
        if held >= MAILBOX_MAX_ITEMS:
            raise fail(
                ErrorCode.MAILBOX_FULL,
                f"mailbox of device {args.dev!r} is full ({held} unacknowledged items)",
            )
        expires_at = ctx.now + MAILBOX_TTL_MS
        item = int(await ctx.store.fetchval(
            "INSERT INTO mailbox (recipient, sender_dev, sender_acct, payload, created_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (recipient, ctx.dev, ctx.acct, payload, ctx.now, expires_at),
        ))
    return {"id": item, "expires_at": expires_at}


async def mailbox_fetch(ctx: Context, args: MailboxFetchArgs) -> dict[str, Any]:
    """The calling device's unexpired items with id > ``after``, oldest first.
    r = ``{items: [item...], more}``."""
    async with ctx.store.transaction():
        await _purge(ctx)
    rows = await ctx.store.fetchall(
        "SELECT id, sender_dev, sender_acct, payload, created_at, expires_at FROM mailbox "
        "WHERE recipient = ? AND id > ? ORDER BY id LIMIT ?",
        (ctx.dev, args.after, args.limit + 1),
    )
    return {
        "items": [
            {"id": r["id"], "from_dev": b64e(r["sender_dev"]), "from_acct": b64e(r["sender_acct"]),
             "payload": b64e(r["payload"]), "created_at": r["created_at"],
             "expires_at": r["expires_at"]}
            for r in rows[: args.limit]
        ],
        "more": len(rows) > args.limit,
    }


async def mailbox_ack(ctx: Context, args: MailboxAckArgs) -> dict[str, Any]:
    """Deletes the calling device's items among ``ids`` (others' ids are ignored).
    r = ``{deleted: n}``."""
    marks = ",".join("?" * len(args.ids))
    async with ctx.store.transaction():
        deleted = await ctx.store.execute(
            f"DELETE FROM mailbox WHERE recipient = ? AND id IN ({marks})",
            (ctx.dev, *args.ids),
        )
    return {"deleted": deleted}
