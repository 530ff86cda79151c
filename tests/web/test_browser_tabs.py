"""Several tabs of one browser profile: one owns the device, the others work through it.

In one browser context (one device) two pages: the second follows the first, shows the
channel and its history, sends (another person's browser decrypts it, the first page
shows it too), switches channels and creates one; then the owning page closes and a
follower takes over, still sending and receiving. The host's database shows that no
two envelopes share a (session, index): the ratchet was only ever advanced by one tab.
"""

from __future__ import annotations

import sqlite3

from playwright.sync_api import Browser, BrowserContext, Page, expect

from hearth.b64 import b64d
from hearth.crypto.envelope import parse
from tests.conftest import Host, Relay
from tests.web.test_browser_app import (
    PAGE_ERRORS,
    claim_space_and_invite,
    contexts,
    join_by_link,
    new_person,
)
from tests.web.test_browser_e2e import body_of, send, set_up_recovery_key

__all__ = ["contexts"]  # the fixture, re-exported for pytest


def open_tab(owner: Page, url: str) -> Page:
    """Another page in ``owner``'s context: the same browser profile, the same device."""
    page = owner.context.new_page()
    page.on("pageerror", lambda e: PAGE_ERRORS.append(str(e)))
    page.goto(url)
    return page


def role(page: Page) -> object:
    return expect(page.locator(".shell"))


def test_a_follower_tab_works_through_the_owner_and_takes_over(
        browser: Browser, contexts: list[BrowserContext], relay: Relay, host: Host) -> None:
    olive = new_person(browser, contexts)
    link = claim_space_and_invite(olive, relay, host)

    mia = join_by_link(browser, contexts, link)
    send(olive, "first, from the first tab")
    set_up_recovery_key(olive)
    expect(body_of(mia, "first, from the first tab")).to_have_count(1)
    send(mia, "hi Olive")
    set_up_recovery_key(mia)
    expect(body_of(olive, "hi Olive")).to_have_count(1)

    # -- a second tab follows: same channel, history decrypted by the owner ----------------
    second = open_tab(olive, relay.http_url)
    expect(second.locator(".shell")).to_have_attribute("data-tab", "follower")
    expect(olive.locator(".shell")).to_have_attribute("data-tab", "owner")
    expect(second.locator(".channel-title")).to_have_text("general")
    expect(body_of(second, "first, from the first tab")).to_have_count(1)
    expect(body_of(second, "hi Olive")).to_have_count(1)
    expect(second.locator(".member[data-role=member] .member-name")).to_have_text("Mia")

    # it sends through the owner: Mia decrypts it, the first tab shows it too
    send(second, "from the second tab")
    expect(second.locator(".message.pending")).to_have_count(0)
    expect(body_of(second, "from the second tab")).to_have_count(1)
    expect(body_of(mia, "from the second tab")).to_have_count(1)
    expect(body_of(olive, "from the second tab")).to_have_count(1)
    # and live messages reach it
    send(mia, "both tabs see this")
    expect(body_of(second, "both tabs see this")).to_have_count(1)
    expect(body_of(olive, "both tabs see this")).to_have_count(1)

    # -- a channel made from the follower, switched to, written in ---------------------------
    second.get_by_role("button", name="New channel in Book club").click()
    second.get_by_label("Channel name").fill("plans")
    second.get_by_role("button", name="Create channel").click()
    expect(second.locator(".channel-title")).to_have_text("plans")
    expect(second.locator(".history-start")).to_be_visible()
    send(second, "plans, from the second tab")
    expect(body_of(second, "plans, from the second tab")).to_have_count(1)
    # the owner tab lists it too
    expect(olive.locator(".channel-link", has_text="plans")).to_have_count(1)
    mia.reload()  # the host announces no new channels to members yet
    mia.locator(".channel-link", has_text="plans").click()
    expect(body_of(mia, "plans, from the second tab")).to_have_count(1)
    second.locator(".channel-link", has_text="general").click()
    expect(second.locator(".channel-title")).to_have_text("general")
    expect(body_of(second, "both tabs see this")).to_have_count(1)
    mia.locator(".channel-link", has_text="general").click()

    # -- the owner closes: the first follower in line owns the device, the other follows it --
    third = open_tab(olive, relay.http_url)
    expect(third.locator(".shell")).to_have_attribute("data-tab", "follower")
    expect(body_of(third, "from the second tab")).to_have_count(1)
    olive.close()
    expect(second.locator(".shell")).to_have_attribute("data-tab", "owner", timeout=15_000)
    expect(second.locator(".channel-title")).to_have_text("general")
    expect(body_of(second, "both tabs see this")).to_have_count(1)
    send(second, "the second tab owns the device now")
    expect(body_of(mia, "the second tab owns the device now")).to_have_count(1)
    expect(body_of(third, "the second tab owns the device now")).to_have_count(1)
    send(third, "and the third tab follows it")
    expect(body_of(mia, "and the third tab follows it")).to_have_count(1)
    expect(body_of(second, "and the third tab follows it")).to_have_count(1)
    send(mia, "still there?")
    expect(body_of(second, "still there?")).to_have_count(1)
    expect(body_of(third, "still there?")).to_have_count(1)
    for page in (second, third):
        expect(page.locator(".message.undecryptable")).to_have_count(0)

    # -- one tab at a time advanced the ratchet: no (session, index) was used twice ---------
    device = b64d(second.evaluate("() => window.hearth.identity.deviceId"))
    with sqlite3.connect(f"file:{host.db}?mode=ro", uri=True) as db:
        envs = [bytes(e) for (e,) in db.execute("SELECT env FROM messages")]
    headers = [parse(env).header for env in envs]
    used = [(h.sender, h.session_id, h.index) for h in headers]
    assert len(used) == 8  # 5 from Olive's three tabs (one device), 3 from Mia
    assert len(set(used)) == len(used), "an index was used twice"
    assert sum(h.sender == device for h in headers) == 5
