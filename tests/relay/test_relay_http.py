"""HTTP endpoints, static files, and the graceful shutdown."""

from __future__ import annotations

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hearth.frames import CloseCode
from tests.relay.relay_helpers import RelayHandle, connect_client, connect_host, running_relay


async def test_live_and_ready(live_relay: RelayHandle) -> None:
    await connect_host(live_relay)
    await connect_client(live_relay)
    async with httpx.AsyncClient(base_url=live_relay.http) as http:
        assert (await http.get("/health/live")).status_code == 200
        ready = await http.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "accepting": True, "bus": "ok",
                            "connections": {"client": 1, "host": 1}, "hosts_online": 1}


async def test_metrics_count_connections_frames_and_refusals(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    client = await connect_client(live_relay)
    await client.peer.send({"t": "pub", "space": "s", "chan": "c", "body": "{}",
                            "sig": "A" * 86})
    await client.peer.expect_error("forbidden_frame")
    await host.peer.alive()
    async with httpx.AsyncClient(base_url=live_relay.http) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/")
    text = response.text
    for line in (
        'hearth_relay_connections{kind="client"} 1.0',
        'hearth_relay_connections{kind="host"} 1.0',
        'hearth_relay_refusals_total{code="forbidden_frame",kind="client"} 1.0',
        'hearth_relay_frames_in_total{kind="host",type="ping"} 1.0',
        'hearth_relay_frames_out_total{kind="host",type="pong"} 1.0',
        "hearth_relay_hosts_online 1.0",
        "hearth_relay_fanout_seconds_bucket",
        "hearth_relay_slow_consumer_closes_total",
    ):
        assert line in text, line


async def test_web_client_is_served(live_relay: RelayHandle) -> None:
    async with httpx.AsyncClient(base_url=live_relay.http) as http:
        page = await http.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()


async def test_draining_relay_is_not_ready_and_turns_new_connections_away(
    live_relay: RelayHandle,
) -> None:
    client = await connect_client(live_relay)
    await live_relay.hub.drain(CloseCode.GOING_AWAY, "relay is shutting down", 2.0)
    assert (await client.peer.closed())[0] == CloseCode.GOING_AWAY
    async with httpx.AsyncClient(base_url=live_relay.http) as http:
        ready = await http.get("/health/ready")
        assert (await http.get("/health/live")).status_code == 200
    assert ready.status_code == 503 and ready.json()["accepting"] is False
    async with connect(f"{live_relay.url}/ws/client") as ws:
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as exc:
            assert exc.rcvd is not None and exc.rcvd.code == CloseCode.GOING_AWAY


async def test_shutdown_closes_every_connection_with_going_away() -> None:
    async with running_relay() as relay:
        host = await connect_host(relay)
        client = await connect_client(relay)
        relay.server.should_exit = True
        for peer in (host.peer, client.peer):
            code, reason = await peer.closed(within=5)
            assert code == CloseCode.GOING_AWAY and "shutting down" in reason
