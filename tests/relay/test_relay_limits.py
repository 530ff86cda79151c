"""Rate limits (per connection, per identity), flooding and idle timeouts, end to end."""

from __future__ import annotations

import asyncio

from nacl.signing import SigningKey

from hearth.frames import CloseCode
from hearth.keys import new_device
from hearth.ratelimit import RateLimit
from relay.settings import RelaySettings
from tests.relay.relay_helpers import connect_client, connect_host

DEFAULTS = RelaySettings()


async def test_per_connection_rate_limit_refuses_then_recovers(live_relay_with) -> None:  # type: ignore[no-untyped-def]
    rates = DEFAULTS.client_rates | {"ping": RateLimit(5, 3)}
    async with live_relay_with(client_rates=rates) as relay:
        client = await connect_client(relay)
        for n in range(5):
            await client.peer.send({"t": "ping", "n": n})
        replies = [await client.peer.recv() for _ in range(5)]
        assert [r["t"] for r in replies] == ["pong"] * 3 + ["error"] * 2
        assert replies[3]["code"] == "rate_limited" and replies[3]["ref"] == "ping"
        assert "limit 5/s, burst 3" in replies[3]["msg"]
        await asyncio.sleep(0.25)
        await client.peer.alive()


async def test_per_account_rate_limit_spans_its_connections(live_relay_with) -> None:  # type: ignore[no-untyped-def]
    rates = DEFAULTS.client_rates | {"ping": RateLimit(100, 100)}
    async with live_relay_with(client_rates=rates, account_rate=RateLimit(0.1, 4)) as relay:
        account = SigningKey.generate()
        a = await connect_client(relay, new_device(account))
        b = await connect_client(relay, new_device(account))
        stranger = await connect_client(relay)
        for peer in (a.peer, a.peer, b.peer, b.peer):
            await peer.alive()
        await b.peer.send({"t": "ping"})
        error = await b.peer.expect_error("rate_limited", ref="ping")
        assert "this account's connections" in error["msg"]
        await stranger.peer.alive()  # another account is unaffected


async def test_host_frames_are_rate_limited(live_relay_with) -> None:  # type: ignore[no-untyped-def]
    rates = DEFAULTS.host_rates | {"pub": RateLimit(0.1, 2)}
    async with live_relay_with(host_rates=rates) as relay:
        host = await connect_host(relay)
        client = await connect_client(relay)
        await client.subscribe(host)
        for seq in (1, 2, 3):
            await host.peer.send(host.pub(seq=seq))
        await host.peer.expect_error("rate_limited", ref="pub")
        assert [(await client.peer.expect("event"))["chan"] for _ in range(2)] == ["general"] * 2
        await client.peer.silent(0.1)
        await host.peer.alive()


async def test_persistent_flooding_closes_the_connection(live_relay_with) -> None:  # type: ignore[no-untyped-def]
    async with live_relay_with(flood=RateLimit(1, 5)) as relay:
        client = await connect_client(relay)
        for _ in range(10):
            await client.peer.send('{"t": "nonsense"}')
        errors = 0
        code, reason = None, ""
        try:
            while True:
                frame = await client.peer.recv()
                assert frame["code"] == "unknown_frame"
                errors += 1
        except Exception:
            code, reason = await client.peer.closed()
        assert code == CloseCode.FLOODING and "too many refused frames" in reason
        assert errors == 6  # burst of 5 refusals allowed, the 6th closes


async def test_idle_connection_is_closed_but_a_pinging_one_survives(live_relay_with) -> None:  # type: ignore[no-untyped-def]
    rates = DEFAULTS.client_rates | {"ping": RateLimit(100, 100)}
    async with live_relay_with(idle_timeout=0.4, client_rates=rates) as relay:
        idle = await connect_client(relay)
        busy = await connect_client(relay)
        host = await connect_host(relay)
        for n in range(6):
            await busy.peer.alive(n)
            await asyncio.sleep(0.15)
        code, reason = await idle.peer.closed()
        assert code == CloseCode.IDLE_TIMEOUT and "0.4 s" in reason
        assert (await host.peer.closed())[0] == CloseCode.IDLE_TIMEOUT
        await busy.peer.alive()
