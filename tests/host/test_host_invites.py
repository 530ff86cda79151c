"""Invites by key and by link: roles, expiry, use counts, revocation, secrecy."""

from __future__ import annotations

import sqlite3

from hearth.invite_link import new_invite_secret
from host.config import db_path
from tests.host.support import Community, User, add_member


async def test_key_invite_is_for_that_account_only_and_single_use(community: Community) -> None:
    host, sid, owner = community.host, community.space, community.owner
    bob, eve = User("bob"), User("eve")
    await host.join(bob)
    await host.join(eve)
    await host.ok(owner, "invite.key", space=sid, acct=bob.acct, role="admin")
    assert await host.err(eve, "invite.accept", space=sid) == "invite_invalid"
    joined = await host.ok(bob, "invite.accept", space=sid)
    assert joined["space"]["role"] == "admin"
    # Accepting again as a member consumes nothing and changes nothing.
    assert (await host.ok(bob, "invite.accept", space=sid))["space"]["role"] == "admin"
    assert await host.err(owner, "invite.key", space=sid, acct=bob.acct) == "conflict"
    # Leave, then the used invite cannot be accepted again.
    await host.ok(bob, "space.leave", space=sid)
    assert await host.err(bob, "invite.accept", space=sid) == "invite_used_up"


async def test_key_invite_revoked(community: Community) -> None:
    host, sid, owner = community.host, community.space, community.owner
    bob = User("bob")
    await host.join(bob)
    invite = (await host.ok(owner, "invite.key", space=sid, acct=bob.acct))["invite"]
    revoked = await host.ok(owner, "invite.revoke", space=sid, invite=invite["id"])
    assert revoked == {"invite": invite["id"], "revoked_at": host.clock()}
    assert await host.err(bob, "invite.accept", space=sid) == "invite_revoked"


async def test_link_invite_use_count_expiry_and_revocation(community: Community) -> None:
    host, sid, owner = community.host, community.space, community.owner
    users = [User(f"u{i}") for i in range(4)]
    for user in users:
        await host.join(user)
    link = await host.link(owner, space=sid, uses=2, ttl_s=600, role="admin")
    assert (
        link["invite"]["max_uses"] == 2 and link["invite"]["expires_at"] == host.clock() + 600_000
    )
    secret = link["secret"]
    assert (await host.ok(users[0], "invite.redeem", **host.proof(users[0], secret)))["space"][
        "role"
    ] == "admin"
    # A member redeeming again consumes nothing.
    await host.ok(users[0], "invite.redeem", **host.proof(users[0], secret))
    await host.ok(users[1], "invite.redeem", **host.proof(users[1], secret))
    assert (
        await host.err(users[2], "invite.redeem", **host.proof(users[2], secret))
        == "invite_used_up"
    )
    [listed] = (await host.ok(owner, "invite.list", space=sid))["invites"]
    assert listed["uses"] == 2 and "secret" not in listed

    expiring = (await host.link(owner, space=sid, ttl_s=60))["secret"]
    host.clock.advance(60_000)
    assert (
        await host.err(users[2], "invite.redeem", **host.proof(users[2], expiring))
        == "invite_expired"
    )

    revoked = await host.link(owner, space=sid)
    await host.ok(owner, "invite.revoke", space=sid, invite=revoked["invite"]["id"])
    assert (
        await host.err(users[3], "invite.redeem", **host.proof(users[3], revoked["secret"]))
        == "invite_revoked"
    )
    assert (
        await host.err(users[3], "invite.redeem", **host.proof(users[3], new_invite_secret()))
        == "invite_invalid"
    )
    assert await host.err(owner, "invite.revoke", space=sid, invite="nope") == "not_found"


async def test_link_secrets_are_never_stored_in_clear(community: Community) -> None:
    host = community.host
    secret = (await host.link(community.owner, space=community.space))["secret"]
    with sqlite3.connect(db_path(host.data)) as conn:
        dump = "\n".join(conn.iterdump())
    assert secret not in dump


async def test_inviter_cannot_grant_more_than_their_role(community: Community) -> None:
    host, sid = community.host, community.space
    admin = await add_member(community, "admin", "admin")
    target = User("t")
    assert (
        await host.err(admin, "invite.key", space=sid, acct=target.acct, role="owner")
        == "forbidden"
    )
    invite = await host.ok(admin, "invite.key", space=sid, acct=target.acct, role="admin")
    assert invite["invite"]["role"] == "admin"
    await host.ok(community.owner, "invite.key", space=sid, acct=User("o").acct, role="owner")
