"""hearth.e2e.conversation: folding a channel's messages, tombstones and annotations into
what is shown, whatever order they arrive in."""

from __future__ import annotations

import itertools

from hearth import content
from hearth.e2e.conversation import EMOJI_PER_ACCOUNT, Conversation, Dropped, ReplyShown, Version
from hearth.e2e.reasons import Reason
from hearth.e2e.secure import Message

ME, BOB, EVE = "M" * 43, "B" * 43, "E" * 43


def msg(seq: int, msg_id: str, acct: str, body: content.Content | bytes | None,
        re: str | None = None, exp: int | None = None) -> Message:
    plaintext = content.encode(body) if isinstance(body, content.Content) else body
    reason = Reason.NOT_SHARED_YET if body is None else None
    return Message(seq, msg_id, acct, "dev-" + acct[:4], 1000 + seq, plaintext, reason,
                   re=re, exp=exp)


def edit(seq: int, msg_id: str, acct: str, target: str, body: str,
         mentions: tuple[str, ...] = ()) -> Message:
    return msg(seq, msg_id, acct, content.Edit(target, body, mentions), re=target)


def react(seq: int, msg_id: str, acct: str, target: str, emoji: str, on: bool = True) -> Message:
    return msg(seq, msg_id, acct, content.React(target, emoji, on), re=target)


def conversation(*messages: Message) -> Conversation:
    conv = Conversation(ME)
    for m in messages:
        conv.add(m)
    return conv


def test_edits_from_the_author_apply_in_seq_order_and_keep_every_version() -> None:
    parts = [msg(1, "a", BOB, content.Text("helo", mentions=(ME,))),
             edit(2, "e1", BOB, "a", "hello"), edit(4, "e2", BOB, "a", "hello!", (BOB,))]
    for order in itertools.permutations(parts):
        shown = conversation(*order).shown("a")
        assert shown is not None
        assert (shown.body, shown.edited, shown.reason) == ("hello!", True, None)
        assert shown.versions == (Version("helo", 1, 1001), Version("hello", 2, 1002),
                                  Version("hello!", 4, 1004))
        # Mentions are the latest version's: the edit no longer names me.
        assert (shown.mentions, shown.mentions_me) == ((BOB,), False)
    unedited = conversation(parts[0]).shown("a")
    assert unedited is not None and (unedited.edited, unedited.mentions_me) == (False, True)


def test_an_edit_by_anyone_but_the_author_is_dropped_not_author() -> None:
    conv = conversation(msg(1, "a", BOB, content.Text("mine")),
                        edit(2, "forged", EVE, "a", "eve was here"))
    shown = conv.shown("a")
    assert shown is not None and (shown.body, shown.edited) == ("mine", False)
    assert conv.dropped == [Dropped("forged", Reason.NOT_AUTHOR,
                                    f"an edit by {EVE} of a message by {BOB}")]
    assert Reason.NOT_AUTHOR.text == "an edit by someone other than the author, ignored"


def test_reactions_count_the_latest_state_per_account_and_emoji() -> None:
    parts = [msg(1, "a", BOB, content.Text("party?")),
             react(2, "r1", ME, "a", "\U0001F389"), react(3, "r2", BOB, "a", "\U0001F389"),
             react(4, "r3", BOB, "a", "\U0001F44D"), react(5, "r4", ME, "a", "\U0001F389", False),
             react(6, "r5", EVE, "a", "\U0001F389")]
    for order in itertools.permutations(parts):
        shown = conversation(*order).shown("a")
        assert shown is not None
        got = [(r.emoji, r.accts, r.count, r.mine) for r in shown.reactions]
        assert got == [("\U0001F389", (BOB, EVE), 2, False),
                       ("\U0001F44D", (BOB,), 1, False)]
    # Toggled on again later: counted, and mine.
    conv = conversation(*parts, react(7, "r6", ME, "a", "\U0001F389"))
    shown = conv.shown("a")
    assert shown is not None and shown.reactions[0].accts == (ME, BOB, EVE)
    assert shown.reactions[0].mine


def test_an_account_counts_at_most_20_emoji_on_one_message() -> None:
    conv = conversation(msg(1, "a", BOB, content.Text("x")))
    for n in range(EMOJI_PER_ACCOUNT + 1):
        conv.add(react(2 + n, f"r{n}", EVE, "a", f"e{n}"))
    shown = conv.shown("a")
    assert shown is not None and len(shown.reactions) == EMOJI_PER_ACCOUNT == 20
    assert "e20" not in {r.emoji for r in shown.reactions}
    # One taken back makes room for the next one put on.
    conv.add(react(30, "off", EVE, "a", "e0", False))
    conv.add(react(31, "again", EVE, "a", "e20"))
    shown = conv.shown("a")
    assert shown is not None and len(shown.reactions) == 20
    assert {r.emoji for r in shown.reactions} == {f"e{n}" for n in range(1, 21)}


