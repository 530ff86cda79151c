"""Awareness in real Chromium, two people in two browser contexts against real relay and
host processes (docs/protocol.md §13.3, §13.4): unread badges per channel and per space
that clear when the channel is opened, the jump to the first unread message under a
"New messages" divider, "Delivered" / "Read by" under one's own messages and the
per-member opt-out of read receipts, @mentions picked from the member list (highlighted,
counted on a badge), and notifications while the tab is hidden, by setting."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.conftest import FAST_RATES, Host, Relay, start_host, start_relay
from tests.web.test_browser_app import (
    claim_space_and_invite,
    contexts,
    create_channel,
    create_identity,
    join_by_link,
    new_person,
    shot,
)
from tests.web.test_browser_e2e import body_of, send, set_up_recovery_key
from tests.web.test_browser_presence import HIDE, SHOW

__all__ = ["contexts"]  # the fixture, re-exported for pytest

MENTIONS_ME = re.compile(r"(^|\s)mentions-me(\s|$)")
RECORD_NOTIFICATIONS = """(() => {
    // Every notification the page shows, as constructed (the real one is shown too).
    window.__notes = [];
    const Real = window.Notification;
    window.Notification = class extends Real {
        constructor(title, options) {
            super(title, options);
            window.__notes.push({title, body: (options || {}).body || '', note: this});
        }
    };
})();"""


@dataclass
class Two:
    relay: Relay
    host: Host
    olive: Page
    mia: Page
    general: str
    plans: str


@pytest.fixture
def two(browser: Browser, contexts: list[BrowserContext], tmp_path: Path) -> Iterator[Two]:
    """Olive owns "Book club" with #general and #plans; Mia joined it by link (she may
    be notified: the permission is granted and every notification is recorded)."""
    relay = start_relay(tmp_path, *FAST_RATES)
    host = start_host(tmp_path, relay)
    try:
        olive = new_person(browser, contexts)
        link = claim_space_and_invite(olive, relay, host)
        plans = create_channel(olive, "plans")
        general = olive.locator(".channel-link", has_text="general").get_attribute("data-chan")
        assert general

        mia = new_person(browser, contexts)
        mia.context.grant_permissions(["notifications"], origin=relay.http_url)
        mia.context.add_init_script(RECORD_NOTIFICATIONS)
        mia.goto(link)
        create_identity(mia, "Mia")
        expect(mia.locator(".channel-title")).to_have_text("general")
        expect(olive.locator(".member[data-role=member] .member-name")).to_have_text("Mia")
        expect(mia.locator(".member[data-role=owner] .member-name")).to_have_text("Olive")
        yield Two(relay, host, olive, mia, general, plans)
    finally:
        host.process.stop()
        relay.process.stop()


def channel(page: Page, chan: str) -> Locator:
    return page.locator(f".channel-link[data-chan='{chan}']")


def space_header(page: Page) -> Locator:
    return page.locator(".space-header")


def unread(holder: Locator) -> Locator:
    return holder.locator(":scope > .unread-badge")


def mentions(holder: Locator) -> Locator:
    return holder.locator(":scope > .mention-badge")


def row_of(page: Page, text: str) -> Locator:
    """The stored row whose body is exactly ``text``."""
    body = page.locator(".message-body", has_text=re.compile(f"^{re.escape(text)}$"))
    return page.locator(".message:not(.pending)", has=body)


def receipt(page: Page, text: str) -> Locator:
    return row_of(page, text).locator(".receipt")


def open_settings(page: Page) -> Locator:
    """Open Settings from the gear in the sidebar's footer (named "Settings")."""
    gear = page.get_by_role("button", name="Settings", exact=True)
    expect(gear.locator("svg.icon-settings")).to_have_count(1)
    gear.click()
    dialog = page.locator("#settings-dialog")
    expect(dialog.locator("#setting-receipts")).to_be_enabled()
    return dialog


