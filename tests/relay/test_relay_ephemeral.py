"""Presence and typing at the relay: only from a follower of the route, only as itself,
to the route's other subscribers, never to a host, rate limited, counted."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from hearth.b64 import b64e
from hearth.ephemeral import sign_ephemeral
from hearth.frames import Ephemeral, encode_frame
from hearth.keys import now_ms
from tests.redis_server import RedisServer
from tests.relay.relay_helpers import (
    ClientPeer,
    HostPeer,
    RelayHandle,
    connect_client,
    connect_host,
    running_relay,
)


def typing(client: ClientPeer, host: HostPeer, chan: str = "general",
           space: str = "s1") -> dict[str, Any]:
    frame = sign_ephemeral(client.device, host.id, space, chan, "typing", "typing")
    return {"t": "eph", "host": frame.host, "space": frame.space, "chan": frame.chan,
            "body": frame.body, "sig": frame.sig}


def presence(client: ClientPeer, host: HostPeer, state: str = "online",
             space: str = "s1") -> dict[str, Any]:
    frame = sign_ephemeral(client.device, host.id, space, "*", "presence", state)
    return {"t": "eph", "host": frame.host, "space": frame.space, "chan": frame.chan,
            "body": frame.body, "sig": frame.sig}


def forbidden_text(host: HostPeer, chan: str, space: str = "s1") -> str:
    where = f"space {space!r}" if chan == "*" else f"channel {chan!r} of space {space!r}"
    return (f"'eph' to {where} on host {host.id} needs a live subscription covering it on "
            "this connection: subscribe first")


async def test_typing_reaches_the_channels_other_followers_and_never_the_host(
    live_relay: RelayHandle,
) -> None:
    host = await connect_host(live_relay)
    alice, bob, star, elsewhere = [await connect_client(live_relay) for _ in range(4)]
    await alice.subscribe(host)
    await bob.subscribe(host)
    await star.subscribe(host, chans=["*"])
    await elsewhere.subscribe(host, chans=["random"])
    sent = typing(alice, host)
    await alice.peer.send(sent)
    # Untouched, to the channel's followers and the space's "*" followers.
    assert await bob.peer.expect("eph") == sent
    assert await star.peer.expect("eph") == sent
    await alice.peer.silent(0.15)  # never echoed to the sender
    await elsewhere.peer.silent(0.05)  # another channel's follower: not for them
    await host.peer.silent(0.05)  # ephemeral traffic never reaches the host


async def test_presence_reaches_every_follower_of_the_space_once(
    live_relay: RelayHandle,
) -> None:
    host = await connect_host(live_relay)
    alice, general, random, star, other_space = [await connect_client(live_relay)
                                                 for _ in range(5)]
    await alice.subscribe(host)  # follows only "general": enough to be present in s1
    await general.subscribe(host)
    await random.subscribe(host, chans=["random", "news"])
    await star.subscribe(host, chans=["*"])
    await star.subscribe(host, chans=["general"])
    await other_space.subscribe(host, space="s2")
    sent = presence(alice, host, "away")
    await alice.peer.send(sent)
    for peer in (general, random, star):
        assert await peer.peer.expect("eph") == sent
    await random.peer.silent(0.1)  # one copy, although it follows two channels
    await star.peer.silent(0.05)  # one copy, although it follows "*" and "general"
    await other_space.peer.silent(0.05)
    await alice.peer.silent(0.05)
    await host.peer.silent(0.05)


async def test_refused_without_a_covering_subscription(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    other_host = await connect_host(live_relay)
    mallory, bob = await connect_client(live_relay), await connect_client(live_relay)
    await bob.subscribe(host, chans=["*"])

    async def refused(frame: dict[str, Any], text: str) -> None:
        await mallory.peer.send(frame)
        error = await mallory.peer.expect_error("forbidden", "eph")
        assert error["msg"] == text
        await bob.peer.silent(0.05)

    # Never subscribed at all: neither presence nor typing.
    await refused(presence(mallory, host), forbidden_text(host, "*"))
    await refused(typing(mallory, host), forbidden_text(host, "general"))
    # Following "general" covers neither another channel nor another space or host.
    await mallory.subscribe(host)
    await refused(typing(mallory, host, "random"), forbidden_text(host, "random"))
    await refused(presence(mallory, host, space="s2"), forbidden_text(host, "*", "s2"))
    await refused(typing(mallory, other_host), forbidden_text(other_host, "general"))
    # After leaving, nothing more.
    await mallory.peer.send({"t": "unsub", "host": host.id, "space": "s1",
                             "chans": ["general"]})
    await mallory.peer.expect("unsubbed")
    await refused(presence(mallory, host), forbidden_text(host, "*"))


async def test_refused_after_revocation(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    removed, bob = await connect_client(live_relay), await connect_client(live_relay)
    await removed.subscribe(host, chans=["*"])
    await bob.subscribe(host, chans=["*"])
    await removed.peer.send(presence(removed, host))
    await bob.peer.expect("eph")
    await host.peer.send({"t": "revoke", "before": now_ms(), "space": "s1",
                          "acct": b64e(removed.device.account)})
    assert (await removed.peer.expect("unsubbed"))["reason"] == "revoked"
    await removed.peer.send(presence(removed, host))
    error = await removed.peer.expect_error("forbidden", "eph")
    assert error["msg"] == forbidden_text(host, "*")
    await bob.peer.send(presence(bob, host))
    await removed.peer.silent(0.15)  # and it receives nothing either


async def test_only_as_its_own_device_and_on_its_signed_route(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    alice, mallory, bob = [await connect_client(live_relay) for _ in range(3)]
    for c in (alice, mallory, bob):
        await c.subscribe(host, chans=["*"])
    # Mallory replays Alice's signed presence: refused, naming both devices.
    stolen = presence(alice, host)
    await mallory.peer.send(stolen)
    error = await mallory.peer.expect_error("forbidden", "eph")
    assert error["msg"] == (
        f"eph body names device {b64e(alice.device.public_key)} of account "
        f"{b64e(alice.device.account)}, but this connection is device "
        f"{b64e(mallory.device.public_key)} of account {b64e(mallory.device.account)}"
    )
    # Its own typing body, routed to another channel than it signed.
    moved = typing(mallory, host, "general") | {"chan": "random"}
    await mallory.peer.send(moved)
    error = await mallory.peer.expect_error("bad_frame", "eph")
    assert error["msg"] == "eph body names chan 'general' but the frame is routed to 'random'"
    # A body that is not an ephemeral body at all.
    await mallory.peer.send(presence(mallory, host) | {"body": '{"v":1}'})
    error = await mallory.peer.expect_error("bad_frame", "eph")
    assert error["msg"].startswith("eph body: Object missing required field")
    # An oversize body is refused by the frame decoder, naming the field.
    await mallory.peer.send(presence(mallory, host) | {"body": "{" + " " * 600 + "}"})
    error = await mallory.peer.expect_error("bad_frame", "eph")
    assert "$.body" in error["msg"] and "length <= 512" in error["msg"]
    await bob.peer.silent(0.1)
    await alice.peer.silent(0.05)


async def test_typing_flood_is_rate_limited_with_the_exact_error(
    live_relay: RelayHandle,
) -> None:
    host = await connect_host(live_relay)
    flooder, bob = await connect_client(live_relay), await connect_client(live_relay)
    await flooder.subscribe(host)
    await bob.subscribe(host)
    limit = live_relay.settings.client_rates["eph"]
    assert (limit.rate, limit.burst) == (2, 20)
    for _ in range(25):
        await flooder.peer.send(typing(flooder, host))
    for _ in range(5):
        error = await flooder.peer.expect_error("rate_limited", "eph")
        assert error["msg"] == "too many 'eph' frames on this connection: limit 2/s, burst 20"
    await flooder.peer.silent(0.1)
    received = 0
    while True:
        try:
            await bob.peer.expect("eph", within=0.3)
        except TimeoutError:
            break
        received += 1
    assert received == 20  # exactly the burst got through


async def test_metrics_count_ephemeral_frames_and_subjects_are_released(
    live_relay: RelayHandle,
) -> None:
    bus = live_relay.hub.bus
    baseline = bus.subject_count()  # type: ignore[attr-defined]
    host = await connect_host(live_relay)
    alice = await connect_client(live_relay)
    watchers = [await connect_client(live_relay) for _ in range(3)]
    await alice.subscribe(host)
    for w in watchers:
        await w.subscribe(host, chans=["*"])
    await alice.peer.send(presence(alice, host))
    for w in watchers:
        await w.peer.expect("eph")
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{live_relay.http}/metrics")).text
    assert 'hearth_relay_frames_in_total{kind="client",type="eph"} 1.0' in text
    assert 'hearth_relay_frames_out_total{kind="client",type="eph"} 3.0' in text
    for c in (alice, *watchers):
        await c.peer.close()
    for _ in range(50):
        if len(live_relay.hub.conns) == 1:
            break
        await asyncio.sleep(0.02)
    assert not live_relay.hub.subs.by_space
    assert bus.subject_count() == baseline + 1  # type: ignore[attr-defined]


async def test_a_forged_frame_type_from_the_host_side_is_not_accepted(
    live_relay: RelayHandle,
) -> None:
    host = await connect_host(live_relay)
    member = await connect_client(live_relay)
    frame = sign_ephemeral(member.device, host.id, "s1", "*", "presence", "online")
    await host.peer.send(encode_frame(Ephemeral(host=host.id, space="s1", chan="*",
                                                body=frame.body, sig=frame.sig)))
    error = await host.peer.expect_error("forbidden_frame")
    assert error["msg"] == "frame type 'eph' is not accepted from a host"


async def test_presence_crosses_relays_sharing_redis(tmp_path: Path) -> None:
    """Scale-out: the sender on one relay, followers on both; each reached once, the
    sender never, and the host (on the first relay) never."""
    server = RedisServer(tmp_path).start()
    try:
        async with (
            running_relay(bus_url=server.url) as one,
            running_relay(bus_url=server.url) as two,
        ):
            host = await connect_host(one)
            alice, near = await connect_client(one), await connect_client(one)
            far = await connect_client(two)
            await alice.subscribe(host)
            await near.subscribe(host, chans=["*"])
            await far.subscribe(host, chans=["general"])
            sent = presence(alice, host)
            await alice.peer.send(sent)
            assert await near.peer.expect("eph") == sent
            assert await far.peer.expect("eph", within=5) == sent
            sent = typing(far, host)
            await far.peer.send(sent)
            assert await alice.peer.expect("eph", within=5) == sent
            assert await near.peer.expect("eph", within=5) == sent
            for peer in (alice.peer, near.peer, far.peer, host.peer):
                await peer.silent(0.1)
    finally:
        server.stop()