def test_annotations_that_arrive_first_wait_for_their_target() -> None:
    conv = conversation(edit(3, "e", BOB, "a", "fixed"), react(4, "r", ME, "a", "+"))
    assert conv.shown("a") is None and conv.waiting() == {"a"}
    assert conv.timeline() == []
    conv.add(msg(1, "a", BOB, content.Text("fxied")))
    shown = conv.shown("a")
    assert shown is not None and (shown.body, shown.edited) == ("fixed", True)
    assert [r.emoji for r in shown.reactions] == ["+"] and conv.waiting() == set()
    assert [s.id for s in conv.timeline()] == ["a"]


def test_a_reply_shows_the_held_parent_else_the_quote_else_that_it_was_deleted() -> None:
    reply = msg(5, "r", ME, content.text("agreed", reply_to=("p", BOB, "first take")))
    conv = conversation(reply)
    shown = conv.shown("r")
    assert shown is not None and shown.reply == ReplyShown("p", BOB, "quoted", "first take")
    conv.add(msg(1, "p", BOB, content.Text("first take")))
    conv.add(edit(2, "pe", BOB, "p", "second take"))
    shown = conv.shown("r")
    assert shown is not None and shown.reply == ReplyShown("p", BOB, "held", "second take")
    conv.remove(["p"])
    shown = conv.shown("r")
    assert shown is not None
    assert shown.reply == ReplyShown("p", BOB, "deleted", "Original message was deleted")


def test_deleted_messages_go_with_their_annotations_and_never_come_back() -> None:
    parent = msg(1, "a", BOB, content.Text("oops"))
    conv = conversation(parent, react(2, "r", ME, "a", "+"), edit(3, "e", BOB, "a", "oops!"),
                        msg(4, "b", ME, content.Text("still here")))
    conv.remove(["e"])  # an annotation's id undoes only itself
    shown = conv.shown("a")
    assert shown is not None and (shown.body, shown.edited) == ("oops", False)
    assert [r.emoji for r in shown.reactions] == ["+"]
    conv.add(Message(1, "a", BOB, "d", 1001, None, deleted=True))  # a history tombstone
    assert conv.shown("a") is None and {"a", "r"} <= conv.gone
    assert [s.id for s in conv.timeline()] == ["b"]
    conv.add(parent)
    conv.add(react(5, "late", EVE, "a", "+"))
    assert conv.shown("a") is None and conv.annotations.get("a") is None


def test_expired_messages_are_dropped_at_exp_without_the_host_s_event() -> None:
    conv = conversation(msg(1, "a", BOB, content.Text("brief"), exp=5000),
                        react(2, "r", ME, "a", "+"),
                        msg(3, "b", BOB, content.Text("longer"), exp=9000))
    assert conv.next_expiry() == 5000
    assert conv.expire(4999) == []
    assert conv.expire(5000) == ["a"]
    assert [s.id for s in conv.timeline()] == ["b"] and "r" in conv.gone
    assert conv.next_expiry() == 9000


def test_content_that_contradicts_re_is_dropped_bad_content() -> None:
    conv = conversation(
        msg(1, "a", BOB, content.Text("target")),
        msg(2, "no-re", BOB, content.Edit("a", "sneaky")),
        msg(3, "other", BOB, content.Edit("a", "moved"), re="b"),
        msg(4, "text-re", BOB, content.Text("a text"), re="a"),
        msg(5, "junk", BOB, b'{"v":1,"t":"react","target":"a","emoji":"a b","on":true}',
            re="a"),
    )
    shown = conv.shown("a")
    assert shown is not None and (shown.body, shown.edited, shown.reactions) == (
        "target", False, ())
    assert conv.dropped == [
        Dropped("no-re", Reason.BAD_CONTENT, "an edit of 'a' published without re"),
        Dropped("other", Reason.BAD_CONTENT,
                "an edit of 'a' published as an annotation of 'b'"),
        Dropped("text-re", Reason.BAD_CONTENT, "a text published as an annotation of 'a'"),
        Dropped("junk", Reason.BAD_CONTENT,
                "emoji must not hold whitespace or control characters"),
    ]
    assert [s.id for s in conv.timeline()] == ["a"]


def test_rows_that_cannot_be_read_say_why_and_plain_text_is_shown_as_is() -> None:
    conv = conversation(msg(1, "bad", BOB, b'{"v":1,"t":"text","body":""}'),
                        msg(2, "locked", BOB, None),
                        msg(3, "plain", BOB, b"just words"),
                        msg(4, "unread-react", BOB, None, re="plain"))
    bad, locked, plain = conv.timeline()
    assert (bad.body, bad.reason) == (None, Reason.BAD_CONTENT)
    assert Reason.BAD_CONTENT.text == "the message is not in a form Hearth can show"
    assert (locked.body, locked.reason) == (None, Reason.NOT_SHARED_YET)
    assert (plain.body, plain.reason, plain.reactions) == ("just words", None, ())
    assert conv.dropped == []
    # Once its key arrives, the row opens.
    conv.add(msg(2, "locked", BOB, content.Text("now readable")))
    shown = conv.shown("locked")
    assert shown is not None and (shown.body, shown.reason) == ("now readable", None)
