"""Host administration from the command line, against a real relay and a real host."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from hearth.client import RequestError
from hearth.frames import Subscribe, Unsubscribed, encode_frame
from hearth.invite_link import InviteLink, invite_public_key
from host.migrations import SCHEMA_VERSION
from tests.conftest import Community, Host, Relay, connect_user, start_host
from tests.ops.support import ok, refused, status_json, terminate


async def test_status_members_and_remove_member_revokes_at_the_relay(
    relay: Relay, host: Host, community: Community,
) -> None:
    data, space = str(host.data), community.space
    status = status_json(host.data)
    assert status["running"] is True and status["host_id"] == host.host_id
    node = status["node"]
    assert isinstance(node, dict) and node["state"] == "connected"
    assert node["relay"] == relay.ws_url
    assert status["counts"] == {
        "spaces": 1, "channels": 1, "members": 1, "memberships": 1, "devices": 1,
        "messages": 0, "owners": 1, "open_owner_links": 0, "open_invites": 0,
    }
    assert isinstance(status["storage_bytes"], int) and status["storage_bytes"] > 0
    text = ok("host", "status", "--data", data)
    assert f"connected to {relay.ws_url}" in text and "spaces:    1" in text

    owner = community.owner.host(host.host_id)
    bob = await connect_user(relay, host, "bob")
    bob_api = bob.host(host.host_id)
    await owner.call("invite.key", space=space, acct=bob.identity.account)
    await bob_api.call("invite.accept", space=space)
    await bob_api.subscribe(space, ["*"])
    await owner.subscribe(space, ["*"])
    kept_token = (await bob_api.call("token", space=space, chans=["*"]))["token"]
    members = ok("host", "members", "--data", data, "--space", space)
    assert bob.identity.account in members and "bob" in members and "member" in members

    # Refusals first: each names the bad value and changes nothing.
    err = refused("host", "remove-member", "--data", data, "--", "nope", bob.identity.account)
    assert "Error: space 'nope' does not exist on this host" in err
    err = refused("host", "remove-member", "--data", data, "--", space, "not-a-key")
    assert "account 'not-a-key' is not a base64url public key" in err
    owner_acct = community.owner.identity.account
    err = refused("host", "remove-member", "--data", data, "--", space, owner_acct)
    assert f"account {owner_acct!r} is the last owner of space {space!r}" in err
    # Keys and ids are base64url and may start with "-": one taken for an option is
    # refused with how to pass it (the calls here put "--" first for that reason).
    err = refused("host", "remove-member", "--data", data, space, "-e" + owner_acct[2:],
                  status=2)
    assert ("Error: '-e" + owner_acct[2:] + "' is not an option; if it is an account or id "
            "that starts with '-', put '--' before the arguments: hearth host remove-member "
            "--data DIR -- SPACE ACCOUNT") in " ".join(err.split())
    err = refused("host", "members", "--data", data, "--space", "nope")
    assert "space 'nope' does not exist on this host" in err

    out = ok("host", "remove-member", "--data", data, "--", space, bob.identity.account)
    assert out.strip() == f"removed {bob.identity.account} (member) from space {space}"
    # The running node passes the revocation on: the relay ends bob's subscription...
    notice = await asyncio.wait_for(bob.notices.get(), 15)
    assert isinstance(notice, Unsubscribed) and notice.reason == "revoked"
    # ...and refuses the token bob was holding.
    await bob.send_raw(encode_frame(Subscribe(token=kept_token, chans=["*"])))
    refusal = await asyncio.wait_for(bob.notices.get(), 10)
    assert getattr(refusal, "code", None) == "token_revoked", refusal
    with pytest.raises(RequestError) as gone:
        await bob_api.history(space, community.general)
    assert gone.value.wire_code == "not_member"
    err = refused("host", "remove-member", "--data", data, "--", space, bob.identity.account)
    assert f"account {bob.identity.account!r} is not a member of space {space!r}" in err
    assert "event=revocations_sent count=1 source=admin" in host.process.output()
    # The members still in the space hear of it as of any removal: a ``mem`` event.
    async with asyncio.timeout(10):
        while (event := await community.owner.next_event(10)).kind != "mem":
            pass
    assert (event.space, event.chan, event.acct) == (space, space, "")
    assert event.info == {"acct": bob.identity.account, "role": None}
    await bob.close()


async def test_invite_links_and_owner_links_are_listed_and_revoked(
    relay: Relay, host: Host, community: Community,
) -> None:
    data, space = str(host.data), community.space
    owner = community.owner.host(host.host_id)
    link = await owner.invite_link(space, uses=3)
    listed = ok("host", "invites", "--data", data)
    assert link["invite"]["id"] in listed and "link" in listed and "0/3" in listed
    assert link["secret"] not in listed

    out = ok("host", "revoke-invite", "--data", data, link["invite"]["id"])
    assert out.strip() == f"revoked invite {link['invite']['id']}"
    assert link["invite"]["id"] not in ok("host", "invites", "--data", data)
    assert link["invite"]["id"] in ok("host", "invites", "--data", data, "--all")
    dave = await connect_user(relay, host, "dave")
    with pytest.raises(RequestError) as revoked:
        await dave.host(host.host_id).redeem(link["secret"])
    assert revoked.value.wire_code == "invite_revoked"

    printed = ok("host", "owner-invite", "--data", data,
                 "--public-url", "https://chat.example.org/").strip()
    claim = InviteLink.parse(printed)
    assert (claim.kind, claim.base_url, claim.host_id) == \
        ("claim", "https://chat.example.org", host.host_id)
    owner_link_id = invite_public_key(claim.secret)
    assert owner_link_id in ok("host", "invites", "--data", data)
    out = ok("host", "revoke-invite", "--data", data, "--", owner_link_id)
    assert out.strip() == f"revoked owner link {owner_link_id}"
    with pytest.raises(RequestError) as expired:
        await dave.host(host.host_id).claim(claim.secret)
    assert expired.value.wire_code == "invite_expired"

    err = refused("host", "revoke-invite", "--data", data, "nope")
    assert "no invite or owner link 'nope' on this host" in err
    err = refused("host", "owner-invite", "--data", data, "--public-url", "ftp://x", status=2)
    assert "'ftp://x' must start with https://" in err
    await dave.close()


async def test_rotate_key_needs_a_stopped_node_and_gives_a_new_host_id(
    relay: Relay, host: Host, community: Community, tmp_path: Path,
) -> None:
    data, old_id = str(host.data), host.host_id
    err = refused("host", "rotate-key", "--data", data, "--yes")
    assert f"a host node (pid {host.process.proc.pid}) is running on {data!r}; " \
           "stop it before you rotate the host key" in err
    assert terminate(host.process) == 0
    assert status_json(host.data)["running"] is False

    declined = refused("host", "rotate-key", "--data", data, stdin="n\n")
    assert "Aborted" in declined
    assert ok("host", "id", "--data", data).strip() == old_id

    out = ok("host", "rotate-key", "--data", data, "--yes")
    assert "The host id changes" in out and "every member must be" in out
    new_id = ok("host", "id", "--data", data).strip()
    assert new_id != old_id and f"new host id: {new_id}" in out
    retired = list(host.data.glob("host.key.retired-*"))
    assert len(retired) == 1 and stat.S_IMODE(retired[0].stat().st_mode) == 0o600
    assert status_json(host.data)["retired_host_ids"] == [old_id]

    again = start_host(tmp_path, relay, host.data)
    try:
        assert again.host_id == new_id
        owner = community.owner
        api = owner.host(new_id)
        for _ in range(200):  # until the node has dialled in under its new id
            try:
                hello = await api.hello("owner")
                break
            except RequestError as exc:
                assert exc.wire_code == "host_offline", exc
                await asyncio.sleep(0.05)
        assert hello["owner"] is True
        assert [s["id"] for s in hello["spaces"]] == [community.space]
        with pytest.raises(RequestError) as offline:
            await owner.host(old_id).call("space.list")
        assert offline.value.wire_code == "host_offline"
    finally:
        again.process.stop()


def test_admin_commands_refuse_an_uninitialised_directory(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing")
    for command in (["status"], ["members"], ["invites"], ["backup", str(tmp_path / "b")],
                    ["upgrade"], ["rotate-key", "--yes"]):
        err = refused("host", *command, "--data", missing)
        assert f"no host key at '{missing}/host.key'" in err, command
    ok("host", "init", "--data", missing)
    status = status_json(Path(missing))
    assert status["node"] is None and status["running"] is False
    assert status["schema"] == SCHEMA_VERSION
    assert "never run" in ok("host", "status", "--data", missing)
    assert ok("host", "init", "--data", missing, "--exist-ok").strip() == status["host_id"]
    err = refused("host", "init", "--data", missing)
    assert "is already initialised (host.key exists)" in err
