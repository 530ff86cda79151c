"""Several real relay processes joined by a real Redis, one real host, Python clients:
users and hosts must not notice which relay they landed on, nor a relay dying, nor
Redis restarting."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import websockets

from hearth.client import Client, RequestError, new_message_id
from hearth.frames import HostStatus, Unsubscribed
from hearth.identity import Identity
from hearth.keys import host_id_from_public_key
from tests.conftest import Host, Relay, free_port, hearth_cli, spawn
from tests.redis_server import RedisServer


def start_relays(tmp: Path, bus: str, count: int, *extra: str) -> list[Relay]:
    """``hearth relay --bus URL``: relay processes of the cluster, started together."""
    relays = []
    for _ in range(count):
        port = free_port()
        process = spawn(tmp / f"relay-{port}.log", "relay", "--bus", bus, "--port", str(port),
                        *extra)
        relays.append(Relay(port, process))
    deadline = time.monotonic() + 20
    for relay in relays:
        while True:
            if relay.process.proc.poll() is not None:
                raise AssertionError(f"relay exited early:\n{relay.process.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{relay.http_url}/health/ready", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                for r in relays:
                    r.process.stop()
                raise AssertionError(f"relay not ready in 20 s:\n{relay.process.output()}")
            time.sleep(0.05)
    return relays


def start_host(tmp: Path, relays: list[Relay]) -> Host:
    """The host, given every relay of the cluster (it uses one, and moves on failure)."""
    data = tmp / "host"
    if not (data / "host.key").exists():
        hearth_cli("host", "init", "--data", str(data))
    host_id = hearth_cli("host", "id", "--data", str(data)).strip()
    urls = ",".join(r.ws_url for r in relays)
    process = spawn(tmp / f"host-{time.monotonic_ns()}.log", "host", "run", "--data", str(data),
                    "--relay", urls)
    return Host(data, host_id, process, relays[0])


@dataclass
class Cluster:
    tmp: Path
    redis: RedisServer
    relays: list[Relay]
    host: Host
    clients: list[Client] = field(default_factory=list)

    async def user(self, relay: Relay, name: str, identity: Identity | None = None) -> Client:
        """A connected client that said hello to the host (waiting for it to be online)."""
        client = await Client(identity or Identity.generate(), relay.ws_url).connect()
        self.clients.append(client)
        deadline = time.monotonic() + 20
        while True:
            try:
                await client.host(self.host.host_id).hello(name)
                return client
            except RequestError as exc:
                if exc.wire_code != "host_offline" or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@contextlib.asynccontextmanager
async def cluster(tmp: Path, redis: RedisServer, size: int) -> AsyncIterator[Cluster]:
    relays = start_relays(tmp, redis.url, size)
    host = start_host(tmp, relays)
    c = Cluster(tmp, redis, relays, host)
    try:
        yield c
    finally:
        for client in c.clients:
            with contextlib.suppress(Exception):
                await client.close()
        host.process.stop()
        for relay in relays:
            relay.process.stop()


async def community(c: Cluster, owner_relay: Relay) -> tuple[Client, str, str]:
    """The host's owner (on ``owner_relay``) with a space; (owner, space, general)."""
    owner = await c.user(owner_relay, "owner")
    api = owner.host(c.host.host_id)
    await api.claim(c.host.owner_claim())
    space = (await api.create_space("Hearthside"))["space"]["id"]
    channels = (await api.call("channel.list", space=space))["channels"]
    return owner, space, next(ch["id"] for ch in channels if ch["name"] == "general")


async def member(c: Cluster, owner: Client, space: str, relay: Relay, name: str,
                 identity: Identity | None = None) -> Client:
    link = await owner.host(c.host.host_id).invite_link(space)
    client = await c.user(relay, name, identity)
    await client.host(c.host.host_id).redeem(link["secret"])
    return client


async def history_ids(client: Client, host_id: str, space: str, chan: str) -> list[str]:
    """Every message id of the channel, oldest first, paged by sequence number."""
    ids: list[str] = []
    after = 0
    while True:
        page = await client.host(host_id).history(space, chan, after=after, limit=200)
        messages = page["messages"]
        if not messages:
            return ids
        ids += [m["id"] for m in messages]
        after = messages[-1]["seq"]


async def next_notice(client: Client, kind: type[object], within: float = 10) -> object:
    async with asyncio.timeout(within):
        while True:
            notice = await client.notices.get()
            if isinstance(notice, kind):
                return notice


