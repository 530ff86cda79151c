"""Annotations (``publish`` with ``re``), deletes and disappearing messages
(docs/protocol.md §13.2, §13.3): tombstones keep seqs gap-free, erased envelopes are
gone, and every refusal names its reason."""

from __future__ import annotations

from typing import Any

from hearth.b64 import b64e
from hearth.limits import DEL_EVENT_IDS, MAX_CHANNEL_TTL_S
from host.config import db_path
from host.erase import del_events
from host.expiry import expire_due
from tests.conftest import database_bytes
from tests.host.support import CallError, Community, Host, User, add_member


async def _publish(host: Host, user: User, c: Community, msg_id: str, *,
                   chan: str | None = None, **extra: Any) -> dict[str, Any]:
    return await host.ok(user, "publish", space=c.space, chan=chan or c.general, id=msg_id,
                         env=b64e(f"sealed {msg_id}".encode()), **extra)


async def _refused(host: Host, user: User, op: str, **args: Any) -> tuple[str, str]:
    try:
        await host.ok(user, op, **args)
    except CallError as exc:
        return exc.code, exc.msg
    raise AssertionError(f"{op} unexpectedly succeeded")


async def _history(host: Host, user: User, c: Community) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = (await host.ok(
        user, "history", space=c.space, chan=c.general))["messages"]
    return messages


async def test_an_annotation_is_stored_with_its_target_and_announced(
    community: Community,
) -> None:
    host, c = community.host, community
    bob = await add_member(c, "bob")
    await _publish(host, c.owner, c, "m1")
    host.sent.clear()
    await _publish(host, bob, c, "r1", re="m1")
    (event,) = host.events("msg")
    assert (event.id, event.re, event.exp) == ("r1", "m1", 0)
    shapes = [(m["id"], m["re"], m["exp"], m["del"]) for m in await _history(host, bob, c)]
    assert shapes == [("m1", None, None, False), ("r1", "m1", None, False)]
    # A resend is a duplicate; the same id naming another target is a conflict.
    assert (await _publish(host, bob, c, "r1", re="m1"))["dup"] is True
    assert await host.err(bob, "publish", space=c.space, chan=c.general, id="r1",
                          env=b64e(b"sealed r1")) == "conflict"


async def test_an_annotation_target_is_checked_in_both_publish_paths(
    community: Community,
) -> None:
    host, c = community.host, community
    other = (await host.ok(c.owner, "channel.create", space=c.space, name="other"))["channel"]
    await _publish(host, c.owner, c, "m1")
    await _publish(host, c.owner, c, "elsewhere", chan=other["id"])
    await _publish(host, c.owner, c, "r1", re="m1")
    await _publish(host, c.owner, c, "gone")
    await host.ok(c.owner, "message.delete", space=c.space, chan=c.general, id="gone")
    cases = [
        ("nope", "not_found", f"message 'nope' is not in channel {c.general!r}"),
        ("elsewhere", "not_found", f"message 'elsewhere' is not in channel {c.general!r}"),
        ("gone", "not_found", "message 'gone' was deleted"),
        ("r1", "bad_request", "message 'r1' is itself an annotation of 'm1'"),
    ]
    for target, code, msg in cases:
        assert await _refused(host, c.owner, "publish", space=c.space, chan=c.general,
                              id=f"x-{target}", env="AAAA", re=target) == (code, msg)
    # The batched path (several publishes in one round trip) refuses exactly the same.
    batch = [host.request(c.owner, "publish", space=c.space, chan=c.general,
                          id=f"y-{target}", env="AAAA", re=target) for target, _, _ in cases]
    batch.append(host.request(c.owner, "publish", space=c.space, chan=c.general, id="ok",
                              env="AAAA", re="m1"))
    outcomes = await host.service.handle_batch(batch)
    answers = [(r.err.code, r.err.msg) if r.err else ("ok", "") for r, _ in outcomes]
    assert answers == [(code, msg) for _, code, msg in cases] + [("ok", "")]
    (event,) = host.events("msg", [f for _, frames in outcomes for f in frames])
    assert (event.id, event.re) == ("ok", "m1")
    stored = [(m["id"], m["re"]) for m in await _history(host, c.owner, c)]
    assert stored[-1] == ("ok", "m1") and not any(i.startswith(("x-", "y-")) for i, _ in stored)


