"""Link slots: where an existing and a new device run the linking exchange. ``r`` below.

A slot is a short-lived list of opaque posts (hearth/crypto/linking.py messages) named
by a 10-character code (50 random bits) that the existing device shows. Any registered
device that knows the code may read and post: the exchange itself, not the slot,
defeats a man in the middle (docs/security.md).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.limits import LINK_MAX_POSTS, LINK_TTL_MS
from hearth.rpc import Empty, LinkPostArgs, LinkReadArgs
from host.context import Context, fail

CODE_BYTES = 10
"""Random bytes behind a slot code; its first 50 bits become the 10 base32 characters."""


def new_link_code() -> str:
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")[:10].lower()


async def _purge(ctx: Context) -> None:
    await ctx.store.execute("DELETE FROM link_slots WHERE expires_at <= ?", (ctx.now,))


async def _slot_expiry(ctx: Context, link: str) -> int:
    expires_at = await ctx.store.fetchval(
        "SELECT expires_at FROM link_slots WHERE id = ? AND expires_at > ?", (link, ctx.now)
    )
    if expires_at is None:
        raise fail(ErrorCode.NOT_FOUND, f"link code {link!r} is unknown or expired")
    return int(expires_at)


async def link_open(ctx: Context, args: Empty) -> dict[str, Any]:
    """A new slot for LINK_TTL_MS. r = ``{link: code, exp}``."""
    async with ctx.store.transaction():
        await _purge(ctx)
        link = new_link_code()
        expires_at = ctx.now + LINK_TTL_MS
        await ctx.store.execute(
            "INSERT INTO link_slots (id, opened_by, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (link, ctx.acct, ctx.now, expires_at),
        )
    return {"link": link, "exp": expires_at}


async def link_post(ctx: Context, args: LinkPostArgs) -> dict[str, Any]:
    """Append an opaque message (at most LINK_MAX_POSTS per slot, then rate_limited).
    r = ``{n}``: its 1-based position."""
    try:
        msg = b64d(args.msg, field="msg")
    except ProtocolError as exc:
        raise fail(ErrorCode.BAD_REQUEST, exc.message) from None
    async with ctx.store.transaction():
        await _slot_expiry(ctx, args.link)
        count = int(await ctx.store.fetchval(
            "SELECT count(*) FROM link_posts WHERE slot = ?", (args.link,)
        ))
        if count >= LINK_MAX_POSTS:
            raise fail(ErrorCode.RATE_LIMITED,
                       f"link code {args.link!r} already holds {count} messages")
        await ctx.store.execute(
            "INSERT INTO link_posts (slot, n, from_dev, msg, created_at) VALUES (?, ?, ?, ?, ?)",
            (args.link, count + 1, ctx.dev, msg, ctx.now),
        )
    return {"n": count + 1}


async def link_read(ctx: Context, args: LinkReadArgs) -> dict[str, Any]:
    """The slot's messages after position ``after``. r = ``{msgs: [{n, dev, msg}...], exp}``
    (``dev``: the posting device, as the host saw it)."""
    expires_at = await _slot_expiry(ctx, args.link)
    rows = await ctx.store.fetchall(
        "SELECT n, from_dev, msg FROM link_posts WHERE slot = ? AND n > ? ORDER BY n",
        (args.link, args.after),
    )
    return {"msgs": [{"n": r["n"], "dev": b64e(r["from_dev"]), "msg": b64e(r["msg"])}
                     for r in rows], "exp": expires_at}
