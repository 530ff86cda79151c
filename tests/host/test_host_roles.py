"""Authorisation by membership and role: every refusal with its exact code."""

from __future__ import annotations

from typing import Any

from hearth.frames import Revoke
from hearth.invite_link import new_invite_secret
from host.ids import new_id
from tests.host.support import Community, User, add_member


async def test_only_host_owners_create_spaces(community: Community) -> None:
    host, bob = community.host, User("bob")
    await host.join(bob)
    assert await host.err(bob, "space.create", name="mine") == "forbidden"


async def test_owner_claim_is_single_use_and_expires(community: Community) -> None:
    host, bob, carol = community.host, User("bob"), User("carol")
    await host.join(bob)
    await host.join(carol)
    secret = host.claim()
    assert (
        await host.err(bob, "host.claim", **host.proof(bob, new_invite_secret()))
        == "invite_invalid"
    )
    await host.ok(bob, "host.claim", **host.proof(bob, secret))
    assert await host.err(carol, "host.claim", **host.proof(carol, secret)) == "invite_used_up"
    late = host.claim()
    host.clock.advance(7 * 24 * 3600 * 1000 + 60_000)
    assert await host.err(carol, "host.claim", **host.proof(carol, late)) == "invite_expired"
    assert (await host.join(carol))["owner"] is False


async def test_non_members_and_missing_spaces(community: Community) -> None:
    host, outsider = community.host, User("outsider")
    await host.join(outsider)
    sid = community.space
    cases: list[tuple[str, dict[str, Any]]] = [
        ("channel.list", {"space": sid}),
        ("member.list", {"space": sid}),
        ("history", {"space": sid, "chan": community.general}),
        ("token", {"space": sid}),
        ("publish", {"space": sid, "chan": community.general, "id": "m", "env": "AAAA"}),
        ("space.leave", {"space": sid}),
        ("space.delete", {"space": sid}),
    ]
    for op, args in cases:
        assert await host.err(outsider, op, **args) == "not_member", op
    missing = new_id()
    assert await host.err(outsider, "channel.list", space=missing) == "not_found"
    assert await host.err(community.owner, "history", space=sid, chan=missing) == "not_found"


async def test_members_cannot_administer(community: Community) -> None:
    host, sid = community.host, community.space
    bob = await add_member(community, "bob")
    admin_ops: list[tuple[str, dict[str, Any]]] = [
        ("space.rename", {"space": sid, "name": "x"}),
        ("space.delete", {"space": sid}),
        ("channel.create", {"space": sid, "name": "x"}),
        ("channel.rename", {"space": sid, "chan": community.general, "name": "x"}),
        ("channel.delete", {"space": sid, "chan": community.general}),
        ("member.remove", {"space": sid, "acct": community.owner.acct}),
        ("member.role", {"space": sid, "acct": bob.acct, "role": "admin"}),
        ("invite.link", {"space": sid, "pk": User("x").acct}),
        ("invite.list", {"space": sid}),
        ("invite.key", {"space": sid, "acct": User("x").acct}),
    ]
    for op, args in admin_ops:
        assert await host.err(bob, op, **args) == "forbidden", op


async def test_admins_manage_channels_and_members_but_not_admins_or_the_space(
    community: Community,
) -> None:
    host, sid = community.host, community.space
    admin = await add_member(community, "admin", "admin")
    other_admin = await add_member(community, "admin2", "admin")
    bob = await add_member(community, "bob")
    chan = (await host.ok(admin, "channel.create", space=sid, name="ops"))["channel"]["id"]
    assert await host.err(admin, "channel.create", space=sid, name="ops") == "conflict"
    assert (
        await host.err(admin, "channel.rename", space=sid, chan=chan, name="general") == "conflict"
    )
    await host.ok(admin, "channel.rename", space=sid, chan=chan, name="ops2")
    assert await host.err(admin, "space.rename", space=sid, name="x") == "forbidden"
    assert (
        await host.err(admin, "member.role", space=sid, acct=bob.acct, role="admin") == "forbidden"
    )
    assert await host.err(admin, "member.remove", space=sid, acct=other_admin.acct) == "forbidden"
    assert (
        await host.err(admin, "member.remove", space=sid, acct=community.owner.acct) == "forbidden"
    )
    assert await host.err(admin, "member.remove", space=sid, acct=admin.acct) == "forbidden"
    assert await host.err(admin, "member.remove", space=sid, acct=User("ghost").acct) == "not_found"
    assert (
        await host.err(admin, "invite.link", space=sid, pk=User("x").acct, role="owner")
        == "forbidden"
    )
    await host.ok(admin, "member.remove", space=sid, acct=bob.acct)
    await host.ok(community.owner, "member.remove", space=sid, acct=other_admin.acct)
    await host.ok(admin, "channel.delete", space=sid, chan=chan)
    assert await host.err(admin, "channel.delete", space=sid, chan=chan) == "not_found"