async def test_delete_erases_the_message_and_its_annotations(community: Community) -> None:
    host, c = community.host, community
    bob = await add_member(c, "bob")
    await _publish(host, bob, c, "m1")
    await _publish(host, c.owner, c, "edit", re="m1")
    await _publish(host, bob, c, "react", re="m1")
    await _publish(host, bob, c, "m2")
    host.sent.clear()
    result = await host.ok(bob, "message.delete", space=c.space, chan=c.general, id="m1")
    assert result == {"id": "m1", "deleted": ["m1", "edit", "react"]}
    (event,) = host.events()
    assert (event.k, event.acct, event.ts, event.info) == (
        "del", bob.acct, host.clock(), {"ids": ["m1", "edit", "react"]})
    history = await _history(host, bob, c)
    assert [(m["seq"], m["id"], m["env"], m["sess"], m["del"]) for m in history] == [
        (1, "m1", "", None, True), (2, "edit", "", None, True), (3, "react", "", None, True),
        (4, "m2", b64e(b"sealed m2"), None, False)]
    assert await _refused(host, bob, "message.delete", space=c.space, chan=c.general,
                          id="m1") == ("not_found", "message 'm1' was deleted")
    assert await _refused(host, bob, "message.delete", space=c.space, chan=c.general,
                          id="zz") == ("not_found", f"message 'zz' is not in channel {c.general!r}")
    # A resend of the deleted message is no way back: its id stays taken.
    assert await host.err(bob, "publish", space=c.space, chan=c.general, id="m1",
                          env=b64e(b"sealed m1")) == "conflict"


async def test_only_the_author_or_an_admin_may_delete(community: Community) -> None:
    host, c = community.host, community
    bob, carol = await add_member(c, "bob"), await add_member(c, "carol")
    admin = await add_member(c, "ada", role="admin")
    for msg_id in ("b1", "b2", "b3"):
        await _publish(host, bob, c, msg_id)
    await _publish(host, admin, c, "a1")
    forbidden = ("forbidden", "message 'b1' was sent by another member: "
                 "only its author or an admin can delete it")
    assert await _refused(host, carol, "message.delete", space=c.space, chan=c.general,
                          id="b1") == forbidden
    assert (await host.ok(admin, "message.delete", space=c.space, chan=c.general,
                          id="b1"))["deleted"] == ["b1"]
    assert (await host.ok(c.owner, "message.delete", space=c.space, chan=c.general,
                          id="a1"))["deleted"] == ["a1"]
    # Another device of the author's account counts as the author.
    second = bob.add_device()
    await host.ok(bob, "hello", device=second, cert=second.certificate.encode())
    assert (await host.ok(bob, "message.delete", device=second, space=c.space,
                          chan=c.general, id="b2"))["deleted"] == ["b2"]
    outsider = User("eve")
    await host.join(outsider)
    assert await host.err(outsider, "message.delete", space=c.space, chan=c.general,
                          id="b3") == "not_member"


async def test_a_deleted_envelope_leaves_the_database_file(community: Community) -> None:
    host, c = community.host, community
    secret = b"attack at dawn, the secret plan" * 8  # spans an overflow-free cell
    await host.ok(c.owner, "publish", space=c.space, chan=c.general, id="m1",
                  env=b64e(secret))
    await host.ok(c.owner, "message.delete", space=c.space, chan=c.general, id="m1")
    await host.tick()  # checkpoints the write-ahead log after the erase
    assert secret[:31] not in database_bytes(db_path(host.data))


async def test_channel_ttl_is_admin_only_and_announced(community: Community) -> None:
    host, c = community.host, community
    bob = await add_member(c, "bob")
    assert await _refused(host, bob, "channel.ttl", space=c.space, chan=c.general,
                          ttl_s=60) == (
        "forbidden", f"channel.ttl in space {c.space!r} needs role 'admin' or above; "
                     "you are 'member'")
    host.sent.clear()
    result = await host.ok(c.owner, "channel.ttl", space=c.space, chan=c.general,
                           ttl_s=MAX_CHANNEL_TTL_S)
    channel = {"id": c.general, "name": "general", "seq": 0, "ttl_s": MAX_CHANNEL_TTL_S}
    assert result == {"channel": channel}
    (event,) = host.events()
    assert (event.k, event.info, event.acct) == ("chan", {"channel": channel}, c.owner.acct)
    listed = await host.ok(bob, "channel.list", space=c.space)
    assert listed["channels"] == [channel]
    (space,) = (await host.ok(bob, "space.list"))["spaces"]
    assert space["channels"] == [channel]
    assert (await host.join(bob))["spaces"][0]["channels"] == [channel]
    assert await host.err(c.owner, "channel.ttl", space=c.space, chan="nope",
                          ttl_s=1) == "not_found"