def test_unread_badges_divider_and_read_receipts_with_opt_out(
        two: Two, browser: Browser, contexts: list[BrowserContext]) -> None:
    olive, mia = two.olive, two.mia
    # Olive writes in #plans while Mia looks at #general: Mia's counts grow on the
    # channel and on its space, never on the channel she is looking at.
    olive.locator(".channel-link", has_text="general").click()
    send(olive, "Hello Mia")
    set_up_recovery_key(olive)
    expect(body_of(mia, "Hello Mia")).to_have_count(1)
    # Mia has #general open in a visible tab: read at once, and Olive sees it.
    expect(receipt(olive, "Hello Mia")).to_have_text("Read by 1 of 1")
    expect(receipt(olive, "Hello Mia")).to_have_attribute("title", "Read by Mia")
    expect(unread(channel(mia, two.general))).to_be_hidden()

    channel(olive, two.plans).click()
    total = 60  # more than the first page (50): the jump loads older pages
    for i in range(1, total + 1):
        send(olive, f"Plan {i}")
    expect(body_of(olive, f"Plan {total}")).to_have_count(1)
    expect(unread(channel(mia, two.plans))).to_have_text(str(total))
    expect(unread(space_header(mia))).to_have_text(str(total))
    expect(unread(channel(mia, two.general))).to_be_hidden()
    expect(mentions(channel(mia, two.plans))).to_be_hidden()
    # Her device received them: delivered, not read.
    expect(receipt(olive, f"Plan {total}")).to_have_text("Delivered")
    expect(receipt(olive, f"Plan {total}")).to_have_attribute("title", "Delivered to Mia")
    # Olive's own messages are never unread to her.
    expect(unread(channel(olive, two.plans))).to_be_hidden()
    shot(mia, "30-unread-badges")

    # Opening #plans jumps to the first unread message under a divider, and clears.
    channel(mia, two.plans).click()
    divider = mia.locator(".unread-divider")
    expect(divider).to_have_text("New messages")
    expect(divider).to_be_in_viewport()
    first = divider.evaluate("d => d.nextElementSibling.dataset.seq")
    expect(mia.locator(f".message[data-seq='{first}'] .message-body")).to_have_text("Plan 1")
    expect(row_of(mia, f"Plan {total}")).not_to_be_in_viewport()
    expect(unread(channel(mia, two.plans))).to_be_hidden()
    expect(unread(space_header(mia))).to_be_hidden()
    expect(receipt(olive, f"Plan {total}")).to_have_text("Read by 1 of 1")
    expect(receipt(olive, "Plan 1")).to_have_text("Read by 1 of 1")
    shot(mia, "31-new-messages-divider")

    # Sam joins now. A newcomer's markers start at the end of each channel, which says
    # nothing of what was sent before: he counts for what comes after, not for "Hello Mia".
    olive.locator("#invite-button").click()
    olive.get_by_role("button", name="Create invite").click()
    link = olive.locator("#invite-link").input_value()
    olive.keyboard.press("Escape")
    sam = join_by_link(browser, contexts, link, "Sam")
    expect(olive.locator(".member", has_text="Sam")).to_have_count(1)
    channel(olive, two.general).click()
    send(olive, "Welcome Sam")
    expect(body_of(sam, "Welcome Sam")).to_have_count(1)
    expect(receipt(olive, "Welcome Sam")).to_have_attribute("title", re.compile("Read by Sam"))
    expect(receipt(olive, "Hello Mia")).to_have_text("Read by 1 of 1")
    expect(receipt(olive, "Hello Mia")).to_have_attribute("title", "Read by Mia")
    # Sam leaves again (his markers go with him), and the list says so at once.
    sam.get_by_role("button", name="Leave space Book club").click()
    sam.locator("#leave-space-dialog").get_by_role("button", name="Leave space").click()
    expect(olive.locator(".member", has_text="Sam")).to_have_count(0)
    channel(olive, two.plans).click()

    # Mia stops sharing read receipts. Her own unread still clears; Olive no longer
    # sees her reads.
    dialog = open_settings(mia)
    expect(dialog.locator("#setting-receipts")).to_be_checked()
    dialog.locator("#setting-receipts").uncheck()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    channel(mia, two.general).click()
    send(olive, "After the opt-out")
    expect(unread(channel(mia, two.plans))).to_have_text("1")
    channel(mia, two.plans).click()
    expect(body_of(mia, "After the opt-out")).to_have_count(1)
    expect(unread(channel(mia, two.plans))).to_be_hidden()
    # Olive asks the host afresh (a reload, back in #plans): it no longer returns Mia's
    # markers at all.
    olive.reload()
    expect(olive.locator(".channel-title")).to_have_text("plans")
    expect(body_of(olive, "After the opt-out")).to_have_count(1)
    expect(body_of(olive, f"Plan {total}")).to_have_count(1)
    expect(olive.locator(".messages")).to_have_attribute("data-receipts", "loaded")
    expect(receipt(olive, "After the opt-out")).to_have_count(0)
    expect(receipt(olive, f"Plan {total}")).to_have_count(0)
    dialog = open_settings(mia)
    expect(dialog.locator("#setting-receipts")).not_to_be_checked()


