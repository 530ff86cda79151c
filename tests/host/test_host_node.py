"""The node against a stand-in relay (a tiny websockets server speaking the relay's
host protocol): auth, request/response order, revocation resend, reconnect, stop."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.server import ServerConnection, serve

from hearth.auth import new_challenge, verify_host_hello
from hearth.b64 import b64e
from hearth.frames import (
    Error,
    ForwardedRequest,
    HostHello,
    HostWelcome,
    decode_frame,
    encode_frame,
)
from hearth.invite_link import invite_public_key, prove_invite
from hearth.limits import HOST_FRAME_RATES, HOST_ID_RATE
from hearth.ratelimit import RateLimit
from hearth.rpc import EventBody, ResponseBody, open_host_body, sign_request
from host import node as host_node
from host.config import create_owner_claim, db_path, host_id_of
from host.errors import HostConfigError
from host.node import Backoff, Inbox, run_node
from host.service import Service
from host.verifier import Request
from tests.host.support import User


class FakeRelay:
    """Accepts the host, records every frame it sends, lets the test forward requests."""

    def __init__(self) -> None:
        self.connections: asyncio.Queue[ServerConnection] = asyncio.Queue()
        self.frames: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        self.refuse_auth = 0
        self.port = 0
        self.on_frame: Callable[[dict[str, object]], None] | None = None
        """Called the instant each frame arrives (before the test reads it)."""

    async def handler(self, ws: ServerConnection) -> None:
        challenge = new_challenge()
        await ws.send(encode_frame(challenge))
        hello = decode_frame(await ws.recv(), HostHello)
        host = verify_host_hello(challenge, hello)
        if self.refuse_auth:
            self.refuse_auth -= 1
            await ws.send(encode_frame(Error(code="auth_failed", msg="go away")))
            await ws.close(4001)
            return
        await ws.send(encode_frame(HostWelcome(host=host)))
        await self.connections.put(ws)
        async for raw in ws:
            frame = orjson.loads(raw)
            if self.on_frame is not None:
                self.on_frame(frame)
            await self.frames.put(frame)

    async def next_frame(self, *skip: str) -> dict[str, object]:
        """The next frame whose type is not in ``skip``; "mem" in ``skip`` also passes
        over the host's membership events (``pub`` frames of kind ``mem``)."""
        while True:
            frame = await asyncio.wait_for(self.frames.get(), 10)
            if frame["t"] in skip:
                continue
            if "mem" in skip and frame["t"] == "pub" \
                    and orjson.loads(str(frame["body"]))["k"] == "mem":
                continue
            return frame


@pytest.fixture
async def relay() -> AsyncIterator[FakeRelay]:
    fake = FakeRelay()
    async with serve(fake.handler, "127.0.0.1", 0, compression=None) as server:
        fake.port = server.sockets[0].getsockname()[1]
        yield fake


async def _request(ws: ServerConnection, host_id: str, user: User, op: str,
                   **args: object) -> None:
    _, text, sig = sign_request(user.device, host_id, op, dict(args))
    await ws.send(encode_frame(ForwardedRequest(from_="c1", body=text, sig=sig)))


async def test_node_serves_reconnects_resends_revocations_and_stops(
    relay: FakeRelay, data_dir: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="hearth.host")
    host_id = host_id_of(data_dir)
    stop, ready = asyncio.Event(), asyncio.Event()
    node = asyncio.create_task(
        run_node(data_dir, f"ws://127.0.0.1:{relay.port}", stop=stop, ready=ready)
    )
    ws = await asyncio.wait_for(relay.connections.get(), 10)
    await asyncio.wait_for(ready.wait(), 5)

    async def call(op: str, user: User, **args: object) -> dict[str, object]:
        await _request(ws, host_id, user, op, **args)
        frame = await relay.next_frame("ping", "mem")
        assert frame["t"] == "resp_to" and frame["to"] == "c1"
        body = open_host_body(host_id, str(frame["body"]), str(frame["sig"]), ResponseBody)
        assert body.ok, body.err
        assert body.r is not None
        return body.r

    owner, bob = User("owner"), User("bob")
    await call("hello", owner, cert=owner.device.certificate.encode())
    claim = create_owner_claim(data_dir)
    await call("host.claim", owner, pk=invite_public_key(claim),
               proof=prove_invite(claim, host_id, owner.device.public_key))
    space = (await call("space.create", owner, name="s"))["space"]
    assert isinstance(space, dict)
    sid, chan = space["id"], space["channels"][0]["id"]
    ack = await call("publish", owner, space=sid, chan=chan, id="m1", env=b64e(b"x"))
    pub = await relay.next_frame("ping", "mem")  # strictly after the resp_to
    assert pub["t"] == "pub" and (pub["space"], pub["chan"]) == (sid, chan)
    event = open_host_body(host_id, str(pub["body"]), str(pub["sig"]), EventBody)
    assert (event.seq, event.id) == (ack["seq"], "m1")

    await call("hello", bob, cert=bob.device.certificate.encode())
    await call("invite.key", owner, space=sid, acct=bob.acct)
    await call("invite.accept", bob, space=sid)
    await call("member.remove", owner, space=sid, acct=bob.acct)
    revoke = await relay.next_frame("ping", "mem")
    assert (revoke["t"], revoke["acct"], revoke["space"]) == ("revoke", bob.acct, sid)

    # The relay drops the connection: the node comes back and says the revocation again.
    await ws.close()
    ws = await asyncio.wait_for(relay.connections.get(), 10)
    again = await relay.next_frame("ping", "mem")
    assert again == revoke
    listed = (await call("space.list", owner))["spaces"]
    assert isinstance(listed, list) and listed[0]["id"] == sid

    stop.set()
    await asyncio.wait_for(node, 10)
    messages = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("event=connected ") for m in messages) == 2
    assert any("disconnected" in m for m in messages)
    assert not any(owner.device.certificate.encode() in m for m in messages)


