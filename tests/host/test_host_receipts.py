"""Read and delivery markers, coalesced ``rcpt`` events, unread counts and the receipts
setting (docs/protocol.md §13.3)."""

from __future__ import annotations

from typing import Any

from hearth.b64 import b64e
from hearth.limits import RECEIPT_INTERVAL_MS, UNREAD_CAP
from tests.host.support import CallError, Community, Host, User, add_member


async def _publish(host: Host, user: User, c: Community, msg_id: str,
                   **extra: Any) -> int:
    seq: int = (await host.ok(user, "publish", space=c.space, chan=c.general, id=msg_id,
                              env=b64e(msg_id.encode()), **extra))["seq"]
    return seq


async def _mark(host: Host, user: User, c: Community, **marks: int) -> dict[str, Any]:
    return await host.ok(user, "channel.mark", space=c.space, chan=c.general, **marks)


async def _unread(host: Host, user: User, c: Community) -> dict[str, Any]:
    (entry,) = [e for e in (await host.ok(user, "space.unread", space=c.space))["channels"]
                if e["chan"] == c.general]
    return entry


async def test_markers_only_move_forward_and_read_raises_delivered(
    community: Community,
) -> None:
    host, c = community.host, community
    for n in range(10):
        await _publish(host, c.owner, c, f"m{n}")
    assert await _mark(host, c.owner, c, delivered=5) == {"read": 0, "delivered": 5}
    assert await _mark(host, c.owner, c, read=7) == {"read": 7, "delivered": 7}
    assert await _mark(host, c.owner, c, read=3, delivered=2) == {"read": 7, "delivered": 7}
    assert await _mark(host, c.owner, c, delivered=10) == {"read": 7, "delivered": 10}
    for marks, msg in (({"read": 12}, "read 12"), ({"delivered": 11}, "delivered 11")):
        try:
            await _mark(host, c.owner, c, **marks)
        except CallError as exc:
            assert (exc.code, exc.msg) == (
                "bad_request", f"{msg} is beyond the last seq 10 of channel {c.general!r}")
        else:
            raise AssertionError("a marker beyond the last seq was accepted")
    try:
        await _mark(host, c.owner, c)
    except CallError as exc:
        assert (exc.code, exc.msg) == ("bad_request", "channel.mark needs read or delivered")
    else:
        raise AssertionError("an empty channel.mark was accepted")
    outsider = User("eve")
    await host.join(outsider)
    assert await host.err(outsider, "channel.mark", space=c.space, chan=c.general,
                          read=1) == "not_member"
    assert await host.err(c.owner, "channel.mark", space=c.space, chan="nope",
                          read=0) == "not_found"


async def test_rcpt_events_are_coalesced_per_channel_per_second(community: Community) -> None:
    host, c = community.host, community
    bob, carol = await add_member(c, "bob"), await add_member(c, "carol")
    for n in range(6):
        await _publish(host, c.owner, c, f"m{n}")
    assert await host.tick() == []  # nothing moved yet
    await _mark(host, bob, c, delivered=2)
    await _mark(host, bob, c, read=3)
    await _mark(host, carol, c, delivered=1)
    (event,) = await host.tick()
    assert event.k == "rcpt" and event.chan == c.general
    assert sorted(m["acct"] for m in event.info["marks"]) == sorted([bob.acct, carol.acct])
    assert {"acct": bob.acct, "read": 3, "delivered": 3} in event.info["marks"]
    # Within the second: noted, not sent; then one event with the latest values.
    await _mark(host, bob, c, read=4)
    host.clock.advance(RECEIPT_INTERVAL_MS - 1)
    await _mark(host, bob, c, read=5)
    assert await host.tick() == []
    host.clock.advance(1)
    (event,) = await host.tick()
    assert event.info == {"marks": [{"acct": bob.acct, "read": 5, "delivered": 5}]}
    # A mark that moves nothing announces nothing.
    host.clock.advance(RECEIPT_INTERVAL_MS)
    await _mark(host, bob, c, read=2)
    assert await host.tick() == []


