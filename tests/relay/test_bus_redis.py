"""The bus contract, held by both backends (in-process and a real Redis), plus what only
the Redis bus has to do: survive Redis going away, expire a crashed relay's hosts, and
hold per-identity rate limits and revocations across relays."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from hearth.b64 import b64e
from hearth.keys import host_id_from_public_key, new_device, now_ms
from hearth.ratelimit import RateLimit
from relay.bus import Bus, InProcessBus, bus_from_url
from relay.bus_redis import RedisBus, redact
from tests.redis_server import RedisServer
from tests.relay.relay_helpers import connect_client, connect_host, running_relay

Got = list[tuple[str, str]]


async def until(check: Callable[[], bool | Awaitable[bool]], within: float = 5.0) -> None:
    """Wait (bounded) for ``check`` to hold: delivery over Redis is asynchronous."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    assert redis_server.command("FLUSHALL").startswith(b"+OK")
    return redis_server.url


BusPair = Callable[[], Awaitable[tuple[Bus, Bus]]]


@pytest.fixture(params=["in-process", "redis"])
async def bus_pair(request: pytest.FixtureRequest) -> AsyncIterator[BusPair]:
    """Two relays' view of one bus: the same object in-process, two RedisBus on Redis."""
    made: list[Bus] = []

    async def make() -> tuple[Bus, Bus]:
        if request.param == "in-process":
            a: Bus = InProcessBus()
            b: Bus = a
        else:
            url = request.getfixturevalue("redis_url")
            a, b = RedisBus(url), RedisBus(url)
        for bus in {id(a): a, id(b): b}.values():
            await bus.start()
            assert bus.healthy() and bus.last_error() is None
            made.append(bus)
        return a, b

    yield make
    for bus in made:
        await bus.close()


def recorder(got: Got, tag: str = "") -> Callable[[str, str], None]:
    def handler(subject: str, data: str) -> None:
        got.append((tag + subject, data))
    return handler


async def test_routes_by_subject_and_prefix_in_publish_order(bus_pair: BusPair) -> None:
    a, b = await bus_pair()
    got: Got = []

    def broken(subject: str, data: str) -> None:
        raise RuntimeError("boom")

    await a.subscribe("conn.x", broken)
    await a.subscribe("conn.x", recorder(got))
    await a.subscribe("topic.h.s.*", recorder(got, "all:"))
    await a.subscribe("topic.h.s.c", recorder(got, "one:"))
    for i in range(50):
        await b.publish("conn.x", str(i))
    await b.publish("topic.h.s.c", "e1")
    await b.publish("topic.h.s.d", "e2")
    await b.publish("topic.h.t.c", "elsewhere")
    await b.publish("conn.y", "nobody")
    await until(lambda: len(got) == 53)
    assert got[:50] == [("conn.x", str(i)) for i in range(50)]
    assert sorted(got[50:]) == [("all:topic.h.s.c", "e1"), ("all:topic.h.s.d", "e2"),
                                ("one:topic.h.s.c", "e1")]


async def test_unsubscribe_stops_delivery_even_when_racing_a_resubscribe(
    bus_pair: BusPair,
) -> None:
    a, b = await bus_pair()
    got: Got = []
    first, second = recorder(got, "1:"), recorder(got, "2:")
    baseline = a.subject_count()  # type: ignore[attr-defined]
    await a.subscribe("conn.x", first)
    a.unsubscribe("conn.x", first)
    await a.subscribe("conn.x", second)  # before the UNSUBSCRIBE went out
    a.unsubscribe("topic.h.s.*", second)  # never subscribed: a no-op
    await b.publish("conn.x", "m")
    await until(lambda: got == [("2:conn.x", "m")])
    a.unsubscribe("conn.x", second)
    assert a.subject_count() == baseline  # type: ignore[attr-defined]
    await a.subscribe("conn.z", first)  # a later subject still flows: nothing is stuck
    await b.publish("conn.x", "late")
    await b.publish("conn.z", "z")
    await until(lambda: got[-1] == ("1:conn.z", "z"))
    assert got == [("2:conn.x", "m"), ("1:conn.z", "z")]


async def test_presence_belongs_to_the_newest_owner_on_any_relay(bus_pair: BusPair) -> None:
    a, b = await bus_pair()
    await a.mark_online("h", "old")
    await b.mark_online("h", "new")
    assert await a.is_online("h") and await b.is_online("h")
    assert not await a.mark_offline("h", "old")
    assert await b.is_online("h")
    assert await b.mark_offline("h", "new")
    assert not await a.is_online("h") and not await b.is_online("h")


