"""Presence and typing between Python clients through real relay and host processes:
verified end to end, never stored by the host, and gone with a member's removal."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from hearth.e2e.secure import SecureClient
from hearth.ephemeral import EphemeralBody
from hearth.frames import Error, Unsubscribed
from tests.conftest import Community, Relay
from tests.system.test_reference_failures import join


def row_counts(db: Path) -> dict[str, int]:
    """Rows of every table of the host's database (read-only)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: int(conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0])
                for t in tables}


def summary(body: EphemeralBody) -> tuple[str, str, str, str]:
    return body.k, body.chan, body.state, body.acct


async def test_members_see_each_others_presence_and_typing_until_removed(
    relay: Relay, community: Community
) -> None:
    host_id, space, general = community.host.host_id, community.space, community.general
    owner = community.owner
    bob = await join(community, relay, "bob")
    owner_secure, bob_secure = SecureClient(owner, host_id), SecureClient(bob, host_id)
    await owner.subscribe(host_id, space, ["*"])
    await bob.subscribe(host_id, space, [general])
    before = row_counts(community.host.db)

    await owner.send_presence(host_id, space, "online")
    seen = await bob_secure.next_ephemeral(5)
    assert summary(seen) == ("presence", "*", "online", owner.identity.account)
    assert seen.dev == owner.identity.device_id
    await bob.send_typing(host_id, space, general)
    seen = await owner_secure.next_ephemeral(5)
    assert summary(seen) == ("typing", general, "typing", bob.identity.account)
    await bob.send_presence(host_id, space, "away")
    assert summary(await owner_secure.next_ephemeral(5)) == (
        "presence", "*", "away", bob.identity.account)
    await asyncio.sleep(0.2)
    assert owner.ephemerals.empty() and bob.ephemerals.empty()  # nobody hears themselves
    # Ephemeral traffic never reaches the host: not one row changed.
    assert row_counts(community.host.db) == before

    await owner.host(host_id).call("member.remove", space=space, acct=bob.identity.account)
    notice = await asyncio.wait_for(bob.notices.get(), 5)
    assert isinstance(notice, Unsubscribed) and notice.reason == "revoked"
    # Bob can no longer send...
    await bob.send_typing(host_id, space, general)
    refused = await asyncio.wait_for(bob.notices.get(), 5)
    assert isinstance(refused, Error) and (refused.code, refused.ref) == ("forbidden", "eph")
    assert refused.msg == (
        f"'eph' to channel {general!r} of space {space!r} on host {host_id} needs a live "
        "subscription covering it on this connection: subscribe first")
    # ...nor receive.
    await owner.send_presence(host_id, space, "online")
    await asyncio.sleep(0.5)
    assert bob.ephemerals.empty() and owner.ephemerals.empty()
    await bob.close()


async def test_a_member_hears_nothing_from_a_device_its_roster_does_not_certify(
    relay: Relay, community: Community
) -> None:
    """The roster check, end to end: a device of a member whose host-listed certificate
    does not verify is dropped; a certified one is accepted."""
    host_id, space = community.host.host_id, community.space
    owner = community.owner
    bob = await join(community, relay, "bob")
    owner_secure = SecureClient(owner, host_id)
    await owner.subscribe(host_id, space, ["*"])
    await bob.subscribe(host_id, space, ["*"])
    roster = await owner_secure.roster(space)
    # Make the owner's verified roster forget Bob's device (as if uncertified), fresh
    # enough not to be fetched again: his presence must be dropped, not shown.
    roster.devices.pop(bytes(bob.identity.device.public_key))
    await bob.send_presence(host_id, space, "online")
    with pytest.raises(TimeoutError):
        await owner_secure.next_ephemeral(0.5)
    # Once the roster is fetched again (it is older than the retry interval) he counts.
    roster.fetched_at -= 60_000
    await bob.send_presence(host_id, space, "online")
    assert summary(await owner_secure.next_ephemeral(5)) == (
        "presence", "*", "online", bob.identity.account)
    await bob.close()
