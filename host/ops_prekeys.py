"""Prekeys: each device's signed and one-time X25519 keys. Docstrings give ``r``.

The host checks each uploaded prekey's signature against the uploading device
(hearth/crypto/prekeys.py), so it stores only what that device signed, and hands each
one-time prekey out exactly once.
"""

from __future__ import annotations

from typing import Any

from hearth.b64 import b64d, b64e
from hearth.crypto.prekeys import Kind, Prekey
from hearth.errors import ErrorCode, ProtocolError
from hearth.limits import PREKEYS_MAX_ONE_TIME
from hearth.rpc import PrekeyClaimArgs, PrekeyPutArgs
from host.context import Context, decode_key, fail


def _prekey(ctx: Context, text: str, kind: Kind, where: str) -> Prekey:
    try:
        prekey = Prekey.from_bytes(b64d(text, field=where), ctx.dev)
    except ProtocolError as exc:
        raise fail(ErrorCode.BAD_REQUEST, f"{where}: {exc.message}") from None
    if prekey.kind is not kind:
        raise fail(ErrorCode.BAD_REQUEST,
                   f"{where}: prekey {prekey.key_id} is {prekey.kind.name}, not {kind.name}")
    return prekey


async def _counts(ctx: Context) -> dict[str, Any]:
    one_time = int(await ctx.store.fetchval(
        "SELECT count(*) FROM prekeys WHERE dev = ? AND kind = ?", (ctx.dev, Kind.ONE_TIME)
    ))
    signed = await ctx.store.fetchval(
        "SELECT 1 FROM prekeys WHERE dev = ? AND kind = ?", (ctx.dev, Kind.SIGNED)
    )
    return {"one_time": one_time, "signed": signed is not None}


async def prekey_put(ctx: Context, args: PrekeyPutArgs) -> dict[str, Any]:
    """The calling device's prekeys, each signed by it (bad_request otherwise):
    ``reset`` drops its one-time prekeys first; ``signed`` replaces its signed prekey;
    ``one_time`` adds one-time prekeys (conflict on a reused id; rate_limited past
    PREKEYS_MAX_ONE_TIME held). r = ``{one_time: held, signed}``:
    the counts, so a device refills when low."""
    signed = None if args.signed is None else _prekey(ctx, args.signed, Kind.SIGNED, "signed")
    one_time = [_prekey(ctx, text, Kind.ONE_TIME, f"one_time[{i}]")
                for i, text in enumerate(args.one_time)]
    async with ctx.store.transaction():
        if args.reset:
            await ctx.store.execute(
                "DELETE FROM prekeys WHERE dev = ? AND kind = ?", (ctx.dev, Kind.ONE_TIME)
            )
        held = (await _counts(ctx))["one_time"]
        if held + len(one_time) > PREKEYS_MAX_ONE_TIME:
            raise fail(
                ErrorCode.RATE_LIMITED,
                f"device would hold {held + len(one_time)} one-time prekeys, "
                f"max {PREKEYS_MAX_ONE_TIME}",
            )
        if signed is not None:
            await ctx.store.execute(
                "DELETE FROM prekeys WHERE dev = ? AND kind = ?", (ctx.dev, Kind.SIGNED)
            )
        for prekey in ([signed] if signed else []) + one_time:
            taken = await ctx.store.fetchval(
                "SELECT 1 FROM prekeys WHERE dev = ? AND kind = ? AND key_id = ?",
                (ctx.dev, prekey.kind, prekey.key_id),
            )
            if taken:
                raise fail(ErrorCode.CONFLICT,
                           f"one-time prekey id {prekey.key_id} was already uploaded")
            await ctx.store.execute(
                "INSERT INTO prekeys (dev, kind, key_id, prekey, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (ctx.dev, prekey.kind, prekey.key_id, prekey.to_bytes(), ctx.now),
            )
        return await _counts(ctx)


async def prekey_claim(ctx: Context, args: PrekeyClaimArgs) -> dict[str, Any]:
    """One prekey per named device (own account, or sharing a space with the caller):
    a one-time prekey, removed as it is handed out, else the signed prekey
    (``one_time: false``); devices with neither are listed in ``missing``.
    A revoked device is refused (device_revoked). r = ``{prekeys: [{dev, prekey,
    one_time}...], missing: [dev...]}``."""
    devices = [(decode_key(text, field="dev"), text) for text in dict.fromkeys(args.devs)]
    claimed: list[dict[str, Any]] = []
    missing: list[str] = []
    async with ctx.store.transaction():
        for dev, shown in devices:
            row = await ctx.store.fetchone(
                "SELECT acct, revoked_at FROM devices WHERE dev = ?", (dev,)
            )
            if row is None:
                raise fail(ErrorCode.NOT_FOUND, f"device {shown!r} is not registered")
            if row["revoked_at"] is not None:
                raise fail(ErrorCode.DEVICE_REVOKED,
                           f"device {shown!r} was revoked at {row['revoked_at']}")
            if not await ctx.shares_space_with(row["acct"]):
                raise fail(ErrorCode.FORBIDDEN,
                           f"device {shown!r} belongs to no one you share a space with")
            prekey = await ctx.store.fetchone(
                "SELECT kind, key_id, prekey FROM prekeys WHERE dev = ? "
                "ORDER BY kind DESC, key_id LIMIT 1",
                (dev,),
            )
            if prekey is None:
                missing.append(shown)
                continue
            if prekey["kind"] == Kind.ONE_TIME:
                await ctx.store.execute(
                    "DELETE FROM prekeys WHERE dev = ? AND kind = ? AND key_id = ?",
                    (dev, Kind.ONE_TIME, prekey["key_id"]),
                )
            claimed.append({"dev": shown, "prekey": b64e(prekey["prekey"]),
                            "one_time": prekey["kind"] == Kind.ONE_TIME})
    return {"prekeys": claimed, "missing": missing}
