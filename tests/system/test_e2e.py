"""End-to-end encryption over real relay and host processes (docs/security.md, E2E).

Every test reads the host's SQLite file too: what the host stores is ciphertext, opaque
ids and key shares it cannot open.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from hearth.b64 import b64d, b64e
from hearth.client import ChannelEvent, Client, RequestError, new_message_id
from hearth.crypto import envelope, linking
from hearth.crypto.recovery import Recovery
from hearth.crypto.safety import safety_number
from hearth.crypto.sender_session import OutboundSession
from hearth.e2e.link_flow import link_existing_device, link_new_device, open_link
from hearth.e2e.reasons import E2EError, Reason
from hearth.e2e.secure import Message, SecureClient
from hearth.e2e.trust import KeyStatus, TrustStore
from hearth.errors import ErrorCode, ProtocolError
from hearth.identity import Identity
from hearth.keys import certify_device, new_device, now_ms
from tests.conftest import Community, Host, Relay, connect_user


async def secure(client: Client, host: Host) -> SecureClient:
    sc = SecureClient(client, host.host_id)
    await sc.replenish_prekeys()
    sc.use_recovery(Recovery.generate())
    return sc


async def joined(community: Community, relay: Relay, name: str,
                 identity: Identity | None = None) -> SecureClient:
    """A new user in the community's space (by invite link), with prekeys published."""
    link = await community.owner.host(community.host.host_id).invite_link(community.space)
    client = await connect_user(relay, community.host, name, identity)
    await client.host(community.host.host_id).redeem(link["secret"])
    return await secure(client, community.host)


