"""The to-device mailbox (TTL, ack, cap, who may write) and key backups (versioning)."""

from __future__ import annotations

from hearth.b64 import b64e
from hearth.keys import new_device
from hearth.limits import MAILBOX_MAX_ITEMS, MAILBOX_TTL_MS
from tests.host.support import Community, User, add_member


async def test_mailbox_delivers_until_acknowledged(community: Community) -> None:
    host, owner = community.host, community.owner
    bob = await add_member(community, "bob")
    put = await host.ok(owner, "mailbox.put", dev=bob.dev, payload=b64e(b"session key"))
    assert put["expires_at"] == host.clock() + MAILBOX_TTL_MS
    fetched = await host.ok(bob, "mailbox.fetch")
    assert [(i["id"], i["from_dev"], i["from_acct"], i["payload"]) for i in fetched["items"]] \
        == [(put["id"], owner.dev, owner.acct, b64e(b"session key"))]
    # Another device cannot see or acknowledge it.
    assert (await host.ok(owner, "mailbox.fetch"))["items"] == []
    assert await host.ok(owner, "mailbox.ack", ids=[put["id"]]) == {"deleted": 0}
    assert await host.ok(bob, "mailbox.ack", ids=[put["id"]]) == {"deleted": 1}
    assert (await host.ok(bob, "mailbox.fetch"))["items"] == []


async def test_mailbox_items_expire_and_are_purged(community: Community) -> None:
    host, owner = community.host, community.owner
    bob = await add_member(community, "bob")
    await host.ok(owner, "mailbox.put", dev=bob.dev, payload=b64e(b"old"))
    host.clock.advance(MAILBOX_TTL_MS)
    assert (await host.ok(bob, "mailbox.fetch"))["items"] == []
    assert await host.store_count("mailbox") == 0


async def test_mailbox_paging(community: Community) -> None:
    host, owner = community.host, community.owner
    bob = await add_member(community, "bob")
    ids = [(await host.ok(owner, "mailbox.put", dev=bob.dev, payload=b64e(bytes([n]))))["id"]
           for n in range(5)]
    first = await host.ok(bob, "mailbox.fetch", limit=3)
    assert [i["id"] for i in first["items"]] == ids[:3] and first["more"] is True
    rest = await host.ok(bob, "mailbox.fetch", after=ids[2])
    assert [i["id"] for i in rest["items"]] == ids[3:] and rest["more"] is False


async def test_mailbox_refusals(community: Community) -> None:
    host, owner = community.host, community.owner
    stranger = User("stranger")
    await host.join(stranger)
    assert await host.err(owner, "mailbox.put", dev=stranger.dev,
                          payload="AAAA") == "forbidden"
    assert await host.err(owner, "mailbox.put", dev=User("x").dev,
                          payload="AAAA") == "not_found"
    # Own other device: allowed (device linking); a revoked one: refused.
    second = new_device(owner.account_key)
    await host.ok(owner, "hello", device=second, cert=second.certificate.encode())
    await host.ok(owner, "mailbox.put", dev=b64e(second.public_key), payload="AAAA")
    await host.ok(owner, "device.revoke", dev=b64e(second.public_key))
    assert await host.err(owner, "mailbox.put", dev=b64e(second.public_key),
                          payload="AAAA") == "device_revoked"


async def test_mailbox_cap_per_recipient(community: Community) -> None:
    host, owner = community.host, community.owner
    bob = await add_member(community, "bob")
    store = host.service.store
    async with store.transaction():
        for _ in range(MAILBOX_MAX_ITEMS):
            await store.execute(
                "INSERT INTO mailbox (recipient, sender_dev, sender_acct, payload, created_at, "
                "expires_at) VALUES (?, x'00', x'00', x'00', ?, ?)",
                (bob.device.public_key, host.clock(), host.clock() + MAILBOX_TTL_MS),
            )
    assert await host.err(owner, "mailbox.put", dev=bob.dev, payload="AAAA") == "mailbox_full"
    first = (await host.ok(bob, "mailbox.fetch", limit=1))["items"][0]["id"]
    await host.ok(bob, "mailbox.ack", ids=[first])
    await host.ok(owner, "mailbox.put", dev=bob.dev, payload="AAAA")


async def test_backup_versions_only_increase(community: Community) -> None:
    host, owner = community.host, community.owner
    assert await host.err(owner, "backup.get") == "not_found"
    assert await host.ok(owner, "backup.put", blob=b64e(b"v1"), version=1) == {"version": 1}
    await host.ok(owner, "backup.put", blob=b64e(b"v3"), version=3)
    assert await host.err(owner, "backup.put", blob=b64e(b"v2"), version=2) == "conflict"
    assert await host.err(owner, "backup.put", blob=b64e(b"v3b"), version=3) == "conflict"
    got = await host.ok(owner, "backup.get")
    assert (got["version"], got["blob"]) == (3, b64e(b"v3"))
    # Another device of the same account reads the same backup; others see their own.
    second = new_device(owner.account_key)
    await host.ok(owner, "hello", device=second, cert=second.certificate.encode())
    assert (await host.ok(owner, "backup.get", device=second))["version"] == 3
    bob = await add_member(community, "bob")
    assert await host.err(bob, "backup.get") == "not_found"
