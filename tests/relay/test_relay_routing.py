"""Routing client -> host -> client, offline hosts, and every refused frame shape."""

from __future__ import annotations

import asyncio

import pytest

from hearth.b64 import b64e
from hearth.frames import HOST_ONLY_TAGS, CloseCode
from hearth.limits import MAX_CLIENT_FRAME
from hearth.rpc import ResponseBody, sign_host_body, sign_request
from tests.relay.relay_helpers import RelayHandle, connect_client, connect_host

FAKE_SIG = "A" * 86


async def test_request_reaches_the_host_untouched_and_the_response_comes_back(
    live_relay: RelayHandle,
) -> None:
    host = await connect_host(live_relay)
    client = await connect_client(live_relay)
    req_body, text, sig = sign_request(client.device, host.id, "space.list", {})
    await client.peer.send({"t": "req", "host": host.id, "id": "r1", "body": text, "sig": sig})
    fwd = await host.peer.expect("fwd")
    assert fwd == {"t": "fwd", "from": client.conn, "body": text, "sig": sig}
    resp_text, resp_sig = sign_host_body(host.key, ResponseBody(
        v=1, host=host.id, dev=req_body.dev, re=req_body.n, ok=True, r={"spaces": []}))
    await host.peer.send({"t": "resp_to", "to": fwd["from"], "body": resp_text, "sig": resp_sig})
    resp = await client.peer.expect("resp")
    assert resp == {"t": "resp", "host": host.id, "body": resp_text, "sig": resp_sig}


async def test_request_to_an_offline_host_is_refused_at_once(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    await host.peer.close()
    client = await connect_client(live_relay)
    await asyncio.sleep(0.05)
    started = asyncio.get_running_loop().time()
    await client.peer.send({"t": "req", "host": host.id, "id": "q-42", "body": "{}",
                            "sig": FAKE_SIG})
    error = await client.peer.expect_error("host_offline", ref="q-42")
    assert host.id in error["msg"]
    assert asyncio.get_running_loop().time() - started < 2


async def test_response_to_a_vanished_connection_is_dropped_silently(
    live_relay: RelayHandle,
) -> None:
    host = await connect_host(live_relay)
    await host.peer.send({"t": "resp_to", "to": "nobody-here", "body": "{}", "sig": FAKE_SIG})
    await host.peer.alive()


HOST_FRAMES: dict[str, dict[str, object]] = {
    "host_hello": {"t": "host_hello", "pk": "A" * 43, "sig": FAKE_SIG},
    "resp_to": {"t": "resp_to", "to": "xyz", "body": "{}", "sig": FAKE_SIG},
    "pub": {"t": "pub", "space": "s1", "chan": "general", "body": "{}", "sig": FAKE_SIG},
    "revoke": {"t": "revoke", "before": 10**13, "acct": "A" * 43},
}


def test_every_host_only_frame_type_is_covered() -> None:
    assert set(HOST_FRAMES) == HOST_ONLY_TAGS


@pytest.mark.parametrize("tag", sorted(HOST_ONLY_TAGS))
async def test_client_cannot_send_host_only_frames(live_relay: RelayHandle, tag: str) -> None:
    host = await connect_host(live_relay)
    victim = await connect_client(live_relay)
    await victim.subscribe(host)
    attacker = await connect_client(live_relay)
    frame = dict(HOST_FRAMES[tag])
    if tag == "resp_to":
        frame["to"] = victim.conn
    if tag == "revoke":
        frame["acct"] = b64e(victim.device.account)
    await attacker.peer.send(frame)
    error = await attacker.peer.expect_error("forbidden_frame", ref=tag)
    assert "not accepted from a client" in error["msg"]
    await attacker.peer.alive()
    await host.peer.silent(0.1)
    await victim.peer.silent(0.1)
    # The victim's subscription is intact: a real event still reaches it.
    await host.peer.send(host.pub())
    await victim.peer.expect("event")


@pytest.mark.parametrize("frame", [
    {"t": "req", "host": "a" * 56, "id": "r", "body": "{}", "sig": FAKE_SIG},
    {"t": "sub", "token": "x.y", "chans": ["general"]},
    {"t": "event", "host": "a" * 56, "space": "s", "chan": "c", "body": "{}", "sig": FAKE_SIG},
])
async def test_host_cannot_send_client_or_relay_frames(
    live_relay: RelayHandle, frame: dict[str, object]
) -> None:
    host = await connect_host(live_relay)
    await host.peer.send(frame)
    await host.peer.expect_error("forbidden_frame", ref=str(frame["t"]))
    await host.peer.alive()


@pytest.mark.parametrize(("raw", "code", "ref"), [
    ('{"t": "teleport"}', "unknown_frame", "teleport"),
    ('{"n": 1}', "bad_frame", None),
    ("not json", "bad_frame", None),
    ("[1, 2]", "bad_frame", None),
    ('{"t": "ping", "n": "one"}', "bad_frame", "ping"),
    ('{"t": "ping", "n": 1, "extra": true}', "bad_frame", "ping"),
    ('{"t": "sub", "chans": ["general"]}', "bad_frame", "sub"),
    (b"\x00binary", "bad_frame", None),
])
async def test_malformed_frames_are_refused_and_the_connection_survives(
    live_relay: RelayHandle, raw: str | bytes, code: str, ref: str | None
) -> None:
    client = await connect_client(live_relay)
    await client.peer.send(raw)
    error = await client.peer.expect_error(code)
    assert error["ref"] == ref
    await client.peer.alive()


async def test_oversize_client_frame_is_refused_but_the_connection_survives(
    live_relay: RelayHandle,
) -> None:
    client = await connect_client(live_relay)
    big = {"t": "req", "host": "a" * 56, "id": "r", "body": "x" * MAX_CLIENT_FRAME,
           "sig": FAKE_SIG}
    await client.peer.send(big)
    error = await client.peer.expect_error("too_large", ref="req")
    assert str(MAX_CLIENT_FRAME) in error["msg"]
    await client.peer.alive()
    # Multi-byte text: few characters, many bytes.
    await client.peer.send('{"t":"ping","n":1,"p":"' + "é" * (MAX_CLIENT_FRAME // 2 + 1) + '"}')
    await client.peer.expect_error("too_large")
    await client.peer.alive()


async def test_frame_beyond_the_transport_cap_closes_with_1009(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    await host.peer.send("x" * (live_relay.settings.max_host_frame + 1))
    assert (await host.peer.closed())[0] == CloseCode.MESSAGE_TOO_BIG


async def test_host_going_offline_is_announced_to_its_clients(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    asker = await connect_client(live_relay)
    follower = await connect_client(live_relay)
    bystander = await connect_client(live_relay)
    await follower.subscribe(host)
    await asker.peer.send({"t": "req", "host": host.id, "id": "r", "body": "{}",
                           "sig": FAKE_SIG})
    await host.peer.expect("fwd")
    await host.peer.close()
    for peer in (asker.peer, follower.peer):
        status = await peer.expect("host_status")
        assert status == {"t": "host_status", "host": host.id, "online": False}
    await bystander.peer.silent(0.1)
