"""Publishing (host-first, idempotent) and keyset history paging."""

from __future__ import annotations

from typing import Any

from hearth.b64 import b64e
from hearth.frames import Publish
from hearth.limits import HISTORY_PAGE_BYTES, MAX_ENVELOPE
from hearth.rpc import EventBody, open_host_body
from tests.host.support import Community, add_member


async def test_publish_is_idempotent_per_channel_and_id(community: Community) -> None:
    host, sid, chan = community.host, community.space, community.general
    bob = await add_member(community, "bob")
    env = b64e(b"sealed")
    host.sent.clear()
    first = await host.ok(bob, "publish", space=sid, chan=chan, id="m1", env=env)
    again = await host.ok(bob, "publish", space=sid, chan=chan, id="m1", env=env)
    assert (again["seq"], again["ts"], again["dup"]) == (first["seq"], first["ts"], True)
    assert len(host.sent) == 1  # one fan-out, not two
    # Same id, another envelope or another sender: conflict, nothing stored.
    assert await host.err(bob, "publish", space=sid, chan=chan, id="m1",
                          env=b64e(b"other")) == "conflict"
    assert await host.err(community.owner, "publish", space=sid, chan=chan, id="m1",
                          env=env) == "conflict"
    assert await host.store_count("messages") == 1
    # The id is per channel.
    other = (await host.ok(community.owner, "channel.create", space=sid,
                           name="other"))["channel"]["id"]
    assert (await host.ok(bob, "publish", space=sid, chan=other, id="m1", env=env))["seq"] == 1


async def test_publish_checks_the_channel_and_the_envelope(community: Community) -> None:
    host, sid = community.host, community.space
    other_space = (await host.ok(community.owner, "space.create", name="b"))["space"]
    foreign = other_space["channels"][0]["id"]
    assert await host.err(community.owner, "publish", space=sid, chan=foreign, id="m",
                          env="AAAA") == "not_found"
    assert await host.err(community.owner, "publish", space=sid, chan=community.general,
                          id="m", env="A") == "bad_request"  # 1 char: not base64
    too_big = b64e(bytes(MAX_ENVELOPE + 3))
    assert await host.err(community.owner, "publish", space=sid, chan=community.general,
                          id="m", env=too_big) == "bad_request"
    assert await host.store_count("messages") == 0


async def test_events_follow_seq_order_and_carry_the_stored_message(
    community: Community,
) -> None:
    host, sid, chan = community.host, community.space, community.general
    host.sent.clear()
    for i in range(5):
        await host.ok(community.owner, "publish", space=sid, chan=chan, id=f"m{i}",
                      env=b64e(f"c{i}".encode()))
    events = [open_host_body(host.host_id, f.body, f.sig, EventBody)
              for f in host.sent if isinstance(f, Publish)]
    assert [(e.seq, e.id, e.env) for e in events] == [
        (i + 1, f"m{i}", b64e(f"c{i}".encode())) for i in range(5)]
    page = await host.ok(community.owner, "history", space=sid, chan=chan)
    assert [(m["seq"], m["id"], m["env"], m["ts"]) for m in page["messages"]] == [
        (e.seq, e.id, e.env, e.ts) for e in events]


async def test_history_pages_thousands_of_messages_completely_and_in_order(
    community: Community,
) -> None:
    host, sid, chan, owner = community.host, community.space, community.general, community.owner
    total = 2500
    bob = await add_member(community, "bob")
    for n in range(total):
        # Many messages share a millisecond: paging must not depend on timestamps.
        if n % 500 == 0:
            host.clock.advance(1)
        await host.ok(owner if n % 2 else bob, "publish", space=sid, chan=chan, id=f"id{n}",
                      env=b64e(n.to_bytes(4, "big")))
    want = [(n + 1, f"id{n}") for n in range(total)]

    backwards: list[tuple[int, str]] = []
    before: int | None = None
    while True:
        args: dict[str, Any] = {"space": sid, "chan": chan, "limit": 200}
        if before is not None:
            args["before"] = before
        page = await host.ok(bob, "history", **args)
        batch = [(m["seq"], m["id"]) for m in page["messages"]]
        assert batch == sorted(batch)
        backwards = batch + backwards
        if not page["more"]:
            break
        before = batch[0][0]
    assert backwards == want

    forwards: list[tuple[int, str]] = []
    after = 0
    while True:
        page = await host.ok(bob, "history", space=sid, chan=chan, after=after, limit=170)
        forwards += [(m["seq"], m["id"]) for m in page["messages"]]
        if not page["more"]:
            break
        after = forwards[-1][0]
    assert forwards == want

    window = await host.ok(bob, "history", space=sid, chan=chan, after=10, before=20)
    assert [m["seq"] for m in window["messages"]] == list(range(11, 20))
    assert window["more"] is False
    newest = await host.ok(bob, "history", space=sid, chan=chan, limit=3)
    assert [m["seq"] for m in newest["messages"]] == [total - 2, total - 1, total]
    assert newest["more"] is True


async def test_history_pages_stop_at_the_byte_cap(community: Community) -> None:
    host, sid, chan, owner = community.host, community.space, community.general, community.owner
    env = b64e(bytes(MAX_ENVELOPE))
    count = HISTORY_PAGE_BYTES // len(env) + 3
    for n in range(count):
        await host.ok(owner, "publish", space=sid, chan=chan, id=f"big{n}", env=env)
    page = await host.ok(owner, "history", space=sid, chan=chan, limit=200)
    fits = HISTORY_PAGE_BYTES // len(env)
    assert [m["seq"] for m in page["messages"]] == list(range(count - fits + 1, count + 1))
    assert page["more"] is True
    rest = await host.ok(owner, "history", space=sid, chan=chan,
                         before=page["messages"][0]["seq"])
    assert [m["seq"] for m in rest["messages"]] == list(range(1, count - fits + 1))
    assert rest["more"] is False


async def test_token_names_existing_channels_only(community: Community) -> None:
    host = community.host
    granted = await host.ok(community.owner, "token", space=community.space)
    assert granted["chans"] == ["*"]
    assert await host.err(community.owner, "token", space=community.space,
                          chans=["nope"]) == "not_found"