async def test_retained_messages_replay_to_later_subscribers_highest_rank_wins(
    bus_pair: BusPair,
) -> None:
    a, b = await bus_pair()
    live: Got = []
    await b.subscribe("ctl.*", recorder(live))
    await a.publish_retained("ctl.h1", "rank5", key="k", rank=5, ttl_ms=60_000)
    await a.publish_retained("ctl.h1", "rank3", key="k", rank=3, ttl_ms=60_000)
    await a.publish_retained("ctl.h2", "other", key="k", rank=1, ttl_ms=60_000)
    await until(lambda: len(live) == 3)  # live delivery is unconditional
    replayed: Got = []
    await b.subscribe("ctl.*", recorder(replayed))
    assert sorted(replayed) == [("ctl.h1", "rank5"), ("ctl.h2", "other")]
    exact: Got = []
    await a.subscribe("ctl.h2", recorder(exact))
    assert exact == [("ctl.h2", "other")]
    with pytest.raises(ValueError) as refused:
        await a.publish_retained("topic.h.s.c", "x", key="k", rank=1, ttl_ms=1000)
    assert str(refused.value) == (
        "only control subjects (ctl.<host>) retain messages, not 'topic.h.s.c'"
    )


async def test_retained_messages_expire_after_their_ttl(bus_pair: BusPair) -> None:
    a, b = await bus_pair()
    await a.publish_retained("ctl.h", "short", key="k", rank=1, ttl_ms=150)
    replayed: Got = []
    await b.subscribe("ctl.*", recorder(replayed))
    assert replayed == [("ctl.h", "short")]
    await asyncio.sleep(0.3)  # past the TTL
    later: Got = []
    await b.subscribe("ctl.*", recorder(later))
    assert later == []


async def test_bus_from_url_picks_the_backend_and_refuses_others(redis_url: str) -> None:
    assert isinstance(bus_from_url(None), InProcessBus)
    bus = bus_from_url(redis_url)
    assert isinstance(bus, RedisBus) and bus.url == redis_url
    await bus.close()
    with pytest.raises(ValueError) as refused:
        bus_from_url("nats://127.0.0.1:4222")
    assert str(refused.value) == (
        "bus URL 'nats://127.0.0.1:4222' is not supported: use redis://HOST:PORT[/DB]"
    )
    assert redact("redis://u:secret@h:1/0") == "redis://u:***@h:1/0"
    with pytest.raises(ValueError, match=r"presence_ttl must be at least 0\.3 s, got 0\.1"):
        RedisBus(redis_url, presence_ttl=0.1)


# ---- Redis only ---------------------------------------------------------------------


async def test_a_crashed_relays_hosts_expire(redis_url: str) -> None:
    crashed, survivor = RedisBus(redis_url, presence_ttl=0.3), RedisBus(redis_url)
    await crashed.start()
    await survivor.start()
    try:
        await crashed.mark_online("h", "c1")
        await asyncio.sleep(0.5)  # longer than the TTL: the owner's refreshes keep it
        assert await survivor.is_online("h")
        await crashed.close()  # stops refreshing without marking the host offline
        await until(lambda: _offline(survivor, "h"))
    finally:
        await survivor.close()


async def _offline(bus: RedisBus, host: str) -> bool:
    return not await bus.is_online(host)


async def test_redis_outage_is_reported_then_everything_is_restored(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path).start()
    a, b = RedisBus(redis.url), RedisBus(redis.url)
    await a.start()
    await b.start()
    try:
        got: Got = []
        await a.subscribe("conn.x", recorder(got))
        await a.subscribe("topic.h.s.*", recorder(got))
        await a.mark_online("local-host", "c1")
        await a.publish_retained("ctl.h", "revoked", key="k", rank=1, ttl_ms=60_000)
        await b.mark_online("remote-host", "c2")
        redis.stop()
        await until(lambda: not a.healthy())
        error = a.last_error()
        assert error is not None and error.startswith(f"redis at {redis.url}: ")
        assert "onnect" in error  # "Connection closed by server." / "Error 111 connecting"
        dropped = a.dropped
        await a.publish("conn.y", "lost")
        assert a.dropped == dropped + 1
        assert await a.is_online("local-host")  # what this relay knows still holds
        assert not await a.is_online("remote-host")
        await a.subscribe("conn.late", recorder(got))  # returns; subscribed on reconnect
        redis.start()  # empty: no persistence
        await until(lambda: a.healthy() and b.healthy(), within=15)
        await b.publish("conn.x", "1")
        await b.publish("topic.h.s.c", "2")
        await b.publish("conn.late", "3")
        await until(lambda: len(got) == 3)
        assert got == [("conn.x", "1"), ("topic.h.s.c", "2"), ("conn.late", "3")]
        assert await b.is_online("local-host")  # presence re-created by its owner
        fresh = RedisBus(redis.url)
        await fresh.start()
        replayed: Got = []
        await fresh.subscribe("ctl.*", recorder(replayed))
        await fresh.close()
        assert replayed == [("ctl.h", "revoked")]  # written back by a relay that knew it
    finally:
        await a.close()
        await b.close()
        redis.stop()


