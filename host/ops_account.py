"""Accounts and devices: hello, host.claim, device list/revoke, key backups.
Each handler's docstring gives its result ``r``.

A *device* is ``{dev, cert, created_at, revoked, revoked_at}`` (``cert``: the
account-signed certificate, base64url, for clients to verify themselves).
"""

from __future__ import annotations

from typing import Any

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.invite_link import verify_invite_proof
from hearth.keys import DeviceCertificate
from hearth.rpc import AccountArgs, BackupPutArgs, ClaimArgs, DeviceArgs, Empty, HelloArgs
from host.context import Context, decode_key, fail
from host.ops_spaces import spaces_of
from host.store import Store


async def register_device(store: Store, args: HelloArgs, dev: str, now: int) -> bytes:
    """Verify ``args.cert`` for the signing device ``dev`` and record user and device;
    returns the certified account. A revoked device stays revoked."""
    cert = DeviceCertificate.decode(args.cert)
    if b64e(cert.device) != dev:
        raise fail(
            ErrorCode.BAD_CERTIFICATE,
            f"certificate is for device {b64e(cert.device)!r}, request signed by {dev!r}",
        )
    async with store.transaction():
        row = await store.fetchone(
            "SELECT acct, revoked_at FROM devices WHERE dev = ?", (cert.device,)
        )
        if row is not None and row["revoked_at"] is not None:
            raise fail(ErrorCode.DEVICE_REVOKED, f"device {dev!r} was revoked")
        if row is not None and row["acct"] != cert.account:
            raise fail(
                ErrorCode.BAD_CERTIFICATE,
                f"device {dev!r} is already registered to account {b64e(row['acct'])!r}",
            )
        # A known account's new name is the hello op's to record (and to announce).
        await store.execute(
            "INSERT INTO users (acct, name, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (acct) DO NOTHING",
            (cert.account, args.name, now),
        )
        # A re-certified device (same keys, same account) replaces its stored cert.
        await store.execute(
            "INSERT INTO devices (dev, acct, cert, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (dev) DO UPDATE SET cert = excluded.cert",
            (cert.device, cert.account, cert.to_bytes(), now),
        )
    return cert.account


async def _is_host_owner(ctx: Context) -> bool:
    found = await ctx.store.fetchval("SELECT 1 FROM host_owners WHERE acct = ?", (ctx.acct,))
    return found is not None


async def hello(ctx: Context, args: HelloArgs) -> dict[str, Any]:
    """Registers the device (done by the pipeline before this runs) and keeps a new
    display name, announced to the account's spaces (a ``mem`` event each, role as it
    is, so member lists show it). r = ``{host, acct, dev, owner, spaces: [space...]}``
    (``owner``: host owner)."""
    spaces = await spaces_of(ctx.store, ctx.acct)
    if args.name is not None:
        held = await ctx.store.fetchval("SELECT name FROM users WHERE acct = ?", (ctx.acct,))
        if held != args.name:
            async with ctx.store.transaction():
                await ctx.store.execute("UPDATE users SET name = ? WHERE acct = ?",
                                        (args.name, ctx.acct))
            for space in spaces:
                ctx.emit_member_change(space["id"], ctx.acct, space["role"])
    return {
        "host": ctx.host_id, "acct": ctx.acct_b64, "dev": ctx.dev_b64,
        "owner": await _is_host_owner(ctx), "spaces": spaces,
    }


async def host_claim(ctx: Context, args: ClaimArgs) -> dict[str, Any]:
    """Redeems a single-use owner claim (``hearth host claim``): the caller becomes a
    host owner. An owner redeeming consumes nothing. r = ``{owner: true}``."""
    claim = decode_key(args.pk)
    async with ctx.store.transaction():
        row = await ctx.store.fetchone(
            "SELECT expires_at, used_at FROM owner_claims WHERE pk = ?", (claim,)
        )
        if row is None:
            raise fail(ErrorCode.INVITE_INVALID, "this owner claim is not valid on this host")
        verify_invite_proof(claim, ctx.host_id, ctx.dev, args.proof)
        if row["used_at"] is not None:
            raise fail(ErrorCode.INVITE_USED_UP, f"this owner claim was used at {row['used_at']}")
        if row["expires_at"] <= ctx.now:
            raise fail(ErrorCode.INVITE_EXPIRED, f"this owner claim expired at {row['expires_at']}")
        if not await _is_host_owner(ctx):
            await ctx.store.execute(
                "UPDATE owner_claims SET used_at = ?, used_by = ? WHERE pk = ?",
                (ctx.now, ctx.acct, claim),
            )
            await ctx.store.execute(
                "INSERT INTO host_owners (acct, added_at) VALUES (?, ?)", (ctx.acct, ctx.now)
            )
    return {"owner": True}


