"""A community's whole life, driven through the service with real signed requests."""

from __future__ import annotations

from hearth.b64 import b64e
from hearth.frames import Publish, Revoke
from hearth.rpc import EventBody, open_host_body
from hearth.token import verify_token
from tests.host.support import Host, User


async def test_full_lifecycle(host: Host) -> None:
    owner, bob, carol = User("owner"), User("bob"), User("carol")
    hello = await host.join(owner)
    assert hello == {
        "host": host.host_id,
        "acct": owner.acct,
        "dev": owner.dev,
        "owner": False,
        "spaces": [],
    }
    assert await host.ok(owner, "host.claim", **host.proof(owner, host.claim())) == {"owner": True}
    assert (await host.join(owner))["owner"] is True

    space = (await host.ok(owner, "space.create", name="Hearthside"))["space"]
    assert space["name"] == "Hearthside" and space["role"] == "owner"
    assert [c["name"] for c in space["channels"]] == ["general"]
    sid = space["id"]
    random = (await host.ok(owner, "channel.create", space=sid, name="random"))["channel"]
    assert random == {"id": random["id"], "name": "random", "seq": 0, "ttl_s": 0}
    listed = (await host.ok(owner, "channel.list", space=sid))["channels"]
    assert [c["name"] for c in listed] == ["general", "random"]

    # Bob by key invite, carol by link.
    await host.join(bob)
    invite = (await host.ok(owner, "invite.key", space=sid, acct=bob.acct))["invite"]
    assert (invite["kind"], invite["acct"], invite["role"]) == ("key", bob.acct, "member")
    joined = (await host.ok(bob, "invite.accept", space=sid))["space"]
    assert (joined["id"], joined["role"]) == (sid, "member")
    link = await host.link(owner, space=sid, uses=2, ttl_s=3600)
    await host.join(carol)
    assert (await host.ok(carol, "invite.redeem", **host.proof(carol, link["secret"])))["space"][
        "id"
    ] == sid
    members = (await host.ok(owner, "member.list", space=sid))["members"]
    assert [(m["acct"], m["name"], m["role"]) for m in members] == [
        (owner.acct, "owner", "owner"),
        (bob.acct, "bob", "member"),
        (carol.acct, "carol", "member"),
    ]

    # A token for bob's device; then bob publishes and everyone reads history.
    token = await host.ok(bob, "token", space=sid, chans=[random["id"]])
    claims = verify_token(token["token"], now_ms=host.clock())
    assert (claims.sub, claims.acct, claims.space, claims.chans, claims.scopes) == (
        bob.dev,
        bob.acct,
        sid,
        [random["id"]],
        ["read"],
    )
    host.sent.clear()
    ack = await host.ok(
        bob, "publish", space=sid, chan=random["id"], id="m1", env=b64e(b"ciphertext")
    )
    assert (ack["seq"], ack["dup"]) == (1, False)
    [pub] = host.sent
    assert isinstance(pub, Publish) and (pub.space, pub.chan) == (sid, random["id"])
    event = open_host_body(host.host_id, pub.body, pub.sig, EventBody)
    assert (event.k, event.seq, event.id, event.acct, event.dev, event.env, event.ts) == (
        "msg",
        1,
        "m1",
        bob.acct,
        bob.dev,
        b64e(b"ciphertext"),
        ack["ts"],
    )
    page = await host.ok(carol, "history", space=sid, chan=random["id"])
    assert [(m["seq"], m["id"], m["acct"], m["env"]) for m in page["messages"]] == [
        (1, "m1", bob.acct, b64e(b"ciphertext"))
    ]
    assert page["more"] is False

    # Renames.
    await host.ok(owner, "space.rename", space=sid, name="Fireside")
    await host.ok(owner, "channel.rename", space=sid, chan=random["id"], name="misc")
    spaces = (await host.ok(carol, "space.list"))["spaces"]
    assert [(s["name"], [c["name"] for c in s["channels"]]) for s in spaces] == [
        ("Fireside", ["general", "misc"])
    ]

    # Bob leaves, carol is removed: each revokes that account's subscriptions.
    host.sent.clear()
    await host.ok(bob, "space.leave", space=sid)
    await host.ok(owner, "member.remove", space=sid, acct=carol.acct)
    assert [(f.acct, f.space, f.before) for f in host.sent if isinstance(f, Revoke)] == [
        (bob.acct, sid, host.clock()),
        (carol.acct, sid, host.clock()),
    ]
    assert await host.err(carol, "history", space=sid, chan=random["id"]) == "not_member"

    # Channel and space deletion.
    assert await host.ok(owner, "channel.delete", space=sid, chan=random["id"]) == {
        "channel": random["id"],
        "deleted": True,
    }
    assert [c["name"] for c in (await host.ok(owner, "channel.list", space=sid))["channels"]] == [
        "general"
    ]
    host.sent.clear()
    await host.ok(owner, "space.delete", space=sid)
    assert [(f.acct, f.space) for f in host.sent if isinstance(f, Revoke)] == [(owner.acct, sid)]
    assert (await host.ok(owner, "space.list"))["spaces"] == []
    assert await host.err(owner, "channel.list", space=sid) == "not_found"
    assert await host.store_count("messages") == 0


async def test_revocations_are_recorded_until_their_tokens_expire(host: Host) -> None:
    from hearth.limits import TOKEN_MAX_LIFETIME_MS
    from host.context import pending_revocations

    owner, bob = User("owner"), User("bob")
    await host.join(owner)
    await host.ok(owner, "host.claim", **host.proof(owner, host.claim()))
    sid = (await host.ok(owner, "space.create", name="s"))["space"]["id"]
    await host.join(bob)
    await host.ok(owner, "invite.key", space=sid, acct=bob.acct)
    await host.ok(bob, "invite.accept", space=sid)
    await host.ok(owner, "member.remove", space=sid, acct=bob.acct)
    store = host.service.store
    pending = await pending_revocations(store, host.clock())
    assert [(r.acct, r.dev, r.space, r.before) for r in pending] == [
        (bob.acct, None, sid, host.clock())
    ]
    assert await pending_revocations(store, host.clock() + TOKEN_MAX_LIFETIME_MS) == []