async def test_a_relay_that_starts_without_redis_is_not_ready_until_it_connects(
    tmp_path: Path,
) -> None:
    redis = RedisServer(tmp_path)  # not started yet
    async with running_relay(bus_url=redis.url) as relay:
        import httpx

        async with httpx.AsyncClient(base_url=relay.http) as http:
            down = await http.get("/health/ready")
            assert down.status_code == 503
            body = down.json()
            assert body["bus"] == "down" and body["ready"] is False
            assert body["bus_error"].startswith(f"redis at {redis.url}: Error 111 connecting")
            redis.start()
            try:
                await until(lambda: relay.hub.bus.healthy(), within=15)
                up = await http.get("/health/ready")
                assert up.status_code == 200 and "bus_error" not in up.json()
            finally:
                redis.stop()


async def test_shared_levels_count_every_relays_frames(redis_url: str) -> None:
    a, b = RedisBus(redis_url), RedisBus(redis_url)
    await a.start()
    await b.start()
    try:
        limit = RateLimit(0.001, 10)  # refills too slowly to matter here
        assert round((await a.share_usage({"acct": (8, limit)}))["acct"]) == 2
        assert round((await b.share_usage({"acct": (1, limit)}))["acct"]) == 1
        assert round((await a.share_usage({"acct": (0, limit)}))["acct"]) == 1
        assert await InProcessBus().share_usage({"acct": (8, limit)}) == {}
    finally:
        await a.close()
        await b.close()


async def test_account_rate_limit_holds_across_relays(
    redis_server: RedisServer, redis_url: str,
) -> None:
    account_rate = RateLimit(0.5, 10)
    account = SigningKey.generate()
    async with (
        running_relay(bus_url=redis_url, account_rate=account_rate) as one,
        running_relay(bus_url=redis_url, account_rate=account_rate) as two,
    ):
        unsub = {"t": "unsub", "host": host_id_from_public_key(b"\x01" * 32), "space": "s",
                 "chans": ["c"]}
        first = await connect_client(one, new_device(account))
        for _ in range(10):  # the account's whole burst, spent on relay one
            await first.peer.send(unsub)
            await first.peer.expect("unsubbed")
        key = f"hearth:rl:{b64e(account.verify_key.encode())}"
        await until(lambda: b"level" in redis_server.command("HGETALL", key))
        second = await connect_client(two, new_device(account))
        accepted = 0
        for _ in range(10):  # relay two alone would accept all ten
            await second.peer.send(unsub)
            reply = await second.peer.recv()
            if reply["t"] == "error":
                assert reply == {"t": "error", "code": "rate_limited", "ref": "unsub",
                                 "msg": "too many frames from this account's connections: "
                                        "limit 0.5/s, burst 10"}
                break
            accepted += 1
            await asyncio.sleep(0.05)  # let a share interval pass
        else:
            raise AssertionError("relay two accepted 10 frames of an exhausted account")
        assert accepted < 10


async def test_revocation_reaches_other_relays_and_relays_started_later(
    redis_url: str,
) -> None:
    async with (
        running_relay(bus_url=redis_url) as one,
        running_relay(bus_url=redis_url) as two,
    ):
        host = await connect_host(one)
        member = await connect_client(two)
        token = host.token(member.device, chans=["general"])
        await member.subscribe(host)
        await host.peer.send(host.pub())
        assert (await member.peer.expect("event"))["host"] == host.id  # across relays
        await host.peer.send({"t": "revoke", "before": now_ms(),
                              "acct": b64e(member.device.account)})
        ended = await member.peer.expect("unsubbed")
        assert ended["reason"] == "revoked" and ended["chans"] == ["general"]
        async with running_relay(bus_url=redis_url) as three:
            late = await connect_client(three, member.device)
            await late.peer.send({"t": "sub", "token": token, "chans": ["general"]})
            error = await late.peer.expect_error("token_revoked", ref="sub")
            assert "was revoked by its host" in error["msg"]

