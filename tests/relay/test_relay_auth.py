"""Authentication on both endpoints: success, failure, timeout, not_authenticated, replace."""

from __future__ import annotations

import asyncio

from nacl.signing import SigningKey

from hearth.auth import client_hello, host_hello, new_challenge
from hearth.b64 import b64d, b64e
from hearth.frames import CloseCode
from hearth.keys import new_device
from tests.relay.relay_helpers import RelayHandle, connect_client, connect_host, open_peer


async def test_host_authenticates_and_gets_its_self_certifying_id(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    await host.peer.alive()
    assert host.id in live_relay.hub.hosts


async def test_client_authenticates_with_a_fresh_connection_id(live_relay: RelayHandle) -> None:
    a = await connect_client(live_relay)
    b = await connect_client(live_relay, a.device)
    assert a.conn != b.conn and len(a.conn) >= 16
    await a.peer.alive()


async def test_host_hello_signed_over_another_nonce_is_refused(live_relay: RelayHandle) -> None:
    peer, _ = await open_peer(live_relay, "/ws/host")
    await peer.send(host_hello(SigningKey.generate(), new_challenge()))
    error = await peer.expect_error("auth_failed")
    assert "signature does not verify" in error["msg"]
    assert (await peer.closed())[0] == CloseCode.AUTH_FAILED


async def test_client_hello_signed_by_another_device_is_refused(live_relay: RelayHandle) -> None:
    account = SigningKey.generate()
    device, impostor = new_device(account), new_device(account)
    peer, challenge = await open_peer(live_relay, "/ws/client")
    hello = client_hello(impostor, challenge)
    hello.cert = device.certificate.encode()  # device's cert, impostor's signature
    await peer.send(hello)
    await peer.expect_error("auth_failed")
    assert (await peer.closed())[0] == CloseCode.AUTH_FAILED


async def test_client_certificate_not_signed_by_its_account_is_refused(
    live_relay: RelayHandle,
) -> None:
    device = new_device(SigningKey.generate())
    peer, challenge = await open_peer(live_relay, "/ws/client")
    hello = client_hello(device, challenge)
    raw = bytearray(b64d(hello.cert))
    raw[1] ^= 1  # flip a bit of the account key inside the signed payload
    hello.cert = b64e(bytes(raw))
    await peer.send(hello)
    error = await peer.expect_error("auth_failed")
    assert "device-cert" in error["msg"]
    assert (await peer.closed())[0] == CloseCode.AUTH_FAILED


async def test_frames_before_hello_are_refused_and_the_connection_survives(
    live_relay: RelayHandle,
) -> None:
    peer, challenge = await open_peer(live_relay, "/ws/client")
    await peer.send({"t": "ping", "n": 1})
    error = await peer.expect_error("not_authenticated", ref="ping")
    assert "'hello'" in error["msg"]
    await peer.send(client_hello(new_device(SigningKey.generate()), challenge))
    await peer.expect("welcome")
    hpeer, hchallenge = await open_peer(live_relay, "/ws/host")
    await hpeer.send({"t": "ping"})
    await hpeer.expect_error("not_authenticated", ref="ping")
    await hpeer.send(host_hello(SigningKey.generate(), hchallenge))
    await hpeer.expect("host_welcome")


async def test_hello_twice_is_refused(live_relay: RelayHandle) -> None:
    client = await connect_client(live_relay)
    await client.peer.send(client_hello(client.device, new_challenge()))
    await client.peer.expect_error("bad_frame", ref="hello")
    await client.peer.alive()


async def test_no_hello_within_auth_timeout_closes_both_kinds(live_relay_with) -> None:  # type: ignore[no-untyped-def]
    async with live_relay_with(auth_timeout=0.3) as relay:
        client, _ = await open_peer(relay, "/ws/client")
        host, _ = await open_peer(relay, "/ws/host")
        started = asyncio.get_running_loop().time()
        assert (await client.closed())[0] == CloseCode.AUTH_TIMEOUT
        assert (await host.closed())[0] == CloseCode.AUTH_TIMEOUT
        assert asyncio.get_running_loop().time() - started >= 0.25


async def test_second_host_connection_replaces_the_first(live_relay: RelayHandle) -> None:
    old = await connect_host(live_relay)
    new = await connect_host(live_relay, old.key)
    code, reason = await old.peer.closed()
    assert code == CloseCode.REPLACED and "newer connection" in reason
    client = await connect_client(live_relay)
    await client.peer.send({"t": "req", "host": new.id, "id": "r1", "body": "{}",
                            "sig": "A" * 86})
    assert (await new.peer.expect("fwd"))["from"] == client.conn
    # The replaced connection's cleanup must not mark the new one offline.
    await asyncio.sleep(0.1)
    assert list(live_relay.hub.hosts[new.id]) and await live_relay.hub.bus.is_online(new.id)
