"""Presence and typing in real Chromium, two people, real relay and host processes:
a green dot when online, away while the tab is hidden, offline with "last seen" once the
tab is closed; "… is typing" above the composer, cleared when the text goes or times out."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import start_host, start_relay
from tests.web.test_browser_app import (
    claim_space_and_invite,
    contexts,
    join_by_link,
    new_person,
    shot,
)

__all__ = ["contexts"]  # the fixture, re-exported for pytest

HIDE = """() => {
    Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
    document.dispatchEvent(new Event('visibilitychange'));
}"""
SHOW = """() => {
    Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'visible'});
    document.dispatchEvent(new Event('visibilitychange'));
}"""


def member(page: Page, name: str) -> object:
    return page.locator(".member", has=page.locator(".member-name", has_text=name))


def test_presence_dots_and_typing_between_two_browsers(
    browser: Browser, contexts: list[BrowserContext], tmp_path: Path
) -> None:
    relay = start_relay(tmp_path)
    host = start_host(tmp_path, relay)
    try:
        owner = new_person(browser, contexts)
        link = claim_space_and_invite(owner, relay, host)
        # Before anyone else is here the owner sees only herself, online.
        olive = owner.locator(".member[data-role=owner]")
        expect(olive).to_have_attribute("data-presence", "online")
        expect(owner.locator(".members")).not_to_contain_text("not shown yet")

        mia = join_by_link(browser, contexts, link)

        # Each sees the other online: Mia announces herself on subscribing, and Olive
        # answers a device she has not heard from (no waiting for the next heartbeat).
        mia_at_owner = owner.locator(".member[data-role=member]")
        expect(mia_at_owner.locator(".member-name")).to_have_text("Mia")
        expect(mia_at_owner).to_have_attribute("data-presence", "online")
        expect(mia_at_owner.locator(".presence-dot.online")).to_have_count(1)
        expect(mia_at_owner.locator(".member-presence")).to_have_text("Online")
        expect(mia.locator(".member[data-role=owner]")).to_have_attribute(
            "data-presence", "online")

        # Mia hides her tab: away, with the time she was last seen.
        mia.evaluate(HIDE)
        expect(mia_at_owner).to_have_attribute("data-presence", "away")
        expect(mia_at_owner.locator(".member-presence")).to_have_text(
            re.compile(r"^Away · last seen .*\d\d"))
        mia.evaluate(SHOW)
        expect(mia_at_owner).to_have_attribute("data-presence", "online")

        # Typing: shown to the other, never to oneself; cleared when the text is gone.
        typing_line = owner.locator(".typing-line")
        expect(typing_line).to_have_text("")
        mia.locator(".composer-input").fill("Hello")
        expect(typing_line).to_have_text("Mia is typing…")
        expect(mia.locator(".typing-line")).to_have_text("")
        shot(owner, "17-presence-and-typing")
        mia.locator(".composer-input").fill("")
        expect(typing_line).to_have_text("")
        # Typed once and left alone: the indicator times out by itself (6 s).
        owner.locator(".composer-input").fill("Hi")
        expect(mia.locator(".typing-line")).to_have_text("Olive is typing…")
        expect(mia.locator(".typing-line")).to_have_text("", timeout=9_000)

        # Mia closes the tab: her page says goodbye, and she shows offline, last seen.
        mia.close()
        expect(mia_at_owner).to_have_attribute("data-presence", "offline")
        expect(mia_at_owner.locator(".presence-dot.offline")).to_have_count(1)
        expect(mia_at_owner.locator(".member-presence")).to_have_text(
            re.compile(r"^Offline · last seen .*\d\d"))
    finally:
        host.process.stop()
        relay.process.stop()
