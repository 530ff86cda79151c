"""The whole life of a community through the Python client, against real processes."""

from __future__ import annotations

import asyncio

import pytest

from hearth.client import RequestError
from hearth.frames import Unsubscribed
from tests.conftest import Community, Host, Relay, connect_user


async def next_notice(client_notices: asyncio.Queue[object]) -> object:
    return await asyncio.wait_for(client_notices.get(), 5)


async def test_full_lifecycle(relay: Relay, host: Host, community: Community) -> None:
    owner = community.owner.host(host.host_id)
    space = community.space

    random_chan = (await owner.create_channel(space, "random"))["channel"]["id"]
    names = {c["name"] for c in (await owner.call("channel.list", space=space))["channels"]}
    assert names == {"general", "random"}

    # Invite by public key: bob accepts.
    bob = await connect_user(relay, host, "bob")
    bob_api = bob.host(host.host_id)
    with pytest.raises(RequestError) as refused:
        await bob_api.call("channel.list", space=space)
    assert refused.value.wire_code == "not_member"
    await owner.call("invite.key", space=space, acct=bob.identity.account)
    await bob_api.call("invite.accept", space=space)

    # Invite by link: carol redeems it; a second use is refused.
    link = await owner.invite_link(space, uses=1)
    carol = await connect_user(relay, host, "carol")
    carol_api = carol.host(host.host_id)
    await carol_api.redeem(link["secret"])
    dave = await connect_user(relay, host, "dave")
    with pytest.raises(RequestError) as used_up:
        await dave.host(host.host_id).redeem(link["secret"])
    assert used_up.value.wire_code == "invite_used_up"

    members = (await owner.call("member.list", space=space))["members"]
    assert {m["acct"]: m["role"] for m in members} == {
        community.owner.identity.account: "owner",
        bob.identity.account: "member",
        carol.identity.account: "member",
    }

    # Live delivery to subscribers, then history paging.
    await bob_api.subscribe(space, ["*"])
    await carol_api.subscribe(space, [random_chan])
    sent = []
    for i in range(25):
        ack = await owner.publish(space, random_chan, f"ciphertext {i}".encode())
        sent.append(ack["seq"])
    assert sent == list(range(1, 26))
    for client in (bob, carol):
        got = [await client.next_event() for _ in range(25)]
        assert [e.seq for e in got] == sent
        assert [e.envelope for e in got] == [f"ciphertext {i}".encode() for i in range(25)]
        assert all(e.acct == community.owner.identity.account for e in got)

    page = await bob_api.history(space, random_chan, limit=10)
    assert [m["seq"] for m in page["messages"]] == list(range(16, 26))
    assert page["more"] is True
    older = await bob_api.history(space, random_chan, before=16, limit=20)
    assert [m["seq"] for m in older["messages"]] == list(range(1, 16))
    assert older["more"] is False

    # Bob leaves: his subscriptions end and history is closed to him.
    await bob_api.call("space.leave", space=space)
    notice = await next_notice(bob.notices)  # type: ignore[arg-type]
    assert isinstance(notice, Unsubscribed) and notice.reason == "revoked"
    with pytest.raises(RequestError) as gone:
        await bob_api.history(space, random_chan)
    assert gone.value.wire_code == "not_member"

    # The owner removes carol: the same.
    await owner.call("member.remove", space=space, acct=carol.identity.account)
    notice = await next_notice(carol.notices)  # type: ignore[arg-type]
    assert isinstance(notice, Unsubscribed) and notice.reason == "revoked"
    await owner.publish(space, random_chan, b"after carol left")
    with pytest.raises(asyncio.TimeoutError):
        await carol.next_event(0.5)

    # Delete a channel, then the space.
    await owner.call("channel.delete", space=space, chan=random_chan)
    names = {c["name"] for c in (await owner.call("channel.list", space=space))["channels"]}
    assert names == {"general"}
    await owner.call("space.delete", space=space)
    assert (await owner.call("space.list"))["spaces"] == []

    for client in (bob, carol, dave):
        await client.close()
