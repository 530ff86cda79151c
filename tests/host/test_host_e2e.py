"""The host's end-to-end ops: prekeys, key shares beside history, the roster, link slots."""

from __future__ import annotations

import pytest

from hearth.b64 import b64e
from hearth.crypto import x25519
from hearth.crypto.prekeys import Kind, make_prekey
from hearth.keys import DeviceKeys, new_device
from hearth.limits import LINK_MAX_POSTS, LINK_TTL_MS, PREKEYS_MAX_ONE_TIME
from tests.host.support import CallError, Community, User, add_member


def prekey(device: DeviceKeys, kind: Kind, key_id: int) -> str:
    return b64e(make_prekey(device.signing, kind, key_id, 0, x25519.generate()).to_bytes())


async def test_one_time_prekeys_are_handed_out_once_then_the_signed_one(
    community: Community,
) -> None:
    host, owner = community.host, community.owner
    bob = await add_member(community, "bob")
    counts = await host.ok(bob, "prekey.put", signed=prekey(bob.device, Kind.SIGNED, 1),
                           one_time=[prekey(bob.device, Kind.ONE_TIME, i) for i in (2, 3)])
    assert counts == {"one_time": 2, "signed": True}
    claims = [(await host.ok(owner, "prekey.claim", devs=[bob.dev]))["prekeys"][0]
              for _ in range(4)]
    assert [c["one_time"] for c in claims] == [True, True, False, False]
    assert len({c["prekey"] for c in claims}) == 3
    assert await host.ok(bob, "prekey.put") == {"one_time": 0, "signed": True}
    await host.ok(bob, "prekey.put", one_time=[prekey(bob.device, Kind.ONE_TIME, 7)])
    assert await host.ok(bob, "prekey.put", reset=True) == {"one_time": 0, "signed": True}
    carol = await add_member(community, "carol")  # never uploaded a prekey
    assert (await host.ok(owner, "prekey.claim", devs=[carol.dev])) == {
        "prekeys": [], "missing": [carol.dev]}


async def test_prekey_uploads_are_checked(community: Community) -> None:
    host = community.host
    bob = await add_member(community, "bob")
    stranger = new_device(bob.account_key)
    forged = await host.send(bob, "prekey.put", signed=prekey(stranger, Kind.SIGNED, 1))
    assert forged.err is not None
    assert (forged.err.code, forged.err.msg) == ("bad_request",
                                                 "signed: prekey signature does not verify")
    wrong = await host.send(bob, "prekey.put", signed=prekey(bob.device, Kind.ONE_TIME, 1))
    assert wrong.err is not None and wrong.err.msg == "signed: prekey 1 is ONE_TIME, not SIGNED"
    await host.ok(bob, "prekey.put", one_time=[prekey(bob.device, Kind.ONE_TIME, 5)])
    again = await host.send(bob, "prekey.put", one_time=[prekey(bob.device, Kind.ONE_TIME, 5)])
    assert again.err is not None
    assert (again.err.code, again.err.msg) == (
        "conflict", "one-time prekey id 5 was already uploaded")
    for start in (100, 200):
        batch = [prekey(bob.device, Kind.ONE_TIME, start + i) for i in range(100)]
        response = await host.send(bob, "prekey.put", one_time=batch)
    assert response.err is not None and response.err.code == "rate_limited"
    assert response.err.msg == (
        f"device would hold {PREKEYS_MAX_ONE_TIME + 1} one-time prekeys, "
        f"max {PREKEYS_MAX_ONE_TIME}")


