"""A consumer that stops reading is closed SLOW_CONSUMER; nobody else notices."""

from __future__ import annotations

import asyncio
import socket

from hearth.frames import CloseCode
from relay.settings import RateLimit, RelaySettings
from tests.relay.relay_helpers import ClientPeer, connect_client, connect_host

SUBSCRIBERS = 50
BATCH = 10


async def test_slow_consumer_is_closed_and_the_others_get_every_event(live_relay_with) -> None:  # type: ignore[no-untyped-def]
    host_rates = RelaySettings().host_rates | {"ping": RateLimit(1000, 1000)}
    async with live_relay_with(client_queue_frames=32, client_queue_chars=256 * 1024,
                               host_rates=host_rates) as relay:
        host = await connect_host(relay)
        # The slow client has a tiny receive buffer and a one-message client-side queue,
        # so it stops reading from TCP as soon as it stops calling recv().
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", int(relay.url.rsplit(":", 1)[1])))
        slow = await connect_client(relay, sock=sock, max_queue=1)
        await slow.subscribe(host)
        others = [await connect_client(relay) for _ in range(SUBSCRIBERS)]
        for other in others:
            await other.subscribe(host)

        received: list[list[int]] = [[] for _ in others]

        async def read_all(i: int, peer: ClientPeer) -> None:
            while True:
                event = await peer.peer.expect("event", within=5)
                received[i].append(int(event["body"].split('"seq":')[1].split(",")[0]))

        readers = [asyncio.create_task(read_all(i, o)) for i, o in enumerate(others)]
        slow_conn = relay.hub.conns[slow.conn]
        sent = 0
        env = "A" * 8000
        while not slow_conn.outbox.closing:
            assert sent < 2000, "the slow consumer was never closed"
            for _ in range(BATCH):
                sent += 1
                await host.peer.send(host.pub(seq=sent, env=env))
            await host.peer.alive(sent)  # the relay has processed the batch
        # The relay waits close_timeout for the close frame to get through; read it now
        # (the stalled reader "wakes up"), not after the slow wait for the others below.
        slow_closed = asyncio.create_task(slow.peer.closed(within=30))
        for _ in range(BATCH):  # traffic after the close still flows to everyone else
            sent += 1
            await host.peer.send(host.pub(seq=sent, env=env))
        try:
            async with asyncio.timeout(20):
                # Polling is simplest here: 50 readers, one shared condition.
                while any(len(r) < sent for r in received):  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
        finally:
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        assert all(r == list(range(1, sent + 1)) for r in received)
        print(f"slow consumer closed after {sent - BATCH} events")
        code, reason = await slow_closed
        assert code == CloseCode.SLOW_CONSUMER and "send queue full" in reason
        assert relay.hub.metrics.slow_consumers.labels("client")._value.get() == 1
