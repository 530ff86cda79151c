"""Rich messages in real Chromium, two people in two browser contexts, real relay and host
processes (docs/protocol.md section 13): replies, edits with their history, reactions,
deletes by the author and by an admin, and disappearing messages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from hearth import content
from hearth.client import Client
from hearth.crypto.recovery import Recovery
from hearth.e2e.messaging import ChannelChat, Messaging
from hearth.e2e.secure import SecureClient
from hearth.processes import Host, Relay
from tests.conftest import FAST_RATES, connect_user
from tests.web.test_browser_app import (
    claim_space_and_invite,
    contexts,
    join_by_link,
    new_person,
    shot,
)
from tests.web.test_browser_e2e import Loop, loop, send, set_up_recovery_key

__all__ = ["contexts", "loop"]  # the fixtures, re-exported for pytest

pytestmark = pytest.mark.relay_args(*FAST_RATES)

RECORD_ROWS = """() => {
    window.__seen = [];
    new MutationObserver(() => {
        for (const t of document.querySelectorAll('.message[data-id] .message-text')) {
            if (!window.__seen.includes(t.textContent)) window.__seen.push(t.textContent);
        }
    }).observe(document.body, {childList: true, subtree: true});
}"""
"""Record every message text ever drawn: a message that vanished was shown first."""


def row(page: Page, text: str) -> Any:
    """The stored row whose current text is ``text``."""
    return page.locator(".message[data-id]", has=page.locator(
        ".message-text", has_text=re.compile(f"^{re.escape(text)}$")))


def act(page: Page, text: str, action: str) -> None:
    """Hover the row of ``text`` and press one of its actions (Reply, React, Edit, Delete)."""
    target = row(page, text)
    target.hover()
    target.get_by_role("button", name=action, exact=True).click()


def two_people(browser: Browser, contexts: list[BrowserContext], relay: Relay,
               host: Host) -> tuple[Page, Page, str]:
    """Olive owns a space, Mia joined it by link (returned too); each has sent a first
    message (and so set up recovery)."""
    olive = new_person(browser, contexts)
    link = claim_space_and_invite(olive, relay, host)
    mia = join_by_link(browser, contexts, link)
    expect(olive.locator(".member[data-role=member] .member-name")).to_have_text("Mia")
    send(olive, "Who is coming on Friday?")
    set_up_recovery_key(olive)
    send(mia, "Hi all")
    set_up_recovery_key(mia)
    for page in (olive, mia):
        expect(row(page, "Hi all")).to_have_count(1)
        expect(row(page, "Who is coming on Friday?")).to_have_count(1)
    return olive, mia, link


def test_replies_edits_and_reactions_between_two_browsers(
    browser: Browser, contexts: list[BrowserContext], relay: Relay, host: Host
) -> None:
    olive, mia, _ = two_people(browser, contexts, relay, host)
    question = row(mia, "Who is coming on Friday?")


    # Only one's own messages can be edited; a member deletes only her own.
    question.hover()
    expect(question.get_by_role("button", name="Reply", exact=True)).to_be_visible()
    expect(question.get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    expect(question.get_by_role("button", name="Delete", exact=True)).to_have_count(0)
    own = row(mia, "Hi all")
    own.hover()
    expect(own.get_by_role("button", name="Edit", exact=True)).to_have_count(1)
    expect(own.get_by_role("button", name="Delete", exact=True)).to_have_count(1)

    # -- reply: a quote above the composer (Escape cancels it), then above the message
    act(mia, "Who is coming on Friday?", "Reply")
    mode = mia.locator(".composer-mode")
    expect(mode).to_have_text("Replying to Olive: Who is coming on Friday?")
    mia.locator(".composer-input").press("Escape")
    expect(mode).to_be_hidden()
    act(mia, "Who is coming on Friday?", "Reply")
    send(mia, "Me! I'll bring snacks")
    expect(mode).to_be_hidden()
    for page in (olive, mia):
        quote = row(page, "Me! I'll bring snacks").locator(".reply-ref")
        expect(quote).to_have_attribute("data-state", "held")
        expect(quote.locator(".reply-author")).to_have_text("Olive")
        expect(quote.locator(".reply-text")).to_have_text("Who is coming on Friday?")
    # Clicking the quote shows the parent.
    row(olive, "Me! I'll bring snacks").locator(".reply-ref").click()
    expect(row(olive, "Who is coming on Friday?")).to_have_class(re.compile(r"\bhighlight\b"))

    # -- edit: the text goes back into the composer; Escape leaves everything as it was
    olive.locator(".composer-input").fill("half-typed")
    act(olive, "Who is coming on Friday?", "Edit")
    expect(olive.locator(".composer-input")).to_have_value("Who is coming on Friday?")
    olive.locator(".composer-input").press("Escape")
    expect(olive.locator(".composer-input")).to_have_value("half-typed")
    olive.locator(".composer-input").fill("")
    act(olive, "Who is coming on Friday?", "Edit")
    send(olive, "Who is coming on Saturday?")
    for page in (olive, mia):
        edited = row(page, "Who is coming on Saturday?")
        expect(edited.locator(".edited-mark")).to_have_text("(edited)")
        expect(row(page, "Who is coming on Friday?")).to_have_count(0)
        # The reply shows its parent as it is now.
        expect(row(page, "Me! I'll bring snacks").locator(".reply-text")).to_have_text(
            "Who is coming on Saturday?")
    row(mia, "Who is coming on Saturday?").locator(".edited-mark").click()
    versions = mia.locator("#edit-history-dialog .version-body")
    expect(versions).to_have_text(["Who is coming on Friday?", "Who is coming on Saturday?"])
    mia.keyboard.press("Escape")
    expect(mia.locator("#edit-history-dialog")).to_have_count(0)

    # -- reactions: chips with counts and who; one's own chip takes it back
    act(mia, "Who is coming on Saturday?", "React")
    mia.get_by_role("button", name="React with 🎉").click()
    chip_at_olive = row(olive, "Who is coming on Saturday?").locator(
        ".reaction-chip[data-emoji='🎉']")
    expect(chip_at_olive.locator(".reaction-count")).to_have_text("1")
    expect(chip_at_olive).to_have_attribute("title", "Mia reacted with 🎉")
    expect(chip_at_olive).to_have_attribute("aria-pressed", "false")
    chip_at_olive.click()  # Olive joins in
    expect(chip_at_olive.locator(".reaction-count")).to_have_text("2")
    expect(chip_at_olive).to_have_attribute("title", "Mia, You reacted with 🎉")
    chip_at_mia = row(mia, "Who is coming on Saturday?").locator(
        ".reaction-chip[data-emoji='🎉']")
    expect(chip_at_mia).to_have_attribute("title", "You, Olive reacted with 🎉")
    expect(chip_at_mia).to_have_attribute("aria-pressed", "true")
    shot(mia, "20-replies-edits-reactions")
    chip_at_mia.click()  # Mia takes hers back
    expect(chip_at_olive.locator(".reaction-count")).to_have_text("1")
    expect(chip_at_olive).to_have_attribute("title", "You reacted with 🎉")
    expect(chip_at_mia).to_have_attribute("title", "Olive reacted with 🎉")
    expect(chip_at_mia).to_have_attribute("aria-pressed", "false")

    # -- history folds the same: after a reload Mia sees what she saw live
    mia.reload()
    again = row(mia, "Who is coming on Saturday?")
    expect(again.locator(".edited-mark")).to_have_text("(edited)")
    expect(again.locator(".reaction-chip[data-emoji='🎉']")).to_have_attribute(
        "title", "Olive reacted with 🎉")
    expect(row(mia, "Me! I'll bring snacks").locator(".reply-text")).to_have_text(
        "Who is coming on Saturday?")
    # Annotations are no rows of their own: three messages, three rows.
    expect(mia.locator(".message[data-id]")).to_have_count(3)

    # A live message in the open channel is asked for twice (the view, and the unread and
    # mention counter) and decrypted once.
    mia.evaluate("""() => {
        const secure = window.hearth.secure(window.hearth.current.hostId);
        window.__asked = 0;
        window.__decrypted = 0;
        const show = secure.show.bind(secure);
        const decrypt = secure.decrypt.bind(secure);
        secure.show = (...a) => { window.__asked++; return show(...a); };
        secure.decrypt = (...a) => { window.__decrypted++; return decrypt(...a); };
    }""")
    send(olive, "Counted once")
    expect(row(mia, "Counted once")).to_have_count(1)
    mia.wait_for_function("() => window.__asked >= 2")
    assert mia.evaluate("() => [window.__asked, window.__decrypted]") == [2, 1]


def test_deletes_and_disappearing_messages_between_two_browsers(
    browser: Browser, contexts: list[BrowserContext], relay: Relay, host: Host
) -> None:
    olive, mia, _ = two_people(browser, contexts, relay, host)

    # -- the author deletes her message, after confirming: gone for both, for good
    send(mia, "oops, wrong channel")
    expect(row(olive, "oops, wrong channel")).to_have_count(1)
    act(mia, "oops, wrong channel", "Delete")
    dialog = mia.locator("#delete-message-dialog")
    expect(dialog).to_contain_text("deleted for everyone")
    dialog.get_by_role("button", name="Cancel").click()
    expect(row(mia, "oops, wrong channel")).to_have_count(1)
    act(mia, "oops, wrong channel", "Delete")
    dialog.get_by_role("button", name="Delete").click()
    for page in (olive, mia):
        expect(row(page, "oops, wrong channel")).to_have_count(0)
    mia.reload()
    expect(row(mia, "Hi all")).to_have_count(1)
    expect(row(mia, "oops, wrong channel")).to_have_count(0)

    # -- an admin deletes a member's message (the dialog says whose it is)
    send(mia, "spam spam spam")
    expect(row(olive, "spam spam spam")).to_have_count(1)
    act(olive, "spam spam spam", "Delete")
    expect(olive.locator("#delete-message-dialog")).to_contain_text(
        "another member\u2019s message as an admin")
    olive.locator("#delete-message-dialog").get_by_role("button", name="Delete").click()
    for page in (olive, mia):
        expect(row(page, "spam spam spam")).to_have_count(0)
    expect(row(mia, "Hi all")).to_have_count(1)

    # -- disappearing messages: only admins set the timer; everyone sees the banner
    expect(mia.get_by_role("button", name="Disappearing messages settings")).to_have_count(0)
    expect(mia.locator("#channel-timer")).to_be_hidden()
    olive.get_by_role("button", name="Disappearing messages settings").click()
    timer = olive.locator("#channel-timer-dialog")
    timer.get_by_label("Disappearing messages").select_option("custom")
    timer.get_by_label("Custom timer (seconds)").fill("1")
    timer.get_by_role("button", name="Save").click()
    expect(timer).to_have_count(0)
    for page in (olive, mia):
        expect(page.locator("#channel-timer .timer-text")).to_have_text(
            "Messages disappear after 1 second")
        page.evaluate(RECORD_ROWS)
    send(olive, "this message vanishes")
    send(mia, "so does this one")
    for page in (olive, mia):
        for text in ("this message vanishes", "so does this one"):
            page.wait_for_function("t => window.__seen.includes(t)", arg=text)
            expect(row(page, text)).to_have_count(0)
    # Messages sent before the timer keep no timer.
    expect(row(mia, "Hi all")).to_have_count(1)
    expect(row(olive, "Who is coming on Friday?")).to_have_count(1)
    mia.reload()
    expect(row(mia, "Hi all")).to_have_count(1)
    expect(row(mia, "so does this one")).to_have_count(0)
    expect(mia.locator("#channel-timer .timer-text")).to_have_text(
        "Messages disappear after 1 second")

    # Off again: new messages stay.
    olive.get_by_role("button", name="Disappearing messages settings").click()
    timer.get_by_label("Disappearing messages").select_option("0")
    timer.get_by_role("button", name="Save").click()
    expect(mia.locator("#channel-timer")).to_be_hidden()
    send(olive, "this one stays")
    expect(row(mia, "this one stays")).to_have_count(1)
    expect(row(mia, "this one stays")).not_to_have_attribute("data-exp", re.compile(".*"))


def test_a_python_member_and_a_history_of_annotations(
    browser: Browser, contexts: list[BrowserContext], relay: Relay, host: Host,
    loop: Loop,
) -> None:
    """Content made by hearth/content.py reads the same in the browser and back; a page of
    history holding only annotations makes the browser load further, not show nothing;
    an edit of someone else's message is dropped (not_author)."""
    clients: list[Client] = []
    try:
        olive, mia, link = two_people(browser, contexts, relay, host)

        async def bot_joins() -> ChannelChat:
            client = await connect_user(relay, host, "Bot")
            clients.append(client)
            space = (await client.host(host.host_id).redeem(link.rsplit("/", 1)[1]))["space"]
            chan = next(c["id"] for c in space["channels"] if c["name"] == "general")
            secure = SecureClient(client, host.host_id)
            await secure.replenish_prekeys()
            secure.use_recovery(Recovery.generate())
            chat = Messaging(secure).channel(space["id"], chan)
            await chat.load()
            return chat

        chat = loop.run(bot_joins())
        # Sent before the bot joined: it cannot read it, but knows its id.
        friday = row(olive, "Who is coming on Friday?").get_attribute("data-id")
        assert friday

        async def bot_talks() -> None:
            sent = await chat.send_text("Bot here")
            for n in range(55):  # more than a history page (50) of annotations: on, off, ... on
                await chat.react(sent.id, "👍", on=n % 2 == 0)
            await chat.edit(sent.id, "Bot here, edited")
            # A forged edit of Olive's message: published properly, dropped by readers.
            forged = content.encode(content.Edit(friday, "hijacked"))
            await chat.secure.send(chat.space, chat.chan, forged, re=friday)

        loop.run(bot_talks(), timeout=60)
        mia.reload()
        for page in (olive, mia):
            bot = row(page, "Bot here, edited")
            expect(bot.locator(".edited-mark")).to_have_text("(edited)")
            expect(bot.locator(".reaction-chip[data-emoji='👍']")).to_have_attribute(
                "title", "Bot reacted with 👍")
            expect(row(page, "Who is coming on Friday?").locator(".edited-mark")).to_have_count(0)
            expect(page.locator(".message-text", has_text="hijacked")).to_have_count(0)
        # The newest page was all annotations: Mia's view loaded on to the rows before it.
        expect(row(mia, "Hi all")).to_have_count(1)
        expect(mia.locator(".message[data-id]")).to_have_count(3)

        # And the other way: a browser's reply and reaction, as Python folds them.
        act(mia, "Bot here, edited", "Reply")
        send(mia, "Hello Bot")
        act(mia, "Bot here, edited", "React")
        mia.get_by_role("button", name="React with ❤️").click()
        expect(row(olive, "Bot here, edited").locator(
            ".reaction-chip[data-emoji='❤️'] .reaction-count")).to_have_text("1")

        async def bot_reads() -> None:
            await chat.load(after=chat.last_seq)
            reply = next(s for s in chat.timeline() if s.body == "Hello Bot")
            assert reply.reply is not None
            assert (reply.reply.state, reply.reply.text) == ("held", "Bot here, edited")
            mine = chat.shown(reply.reply.id)
            assert mine is not None
            assert [(r.emoji, r.count) for r in mine.reactions] == [("👍", 1), ("❤️", 1)]

        loop.run(bot_reads())
    finally:
        for client in clients:
            loop.run(client.close())
