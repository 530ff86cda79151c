"""One test for each failure of the reference design (DESIGN.md section 1): Hearth is immune."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.server import ServerConnection, serve

from hearth.auth import new_challenge, verify_host_hello
from hearth.b64 import b64e
from hearth.client import Client, RequestError, new_message_id
from hearth.frames import (
    HOST_ONLY_TAGS,
    ForwardedRequest,
    HostHello,
    HostWelcome,
    Unsubscribed,
    decode_frame,
    encode_frame,
)
from hearth.identity import Identity
from hearth.invite_link import invite_public_key, prove_invite
from hearth.keys import certify_device
from hearth.rpc import ResponseBody, open_host_body, sign_request
from hearth.signing import Context, sign
from tests.conftest import (
    FAST_RATES,
    Community,
    Relay,
    connect_user,
    free_port,
    hearth_cli,
    spawn,
)

FORGED_SIG = b64e(bytes(64))


async def join(community: Community, relay: Relay, name: str) -> Client:
    """A new user who joins the community's space through an invite link."""
    owner = community.owner.host(community.host.host_id)
    link = await owner.invite_link(community.space, uses=1)
    client = await connect_user(relay, community.host, name)
    await client.host(community.host.host_id).redeem(link["secret"])
    return client


async def assert_silent(client: Client, wait_s: float = 0.5) -> None:
    await asyncio.sleep(wait_s)
    assert client.events.empty(), "a live event arrived"
    assert client.notices.empty(), f"a notice arrived: {client.notices.get_nowait()}"


