"""Rich messaging (docs/protocol.md section 13) between Python members through real relay
and host processes: replies, edits, reactions and mentions inside the envelopes; deletes,
disappearing messages, markers, receipts and unread counts kept by the host."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hearth import content
from hearth.client import RequestError
from hearth.e2e.conversation import Dropped, ReplyShown
from hearth.e2e.messaging import (
    ChannelChanged,
    ChannelChat,
    Deleted,
    Mark,
    MemberChanged,
    Messaging,
    Receipts,
    Unread,
    Update,
)
from hearth.e2e.reasons import Reason
from hearth.e2e.secure import Message
from hearth.errors import ErrorCode, ProtocolError
from tests.conftest import Community, Relay, database_bytes
from tests.system.test_e2e import db_rows, joined, secure

CAKE = "Who brings the cake?"


async def members(community: Community, relay: Relay, *names: str) -> list[Messaging]:
    """The owner, then a new member per name; each follows the whole space."""
    people = [Messaging(await secure(community.owner, community.host))]
    people += [Messaging(await joined(community, relay, n)) for n in names]
    for m in people:
        await m.secure.client.subscribe(community.host.host_id, community.space)
    return people


def chats(community: Community, *people: Messaging) -> list[ChannelChat]:
    return [m.channel(community.space, community.general) for m in people]


async def until(m: Messaging, wanted: Callable[[Update], bool]) -> Update:
    """Take in updates (folding each) until one is ``wanted``."""
    while not wanted(update := await m.next_update(10)):
        pass
    return update


def message(msg_id: str) -> Callable[[Update], bool]:
    return lambda u: isinstance(u, Message) and u.id == msg_id


async def close(*people: Messaging) -> None:
    """Close the members' clients (not the owner's: the community fixture does that)."""
    for m in people:
        await m.secure.client.close()


async def test_replies_edits_and_mentions(relay: Relay, community: Community) -> None:
    owner, bob = await members(community, relay, "bob")
    o, b = chats(community, owner, bob)
    first = await b.send_text(CAKE)
    await until(owner, message(first.id))
    carol = Messaging(await joined(community, relay, "carol"))  # joins after the question
    parent = o.shown(first.id)
    assert parent is not None and parent.body == CAKE
    reply = await o.send_text("I will!", reply_to=parent, mentions=[bob.me])
    await until(bob, message(reply.id))
    shown = b.shown(reply.id)
    assert shown is not None and shown.body == "I will!"
    assert shown.reply == ReplyShown(first.id, bob.me, "held", CAKE)
    assert (shown.mentions, shown.mentions_me) == ((bob.me,), True)
    assert [s.id for s in b.mentions_me()] == [reply.id]

    # The author edits: everyone sees the new text, the mark and every version.
    edit = await b.edit(first.id, "Who brings the cake on Friday?")
    await until(owner, message(edit.id))
    shown = o.shown(first.id)
    assert shown is not None and (shown.body, shown.edited) == (
        "Who brings the cake on Friday?", True)
    assert [v.body for v in shown.versions] == [CAKE, "Who brings the cake on Friday?"]
    assert [v.seq for v in shown.versions] == [first.seq, edit.seq]
    reply_shown = o.shown(reply.id)
    assert reply_shown is not None and reply_shown.reply is not None
    assert reply_shown.reply.text == "Who brings the cake on Friday?"  # the parent as held now

    # Nobody else can: refused before anything is sent.
    last = (await o.load())[-1].seq
    with pytest.raises(ProtocolError) as refused:
        await o.edit(first.id, "the cake is a lie")
    assert (refused.value.code, refused.value.message) == (
        ErrorCode.NOT_AUTHOR,
        f"message {first.id!r} was sent by another member: only its author can edit it")
    with pytest.raises(ProtocolError) as unknown:
        await o.send_text("to what?", reply_to="no-such-id")
    assert (unknown.value.code, unknown.value.message) == (
        ErrorCode.NOT_FOUND, f"message 'no-such-id' is not shown in channel {community.general!r}")
    assert (await o.load())[-1].seq == last

    # Carol cannot open the question (sent before she joined): the reply shows the quote.
    (c,) = chats(community, carol)
    await c.load()
    question = c.shown(first.id)
    assert question is not None and (question.body, question.reason) == (
        None, Reason.BEFORE_JOIN)
    shown = c.shown(reply.id)
    assert shown is not None and shown.reply == ReplyShown(first.id, bob.me, "quoted", CAKE)
    assert (shown.body, shown.mentions_me) == ("I will!", False)
    # The host holds none of it: not the texts, the quote, the edit, nor who is mentioned.
    stored = database_bytes(community.host.db)
    assert reply.id.encode() in stored  # the right file: what the host must know is there
    for secret in (CAKE, "I will!", "on Friday?", '"mentions"', '"reply"', '"edit"'):
        assert secret.encode() not in stored
    await close(bob, carol)


async def test_a_forged_edit_of_another_member_s_message_is_dropped_not_author(
    relay: Relay, community: Community
) -> None:
    owner, bob, eve = await members(community, relay, "bob", "eve")
    o, b = chats(community, owner, bob)
    first = await b.send_text(CAKE)
    # Eve skips the client's check and seals the edit herself: the host cannot tell.
    forged = await eve.secure.send(community.space, community.general,
                                   content.encode(content.Edit(first.id, "eve was here")),
                                   re=first.id)
    for m, chat in ((owner, o), (bob, b)):
        await until(m, message(forged["id"]))
        shown = chat.shown(first.id)
        assert shown is not None and (shown.body, shown.edited) == (CAKE, False)
        assert chat.conversation.dropped == [Dropped(
            forged["id"], Reason.NOT_AUTHOR, f"an edit by {eve.me} of a message by {bob.me}")]
    # Reloading history drops it the same way.
    (again,) = chats(community, Messaging(bob.secure))
    await again.load()
    shown = again.shown(first.id)
    assert shown is not None and (shown.body, shown.edited) == (CAKE, False)
    assert [d.reason for d in again.conversation.dropped] == [Reason.NOT_AUTHOR]
    await close(bob, eve)


async def test_reactions_count_who_reacted_and_toggle_off(
    relay: Relay, community: Community
) -> None:
    owner, bob, carol = await members(community, relay, "bob", "carol")
    o, b, c = chats(community, owner, bob, carol)
    first = await o.send_text("Friday at eight")
    thumbs, party = "\U0001F44D", "\U0001F389"
    await b.react(first.id, thumbs)
    await c.react(first.id, thumbs)
    last = await c.react(first.id, party)
    await until(owner, message(last.id))
    shown = o.shown(first.id)
    assert shown is not None
    assert [(r.emoji, r.count, r.accts, r.mine) for r in shown.reactions] == [
        (thumbs, 2, (bob.me, carol.me), False), (party, 1, (carol.me,), False)]
    off = await c.react(first.id, thumbs, on=False)
    await until(owner, message(off.id))
    shown = o.shown(first.id)
    assert shown is not None
    assert [(r.emoji, r.accts) for r in shown.reactions] == [(thumbs, (bob.me,)),
                                                            (party, (carol.me,))]
    # Reactions are annotations: not rows, and the host saw only their target.
    assert [s.id for s in o.timeline()] == [first.id]
    rows = db_rows(community.host.db, "SELECT target FROM messages ORDER BY seq")
    assert rows == [(None,), (first.id,), (first.id,), (first.id,), (first.id,)]
    stored = database_bytes(community.host.db)
    assert first.id.encode() in stored
    for secret in (thumbs, party, '"react"', "Friday at eight"):
        assert secret.encode() not in stored
    await close(bob, carol)


async def test_delete_by_author_and_admin_and_refusal_for_another_member(
    relay: Relay, community: Community
) -> None:
    owner, bob = await members(community, relay, "bob")
    o, b = chats(community, owner, bob)
    mine = await b.send_text("typo here")
    liked = await o.react(mine.id, "+")
    theirs = await o.send_text("owner's words")
    await until(bob, message(theirs.id))

    # Another member's message: refused, and nothing changes.
    with pytest.raises(RequestError) as refused:
        await b.delete(theirs.id)
    assert (refused.value.wire_code, refused.value.message) == (
        "forbidden", f"message {theirs.id!r} was sent by another member: only its author or "
        "an admin can delete it")

    # The author deletes: the message and its reaction go, for everyone, at once.
    assert await b.delete(mine.id) == [mine.id, liked.id]
    gone = await until(owner, lambda u: isinstance(u, Deleted))
    assert gone == Deleted(community.space, community.general, bob.me, gone.ts,
                           (mine.id, liked.id))
    assert o.shown(mine.id) is None and b.shown(mine.id) is None
    with pytest.raises(RequestError) as again:
        await b.delete(mine.id)
    assert (again.value.wire_code, again.value.message) == (
        "not_found", f"message {mine.id!r} was deleted")

    # An admin (here the owner) deletes another member's message.
    other = await b.send_text("something regrettable")
    await until(owner, message(other.id))
    assert await o.delete(other.id) == [other.id]
    gone = await until(bob, lambda u: isinstance(u, Deleted) and u.ids == (other.id,))
    assert isinstance(gone, Deleted) and gone.acct == owner.me
    assert [s.id for s in b.timeline()] == [theirs.id]

    # Annotating a deleted message is refused by the host.
    with pytest.raises(RequestError) as late:
        await o.react(mine.id, "+")
    assert (late.value.wire_code, late.value.message) == (
        "not_found", f"message {mine.id!r} was deleted")

    # Whoever loads history afterwards gets tombstones: no envelope left anywhere.
    (fresh,) = chats(community, Messaging(await joined(community, relay, "dave")))
    page = await fresh.load()
    assert [(m.id, m.deleted, m.plaintext) for m in page if m.deleted] == [
        (mine.id, True, None), (liked.id, True, None), (other.id, True, None)]
    assert [s.id for s in fresh.timeline()] == [theirs.id]
    envs = db_rows(community.host.db, "SELECT env FROM messages WHERE msg_id IN (?, ?, ?)",
                   mine.id, liked.id, other.id)
    assert all(not env for (env,) in envs) and len(envs) == 3
    await close(bob, fresh.messaging)


async def test_a_member_who_left_cannot_react(relay: Relay, community: Community) -> None:
    owner, bob = await members(community, relay, "bob")
    o, b = chats(community, owner, bob)
    first = await o.send_text("farewell?")
    await until(bob, message(first.id))
    await bob.secure.api.call("space.leave", space=community.space)
    with pytest.raises(RequestError) as refused:
        await b.react(first.id, "\U0001F44B")
    assert (refused.value.wire_code, refused.value.message) == (
        "not_member", f"you are not a member of space {community.space!r}")
    # Bypassing the roster: the host refuses the publish itself.
    with pytest.raises(RequestError) as publish:
        await bob.secure.api.call("publish", space=community.space, chan=community.general,
                                  id="r1", env="AAAA", re=first.id)
    assert (publish.value.wire_code, publish.value.message) == (
        "not_member", f"you are not a member of space {community.space!r}")
    await close(bob)


async def test_disappearing_messages(relay: Relay, community: Community) -> None:
    owner, bob = await members(community, relay, "bob")
    o, b = chats(community, owner, bob)
    with pytest.raises(RequestError) as refused:
        await b.set_ttl(1)
    assert (refused.value.wire_code, refused.value.message) == (
        "forbidden", f"channel.ttl in space {community.space!r} needs role 'admin' or above; "
        "you are 'member'")
    channel = await o.set_ttl(1)
    assert (channel["id"], channel["ttl_s"]) == (community.general, 1)
    changed = await until(bob, lambda u: isinstance(u, ChannelChanged))
    assert isinstance(changed, ChannelChanged) and changed.channel["ttl_s"] == 1
    assert (b.ttl_s, o.ttl_s) == (1, 1)
    brief = await o.send_text("this will self-destruct")
    assert brief.exp == brief.ts + 1000  # the sender's own copy expires too
    got = await until(bob, message(brief.id))
    assert isinstance(got, Message) and got.exp == got.ts + 1000
    gone = await until(bob, lambda u: isinstance(u, Deleted))
    assert isinstance(gone, Deleted) and (gone.acct, gone.ids) == ("", (brief.id,))
    assert b.shown(brief.id) is None
    page = await b.load()
    assert [(m.id, m.deleted) for m in page] == [(brief.id, True)]
    # Back to 0: messages stay.
    await o.set_ttl(0)
    kept = await o.send_text("this stays")
    got = await until(bob, message(kept.id))
    assert isinstance(got, Message) and got.exp is None
    await close(bob)


async def test_read_and_delivered_markers_and_receipts(
    relay: Relay, community: Community
) -> None:
    owner, bob = await members(community, relay, "bob")
    o, b = chats(community, owner, bob)
    for n in range(3):
        sent = await o.send_text(f"news {n}")
    await until(bob, message(sent.id))
    assert await b.mark_delivered() == Mark(bob.me, 0, 3)
    assert await b.mark_read(2) == Mark(bob.me, 2, 3)
    assert await b.mark_read(1) == Mark(bob.me, 2, 3)  # markers never move back
    with pytest.raises(RequestError) as beyond:
        await b.mark_read(9)
    assert (beyond.value.wire_code, beyond.value.message) == (
        "bad_request", f"read 9 is beyond the last seq 3 of channel {community.general!r}")
    rcpt = await until(owner, lambda u: isinstance(u, Receipts)
                       and any(m.acct == bob.me and m.read == 2 for m in u.marks))
    assert isinstance(rcpt, Receipts) and o.marks[bob.me].read == 2
    marks = await o.receipts()
    assert (marks[bob.me].read, marks[bob.me].delivered) == (2, 3)

    # Bob stops sharing receipts: the owner no longer sees his, he still sees the owner's.
    assert await bob.settings(receipts=False) is False
    assert await bob.settings() is False
    assert bob.me not in await o.receipts()
    await b.mark_read(3)
    await o.mark_read(3)
    announced: list[Receipts] = []

    def owner_read_all(u: Update) -> bool:
        announced.extend([u] if isinstance(u, Receipts) else [])
        return any(m.acct == owner.me and m.read == 3 for r in announced for m in r.marks)

    await until(owner, owner_read_all)
    assert not [m for r in announced for m in r.marks if m.acct == bob.me and m.read == 3]
    assert bob.me not in await o.receipts()
    assert (await b.receipts())[owner.me].read == 3
    await close(bob)


async def test_unread_counts_and_mentions(relay: Relay, community: Community) -> None:
    owner, bob = await members(community, relay, "bob")
    o, b = chats(community, owner, bob)
    first = await o.send_text("one")
    await o.send_text("two, for bob", mentions=[bob.me])
    bobs = await b.send_text("bob's own words")  # one's own messages are never unread
    await o.react(first.id, "+")  # annotations are never unread
    doomed = await o.send_text("soon deleted")
    await o.delete(doomed.id)  # deleted messages are never unread
    last = await o.send_text("three")
    assert await b.unread() == Unread(community.general, 0, last.seq, 3, first.seq)
    await until(bob, message(last.id))
    assert [s.body for s in b.mentions_me()] == ["two, for bob"]
    await b.mark_read(first.seq)
    assert (await bob.unread(community.space))[community.general] == Unread(
        community.general, first.seq, last.seq, 2, first.seq + 1)
    assert [s.body for s in b.mentions_me(after=first.seq)] == ["two, for bob"]
    await b.mark_read()
    assert (await b.unread()).unread == 0 and (await b.unread()).first_unread is None
    own = await b.send_text("one more")
    # For the owner, only bob's words are unread; the rest is the owner's own.
    assert await o.unread() == Unread(community.general, 0, own.seq, 2, bobs.seq)
    await close(bob)


async def test_who_joins_leaves_or_changes_role_reaches_the_members_at_once(
    relay: Relay, community: Community,
) -> None:
    """A ``mem`` event on the space's own topic for each change of membership, to every
    member following the space: Python clients need not poll ``member.list``."""
    owner, bob = await members(community, relay, "bob")
    carol = Messaging(await joined(community, relay, "carol"))

    def changed(u: Update) -> bool:
        return isinstance(u, MemberChanged)

    changes = [await until(bob, changed)]
    await owner.secure.api.call("member.role", space=community.space, acct=bob.me, role="admin")
    changes.append(await until(bob, changed))
    await carol.secure.api.call("space.leave", space=community.space)
    changes.append(await until(bob, changed))
    assert changes == [
        MemberChanged(community.space, carol.me, "member", carol.me),
        MemberChanged(community.space, bob.me, "admin", owner.me),
        MemberChanged(community.space, carol.me, None, carol.me),
    ]
    listed = await bob.secure.api.call("member.list", space=community.space)
    assert {(m["acct"], m["role"]) for m in listed["members"]} == {
        (owner.me, "owner"), (bob.me, "admin")}
    await close(bob, carol)