async def test_node_retries_after_refused_auth_and_unreachable_relay(
    relay: FakeRelay, data_dir: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="hearth.host")
    relay.refuse_auth = 2
    stop = asyncio.Event()
    node = asyncio.create_task(run_node(data_dir, f"ws://127.0.0.1:{relay.port}", stop=stop))
    await asyncio.wait_for(relay.connections.get(), 15)
    assert sum(r.getMessage().startswith("event=auth_failed ") for r in caplog.records) == 2
    stop.set()
    await asyncio.wait_for(node, 10)


async def test_node_stops_while_waiting_to_reconnect(data_dir: Path) -> None:
    stop = asyncio.Event()
    # Nothing listens on port 9 of loopback: every attempt fails at once.
    node = asyncio.create_task(run_node(data_dir, "ws://127.0.0.1:9", stop=stop))
    await asyncio.sleep(0.5)
    assert not node.done()
    stop.set()
    await asyncio.wait_for(node, 5)


async def test_node_refuses_a_bad_url_or_data_dir(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(HostConfigError, match="ws://"):
        await run_node(data_dir, "http://127.0.0.1:1")
    with pytest.raises(HostConfigError, match="hearth host init"):
        await run_node(tmp_path / "missing", "ws://127.0.0.1:1")


def test_backoff_is_full_jitter_capped_and_resettable() -> None:
    backoff = Backoff(0.2, 30.0, random.Random(7))
    delays = [backoff.next() for _ in range(20)]
    ceilings = [min(30.0, 0.2 * 2**n) for n in range(20)]
    assert all(0.2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert max(delays) > 5  # it grows
    assert len({round(d, 6) for d in delays[8:]}) > 5  # and it is jittered
    backoff.reset()
    assert backoff.next() == pytest.approx(0.2)


async def test_node_group_commits_concurrent_senders_and_nothing_is_live_before_stored(
    relay: FakeRelay, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch_sizes: list[int] = []
    real_respond_batch = Service.respond_batch

    async def spying(self: Service, requests: list[Request], **kw: float | None) -> object:
        batch_sizes.append(len(requests))
        return await real_respond_batch(self, requests, **kw)

    monkeypatch.setattr(Service, "respond_batch", spying)
    monkeypatch.setattr(host_node, "MAX_BATCH", 16)
    host_id = host_id_of(data_dir)
    stop = asyncio.Event()
    node = asyncio.create_task(run_node(data_dir, f"ws://127.0.0.1:{relay.port}", stop=stop))
    ws = await asyncio.wait_for(relay.connections.get(), 10)

    async def call(op: str, user: User, **args: object) -> dict[str, object]:
        await _request(ws, host_id, user, op, **args)
        frame = await relay.next_frame("ping", "mem")
        body = open_host_body(host_id, str(frame["body"]), str(frame["sig"]), ResponseBody)
        assert body.ok, body.err
        return body.r or {}

    owner = User("owner")
    await call("hello", owner, cert=owner.device.certificate.encode())
    claim = create_owner_claim(data_dir)
    await call("host.claim", owner, pk=invite_public_key(claim),
               proof=prove_invite(claim, host_id, owner.device.public_key))
    space = (await call("space.create", owner, name="s"))["space"]
    assert isinstance(space, dict)
    sid, chan = space["id"], space["channels"][0]["id"]
    senders = [owner]
    for i in range(3):
        user = User(f"u{i}")
        await call("hello", user, cert=user.device.certificate.encode())
        await call("invite.key", owner, space=sid, acct=user.acct)
        await call("invite.accept", user, space=sid)
        senders.append(user)
    assert set(batch_sizes) == {1}  # one request at a time: each is a batch of one

    conn = sqlite3.connect(db_path(data_dir))
    acked: set[str] = set()
    live: list[tuple[int, str]] = []
    problems: list[str] = []

    def check(frame: dict[str, object]) -> None:
        if frame["t"] == "resp_to":
            body = open_host_body(host_id, str(frame["body"]), str(frame["sig"]), ResponseBody)
            if body.ok and body.r is not None:
                acked.add(str(body.r["id"]))
        elif frame["t"] == "pub":
            event = open_host_body(host_id, str(frame["body"]), str(frame["sig"]), EventBody)
            stored = conn.execute("SELECT 1 FROM messages WHERE channel_id = ? AND seq = ? "
                                  "AND msg_id = ?", (chan, event.seq, event.id)).fetchone()
            if stored is None:
                problems.append(f"{event.id} live before it was committed")
            if event.id not in acked:
                problems.append(f"{event.id} live before its sender's response")
            live.append((event.seq, event.id))

    relay.on_frame = check
    batch_sizes.clear()
    count = 200
    ids = [f"m{i}" for i in range(count)]
    await asyncio.gather(*(
        _request(ws, host_id, senders[i % len(senders)], "publish", space=sid, chan=chan,
                 id=mid, env=b64e(b"x"))
        for i, mid in enumerate(ids)))
    while len(live) < count:
        await relay.next_frame("ping", "mem")
    conn.close()
    assert problems == []
    assert [seq for seq, _ in live] == list(range(1, count + 1))  # fan-out in seq order
    assert sorted(mid for _, mid in live) == sorted(ids)
    assert max(batch_sizes) <= 16 and max(batch_sizes) > 1  # grouped, and bounded
    stop.set()
    await asyncio.wait_for(node, 10)


async def test_inbox_hands_out_what_is_there_and_applies_backpressure() -> None:
    inbox = Inbox(limit=3)
    requests = [Request(str(i), "", "") for i in range(5)]
    for r in requests[:3]:
        await inbox.put(r)
    blocked = asyncio.create_task(inbox.put(requests[3]))
    await asyncio.sleep(0.01)
    assert not blocked.done() and len(inbox) == 3  # full: the reader waits
    assert await inbox.take(2) == requests[:2]  # never more than asked
    await asyncio.wait_for(blocked, 1)
    inbox.put_back(requests[:2])  # a batch that stopped early gives its rest back, in order
    assert await inbox.take(10) == [*requests[:2], requests[2], requests[3]]
    waiting = asyncio.create_task(inbox.take(10))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # waits for one; a lone request is taken at once
    await inbox.put(requests[4])
    assert await asyncio.wait_for(waiting, 1) == [requests[4]]


def test_pacer_keeps_the_node_under_the_relays_limits() -> None:
    limits = host_node.relay_limits(["resp_to=100/10"])
    assert limits["resp_to"] == RateLimit(100, 10)
    assert limits["pub"] == HOST_FRAME_RATES["pub"] and limits["host_id"] == HOST_ID_RATE
    for bad, message in (("bogus=1/1", "unknown limit 'bogus'"),
                         ("resp_to=fast", re.escape("is not NAME=RATE[/BURST]"))):
        with pytest.raises(HostConfigError, match=message):
            host_node.relay_limits([bad])
    pacer = host_node.Pacer(limits, now=0.0)
    # The burst at 90 % of the relay's (9 of 10) goes at once; then one every 1/90 s.
    assert [pacer.delay("resp_to", 0.0) for _ in range(9)] == [0.0] * 9
    assert pacer.delay("resp_to", 0.0) == pytest.approx(1 / 90)
    assert pacer.delay("resp_to", 1 / 90) == 0.0
    assert pacer.delay("pub", 1 / 90) == 0.0  # another type has its own bucket
    tight = host_node.Pacer(host_node.relay_limits(["host_id=10/2"]), now=0.0)
    assert tight.delay("pub", 0.0) == 0.0  # 90 % of a burst of 2 is 1.8: one frame
    assert tight.delay("resp_to", 0.0) > 0  # the total limit holds across types
