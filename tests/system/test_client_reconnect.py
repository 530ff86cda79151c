"""The Python client reconnects by itself: real relay and host processes, no hand-holding.

A subscribed client keeps receiving after the relay process is killed and restarted on
the same port; a SecureClient whose network went away catches up, by sequence number,
what was published meanwhile; a redial the relay refuses (``auth_failed``) is not
retried, and neither is anything when reconnection is off.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from nacl.signing import SigningKey

from hearth.client import Client, Disconnected, RequestError, Resumed, new_message_id
from hearth.crypto.recovery import Recovery
from hearth.e2e.secure import SecureClient
from hearth.frames import CloseCode
from hearth.identity import Identity
from hearth.processes import Relay
from tests.conftest import Community, connect_user, free_port, start_relay

N = TypeVar("N")


class Proxy:
    """A TCP forwarder to the relay: the network between one client and the relay,
    which a test can cut (every link aborted, as a failing network does) or take away
    (no new link either) and bring back on the same port."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.port = free_port()
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    @property
    def route(self) -> Relay:
        """The relay as seen through this proxy (for connect_user)."""
        return Relay(self.port, self.relay.process)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port)

    async def _link(self, down_r: asyncio.StreamReader, down_w: asyncio.StreamWriter) -> None:
        self.accepted += 1
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.relay.port)
        self._links |= {down_w, up_w}

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        await asyncio.gather(pipe(down_r, up_w), pipe(up_r, down_w))

    def cut(self) -> None:
        for writer in self._links:
            writer.transport.abort()
        self._links.clear()

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        self.cut()
        await self._server.wait_closed()


@pytest.fixture
async def proxy(relay: Relay) -> AsyncIterator[Proxy]:
    running = Proxy(relay)
    await running.start()
    yield running
    await running.stop()


async def next_notice(client: Client, kind: type[N], within: float = 30) -> N:
    """The next notice of type ``kind`` (others are skipped)."""
    async with asyncio.timeout(within):
        while True:
            notice = await client.notices.get()
            if isinstance(notice, kind):
                return notice


async def join(community: Community, relay: Relay, name: str) -> Client:
    """A new member of the community's space, connected through ``relay``."""
    owner = community.owner.host(community.host.host_id)
    link = await owner.invite_link(community.space, uses=1)
    client = await connect_user(relay, community.host, name)
    await client.host(community.host.host_id).redeem(link["secret"])
    return client


async def publish_acked(client: Client, host_id: str, space: str, chan: str,
                        envelope: bytes, within: float = 30) -> dict[str, Any]:
    """Publish, resending the same message id while the relay or host is not back."""
    msg_id, deadline = new_message_id(), time.monotonic() + within
    while True:
        try:
            return await client.host(host_id).publish(space, chan, envelope, msg_id)
        except RequestError as exc:
            if exc.wire_code != "host_offline" or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_subscriber_keeps_receiving_across_a_relay_restart(
    tmp_path: Path, relay: Relay, community: Community,
) -> None:
    host_id, space, general = community.host.host_id, community.space, community.general
    bob = await join(community, relay, "bob")
    await bob.subscribe(host_id, space, [general])
    await publish_acked(community.owner, host_id, space, general, b"before")
    assert (await bob.next_event()).envelope == b"before"

    relay.process.proc.kill()  # no close frame, no warning
    relay.process.proc.wait()
    relay.process = start_relay(tmp_path, port=relay.port).process

    gone = await next_notice(bob, Disconnected)
    assert gone.retry_in is not None, gone
    # Redialled, re-authenticated and resubscribed with a fresh token: the test did nothing.
    assert await next_notice(bob, Resumed) == Resumed(host_id, space, (general,))
    ack = await publish_acked(community.owner, host_id, space, general, b"after")
    event = await bob.next_event()
    assert (event.seq, event.envelope) == (ack["seq"], b"after") == (2, b"after")
    assert bob.stopped is not None and not bob.stopped.done()
    await bob.close()
    assert await bob.stopped == (1000, "")


async def test_secure_client_catches_up_what_it_missed_while_away(
    relay: Relay, community: Community, proxy: Proxy,
) -> None:
    host_id, space, general = community.host.host_id, community.space, community.general
    owner = SecureClient(community.owner, host_id)
    await owner.start()
    owner.use_recovery(Recovery.generate())
    bob_client = await join(community, proxy.route, "bob")
    bob = SecureClient(bob_client, host_id)
    await bob.start()
    await bob_client.subscribe(host_id, space, [general])
    await owner.send(space, general, b"one")
    assert (await bob.receive()).plaintext == b"one"

    await proxy.stop()  # Bob's network is gone, and stays gone for a while
    assert (await next_notice(bob_client, Disconnected)).retry_in is not None
    for text in (b"two", b"three"):
        await owner.send(space, general, text)
    await proxy.start()

    assert await next_notice(bob_client, Resumed) == Resumed(host_id, space, (general,))
    await owner.send(space, general, b"four")  # live again
    shown = [await bob.receive() for _ in range(3)]
    assert [(m.seq, m.plaintext) for m in shown] == [(2, b"two"), (3, b"three"), (4, b"four")]
    with pytest.raises(TimeoutError):  # each once, though catch-up and live delivery overlap
        await bob.receive(wait_s=0.5)

    # Without the catch-up at resumption, the next live message's jump in seq fills the gap.
    bob_client.resume_hooks.clear()
    await proxy.stop()
    assert (await next_notice(bob_client, Disconnected)).retry_in is not None
    await owner.send(space, general, b"five")
    await proxy.start()
    await next_notice(bob_client, Resumed)
    await owner.send(space, general, b"six")
    shown = [await bob.receive() for _ in range(2)]
    assert [(m.seq, m.plaintext) for m in shown] == [(5, b"five"), (6, b"six")]
    assert proxy.accepted >= 3
    await bob_client.close()


def forged(identity: Identity) -> Identity:
    """The identity with a device key its certificate does not certify."""
    return dataclasses.replace(
        identity, device=dataclasses.replace(identity.device, signing=SigningKey.generate()))


async def test_a_redial_refused_auth_failed_is_not_retried(
    relay: Relay, community: Community, proxy: Proxy,
) -> None:
    eve = await connect_user(proxy.route, community.host, "eve")
    eve.identity = forged(eve.identity)
    proxy.cut()
    assert (await next_notice(eve, Disconnected)).retry_in is not None
    assert eve.stopped is not None
    code, reason = await asyncio.wait_for(eve.stopped, 20)
    assert code == CloseCode.AUTH_FAILED, reason
    final = await next_notice(eve, Disconnected)
    assert (final.code, final.retry_in) == (CloseCode.AUTH_FAILED, None)
    await asyncio.sleep(2)
    assert proxy.accepted == 2  # the first connection and the one refused redial
    with pytest.raises(RequestError) as refused:
        await eve.host(community.host.host_id).call("space.list")
    assert refused.value.wire_code == "host_offline"
    await eve.close()


async def test_without_reconnect_a_drop_is_the_end(relay: Relay, proxy: Proxy) -> None:
    client = await Client(Identity.generate(), proxy.route.ws_url, reconnect=False).connect()
    proxy.cut()
    assert client.stopped is not None
    assert await asyncio.wait_for(client.stopped, 10) == (None, "connection lost")
    assert (await next_notice(client, Disconnected)).retry_in is None
    await asyncio.sleep(1)
    assert proxy.accepted == 1
    await client.close()