async def test_receipts_off_hides_an_account_from_others(community: Community) -> None:
    host, c = community.host, community
    bob = await add_member(c, "bob")
    await _publish(host, c.owner, c, "m1")
    assert await host.ok(bob, "account.settings") == {"receipts": True}
    assert await host.ok(bob, "account.settings", receipts=False) == {"receipts": False}
    assert await host.ok(bob, "account.settings") == {"receipts": False}
    await _mark(host, bob, c, read=1)
    await _mark(host, c.owner, c, read=1)
    (event,) = await host.tick()
    assert [m["acct"] for m in event.info["marks"]] == [c.owner.acct]
    seen_by_owner = await host.ok(c.owner, "channel.receipts", space=c.space, chan=c.general)
    assert [m["acct"] for m in seen_by_owner["marks"]] == [c.owner.acct]
    # Bob still sees his own marker and the others'.
    seen_by_bob = await host.ok(bob, "channel.receipts", space=c.space, chan=c.general)
    assert sorted((m["acct"], m["read"], m["delivered"]) for m in seen_by_bob["marks"]) == \
        sorted([(bob.acct, 1, 1), (c.owner.acct, 1, 1)])
    assert all(m["ts"] == host.clock() for m in seen_by_bob["marks"])
    # Only bob moving: no event at all.
    await _publish(host, c.owner, c, "m2")
    host.clock.advance(RECEIPT_INTERVAL_MS)
    await _mark(host, bob, c, read=2)
    assert await host.tick() == []
    await host.ok(bob, "account.settings", receipts=True)
    seen = await host.ok(c.owner, "channel.receipts", space=c.space, chan=c.general)
    assert {"acct": bob.acct, "read": 2, "delivered": 2, "ts": host.clock()} in seen["marks"]


async def test_a_departed_member_markers_are_dropped(community: Community) -> None:
    host, c = community.host, community
    bob, carol = await add_member(c, "bob"), await add_member(c, "carol")
    await _publish(host, c.owner, c, "m1")
    await _mark(host, bob, c, read=1)
    await _mark(host, carol, c, read=1)
    await host.ok(c.owner, "member.remove", space=c.space, acct=bob.acct)
    await host.ok(carol, "space.leave", space=c.space)
    seen = await host.ok(c.owner, "channel.receipts", space=c.space, chan=c.general)
    assert [m["acct"] for m in seen["marks"]] == [c.owner.acct]
    assert await host.store_count("markers") == 1  # the owner's, made when it joined
    # A deleted channel takes its markers with it.
    other = (await host.ok(c.owner, "channel.create", space=c.space, name="x"))["channel"]
    await host.ok(c.owner, "channel.mark", space=c.space, chan=other["id"], read=0,
                  delivered=0)
    await host.ok(c.owner, "channel.delete", space=c.space, chan=other["id"])
    assert await host.store_count("markers") == 1


async def test_unread_counts_skip_own_deleted_and_annotations(community: Community) -> None:
    host, c = community.host, community
    await _publish(host, c.owner, c, "before")  # sent before bob joined: not unread
    bob = await add_member(c, "bob")
    assert await _unread(host, bob, c) == {"chan": c.general, "read": 1, "last": 1,
                                           "unread": 0, "first_unread": None}
    first = await _publish(host, c.owner, c, "m1")
    await _publish(host, bob, c, "own")
    await _publish(host, c.owner, c, "edit", re="m1")
    await _publish(host, c.owner, c, "m2")
    await _publish(host, c.owner, c, "gone")
    await host.ok(c.owner, "message.delete", space=c.space, chan=c.general, id="gone")
    assert await _unread(host, bob, c) == {"chan": c.general, "read": 1, "last": 6,
                                           "unread": 2, "first_unread": first}
    await _mark(host, bob, c, read=first)
    assert (await _unread(host, bob, c))["unread"] == 1
    # Expired but not yet erased messages are not counted either.
    await host.ok(c.owner, "channel.ttl", space=c.space, chan=c.general, ttl_s=1)
    await _publish(host, c.owner, c, "brief")
    host.clock.advance(1000)
    assert (await _unread(host, bob, c))["unread"] == 1
    assert await host.err(User("nobody"), "space.unread", space=c.space) == "unknown_device"


async def test_unread_counts_stop_at_the_cap(community: Community) -> None:
    host, c = community.host, community
    bob = await add_member(c, "bob")
    batch = [host.request(c.owner, "publish", space=c.space, chan=c.general, id=f"m{n}",
                          env="AAAA") for n in range(UNREAD_CAP + 5)]
    while batch:
        done = await host.service.handle_batch(batch[:200])
        assert all(r.ok for r, _ in done)
        batch = batch[200:]
    assert await _unread(host, bob, c) == {"chan": c.general, "read": 0,
                                           "last": UNREAD_CAP + 5, "unread": UNREAD_CAP,
                                           "first_unread": 1}