async def test_no_prekeys_or_shares_for_a_revoked_device_or_a_non_member(
    community: Community,
) -> None:
    host, owner, space, chan = community.host, community.owner, community.space, community.general
    bob = await add_member(community, "bob")
    laptop = new_device(bob.account_key)
    await host.ok(bob, "hello", device=laptop, cert=laptop.certificate.encode())
    await host.ok(bob, "prekey.put", device=laptop,
                  one_time=[prekey(laptop, Kind.ONE_TIME, 1)])
    await host.ok(bob, "device.revoke", dev=b64e(laptop.public_key))
    laptop_id = b64e(laptop.public_key)
    claim = await host.send(owner, "prekey.claim", devs=[laptop_id])
    assert claim.err is not None and claim.err.code == "device_revoked"
    assert claim.err.msg.startswith(f"device {laptop_id!r} was revoked at ")
    put = await host.send(owner, "keys.put", space=space, chan=chan, sess="s1",
                          shares={laptop_id: "AAAA", bob.dev: "AAAA"})
    assert put.err is not None and put.err.code == "device_revoked"
    assert put.err.msg.endswith(": it gets no keys")
    outsider = User("outsider")
    await host.join(outsider)
    await host.ok(outsider, "prekey.put", signed=prekey(outsider.device, Kind.SIGNED, 1))
    forbidden = await host.send(owner, "prekey.claim", devs=[outsider.dev])
    assert forbidden.err is not None and forbidden.err.code == "forbidden"
    put = await host.send(owner, "keys.put", space=space, chan=chan, sess="s1",
                          shares={outsider.dev: "AAAA"})
    assert put.err is not None and put.err.code == "not_member"
    assert put.err.msg == (f"device {outsider.dev!r} belongs to account {outsider.acct!r}, "
                           f"not a member of space {space!r}")
    assert await host.store_count("key_shares") == 0


async def test_history_pages_carry_the_callers_shares_for_their_sessions(
    community: Community,
) -> None:
    host, owner, space, chan = community.host, community.owner, community.space, community.general
    bob = await add_member(community, "bob")
    carol = await add_member(community, "carol")
    stored = await host.ok(owner, "keys.put", space=space, chan=chan, sess="s1",
                           shares={bob.dev: "Ym9i", carol.dev: "Y2Fyb2w"})
    assert stored == {"stored": 2, "seq": 0}
    await host.ok(owner, "publish", space=space, chan=chan, id="m1", env="AAAA", sess="s1")
    await host.ok(owner, "publish", space=space, chan=chan, id="m2", env="AAAA")
    page = await host.ok(bob, "history", space=space, chan=chan)
    assert [m["sess"] for m in page["messages"]] == ["s1", None]
    assert page["keys"] == [{"sess": "s1", "from_dev": owner.dev, "from_acct": owner.acct,
                             "share": "Ym9i", "seq": 0}]
    assert (await host.ok(carol, "keys.fetch", space=space, chan=chan, sess=["s1", "zz"])
            )["keys"][0]["share"] == "Y2Fyb2w"
    assert (await host.ok(owner, "history", space=space, chan=chan))["keys"] == []


async def test_roster_lists_members_devices_and_departures(community: Community) -> None:
    host, owner, space = community.host, community.owner, community.space
    bob = await add_member(community, "bob")
    before = await host.ok(owner, "space.devices", space=space)
    assert [m["acct"] for m in before["members"]] == [owner.acct, bob.acct]
    assert before["members"][1]["devices"][0]["cert"] == bob.device.certificate.encode()
    assert before["departed"] == []
    host.clock.advance(5)
    await host.ok(owner, "member.remove", space=space, acct=bob.acct)
    after = await host.ok(owner, "space.devices", space=space)
    assert [m["acct"] for m in after["members"]] == [owner.acct]
    assert [(d["acct"], d["left_at"]) for d in after["departed"]] == [(bob.acct, host.clock.now)]
    with pytest.raises(CallError) as refused:
        await host.ok(bob, "space.devices", space=space)
    assert refused.value.code == "not_member"


async def test_link_slots(community: Community) -> None:
    host, owner = community.host, community.owner
    newcomer = User("newcomer")
    await host.join(newcomer)
    opened = await host.ok(owner, "link.open")
    code = opened["link"]
    assert len(code) == 10 and opened["exp"] == host.clock.now + LINK_TTL_MS
    for n in range(1, LINK_MAX_POSTS + 1):
        assert await host.ok(newcomer, "link.post", link=code, msg="AQ") == {"n": n}
    full = await host.send(owner, "link.post", link=code, msg="AQ")
    assert full.err is not None and full.err.code == "rate_limited"
    read = await host.ok(owner, "link.read", link=code, after=LINK_MAX_POSTS - 1)
    assert read["msgs"] == [{"n": LINK_MAX_POSTS, "dev": newcomer.dev, "msg": "AQ"}]
    host.clock.advance(LINK_TTL_MS)
    gone = await host.send(newcomer, "link.read", link=code)
    assert gone.err is not None
    assert (gone.err.code, gone.err.msg) == ("not_found",
                                             f"link code {code!r} is unknown or expired")