async def test_a_space_never_loses_its_last_owner(community: Community) -> None:
    host, sid, owner = community.host, community.space, community.owner
    bob = await add_member(community, "bob")
    assert await host.err(owner, "space.leave", space=sid) == "forbidden"
    assert (
        await host.err(owner, "member.role", space=sid, acct=owner.acct, role="member")
        == "forbidden"
    )
    assert (
        await host.err(owner, "member.role", space=sid, acct=User("x").acct, role="admin")
        == "not_found"
    )
    await host.ok(owner, "member.role", space=sid, acct=bob.acct, role="owner")
    # Two owners: one may step down, and an owner cannot remove another owner.
    assert await host.err(owner, "member.remove", space=sid, acct=bob.acct) == "forbidden"
    await host.ok(owner, "member.role", space=sid, acct=owner.acct, role="member")
    assert await host.err(bob, "member.role", space=sid, acct=bob.acct, role="admin") == "forbidden"
    await host.ok(owner, "space.leave", space=sid)
    roles = {
        m["acct"]: m["role"] for m in (await host.ok(bob, "member.list", space=sid))["members"]
    }
    assert roles == {bob.acct: "owner"}


async def test_device_list_and_revoke(community: Community) -> None:
    host, owner = community.host, community.owner
    bob, stranger = await add_member(community, "bob"), User("stranger")
    await host.join(stranger)
    listed = await host.ok(owner, "device.list", acct=bob.acct)
    assert [(d["dev"], d["cert"], d["revoked"]) for d in listed["devices"]] == [
        (bob.dev, bob.device.certificate.encode(), False)
    ]
    assert await host.err(owner, "device.list", acct=stranger.acct) == "forbidden"
    assert await host.err(bob, "device.revoke", dev=owner.dev) == "forbidden"
    assert await host.err(bob, "device.revoke", dev=User("x").dev) == "not_found"
    host.sent.clear()
    revoked = await host.ok(bob, "device.revoke", dev=bob.dev)
    assert revoked == {"dev": bob.dev, "revoked_at": host.clock()}
    assert [(f.dev, f.acct, f.space) for f in host.sent if isinstance(f, Revoke)] == [
        (bob.dev, None, None)
    ]
    assert (await host.ok(owner, "device.list", acct=bob.acct))["devices"][0]["revoked"]
    assert await host.err(bob, "space.list") == "device_revoked"


async def test_joins_role_changes_and_departures_are_announced_on_the_space_topic(
    community: Community,
) -> None:
    """Every change to who is in a space, and as what, is a ``mem`` event on the space's
    own topic (``chan`` is the space id), so members' lists need no polling; a role
    set to what it already was, and a refused change, announce nothing."""
    host, c = community.host, community
    host.sent.clear()
    bob = await add_member(c, "bob")  # a key invite, accepted
    carol = User("carol")
    await host.join(carol)
    link = await host.link(c.owner, c.space)
    await host.ok(carol, "invite.redeem", **host.proof(carol, link["secret"]))
    await host.ok(carol, "invite.redeem", **host.proof(carol, link["secret"]))  # no change
    await host.ok(c.owner, "member.role", space=c.space, acct=bob.acct, role="admin")
    await host.ok(c.owner, "member.role", space=c.space, acct=bob.acct, role="admin")
    assert await host.err(bob, "member.role", space=c.space, acct=carol.acct,
                          role="admin") == "forbidden"
    await host.ok(bob, "member.remove", space=c.space, acct=carol.acct)
    await host.ok(bob, "space.leave", space=c.space)
    events = host.events("mem")
    assert {(e.space, e.chan) for e in events} == {(c.space, c.space)}
    assert [(e.acct, e.info) for e in events] == [
        (bob.acct, {"acct": bob.acct, "role": "member"}),
        (carol.acct, {"acct": carol.acct, "role": "member"}),
        (c.owner.acct, {"acct": bob.acct, "role": "admin"}),
        (bob.acct, {"acct": carol.acct, "role": None}),
        (bob.acct, {"acct": bob.acct, "role": None}),
    ]


async def test_a_new_display_name_is_announced_to_each_space_of_the_account(
    community: Community,
) -> None:
    """``hello`` with another name keeps it and sends a ``mem`` event (role unchanged)
    to every space of the account, so members' lists show the new name; the same name
    again, or none, announces nothing."""
    host, c = community.host, community
    bob = await add_member(c, "bob")
    second = (await host.ok(c.owner, "space.create", name="Second"))["space"]["id"]
    host.sent.clear()
    for name in ("bob", None):
        args = {"name": name} if name else {}
        await host.ok(bob, "hello", cert=bob.device.certificate.encode(), **args)
    assert host.events("mem") == []
    await host.ok(c.owner, "hello", cert=c.owner.device.certificate.encode(), name="Olive")
    assert [(e.space, e.acct, e.info) for e in host.events("mem")] == [
        (c.space, c.owner.acct, {"acct": c.owner.acct, "role": "owner"}),
        (second, c.owner.acct, {"acct": c.owner.acct, "role": "owner"}),
    ]
    listed = await host.ok(bob, "member.list", space=c.space)
    assert [m["name"] for m in listed["members"]] == ["Olive", "bob"]