async def test_one_community_across_three_relays(tmp_path: Path, redis: RedisServer) -> None:
    async with cluster(tmp_path, redis, 3) as c:
        r1, r2, r3 = c.relays
        host_id = c.host.host_id
        owner, space, general = await community(c, r2)  # requests and responses: r2 <-> r1
        bob = await member(c, owner, space, r3, "bob")
        carol = await member(c, owner, space, r1, "carol")
        bob_token = (await bob.request(host_id, "token", space=space, chans=["*"]))["token"]
        await bob.subscribe(host_id, space, ["*"], token=bob_token)
        await carol.host(host_id).subscribe(space, [general])
        sent = await owner.host(host_id).publish(space, general, b"hello everyone")
        for watcher in (bob, carol):  # fan-out reaches subscribers on every relay
            event = await watcher.next_event()
            assert (event.envelope, event.seq) == (b"hello everyone", sent["seq"])

        # Revocation: the host (on r1) removes bob (on r3); a relay started afterwards
        # still refuses bob's old token.
        await owner.host(host_id).call("member.remove", space=space, acct=bob.identity.account)
        ended = await next_notice(bob, Unsubscribed)
        assert isinstance(ended, Unsubscribed) and ended.reason == "revoked"
        [r4] = start_relays(tmp_path, redis.url, 1)
        try:
            late = await Client(bob.identity, r4.ws_url).connect()
            c.clients.append(late)
            with pytest.raises(RequestError) as refused:
                await late.subscribe(host_id, space, ["*"], token=bob_token)
            assert refused.value.wire_code == "token_revoked"
            assert "was revoked by its host" in str(refused.value)
        finally:
            r4.process.stop()

        # Host status: the owner (on r2) is told when the host (on r1) leaves and returns.
        c.host.process.stop()
        went = await next_notice(owner, HostStatus)
        assert went == HostStatus(host=host_id, online=False)
        with pytest.raises(RequestError) as offline:
            await owner.host(host_id).call("space.list")
        assert offline.value.wire_code == "host_offline"
        assert f"host {host_id} is not connected to the relay" in str(offline.value)
        c.host = start_host(tmp_path, c.relays)
        back = await next_notice(owner, HostStatus)
        assert back == HostStatus(host=host_id, online=True)
        assert (await owner.host(host_id).call("space.list"))["spaces"]


async def test_account_rate_limit_holds_across_relay_processes(
    tmp_path: Path, redis: RedisServer,
) -> None:
    rates = ("--rate", "account=0.5/10", "--rate", "unsub=100/100")
    relays = start_relays(tmp_path, redis.url, 2, *rates)
    me = Identity.generate()
    nobody = host_id_from_public_key(b"\x01" * 32)
    clients = [await Client(me.new_device() if i else me, r.ws_url).connect()
               for i, r in enumerate(relays)]
    try:
        sent = 0
        refused: RequestError | None = None
        for i in range(40):  # the account's burst is 10 frames across both relays
            await clients[i % 2].unsubscribe(nobody, "s", ["c"])
            sent += 1
            with contextlib.suppress(TimeoutError):
                notice = await asyncio.wait_for(clients[i % 2].notices.get(), 2)
                if getattr(notice, "code", None) == "rate_limited":
                    refused = RequestError("rate_limited", notice.msg)  # type: ignore[attr-defined]
                    break
            await asyncio.sleep(0.05)  # let the relays share what they admitted
        assert refused is not None, f"{sent} frames of one account accepted over two relays"
        assert sent <= 14
        assert refused.message == ("too many frames from this account's connections: "
                                   "limit 0.5/s, burst 10")
    finally:
        for client in clients:
            await client.close()
        for relay in relays:
            relay.process.stop()


TOTAL = 90
"""Messages per sender in the failure tests: a third before the failure, the rest after."""


@dataclass
class Sender:
    """Publishes ``total`` messages, each retried under the same id until acknowledged,
    moving to the next relay when its connection dies (what a browser does)."""

    identity: Identity
    urls: list[str]
    host_id: str
    space: str
    chan: str
    client: Client
    acked: dict[str, int] = field(default_factory=dict)
    moves: int = 0
    progress: asyncio.Event = field(default_factory=asyncio.Event)

    async def acked_at_least(self, n: int) -> None:
        while len(self.acked) < n:
            self.progress.clear()
            await self.progress.wait()

    async def run(self, total: int, deadline: float) -> None:
        turn = 0
        for i in range(total):
            msg_id = new_message_id()
            while True:
                assert time.monotonic() < deadline, f"message {i} not acknowledged in time"
                try:
                    ack = await self.client.host(self.host_id).publish(
                        self.space, self.chan, f"m{i}".encode(), msg_id)
                    self.acked[msg_id] = ack["seq"]
                    self.progress.set()
                    break
                except (RequestError, websockets.ConnectionClosed, OSError):
                    if self.client.closed is not None and self.client.closed.done():
                        turn += 1
                        await self.client.close()
                        with contextlib.suppress(OSError, websockets.WebSocketException):
                            self.client = await Client(
                                self.identity, self.urls[turn % len(self.urls)],
                                request_timeout=2).connect()
                            self.moves += 1
                    await asyncio.sleep(0.1)
            await asyncio.sleep(0.005)