def notes(page: Page) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = page.evaluate(
        "() => window.__notes.map(n => ({title: n.title, body: n.body}))")
    return shown


def mention(page: Page, prefix: str, pick: str, text: str) -> None:
    """Type "@prefix", pick ``pick`` from the list with the keyboard, add ``text``, send."""
    box = page.locator(".composer-input")
    box.fill("")
    box.press_sequentially(f"@{prefix}")
    picker = page.locator("#mention-picker")
    expect(picker).to_be_visible()
    expect(picker.locator(".mention-name")).to_have_text([pick])
    box.press("Enter")
    expect(picker).to_be_hidden()
    expect(box).to_have_value(f"@{pick} ")
    box.press_sequentially(text)
    box.press("Enter")


def choose_notifications(page: Page, label: str) -> None:
    dialog = open_settings(page)
    dialog.get_by_label(label, exact=True).check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)


def test_mentions_by_autocomplete_and_notifications_while_hidden(two: Two) -> None:
    olive, mia = two.olive, two.mia
    channel(olive, two.plans).click()
    send(olive, "Warming up")
    set_up_recovery_key(olive)
    expect(unread(channel(mia, two.plans))).to_have_text("1")

    # The picker lists members by what is typed, never oneself; Escape closes it and
    # a name typed by hand mentions nobody.
    box = olive.locator(".composer-input")
    box.press_sequentially("@")
    expect(olive.locator("#mention-picker .mention-name")).to_have_text(["Mia"])
    box.press("Escape")
    expect(olive.locator("#mention-picker")).to_be_hidden()
    box.fill("")
    send(olive, "@Mia typed by hand")
    expect(unread(channel(mia, two.plans))).to_have_text("2")
    expect(mentions(channel(mia, two.plans))).to_be_hidden()

    mention(olive, "Mi", "Mia", "can you bring the snacks?")
    expect(body_of(olive, "@Mia can you bring the snacks?")).to_have_count(1)
    expect(mentions(channel(mia, two.plans))).to_have_text("@1")
    expect(mentions(space_header(mia))).to_have_text("@1")
    expect(unread(channel(mia, two.plans))).to_have_text("3")
    shot(mia, "32-mention-badge")

    channel(mia, two.plans).click()
    expect(row_of(mia, "@Mia can you bring the snacks?")).to_have_class(MENTIONS_ME)
    expect(row_of(mia, "@Mia typed by hand")).not_to_have_class(MENTIONS_ME)
    expect(mentions(channel(mia, two.plans))).to_be_hidden()
    shot(mia, "33-mention-highlight")

    # Hidden in another channel: a mention notifies (sender, channel, decrypted text);
    # a plain message does not, by default. Clicking it shows the channel.
    channel(mia, two.general).click()
    assert notes(mia) == []
    mia.evaluate(HIDE)
    send(olive, "Nothing for Mia here")
    expect(unread(channel(mia, two.plans))).to_have_text("1")
    mention(olive, "M", "Mia", "are you coming?")
    expect(mentions(channel(mia, two.plans))).to_have_text("@1")
    mia.wait_for_function("() => window.__notes.length >= 1")
    assert notes(mia) == [{"title": "Olive mentioned you in #plans",
                           "body": "@Mia are you coming?"}]
    mia.evaluate(SHOW)
    mia.evaluate("() => window.__notes[0].note.onclick()")
    expect(mia.locator(".channel-title")).to_have_text("plans")
    expect(mentions(channel(mia, two.plans))).to_be_hidden()

    # Off: nothing, even for a mention. All: every message from someone else.
    choose_notifications(mia, "Off")
    mia.evaluate(HIDE)
    mention(olive, "Mi", "Mia", "last call")
    expect(mentions(channel(mia, two.plans))).to_have_text("@1")
    choose_notifications(mia, "All messages")
    send(olive, "Plain news")
    mia.wait_for_function("() => window.__notes.length >= 2")
    assert notes(mia) == [
        {"title": "Olive mentioned you in #plans", "body": "@Mia are you coming?"},
        {"title": "Olive in #plans", "body": "Plain news"},
    ]
