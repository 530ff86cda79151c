"""The host's side of rich messaging through real relay and host processes: a timer's
``del`` event, coalesced ``rcpt`` events and a delete that leaves no trace of the
envelope in the host's SQLite file (docs/protocol.md §13)."""

from __future__ import annotations

import asyncio
import secrets
import time
from itertools import pairwise
from pathlib import Path

from hearth.client import ChannelEvent, Client
from hearth.limits import RECEIPT_INTERVAL_MS
from host.node_status import CONNECTING, read_status
from tests.conftest import Community, Relay, database_bytes
from tests.system.test_reference_failures import join


async def next_of(client: Client, kind: str, wait_s: float = 10.0) -> ChannelEvent:
    """The client's next event of ``kind`` (others are skipped)."""
    async with asyncio.timeout(wait_s):
        while True:
            event = await client.next_event(wait_s)
            if event.kind == kind:
                return event


async def gone_from_disk(db: Path, needle: bytes, wait_s: float = 10.0) -> bool:
    """Whether ``needle`` leaves the database file and its write-ahead log (the host
    checkpoints on its next tick after an erase)."""
    deadline = time.monotonic() + wait_s
    while True:
        if needle not in database_bytes(db):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)


async def test_timers_deletes_and_receipts_reach_a_subscribed_client(
    relay: Relay, community: Community,
) -> None:
    host_id, space, general = community.host.host_id, community.space, community.general
    owner = community.owner.host(host_id)
    bob = await join(community, relay, "bob")
    bob_api = bob.host(host_id)
    await bob.subscribe(host_id, space, [general])
    await community.owner.subscribe(host_id, space, [general])

    # A one-second timer: the message expires and a ``del`` from nobody follows.
    await owner.call("channel.ttl", space=space, chan=general, ttl_s=1)
    changed = await next_of(bob, "chan")
    assert changed.info == {"channel": {"id": general, "name": "general", "seq": 0,
                                        "ttl_s": 1}}
    brief = secrets.token_bytes(48)
    sent = await owner.publish(space, general, brief, "brief")
    live = await next_of(bob, "msg")
    assert (live.id, live.exp) == ("brief", sent["ts"] + 1000)
    expired = await next_of(bob, "del")
    assert (expired.acct, expired.info) == ("", {"ids": ["brief"]})
    assert await gone_from_disk(community.host.db, brief)

    # An explicit delete by the author, with an annotation erased beside it.
    await owner.call("channel.ttl", space=space, chan=general, ttl_s=0)
    secret = secrets.token_bytes(48)
    await owner.publish(space, general, secret, "m1")
    await bob_api.publish(space, general, b"reaction", "r1", re="m1")
    annotation = [e for e in [await next_of(bob, "msg"), await next_of(bob, "msg")]
                  if e.id == "r1"]
    assert [e.re for e in annotation] == ["m1"]
    assert (await owner.delete(space, general, "m1"))["deleted"] == ["m1", "r1"]
    deleted = await next_of(bob, "del")
    assert (deleted.acct, deleted.info) == (community.owner.identity.account,
                                            {"ids": ["m1", "r1"]})
    page = await bob_api.history(space, general)
    assert [(m["id"], m["env"], m["del"]) for m in page["messages"]] == [
        ("brief", "", True), ("m1", "", True), ("r1", "", True)]
    assert await gone_from_disk(community.host.db, secret)

    # Markers: many moves, announced at most once per second per channel.
    for n in range(1, 4):
        await owner.publish(space, general, b"x", f"n{n}")
    for read in range(4, 7):
        assert await bob_api.mark(space, general, read=read) == {"read": read,
                                                                  "delivered": read}
    seen: list[ChannelEvent] = []
    while not seen or seen[-1].info != {"marks": [
            {"acct": bob.identity.account, "read": 6, "delivered": 6}]}:
        seen.append(await next_of(community.owner, "rcpt"))
    assert all(later.ts - earlier.ts >= RECEIPT_INTERVAL_MS
               for earlier, later in pairwise(seen))
    await bob.close()


async def test_expired_messages_leave_the_disk_while_no_relay_is_reachable(
    relay: Relay, community: Community,
) -> None:
    host_id, space, general = community.host.host_id, community.space, community.general
    owner = community.owner.host(host_id)
    await owner.call("channel.ttl", space=space, chan=general, ttl_s=2)
    secret = secrets.token_bytes(48)
    await owner.publish(space, general, secret, "brief")
    relay.process.stop()
    deadline = time.monotonic() + 5
    while (status := read_status(community.host.data)) is None or status.state != CONNECTING:
        assert time.monotonic() < deadline, f"the host still says {status}"
        await asyncio.sleep(0.05)
    assert secret in database_bytes(community.host.db)  # not due yet
    assert await gone_from_disk(community.host.db, secret)
    status = read_status(community.host.data)
    assert status is not None and status.state == CONNECTING  # erased without a relay