async def test_kill_9_of_a_relay_under_traffic_loses_nothing_acknowledged(
    tmp_path: Path, redis: RedisServer,
) -> None:
    async with cluster(tmp_path, redis, 2) as c:
        doomed, survivor = c.relays  # the host is on `doomed`, the first of its list
        owner, space, general = await community(c, survivor)
        alice = await member(c, owner, space, doomed, "alice")
        watcher = await member(c, owner, space, survivor, "watcher")
        await watcher.host(c.host.host_id).subscribe(space, [general])
        urls = [doomed.ws_url, survivor.ws_url]
        senders = [
            Sender(alice.identity, urls, c.host.host_id, space, general, alice),
            Sender(owner.identity, [survivor.ws_url], c.host.host_id, space, general, owner),
        ]
        for s in senders:
            s.client.request_timeout = 2
        deadline = time.monotonic() + 60
        traffic = [asyncio.create_task(s.run(TOTAL, deadline)) for s in senders]
        await senders[0].acked_at_least(TOTAL // 3)
        doomed.process.proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        await asyncio.gather(*traffic)

        assert senders[0].moves >= 1  # alice's relay died under her: she moved
        assert "event=connected relay=" + survivor.ws_url in c.host.process.output()
        assert time.monotonic() - killed_at < 60
        acked = {m: seq for s in senders for m, seq in s.acked.items()}
        assert len(acked) == 2 * TOTAL
        stored = await history_ids(watcher, c.host.host_id, space, general)
        assert len(stored) == len(set(stored)) == 2 * TOTAL  # every resend was recognised
        assert set(acked) == set(stored)
        live = []
        while not watcher.events.empty():
            live.append(watcher.events.get_nowait().id)
        assert set(live) <= set(stored) and live  # live view never shows the unstored


async def test_redis_restart_under_traffic_is_reported_and_recovered(
    tmp_path: Path, redis: RedisServer,
) -> None:
    async with cluster(tmp_path, redis, 2) as c:
        _, r2 = c.relays  # host on the first; the sender and the watcher on r2
        owner, space, general = await community(c, r2)
        watcher = await member(c, owner, space, r2, "watcher")
        await watcher.host(c.host.host_id).subscribe(space, [general])
        owner.request_timeout = 2
        sender = Sender(owner.identity, [r2.ws_url], c.host.host_id, space, general, owner)
        traffic = asyncio.create_task(sender.run(TOTAL, time.monotonic() + 60))
        await sender.acked_at_least(TOTAL // 3)
        redis.stop()
        async with httpx.AsyncClient() as http:
            for relay in c.relays:
                deadline = time.monotonic() + 10
                while (ready := await http.get(f"{relay.http_url}/health/ready")).status_code \
                        == 200:
                    assert time.monotonic() < deadline, "relay still ready without Redis"
                    await asyncio.sleep(0.05)
                body = ready.json()
                assert ready.status_code == 503 and body["bus"] == "down"
                assert body["bus_error"].startswith(f"redis at {redis.url}: ")
                assert "event=bus_down backend=redis" in relay.process.output()
            redis.start()
            for relay in c.relays:
                deadline = time.monotonic() + 20
                while (await http.get(f"{relay.http_url}/health/ready")).status_code != 200:
                    assert time.monotonic() < deadline, "relay did not recover"
                    await asyncio.sleep(0.05)
                assert "event=bus_recovered backend=redis" in relay.process.output()
        await traffic
        acked = set(sender.acked)
        stored = await history_ids(watcher, c.host.host_id, space, general)
        assert len(stored) == len(set(stored)) == TOTAL and acked == set(stored)
        while not watcher.events.empty():
            watcher.events.get_nowait()
        final = await owner.host(c.host.host_id).publish(space, general, b"after the storm")
        event = await watcher.next_event()  # the topic was resubscribed after the restart
        assert (event.envelope, event.seq) == (b"after the storm", final["seq"])