async def test_channels_created_renamed_and_deleted_are_announced(
    community: Community,
) -> None:
    """Followers of the space's ``*`` learn of a new, renamed or deleted channel at once
    (a ``chan`` event on that channel's topic), so nobody has to poll the list."""
    host, c = community.host, community
    host.sent.clear()
    made = (await host.ok(c.owner, "channel.create", space=c.space, name="plans"))["channel"]
    await host.ok(c.owner, "channel.rename", space=c.space, chan=made["id"], name="plans")
    await host.ok(c.owner, "channel.rename", space=c.space, chan=made["id"], name="trips")
    await host.ok(c.owner, "channel.delete", space=c.space, chan=made["id"])
    trips = {**made, "name": "trips"}
    assert [(e.chan, e.acct, e.info) for e in host.events("chan")] == [
        (made["id"], c.owner.acct, {"channel": made}),  # an unchanged name says nothing
        (made["id"], c.owner.acct, {"channel": trips}),
        (made["id"], c.owner.acct, {"channel": trips, "deleted": True}),
    ]


async def test_expired_messages_are_erased_by_the_tick(community: Community) -> None:
    host, c = community.host, community
    bob = await add_member(c, "bob")
    assert (await _publish(host, bob, c, "kept"))["exp"] is None
    await host.ok(c.owner, "channel.ttl", space=c.space, chan=c.general, ttl_s=60)
    host.sent.clear()
    published = host.clock()
    await _publish(host, bob, c, "m1")
    await _publish(host, c.owner, c, "r1", re="m1")
    host.clock.advance(30_000)
    assert (await _publish(host, bob, c, "m2"))["exp"] == published + 90_000  # the sender's copy
    assert [(e.id, e.exp) for e in host.events("msg")] == [
        ("m1", published + 60_000), ("r1", published + 60_000), ("m2", published + 90_000)]
    assert [m["exp"] for m in await _history(host, bob, c)] == [
        None, published + 60_000, published + 60_000, published + 90_000]
    host.clock.advance(29_999)
    assert await host.tick() == []  # nothing is due yet
    host.clock.advance(1)
    (event,) = await host.tick()
    assert (event.k, event.acct, event.info) == ("del", "", {"ids": ["m1", "r1"]})
    assert await host.tick() == []  # idempotent: erased rows are never erased again
    host.clock.advance(30_000)
    (event,) = await host.tick()
    assert event.info == {"ids": ["m2"]}
    assert [(m["id"], m["del"]) for m in await _history(host, bob, c)] == [
        ("kept", False), ("m1", True), ("r1", True), ("m2", True)]
    # Back to no timer: new messages do not expire.
    await host.ok(c.owner, "channel.ttl", space=c.space, chan=c.general, ttl_s=0)
    assert (await _publish(host, bob, c, "m3"))["seq"] == 5
    assert host.events("msg")[-1].exp == 0


async def test_expiry_is_bounded_per_tick(community: Community) -> None:
    host, c = community.host, community
    await host.ok(c.owner, "channel.ttl", space=c.space, chan=c.general, ttl_s=1)
    for n in range(5):
        await _publish(host, c.owner, c, f"m{n}")
    host.clock.advance(1000)
    store = host.service.store
    async with store.transaction():
        first = await store.run(expire_due, host.clock(), 3)
    assert first == {(c.space, c.general): ["m0", "m1", "m2"]}
    async with store.transaction():
        second = await store.run(expire_due, host.clock(), 3)
    assert second == {(c.space, c.general): ["m3", "m4"]}


def test_a_del_event_names_at_most_500_ids() -> None:
    ids = [f"m{n}" for n in range(DEL_EVENT_IDS * 2 + 1)]
    events = del_events("h", "s", "c", "", 1, ids)
    assert [len(e.info["ids"]) for e in events if e.info] == [DEL_EVENT_IDS, DEL_EVENT_IDS, 1]
    assert [i for e in events if e.info for i in e.info["ids"]] == ids