async def device_list(ctx: Context, args: AccountArgs) -> dict[str, Any]:
    """The caller's own account, or one sharing a space with it (else forbidden).
    r = ``{acct, devices: [device...]}``, oldest first, revoked ones included."""
    acct = decode_key(args.acct)
    if acct != ctx.acct:
        shared = await ctx.store.fetchval(
            "SELECT 1 FROM members a JOIN members b ON a.space = b.space "
            "WHERE a.acct = ? AND b.acct = ? LIMIT 1",
            (ctx.acct, acct),
        )
        if shared is None:
            raise fail(ErrorCode.FORBIDDEN, f"account {args.acct!r} shares no space with you")
    rows = await ctx.store.fetchall(
        "SELECT dev, cert, created_at, revoked_at FROM devices WHERE acct = ? "
        "ORDER BY created_at, rowid",
        (acct,),
    )
    return {"acct": args.acct, "devices": [device_entry(r) for r in rows]}


def device_entry(row: Any) -> dict[str, Any]:
    """A *device* (see the module docstring) from a devices row."""
    return {"dev": b64e(row["dev"]), "cert": b64e(row["cert"]), "created_at": row["created_at"],
            "revoked": row["revoked_at"] is not None, "revoked_at": row["revoked_at"]}


async def device_revoke(ctx: Context, args: DeviceArgs) -> dict[str, Any]:
    """A device of the caller's own account (possibly the calling one). Its requests
    are refused from now on, its mailbox is emptied and its subscriptions revoked;
    revoking twice is harmless. r = ``{dev, revoked_at}``."""
    dev = decode_key(args.dev, field="dev")
    async with ctx.store.transaction():
        row = await ctx.store.fetchone(
            "SELECT acct, revoked_at FROM devices WHERE dev = ?", (dev,)
        )
        if row is None:
            raise fail(ErrorCode.NOT_FOUND, f"device {args.dev!r} is not registered")
        if row["acct"] != ctx.acct:
            raise fail(ErrorCode.FORBIDDEN, f"device {args.dev!r} belongs to another account")
        revoked_at = row["revoked_at"]
        if revoked_at is None:
            revoked_at = ctx.now
            await ctx.store.execute(
                "UPDATE devices SET revoked_at = ? WHERE dev = ?", (revoked_at, dev)
            )
            await ctx.store.execute("DELETE FROM mailbox WHERE recipient = ?", (dev,))
            await ctx.revoke(dev=dev)
    return {"dev": args.dev, "revoked_at": revoked_at}


async def backup_put(ctx: Context, args: BackupPutArgs) -> dict[str, Any]:
    """Stores the account's opaque key-backup blob; ``version`` must exceed the
    stored one (conflict), so a stale device never overwrites a newer backup.
    r = ``{version}``."""
    try:
        blob = b64d(args.blob, field="blob")
    except ProtocolError as exc:
        raise fail(ErrorCode.BAD_REQUEST, exc.message) from None
    async with ctx.store.transaction():
        stored = await ctx.store.fetchval(
            "SELECT version FROM key_backups WHERE acct = ?", (ctx.acct,)
        )
        if stored is not None and args.version <= stored:
            raise fail(
                ErrorCode.CONFLICT,
                f"backup version {args.version} is not greater than the stored {stored}",
            )
        await ctx.store.execute(
            "INSERT INTO key_backups (acct, version, blob, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (acct) DO UPDATE SET version = excluded.version, "
            "blob = excluded.blob, updated_at = excluded.updated_at",
            (ctx.acct, args.version, blob, ctx.now),
        )
    return {"version": args.version}


async def backup_get(ctx: Context, args: Empty) -> dict[str, Any]:
    """The account's key backup. r = ``{version, blob, updated_at}``; not_found if none."""
    row = await ctx.store.fetchone(
        "SELECT version, blob, updated_at FROM key_backups WHERE acct = ?", (ctx.acct,)
    )
    if row is None:
        raise fail(ErrorCode.NOT_FOUND, f"account {ctx.acct_b64!r} has no key backup")
    return {"version": row["version"], "blob": b64e(row["blob"]), "updated_at": row["updated_at"]}
