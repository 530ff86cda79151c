"""Subscriptions: token checks, fan-out, expiry, revocation, the token cache, topic ownership."""

from __future__ import annotations

import asyncio

import httpx
from nacl.signing import SigningKey

from hearth.b64 import b64e
from hearth.keys import new_device, now_ms
from tests.relay.relay_helpers import RelayHandle, connect_client, connect_host


async def test_subscriber_receives_events_untouched(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    client = await connect_client(live_relay)
    subbed = await client.subscribe(host, chans=["general", "random"])
    assert subbed["host"] == host.id and subbed["space"] == "s1"
    assert subbed["chans"] == ["general", "random"] and subbed["exp"] > now_ms()
    pub = host.pub(chan="random", seq=3)
    await host.peer.send(pub)
    event = await client.peer.expect("event")
    assert event == {"t": "event", "host": host.id, "space": "s1", "chan": "random",
                     "body": pub["body"], "sig": pub["sig"]}
    await host.peer.send(host.pub(chan="elsewhere"))
    await client.peer.silent(0.1)


async def refused_sub(client, token: str, chans: list[str], code: str) -> str:  # type: ignore[no-untyped-def]
    await client.peer.send({"t": "sub", "token": token, "chans": chans})
    error = await client.peer.expect_error(code, ref="sub")
    await client.peer.alive()
    msg: str = error["msg"]
    return msg


async def test_token_of_another_device_is_refused(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    client = await connect_client(live_relay)
    sibling = new_device(SigningKey.generate())
    msg = await refused_sub(client, host.token(sibling), ["general"], "bad_token")
    assert b64e(sibling.public_key) in msg and b64e(client.device.public_key) in msg


async def test_token_of_another_account_for_the_same_device_key_is_refused(
    live_relay: RelayHandle,
) -> None:
    from hearth.token import issue_token

    host = await connect_host(live_relay)
    client = await connect_client(live_relay)
    wire, _ = issue_token(host.key, device=client.device.public_key,
                          account=bytes(SigningKey.generate().verify_key), space="s1",
                          channels=["general"], scopes=["read"], issued_at_ms=now_ms(),
                          lifetime_ms=60_000)
    msg = await refused_sub(client, wire, ["general"], "bad_token")
    assert "account" in msg


async def test_channel_outside_the_token_is_refused(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    client = await connect_client(live_relay)
    token = host.token(client.device, chans=["general"])
    msg = await refused_sub(client, token, ["general", "secret"], "bad_token")
    assert "'secret'" in msg
    assert not live_relay.hub.subs.by_conn  # nothing half-subscribed


async def test_token_without_read_scope_is_refused(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    client = await connect_client(live_relay)
    token = host.token(client.device, scopes=["write"])
    assert "'read'" in await refused_sub(client, token, ["general"], "bad_token")


async def test_expired_and_forged_tokens_are_refused(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    client = await connect_client(live_relay)
    old = host.token(client.device, iat=now_ms() - 120_000, lifetime_ms=60_000)
    assert "expired" in await refused_sub(client, old, ["general"], "token_expired")
    good = host.token(client.device)
    payload, _, sig = good.partition(".")
    forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + sig
    await refused_sub(client, forged, ["general"], "bad_token")
    await refused_sub(client, "no-dot-here", ["general"], "bad_token")


async def test_too_many_subscriptions_are_refused(live_relay_with) -> None:  # type: ignore[no-untyped-def]
    async with live_relay_with(max_subscriptions=3) as relay:
        host = await connect_host(relay)
        client = await connect_client(relay)
        await client.subscribe(host, chans=["a", "b"])
        token = host.token(client.device, chans=["*"])
        msg = await refused_sub(client, token, ["a", "c", "d"], "too_many_subscriptions")
        assert "3" in msg
        await client.peer.send({"t": "sub", "token": token, "chans": ["a", "c"]})
        await client.peer.expect("subbed")


async def test_token_is_verified_once_then_cached(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    client = await connect_client(live_relay)
    token = host.token(client.device, chans=["*"])
    for chans in (["a"], ["b"], ["a", "c"]):
        await client.peer.send({"t": "sub", "token": token, "chans": chans})
        await client.peer.expect("subbed")
    assert live_relay.hub.tokens.verifications == 1
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{live_relay.http}/metrics")).text
    assert "hearth_relay_token_verifications_total 1.0" in text


async def test_unsubscribe_stops_events(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    client = await connect_client(live_relay)
    await client.subscribe(host)
    await client.peer.send({"t": "unsub", "host": host.id, "space": "s1", "chans": ["general"]})
    left = await client.peer.expect("unsubbed")
    assert left["reason"] == "left" and left["chans"] == ["general"]
    await host.peer.send(host.pub())
    await client.peer.silent(0.15)
    assert not live_relay.hub.subs.by_topic


async def test_subscription_ends_when_its_token_expires(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    client = await connect_client(live_relay)
    token = host.token(client.device, lifetime_ms=600)
    await client.peer.send({"t": "sub", "token": token, "chans": ["general"]})
    await client.peer.expect("subbed")
    await host.peer.send(host.pub())
    await client.peer.expect("event")
    ended = await client.peer.expect("unsubbed", within=2)
    assert ended["reason"] == "expired" and ended["chans"] == ["general"]
    await host.peer.send(host.pub())
    await client.peer.silent(0.15)
    # The expired token is not accepted again either.
    await refused_sub(client, token, ["general"], "token_expired")


async def test_an_expired_token_receives_nothing_even_between_sweeps(live_relay_with) -> None:  # type: ignore[no-untyped-def]
    # No sweep runs during this test: the fan-out itself must notice the expiry.
    async with live_relay_with(sweep_interval=3600) as relay:
        host = await connect_host(relay)
        expiring, lasting = await connect_client(relay), await connect_client(relay)
        await expiring.peer.send({"t": "sub", "token": host.token(expiring.device,
                                                                 lifetime_ms=300),
                                  "chans": ["general"]})
        exp = (await expiring.peer.expect("subbed"))["exp"]
        await lasting.subscribe(host)
        await host.peer.send(host.pub(seq=1))
        assert (await expiring.peer.expect("event"))["t"] == "event"
        await asyncio.sleep(max(0, exp - now_ms()) / 1000 + 0.05)
        await host.peer.send(host.pub(seq=2))
        ended = await expiring.peer.expect("unsubbed")
        assert ended["reason"] == "expired" and ended["chans"] == ["general"]
        await expiring.peer.silent(0.15)
        for seq in (1, 2):
            assert f'"seq":{seq},' in (await lasting.peer.expect("event"))["body"]


async def test_revocation_ends_subscriptions_and_refuses_old_tokens(
    live_relay: RelayHandle,
) -> None:
    host = await connect_host(live_relay)
    removed = await connect_client(live_relay)
    other_device = await connect_client(live_relay, new_device(SigningKey.generate()))
    token = host.token(removed.device, chans=["general", "random"])
    await removed.peer.send({"t": "sub", "token": token, "chans": ["general", "random"]})
    await removed.peer.expect("subbed")
    other_space = host.token(removed.device, space="s2")
    await removed.peer.send({"t": "sub", "token": other_space, "chans": ["general"]})
    await removed.peer.expect("subbed")
    await other_device.subscribe(host)
    await host.peer.send({"t": "revoke", "before": now_ms(), "space": "s1",
                          "acct": b64e(removed.device.account)})
    ended = await removed.peer.expect("unsubbed")
    assert ended | {"chans": None} == {"t": "unsubbed", "host": host.id, "space": "s1",
                                       "chans": None, "reason": "revoked"}
    assert sorted(ended["chans"]) == ["general", "random"]
    await host.peer.send(host.pub())
    assert (await other_device.peer.expect("event"))["space"] == "s1"
    await removed.peer.silent(0.15)
    await host.peer.send(host.pub(space="s2"))
    assert (await removed.peer.expect("event"))["space"] == "s2"  # other space unaffected
    msg = await refused_sub(removed, token, ["general"], "token_revoked")
    assert "revoked" in msg
    await asyncio.sleep(0.01)
    fresh = host.token(removed.device)  # issued after `before`: a re-admitted member
    await removed.peer.send({"t": "sub", "token": fresh, "chans": ["general"]})
    await removed.peer.expect("subbed")


async def test_device_revocation_spares_the_accounts_other_devices(
    live_relay: RelayHandle,
) -> None:
    host = await connect_host(live_relay)
    account = SigningKey.generate()
    lost = await connect_client(live_relay, new_device(account))
    kept = await connect_client(live_relay, new_device(account))
    await lost.subscribe(host)
    await kept.subscribe(host)
    await host.peer.send({"t": "revoke", "before": now_ms(),
                          "dev": b64e(lost.device.public_key)})
    assert (await lost.peer.expect("unsubbed"))["reason"] == "revoked"
    await host.peer.send(host.pub())
    await kept.peer.expect("event")
    await lost.peer.silent(0.1)


async def test_revoke_must_name_exactly_one_target(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    await host.peer.send({"t": "revoke", "before": now_ms()})
    error = await host.peer.expect_error("bad_frame", ref="revoke")
    assert "neither" in error["msg"]
    await host.peer.send({"t": "revoke", "before": now_ms(), "acct": "A" * 43,
                          "dev": "B" * 43})
    assert "both" in (await host.peer.expect_error("bad_frame", ref="revoke"))["msg"]


async def test_a_host_cannot_publish_into_another_hosts_topic(live_relay: RelayHandle) -> None:
    victim = await connect_host(live_relay)
    attacker = await connect_host(live_relay)
    client = await connect_client(live_relay)
    await client.subscribe(victim)
    # Same space and channel names: the topic is still the attacker's own.
    await attacker.peer.send(attacker.pub())
    await client.peer.silent(0.15)
    # Naming the victim's host in the frame is refused outright.
    forged = victim.pub() | {"host": victim.id}
    await attacker.peer.send(forged)
    await attacker.peer.expect_error("bad_frame", ref="pub")
    await client.peer.silent(0.1)
    await victim.peer.send(victim.pub())
    assert (await client.peer.expect("event"))["host"] == victim.id


async def test_a_host_cannot_revoke_another_hosts_subscribers(live_relay: RelayHandle) -> None:
    victim = await connect_host(live_relay)
    attacker = await connect_host(live_relay)
    client = await connect_client(live_relay)
    await client.subscribe(victim)
    await attacker.peer.send({"t": "revoke", "before": now_ms(),
                              "acct": b64e(client.device.account)})
    await client.peer.silent(0.15)
    await victim.peer.send(victim.pub())
    await client.peer.expect("event")


async def test_closing_connections_leaves_no_routing_state(live_relay: RelayHandle) -> None:
    baseline = live_relay.hub.bus.subject_count()  # type: ignore[attr-defined]
    host = await connect_host(live_relay)
    clients = [await connect_client(live_relay) for _ in range(3)]
    for client in clients:
        await client.subscribe(host, chans=["a", "b"])
        await client.peer.close()
    await host.peer.close()
    for _ in range(50):
        if not live_relay.hub.conns:
            break
        await asyncio.sleep(0.02)
    hub = live_relay.hub
    assert not hub.conns and not hub.hosts and not hub.subs.by_topic and not hub.watchers
    assert hub.bus.subject_count() == baseline  # type: ignore[attr-defined]


async def test_star_follows_every_channel_of_the_space_once(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    everything = await connect_client(live_relay)
    both = await connect_client(live_relay)
    assert (await everything.subscribe(host, chans=["*"]))["chans"] == ["*"]
    await both.subscribe(host, chans=["*"])
    await both.subscribe(host, chans=["general"])  # by name as well: still one copy
    for chan in ("general", "later-created"):
        pub = host.pub(chan=chan)
        await host.peer.send(pub)
        for client in (everything, both):
            assert (await client.peer.expect("event"))["chan"] == chan
    await host.peer.send(host.pub(space="s2"))
    await everything.peer.silent(0.1)
    await both.peer.silent(0.1)


async def test_star_needs_a_star_token_and_stands_alone(live_relay: RelayHandle) -> None:
    host = await connect_host(live_relay)
    client = await connect_client(live_relay)
    named = host.token(client.device, chans=["general"])
    msg = await refused_sub(client, named, ["*"], "bad_token")
    assert "['*']" in msg
    star = host.token(client.device, chans=["*"])
    msg = await refused_sub(client, star, ["general", "*"], "bad_frame")
    assert "'*' must be the only channel" in msg