def db_rows(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(sql, params).fetchall()


def session_of(env: bytes) -> bytes:
    return envelope.parse(env).header.session_id


def shares_for(db: Path, session: bytes, dev: bytes) -> int:
    return len(db_rows(db, "SELECT 1 FROM key_shares WHERE sess = ? AND recipient = ?",
                       b64e(session), dev))


async def texts(reader: SecureClient, space: str, chan: str) -> list[bytes | None]:
    return [m.plaintext for m in await reader.history(space, chan)]


async def shown_from(reader: SecureClient, signer: SecureClient, space: str, chan: str) -> Message:
    """How ``reader`` shows a message ``signer``'s device signs now, in a fresh session."""
    msg_id = new_message_id()
    env = envelope.seal(signer.identity.device.signing, OutboundSession.create(now_ms()),
                        envelope.Place(reader.host_id, space, chan, msg_id), b"x", now_ms())
    return await reader.open_event(ChannelEvent(reader.host_id, space, chan, "msg", 9, msg_id,
                                                signer.identity.account, b64e(signer.me),
                                                now_ms(), env, None))


async def test_two_and_three_users_exchange_encrypted_messages(
    relay: Relay, community: Community
) -> None:
    host_id, space, chan = community.host.host_id, community.space, community.general
    owner = await secure(community.owner, community.host)
    bob = await joined(community, relay, "bob")
    await bob.client.subscribe(host_id, space)
    ack = await owner.send(space, chan, b"hello bob")
    live = await bob.receive()
    assert (live.seq, live.plaintext, live.reason) == (ack["seq"], b"hello bob", None)
    carol = await joined(community, relay, "carol")
    await carol.client.subscribe(host_id, space)
    await owner.send(space, chan, b"hello both")
    await bob.send(space, chan, b"hi from bob")
    for reader in (bob, carol):
        assert [m.plaintext for m in [await reader.receive(), await reader.receive()]] == [
            b"hello both", b"hi from bob"]
    assert await texts(owner, space, chan) == [b"hello bob", b"hello both", b"hi from bob"]
    # Carol joined after the first message: she is told why, in plain words.
    first = (await carol.history(space, chan))[0]
    assert (first.plaintext, first.reason) == (None, Reason.BEFORE_JOIN)
    assert first.reason.text == "sent before you joined"
    # The host stored ciphertext and opaque ids only.
    for (env,) in db_rows(community.host.db, "SELECT env FROM messages"):
        assert isinstance(env, bytes)
        assert b"hello" not in env and b"bob" not in env
    for (share,) in db_rows(community.host.db, "SELECT share FROM key_shares"):
        assert isinstance(share, bytes) and len(share) == 235
    for sc in (bob, carol):
        await sc.client.close()


async def test_removed_member_cannot_read_anything_sent_after(
    relay: Relay, community: Community
) -> None:
    space, chan = community.space, community.general
    owner = await secure(community.owner, community.host)
    bob = await joined(community, relay, "bob")
    carol = await joined(community, relay, "carol")
    await owner.send(space, chan, b"before")
    assert await texts(bob, space, chan) == [b"before"]
    await owner.remove_member(space, bob.identity.account)
    await owner.send(space, chan, b"after")
    await carol.send(space, chan, b"carol after")
    envs = [row[0] for row in db_rows(community.host.db,
                                      "SELECT env FROM messages ORDER BY seq")]
    assert isinstance(envs[1], bytes) and isinstance(envs[2], bytes)
    # Both senders rotated: the sessions bob held do not open what came after...
    for env in envs[1:]:
        assert session_of(env) not in {ref[4] for ref in bob.keys.inbound}
        assert shares_for(community.host.db, session_of(env), bob.me) == 0
    assert session_of(envs[1]) != session_of(envs[0])
    # ...and carol, still a member, reads everything.
    assert await texts(carol, space, chan) == [b"before", b"after", b"carol after"]
    # A host replaying "after" to bob changes nothing: he holds no key for it.
    bob.rosters.clear()
    with pytest.raises(RequestError) as refused:
        await bob.decrypt(space, chan, 2, "x", owner.identity.account, b64e(owner.me),
                          now_ms(), envs[1])
    assert refused.value.wire_code == "not_member"
    # A message bob's device signs after his removal is refused by members.
    assert (await shown_from(carol, bob, space, chan)).reason is Reason.SENDER_REMOVED
    for sc in (bob, carol):
        await sc.client.close()


async def test_revoked_device_cannot_read_and_its_messages_are_refused(
    relay: Relay, community: Community
) -> None:
    space, chan = community.space, community.general
    owner = await secure(community.owner, community.host)
    alice = await joined(community, relay, "alice")
    laptop_client = await connect_user(relay, community.host, "alice",
                                       alice.identity.new_device())
    laptop = await secure(laptop_client, community.host)
    await owner.send(space, chan, b"to both devices")
    assert await texts(laptop, space, chan) == [b"to both devices"]
    await alice.revoke_device(b64e(laptop.me))
    owner.rosters.clear()  # another member notices at its next roster refresh
    await owner.send(space, chan, b"after revocation")
    env = db_rows(community.host.db, "SELECT env FROM messages WHERE seq = 2")[0][0]
    assert isinstance(env, bytes)
    assert shares_for(community.host.db, session_of(env), laptop.me) == 0
    assert session_of(env) not in {ref[4] for ref in laptop.keys.inbound}
    with pytest.raises(E2EError) as removed:
        await laptop.history(space, chan)
    assert removed.value.reason is Reason.DEVICE_REMOVED
    assert removed.value.reason.text == "this device was removed"
    # Distribution to the revoked device is refused by the host, naming it.
    with pytest.raises(RequestError) as refused:
        await owner.api.call("prekey.claim", devs=[b64e(laptop.me)])
    assert f"device {b64e(laptop.me)!r} was revoked" in str(refused.value)
    # Whatever the revoked device signs now is refused by the other members.
    assert (await shown_from(owner, laptop, space, chan)).reason is Reason.SENDER_DEVICE_REMOVED
    for sc in (alice, laptop):
        await sc.client.close()


async def test_new_device_restores_key_backup_and_reads_old_history(
    relay: Relay, community: Community
) -> None:
    space, chan = community.space, community.general
    owner = await secure(community.owner, community.host)
    alice = await joined(community, relay, "alice")
    recovery = Recovery.from_passphrase("correct horse battery staple", iterations=1000)
    alice.use_recovery(recovery)
    await owner.send(space, chan, b"old news")
    await alice.send(space, chan, b"my own old words")
    assert await texts(alice, space, chan) == [b"old news", b"my own old words"]
    assert await alice.backup() == 1
    stored = db_rows(community.host.db, "SELECT blob FROM key_backups")[0][0]
    assert isinstance(stored, bytes) and b"old" not in stored
    phone = await secure(await connect_user(relay, community.host, "alice",
                                            alice.identity.new_device()), community.host)
    before = await phone.history(space, chan)
    assert [m.reason for m in before] == [Reason.BEFORE_DEVICE] * 2
    wrong = Recovery.from_passphrase("wrong horse", salt=recovery.salt, iterations=1000)
    with pytest.raises(ProtocolError) as refused:
        await phone.restore_backup(wrong)
    assert refused.value.code == ErrorCode.WRONG_SECRET
    again = Recovery.from_passphrase("correct horse battery staple", salt=recovery.salt,
                                     iterations=1000)
    assert await phone.restore_backup(again) == 2
    assert await texts(phone, space, chan) == [b"old news", b"my own old words"]
    # New messages reach the new device through key shares as usual.
    await owner.send(space, chan, b"fresh")
    assert (await texts(phone, space, chan))[-1] == b"fresh"
    for sc in (alice, phone):
        await sc.client.close()


async def test_new_members_read_from_when_they_joined(relay: Relay, community: Community) -> None:
    space, chan = community.space, community.general
    owner = await secure(community.owner, community.host)
    await owner.send(space, chan, b"before dave")
    dave = await joined(community, relay, "dave")
    await owner.send(space, chan, b"welcome dave")
    shown = await dave.history(space, chan)
    assert [(m.plaintext, m.reason) for m in shown] == [
        (None, Reason.BEFORE_JOIN), (b"welcome dave", None)]
    await dave.client.close()


async def test_missing_key_is_explained_and_fetched_again_when_shown(
    relay: Relay, community: Community
) -> None:
    space, chan = community.space, community.general
    owner = await secure(community.owner, community.host)
    erin_client = await connect_user(relay, community.host, "erin")
    link = await owner.api.invite_link(space)
    await erin_client.host(community.host.host_id).redeem(link["secret"])
    erin = SecureClient(erin_client, community.host.host_id)  # no prekeys published yet
    await owner.send(space, chan, b"wait for it")
    first = (await erin.history(space, chan))[0]
    assert first.reason is Reason.NOT_SHARED_YET and first.reason.retry
    assert first.reason.text == "the sender's device has not shared its key yet — retrying"
    await erin.replenish_prekeys()
    await owner.send(space, chan, b"now it works")  # the owner shares with erin's device
    assert await texts(erin, space, chan) == [b"wait for it", b"now it works"]
    await erin_client.close()


async def test_replayed_and_moved_envelopes_are_refused(
    relay: Relay, community: Community
) -> None:
    host_id, space, chan = community.host.host_id, community.space, community.general
    owner = await secure(community.owner, community.host)
    bob = await joined(community, relay, "bob")
    await bob.client.subscribe(host_id, space)
    await owner.send(space, chan, b"once")
    event = await bob.client.next_event()
    assert (await bob.open_event(event)).plaintext == b"once"
    again = await bob.open_event(ChannelEvent(*[getattr(event, f) for f in (
        "host", "space", "chan", "kind")], event.seq + 5, event.id, event.acct, event.dev,
        event.ts, event.envelope, None))
    assert again.reason is Reason.REPLAY
    other = (await owner.api.create_channel(space, "other"))["channel"]["id"]
    moved = await bob.open_event(ChannelEvent(host_id, space, other, "msg", 1, event.id,
                                              event.acct, event.dev, event.ts, event.envelope,
                                              None))
    assert moved.reason is Reason.TAMPERED and "channel" in moved.detail
    await bob.client.close()


async def test_host_added_device_is_detected_and_gets_no_key(
    relay: Relay, community: Community
) -> None:
    space, chan = community.space, community.general
    owner = await secure(community.owner, community.host)
    bob = await joined(community, relay, "bob")
    # The host plants a device under bob's account, certified by a key that is not his.
    mallory = Identity.generate()
    planted = certify_device(mallory.account_key, new_device(mallory.account_key).signing,
                             mallory.device.x25519)
    with sqlite3.connect(community.host.db) as conn:
        conn.execute("INSERT INTO devices (dev, acct, cert, created_at) VALUES (?, ?, ?, ?)",
                     (planted.device, b64d(bob.identity.account), planted.to_bytes(), now_ms()))
    await owner.send(space, chan, b"for bob only")
    roster = await owner.roster(space)
    assert [(u.acct, u.dev) for u in roster.uncertified] == [
        (bob.identity.account, b64e(planted.device))]
    assert "signed by account" in roster.uncertified[0].why
    env = db_rows(community.host.db, "SELECT env FROM messages")[0][0]
    assert isinstance(env, bytes)
    assert shares_for(community.host.db, session_of(env), planted.device) == 0
    assert await texts(bob, space, chan) == [b"for bob only"]
    await bob.client.close()


async def test_device_linking_by_code_and_a_man_in_the_middle_fails(
    relay: Relay, community: Community
) -> None:
    host_id, space, chan = community.host.host_id, community.space, community.general
    alice = await joined(community, relay, "alice")
    await alice.send(space, chan, b"history to carry over")
    await alice.backup()
    assert alice.recovery is not None

    async def honest() -> Identity:
        code = await open_link(alice.api)
        shown: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        accepted = asyncio.Event()
        newcomer = await connect_user(relay, community.host, "new phone")

        async def confirm(code_on_screen: str) -> bool:
            shown.set_result(code_on_screen)
            await accepted.wait()
            return True

        async def type_code(_ours: str) -> str:
            typed = await shown
            accepted.set()
            return typed

        assert alice.recovery is not None
        _, (identity, recovery) = await asyncio.gather(
            link_existing_device(alice.api, alice.identity, alice.recovery, code, confirm),
            link_new_device(newcomer.host(host_id), code, type_code))
        await newcomer.close()
        assert recovery == alice.recovery
        return identity

    linked = await honest()
    assert linked.account == alice.identity.account and linked.device_id != alice.identity.device_id
    phone = SecureClient(await connect_user(relay, community.host, "alice", linked), host_id)
    await phone.restore_backup(alice.recovery)
    assert await texts(phone, space, chan) == [b"history to carry over"]
    await phone.client.close()

    # Mallory sees the link code (as the host and relay do) and sits in the middle.
    code = await open_link(alice.api)
    mallory = (await connect_user(relay, community.host, "mallory")).host(host_id)
    newcomer = (await connect_user(relay, community.host, "new laptop")).host(host_id)
    to_alice = linking.NewDeviceLink(host_id, code)
    await mallory.call("link.post", link=code, msg=b64e(to_alice.commit_message()))
    codes: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    newcomer_failed = asyncio.Event()

    async def alice_confirms(code_on_screen: str) -> bool:
        codes.set_result(code_on_screen)
        await newcomer_failed.wait()
        return False  # the user saw the new device refuse the code

    async def newcomer_types(_ours: str) -> str:
        return await codes

    async def man_in_the_middle() -> None:
        to_newcomer = linking.ExistingDeviceLink(host_id, code)
        seen: set[int] = set()
        while True:
            for item in (await mallory.call("link.read", link=code))["msgs"]:
                msg, n = b64d(item["msg"]), item["n"]
                if n in seen or item["dev"] == b64e(mallory.client.identity.device.public_key):
                    continue
                seen.add(n)
                if msg[0] == 2 and msg[1:33] == to_alice.commit_message()[1:]:
                    reply = to_alice.on_reveal(msg)
                    await mallory.call("link.post", link=code, msg=b64e(reply))
                elif msg[0] == 1:
                    await mallory.call("link.post", link=code,
                                       msg=b64e(to_newcomer.on_commit(msg)))
                elif msg[0] == 3:
                    to_newcomer.on_key(msg)
            await asyncio.sleep(0.05)

    async def newcomer_side() -> None:
        try:
            await link_new_device(newcomer, code, newcomer_types)
        finally:
            newcomer_failed.set()

    middle = asyncio.create_task(man_in_the_middle())
    await asyncio.sleep(0.3)  # mallory's commitment is first in the slot
    results = await asyncio.gather(
        link_existing_device(alice.api, alice.identity, alice.recovery, code, alice_confirms),
        newcomer_side(), return_exceptions=True)
    middle.cancel()
    for result in results:
        assert isinstance(result, ProtocolError) and result.code == ErrorCode.LINK_MISMATCH
    assert "someone is in the middle" in str(results[1])
    slot = (await mallory.call("link.read", link=code))["msgs"]
    assert all(b64d(item["msg"])[0] != 5 for item in slot), "account secrets were sent"
    await mallory.client.close()
    await newcomer.client.close()
    await alice.client.close()


async def test_safety_numbers_match_and_change_with_the_account_key(
    relay: Relay, community: Community
) -> None:
    owner = await secure(community.owner, community.host)
    bob = await joined(community, relay, "bob")
    mine = b64d(owner.identity.account)
    theirs = b64d(bob.identity.account)
    assert safety_number(mine, theirs) == safety_number(theirs, mine)
    # A new device of bob's leaves the number as it was.
    phone = await connect_user(relay, community.host, "bob", bob.identity.new_device())
    members = (await owner.roster(community.space, fresh=True)).members
    assert set(members) == {mine, theirs}
    trust = TrustStore()
    assert trust.observe("bob", theirs) is KeyStatus.NEW
    trust.mark_verified("bob", theirs)
    assert trust.observe("bob", theirs) is KeyStatus.SAME and trust.is_verified("bob", theirs)
    # "bob" comes back with another account key: the number changes, the mark is cleared.
    impostor = await joined(community, relay, "bob")
    other = b64d(impostor.identity.account)
    assert safety_number(mine, other) != safety_number(mine, theirs)
    assert trust.observe("bob", other) is KeyStatus.CHANGED
    assert not trust.is_verified("bob", other) and trust.contacts["bob"].previous == theirs
    for client in (bob.client, phone, impostor.client):
        await client.close()