def stored_messages(db: Path, chan: str) -> list[tuple[int, str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT seq, msg_id FROM messages WHERE channel_id = ? ORDER BY seq", (chan,)
        ).fetchall()
    return [(int(seq), str(mid)) for seq, mid in rows]


async def test_browser_cannot_send_host_only_frames(relay: Relay, community: Community) -> None:
    host_id, space, general = community.host.host_id, community.space, community.general
    bob = await join(community, relay, "bob")
    mallory = await join(community, relay, "mallory")
    await bob.host(host_id).subscribe(space)  # after mallory's join and its ``mem`` event
    forged_body = orjson.dumps({"v": 1, "host": host_id, "space": space, "chan": general,
                                "k": "msg", "seq": 99, "env": "AAAA"}).decode()
    attempts = {
        "host_hello": {"t": "host_hello", "pk": b64e(bytes(32)), "sig": FORGED_SIG},
        "resp_to": {"t": "resp_to", "to": bob.conn_id, "body": forged_body, "sig": FORGED_SIG},
        "pub": {"t": "pub", "space": space, "chan": general, "body": forged_body,
                "sig": FORGED_SIG},
        "revoke": {"t": "revoke", "before": 2**50, "acct": bob.identity.account},
    }
    assert set(attempts) == HOST_ONLY_TAGS
    for tag, frame in attempts.items():
        await mallory.send_raw(orjson.dumps(frame).decode())
        error = await asyncio.wait_for(mallory.notices.get(), 5)
        assert (error.code, error.ref) == ("forbidden_frame", tag)  # type: ignore[attr-defined]
        assert f"'{tag}'" in error.msg  # type: ignore[attr-defined]
    await assert_silent(bob)
    # Mallory's connection still works, bob's subscription is intact, and nothing was stored.
    await mallory.host(host_id).call("channel.list", space=space)
    ack = await community.owner.host(host_id).publish(space, general, b"real")
    assert (await bob.next_event()).seq == ack["seq"] == 1
    assert stored_messages(community.host.db, general) == [(1, (await bob.host(host_id).history(
        space, general))["messages"][0]["id"])]
    await bob.close()
    await mallory.close()


async def test_hostile_relay_cannot_make_the_host_act_for_another_user(tmp_path: Path) -> None:
    data = tmp_path / "host"
    hearth_cli("host", "init", "--data", str(data))
    host_id = hearth_cli("host", "id", "--data", str(data)).strip()
    claim = hearth_cli("host", "owner-invite", "--data", str(data)).strip()
    answers: asyncio.Queue[ResponseBody] = asyncio.Queue()
    link: asyncio.Future[ServerConnection] = asyncio.get_running_loop().create_future()

    async def hostile_relay(ws: ServerConnection) -> None:
        challenge = new_challenge()
        await ws.send(encode_frame(challenge))
        verify_host_hello(challenge, decode_frame(await ws.recv(), HostHello))
        await ws.send(encode_frame(HostWelcome(host=host_id)))
        link.set_result(ws)
        async for raw in ws:
            frame = orjson.loads(raw)
            if frame["t"] == "resp_to":
                answers.put_nowait(open_host_body(host_id, frame["body"], frame["sig"],
                                                  ResponseBody))

    port = free_port()
    async with serve(hostile_relay, "127.0.0.1", port, compression=None):
        node = spawn(tmp_path / "host.log", "host", "run", "--data", str(data),
                     "--relay", f"ws://127.0.0.1:{port}")
        try:
            ws = await asyncio.wait_for(link, 20)

            async def forward(text: str, sig: str) -> ResponseBody:
                await ws.send(encode_frame(ForwardedRequest(from_="victim", body=text, sig=sig)))
                return await asyncio.wait_for(answers.get(), 10)

            async def as_user(who: Identity, op: str, **args: object) -> ResponseBody:
                _, text, sig = sign_request(who.device, host_id, op, dict(args))
                return await forward(text, sig)

            alice, relay_user = Identity.generate(), Identity.generate()
            assert (await as_user(alice, "hello", cert=alice.device.certificate.encode())).ok
            claim_args = {"pk": invite_public_key(claim),
                          "proof": prove_invite(claim, host_id, alice.device.public_key)}
            assert (await as_user(alice, "host.claim", **claim_args)).ok
            created = await as_user(alice, "space.create", name="alice's")
            assert created.ok and created.r is not None
            space = created.r["space"]["id"]

            # 1. A request naming alice's device, signed by the relay's own key.
            _, text, _ = sign_request(alice.device, host_id, "space.delete", {"space": space})
            forged = b64e(sign(relay_user.device.signing, Context.REQUEST, text.encode()))
            assert (await forward(text, forged)).err.code == "bad_signature"  # type: ignore[union-attr]
            # 2. Alice's genuine request, altered in flight.
            _, text, sig = sign_request(alice.device, host_id, "space.rename",
                                        {"space": space, "name": "pwned"})
            altered = text.replace("pwned", "owned")
            assert (await forward(altered, sig)).err.code == "bad_signature"  # type: ignore[union-attr]
            # 3. Alice's genuine request, replayed: acted on once only.
            _, text, sig = sign_request(alice.device, host_id, "space.rename",
                                        {"space": space, "name": "renamed"})
            assert (await forward(text, sig)).ok
            assert (await forward(text, sig)).err.code == "replay"  # type: ignore[union-attr]
            # 4. Alice's request meant for another host.
            other_host = hearth_cli("host", "init", "--data", str(tmp_path / "other")).strip()
            _, text, sig = sign_request(alice.device, other_host, "space.delete", {"space": space})
            assert (await forward(text, sig)).err.code == "wrong_host"  # type: ignore[union-attr]
            # 5. A certificate claiming alice's account, signed by the relay's account key.
            fake_cert = certify_device(relay_user.account_key, relay_user.device.signing,
                                       relay_user.device.x25519)
            stolen = fake_cert.to_bytes()[:1] + bytes(alice.account_key.verify_key) + \
                fake_cert.to_bytes()[33:]
            hello = await as_user(relay_user, "hello", cert=b64e(stolen))
            assert hello.err is not None and hello.err.code == "bad_certificate"
            # 6. The relay's own (valid) user asks to delete alice's space.
            assert (await as_user(relay_user, "hello",
                                  cert=relay_user.device.certificate.encode())).ok
            refused = await as_user(relay_user, "space.delete", space=space)
            assert refused.err is not None and refused.err.code == "not_member"

            # 7. The relay saw alice's claim proof in transit: it is worthless for anyone else.
            stolen_claim = await as_user(relay_user, "host.claim", **claim_args)
            assert stolen_claim.err is not None and stolen_claim.err.code == "invite_invalid"

            listing = await as_user(alice, "space.list")
            assert listing.r is not None
            assert [(s["id"], s["name"]) for s in listing.r["spaces"]] == [(space, "renamed")]
        finally:
            node.stop()


async def test_removed_member_receives_nothing_more(relay: Relay, community: Community) -> None:
    host_id, space, general = community.host.host_id, community.space, community.general
    owner = community.owner.host(host_id)
    carol = await join(community, relay, "carol")
    carol_api = carol.host(host_id)
    token = (await carol_api.call("token", space=space, chans=["*"]))["token"]
    await carol.subscribe(host_id, space, ["*"], token=token)
    await owner.publish(space, general, b"before")
    assert (await carol.next_event()).envelope == b"before"

    await owner.call("member.remove", space=space, acct=carol.identity.account)
    notice = await asyncio.wait_for(carol.notices.get(), 5)
    assert isinstance(notice, Unsubscribed) and notice.reason == "revoked"
    for i in range(20):
        await owner.publish(space, general, f"after {i}".encode())
    await assert_silent(carol)
    with pytest.raises(RequestError) as resub:
        await carol.subscribe(host_id, space, ["*"], token=token)
    assert resub.value.wire_code == "token_revoked"
    for op, args in (("token", {"space": space}),
                     ("history", {"space": space, "chan": general})):
        with pytest.raises(RequestError) as refused:
            await carol_api.call(op, **args)
        assert refused.value.wire_code == "not_member"
    await assert_silent(carol)
    await carol.close()


@pytest.mark.relay_args(*FAST_RATES)
async def test_10k_messages_from_3_senders_page_back_identical(
    relay: Relay, community: Community
) -> None:
    host_id, space, general = community.host.host_id, community.space, community.general
    senders = [community.owner] + [await join(community, relay, f"s{i}") for i in range(2)]
    watcher = await join(community, relay, "watcher")
    await watcher.host(host_id).subscribe(space, [general])
    total, burst = 10_000, 100
    live: list[tuple[int, str, bytes]] = []

    async def collect() -> None:
        while len(live) < total:
            e = await watcher.next_event(30)
            live.append((e.seq, e.id, e.envelope))

    async def send(sender: Client, index: int) -> None:
        api = sender.host(host_id)
        mine = range(index, total, len(senders))
        for start in range(0, len(mine), burst):
            await asyncio.gather(*(api.publish(space, general, f"m{n}".encode(), f"id-{n}")
                                   for n in mine[start:start + burst]))

    collector = asyncio.create_task(collect())
    await asyncio.gather(*(send(s, i) for i, s in enumerate(senders)))
    await asyncio.wait_for(collector, 60)

    paged: list[tuple[int, str, bytes]] = []
    before: int | None = None
    while True:
        page = await watcher.host(host_id).history(space, general, before=before, limit=200)
        batch = [(m["seq"], m["id"], _unb64(m["env"])) for m in page["messages"]]
        paged = batch + paged
        if not page["more"]:
            break
        before = batch[0][0]
    assert [seq for seq, _, _ in paged] == list(range(1, total + 1))
    assert len({mid for _, mid, _ in paged}) == total
    assert {mid for _, mid, _ in paged} == {f"id-{n}" for n in range(total)}
    assert paged == live
    for client in [*senders[1:], watcher]:
        await client.close()


def _unb64(text: str) -> bytes:
    from hearth.b64 import b64d

    return b64d(text)


@pytest.mark.relay_args(*FAST_RATES, "--client-queue", "128", "--send-buffer", "32768")
async def test_slow_receiver_is_cut_off_and_nobody_else_notices(
    community: Community, relay: Relay
) -> None:
    host_id, space, general = community.host.host_id, community.space, community.general
    receivers = [await join(community, relay, f"r{i}") for i in range(50)]
    for r in receivers:
        await r.host(host_id).subscribe(space, [general])
    slow = await join(community, relay, "slow")
    # A tiny receive buffer, so the stall reaches the relay after a few frames, not megabytes.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", relay.port))
    await slow.close()
    slow = await Client(slow.identity, relay.ws_url).connect(sock=sock)
    await slow.host(host_id).subscribe(space, [general])
    slow.pause_reading()

    received: list[list[int]] = [[] for _ in receivers]
    progress = asyncio.Condition()

    async def read(index: int) -> None:
        while True:
            event = await receivers[index].next_event(30)
            received[index].append(event.seq)
            async with progress:
                progress.notify_all()

    readers = [asyncio.create_task(read(i)) for i in range(len(receivers))]
    count, owner = 400, community.owner.host(host_id)
    for i in range(1, count + 1):
        await owner.publish(space, general, bytes(1024) + i.to_bytes(4, "big"))
        # The healthy receivers keep up (they read); the relay is never waiting on them.
        async with progress:
            await asyncio.wait_for(
                progress.wait_for(lambda i=i: all(len(got) >= i for got in received)), 20
            )
    for task in readers:
        task.cancel()
    assert all(got == list(range(1, count + 1)) for got in received)
    assert all(r.closed is not None and not r.closed.done() for r in receivers)
    # The relay cut the stalled reader off: once it reads again, it finds the close.
    slow.resume_reading()
    assert slow.closed is not None
    code, reason = await asyncio.wait_for(slow.closed, 30)
    assert code == 4008, (code, reason)
    assert "not reading fast enough" in reason
    assert slow.events.qsize() < count
    for r in receivers:
        await r.close()


@pytest.mark.relay_args(*FAST_RATES)
async def test_nothing_is_live_before_it_is_stored(relay: Relay, community: Community) -> None:
    host_id, space, general = community.host.host_id, community.space, community.general
    watcher = await join(community, relay, "watcher")
    await watcher.host(host_id).subscribe(space, [general])
    owner = community.owner.host(host_id)
    ids = [new_message_id() for _ in range(200)]
    sending = asyncio.gather(*(owner.publish(space, general, b"x", mid) for mid in ids))
    for _ in ids:
        event = await watcher.next_event()
        # The instant a live event arrives, its row is already committed in the host's file.
        assert (event.seq, event.id) in stored_messages(community.host.db, general)
    await sending
    await watcher.close()


async def test_resend_after_dropped_connection_is_stored_and_delivered_once(
    relay: Relay, community: Community
) -> None:
    host_id, space, general = community.host.host_id, community.space, community.general
    watcher = await join(community, relay, "watcher")
    await watcher.host(host_id).subscribe(space, [general])
    bob = await join(community, relay, "bob")
    msg_id = new_message_id()
    # Bob publishes and loses his connection before the acknowledgement can arrive.
    _, text, sig = sign_request(bob.identity.device, host_id, "publish",
                                {"space": space, "chan": general, "id": msg_id,
                                 "env": b64e(b"hello once")})
    await bob.send_raw(orjson.dumps({"t": "req", "host": host_id, "id": "lost",
                                     "body": text, "sig": sig}).decode())
    await bob.close()
    first = await watcher.next_event()
    # He reconnects and resends the same message id.
    again = await Client(bob.identity, relay.ws_url).connect()
    ack = await again.host(host_id).publish(space, general, b"hello once", msg_id)
    assert (ack["seq"], ack["dup"]) == (first.seq, True)
    await assert_silent(watcher, 1.0)
    assert stored_messages(community.host.db, general) == [(first.seq, msg_id)]
    await again.close()
    await watcher.close()
