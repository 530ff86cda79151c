"""The web client in real Chromium against a real relay and host (processes on 127.0.0.1).

Each person is a separate browser context (separate storage: separate devices).
Screens worth seeing are saved to docs/screenshots/ along the way.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from hearth.client import Client, new_message_id
from tests.conftest import (
    FAST_RATES,
    Host,
    Relay,
    connect_user,
    hearth_cli,
    start_host,
    start_relay,
)
from tests.web.conftest import SCREENSHOTS

XSS_SPACE = '<img src=x onerror="window.__xss=1">Book club'
XSS_CHANNEL = "<script>window.__xss=2</script>plans"
XSS_NAME = "Olive <b>Owner</b>"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCRATCH = Path(tempfile.gettempdir()) / "hearth-screenshots"


PAGE_ERRORS: list[str] = []
"""Uncaught errors of any page in the current test (each must end with none)."""


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    PAGE_ERRORS.clear()
    yield made
    for c in made:
        c.close()
    assert PAGE_ERRORS == [], "uncaught errors in the page"


def new_person(browser: Browser, contexts: list[BrowserContext],
               viewport: dict[str, int] = DESKTOP) -> Page:
    context = browser.new_context(viewport=viewport, reduced_motion="reduce")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    contexts.append(context)
    page = context.new_page()
    page.on("pageerror", lambda e: PAGE_ERRORS.append(str(e)))
    return page


def shot(page: Page, name: str) -> None:
    """Save a screenshot: into docs/screenshots/ when HEARTH_SCREENSHOTS=1 (so that a
    plain test run leaves the tree unchanged), else beside the test's temporary files."""
    folder = SCREENSHOTS if os.environ.get("HEARTH_SCREENSHOTS") == "1" else SCRATCH
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def create_identity(page: Page, name: str) -> None:
    expect(page.locator("#welcome")).to_be_visible()
    page.get_by_label("Display name").fill(name)
    page.locator("#welcome button[type=submit]").click()


def claim_space_and_invite(page: Page, relay: Relay, host: Host, name: str = "Olive",
                           space: str = "Book club") -> str:
    """``page`` claims ``host`` as ``name``, creates ``space`` and makes an invite link."""
    page.goto(f"{relay.http_url}/#/claim/{host.host_id}/{host.owner_claim()}")
    create_identity(page, name)
    page.locator("#new-space").click()
    page.get_by_label("Space name").fill(space)
    page.get_by_role("button", name="Create space").click()
    expect(page.locator(".channel-title")).to_have_text("general")
    # The new space opens only once its dialog is gone: under a modal, the page takes no
    # typing.
    assert page.locator("#create-space-dialog").count() == 0
    page.locator("#invite-button").click()
    page.get_by_role("button", name="Create invite").click()
    link = page.locator("#invite-link").input_value()
    page.keyboard.press("Escape")
    return link


def join_by_link(browser: Browser, contexts: list[BrowserContext], link: str,
                 name: str = "Mia") -> Page:
    """A new person opens invite ``link`` in a browser of their own, picks ``name`` and
    lands in the space's general channel."""
    page = new_person(browser, contexts)
    page.goto(link)
    create_identity(page, name)
    expect(page.locator(".channel-title")).to_have_text("general")
    return page


def create_channel(page: Page, name: str, space: str = "Book club") -> str:
    """An admin of ``space`` creates channel ``name`` (which opens); its id."""
    page.get_by_role("button", name=f"New channel in {space}").click()
    page.get_by_label("Channel name").fill(name)
    page.get_by_role("button", name="Create channel").click()
    expect(page.locator(".channel-title")).to_have_text(name)
    chan = page.locator(".channel-link", has_text=name).get_attribute("data-chan")
    assert chan
    return chan


def open_channel(page: Page, name: str) -> None:
    """Open channel ``name`` from the sidebar, and wait until the page saved it as the
    view to come back to (a reload right after the click must not outrun that write)."""
    page.locator(".channel-link", has_text=name).click()
    expect(page.locator(".channel-title")).to_have_text(name)
    chan = page.locator(".channel-link", has_text=name).get_attribute("data-chan")
    page.wait_for_function("""async (chan) => {
        const db = await new Promise((ok, fail) => {
            const r = indexedDB.open('hearth');
            r.onsuccess = () => ok(r.result);
            r.onerror = () => fail(r.error);
        });
        const saved = await new Promise((ok, fail) => {
            const r = db.transaction('kv').objectStore('kv').get('lastView');
            r.onsuccess = () => ok(r.result);
            r.onerror = () => fail(r.error);
        });
        db.close();
        return saved?.chan === chan;
    }""", arg=chan)


def test_a_reload_opens_the_channel_last_viewed_until_it_is_gone(
        browser: Browser, contexts: list[BrowserContext], relay: Relay, host: Host) -> None:
    """The saved view survives until the host has listed the spaces it names (a reload
    used to open the first channel); only a channel that no longer exists is replaced."""
    olive = new_person(browser, contexts)
    link = claim_space_and_invite(olive, relay, host)
    create_channel(olive, "plans")
    mia = join_by_link(browser, contexts, link)

    open_channel(olive, "general")
    open_channel(olive, "plans")
    open_channel(mia, "plans")
    for page in (olive, mia):
        page.reload()
        expect(page.locator(".channel-link[aria-current=page] .channel-name")).to_have_text("plans")
        expect(page.locator(".channel-title")).to_have_text("plans")
        expect(page.locator(".composer-input")).to_have_attribute("aria-label", "Message #plans")

    # Olive deletes #plans while Mia's page is closed: Mia's saved view names a channel
    # that is gone, and her page opens the space's first channel instead.
    mia.close()
    olive.get_by_role("button", name="Delete channel plans").click()
    olive.get_by_role("button", name="Delete channel", exact=True).click()
    expect(olive.locator(".channel-link", has_text="plans")).to_have_count(0)
    expect(olive.locator(".channel-title")).to_have_text("general")
    mia = mia.context.new_page()
    mia.on("pageerror", lambda e: PAGE_ERRORS.append(str(e)))
    mia.goto(relay.http_url)
    expect(mia.locator(".channel-link")).to_have_count(1)
    expect(mia.locator(".channel-title")).to_have_text("general")
    expect(mia.locator(".channel-link[aria-current=page] .channel-name")).to_have_text("general")


def test_channels_created_renamed_and_deleted_appear_for_others_at_once(
        browser: Browser, contexts: list[BrowserContext], relay: Relay, host: Host) -> None:
    """A channel an admin creates, renames or deletes changes in every member's sidebar
    (and in the title of an open view) without a reload: the host announces it."""
    olive = new_person(browser, contexts)
    link = claim_space_and_invite(olive, relay, host)
    mia = join_by_link(browser, contexts, link)
    links = mia.locator(".channel-link .channel-name")
    expect(links).to_have_text(["general"])

    # Mia is typing when the list changes: the page redraws around her composer, and
    # every keystroke still lands in it.
    composer = mia.locator(".composer-input")
    composer.click()
    mia.keyboard.type("half a")
    create_channel(olive, "plans")
    expect(links).to_have_text(["general", "plans"])
    mia.keyboard.type(" sentence")
    expect(composer).to_be_focused()
    expect(composer).to_have_value("half a sentence")
    open_channel(mia, "plans")

    # A keyboard user on the channel list keeps her place when the list is redrawn.
    general_link = mia.locator(".channel-link", has_text="general")
    general_link.focus()
    olive.get_by_role("button", name="Rename channel plans").click()
    olive.get_by_label("Channel name").fill("trips")
    olive.get_by_role("button", name="Save").click()
    expect(links).to_have_text(["general", "trips"])
    expect(mia.locator(".channel-title")).to_have_text("trips")
    expect(general_link).to_be_focused()

    olive.get_by_role("button", name="Delete channel trips").click()
    olive.get_by_role("button", name="Delete channel", exact=True).click()
    expect(links).to_have_text(["general"])
    expect(mia.locator(".channel-title")).to_have_text("general")



def test_members_who_join_change_role_or_leave_appear_for_others_at_once(
        browser: Browser, contexts: list[BrowserContext], relay: Relay, host: Host) -> None:
    """The member list follows the host's ``mem`` events (it is not polled): a member
    who joins by link, one given another role, and one who leaves show in every open
    list, a member made admin is offered what admins may do, and a new display name shows
    in others' lists, without a reload."""
    olive = new_person(browser, contexts)
    link = claim_space_and_invite(olive, relay, host)
    mia = join_by_link(browser, contexts, link)
    for page in (olive, mia):
        expect(page.locator(".member .member-name")).to_have_count(2)

    async def sam_joins_then_leaves(joined: asyncio.Event, leave: asyncio.Event) -> None:
        sam = await connect_user(relay, host, "Sam")
        api = sam.host(host.host_id)
        space = (await api.redeem(link.rsplit("/", 1)[1]))["space"]["id"]
        joined.set()
        await leave.wait()
        await api.call("space.leave", space=space)
        await sam.close()

    loop = asyncio.new_event_loop()
    joined, leave = asyncio.Event(), asyncio.Event()
    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(loop.run_until_complete, sam_joins_then_leaves(joined, leave))
        for page in (olive, mia):
            expect(page.locator(".member", has_text="Sam")).to_have_count(1)

        expect(mia.get_by_role("button", name="New channel in Book club")).to_have_count(0)
        olive.get_by_role("button", name="Change role of Mia").click()
        olive.locator("#change-role-dialog select").select_option("admin")
        olive.get_by_role("button", name="Save").click()
        expect(mia.locator(".member[data-role=admin] .member-name")).to_have_text("Mia (you)")
        expect(mia.get_by_role("button", name="New channel in Book club")).to_have_count(1)

        loop.call_soon_threadsafe(leave.set)
        done.result(timeout=30)
    loop.close()
    assert joined.is_set()
    for page in (olive, mia):
        expect(page.locator(".member", has_text="Sam")).to_have_count(0)
        expect(page.locator(".member .member-name")).to_have_count(2)

    # Mia takes another name: Olive's list shows it without a reload.
    mia.locator("#account-button").click()
    account = mia.locator("#account-dialog")
    account.get_by_label("Display name").fill("Mia Wong")
    account.get_by_role("button", name="Save").click()
    expect(account).to_have_count(0)
    expect(olive.locator(".member[data-role=admin] .member-name")).to_have_text("Mia Wong")

def test_first_visit_creates_identity_and_evicted_keys_are_reported(
        browser: Browser, contexts: list[BrowserContext], relay: Relay, tmp_path: Path) -> None:
    page = new_person(browser, contexts)
    page.goto(relay.http_url)
    expect(page.get_by_role("heading", name="Welcome to Hearth")).to_be_visible()
    shot(page, "01-welcome")
    create_identity(page, "Sam")
    expect(page.get_by_role("heading", name="Join your first community")).to_be_visible()
    expect(page.locator("#account-button")).to_contain_text("Sam")

    # Adding a host by id: a typo is caught by the checksum, an absent host said plainly.
    hearth_cli("host", "init", "--data", str(tmp_path / "absent"))
    host_id = hearth_cli("host", "id", "--data", str(tmp_path / "absent")).strip()
    typo = host_id[:-1] + ("a" if host_id[-1] != "a" else "b")
    page.get_by_role("button", name="Add a host or invite link").click()
    dialog = page.locator("#add-host-dialog")
    dialog.get_by_label("Invite link or host id").fill(typo)
    dialog.get_by_role("button", name="Add").click()
    expect(dialog.locator(".form-error")).to_contain_text("not a valid host id")
    dialog.get_by_label("Invite link or host id").fill(host_id)
    dialog.get_by_role("button", name="Add").click()
    expect(dialog.locator(".form-error")).to_contain_text("The host is offline right now")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    stored = page.evaluate("""() => new Promise((resolve, reject) => {
        const open = indexedDB.open('hearth');
        open.onsuccess = () => {
            const get = open.result.transaction('kv').objectStore('kv').get('identity');
            get.onsuccess = () => {
                const r = get.result;
                resolve({device: r.deviceSigning.extractable, x25519: r.x25519Private.extractable,
                         wrap: r.wrapKey.extractable, seedSealed: r.sealedSeed.ciphertext.length,
                         cert: r.certificate.length, name: r.name});
            };
            get.onerror = () => reject(get.error);
        };
    })""")
    assert stored == {"device": False, "x25519": False, "wrap": False, "seedSealed": 48,
                      "cert": 169, "name": "Sam"}

    # A second tab of the same profile runs no second copy of the device: it follows the
    # first (same account, through it); tests/web/test_browser_tabs.py goes further.
    other = page.context.new_page()
    other.on("pageerror", lambda e: PAGE_ERRORS.append(str(e)))
    other.goto(relay.http_url)
    expect(other.locator(".shell")).to_have_attribute("data-tab", "follower")
    expect(other.locator("#account-button")).to_contain_text("Sam")
    expect(page.locator(".shell")).to_have_attribute("data-tab", "owner")
    other.close()

    # The browser evicts the site's storage: the user is told, not silently re-keyed.
    page.evaluate("""() => new Promise((resolve) => {
        const req = indexedDB.deleteDatabase('hearth');
        req.onsuccess = req.onerror = req.onblocked = () => resolve(null);
    })""")
    page.reload()
    expect(page.locator("#keys-lost")).to_contain_text("keys are no longer in this browser")
    shot(page, "07-keys-lost")


def publish(relay: Relay, host: Host, invite_link: str, count: int, name: str = "Bot") -> None:
    """A Python member joins by the link and posts ``count`` opaque envelopes. Each call
    is a new account: give it its own ``name``, or browsers that saw the last one warn
    that "Bot"'s key changed (and that notice covers buttons the test clicks)."""
    async def run() -> None:
        bot: Client = await connect_user(relay, host, name)
        try:
            api = bot.host(host.host_id)
            space = (await api.redeem(invite_link.rsplit("/", 1)[1]))["space"]
            general = next(c["id"] for c in space["channels"] if c["name"] == "general")
            for i in range(count):
                await api.publish(space["id"], general, f"opaque {i}".encode(), new_message_id())
        finally:
            await bot.close()
    # Playwright's sync API runs an event loop on this thread: the client gets its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result(timeout=60)


def seqs(page: Page) -> list[int]:
    return [int(s) for s in page.locator(".message[data-seq]").evaluate_all(
        "rows => rows.map(r => r.dataset.seq)")]


def test_owner_claims_invites_and_a_member_joins_reconnects_and_is_removed(
        browser: Browser, contexts: list[BrowserContext], tmp_path: Path) -> None:
    relay = start_relay(tmp_path, *FAST_RATES)  # the bot posts 120 messages at once
    host = start_host(tmp_path, relay)
    try:
        run_community_scenario(browser, contexts, tmp_path, relay, host)
    finally:
        host.process.stop()
        relay.process.stop()


def run_community_scenario(browser: Browser, contexts: list[BrowserContext], tmp_path: Path,
                           relay: Relay, host: Host) -> None:
    # -- the owner opens the claim link printed by `hearth up` --------------------------
    owner = new_person(browser, contexts)
    owner.goto(f"{relay.http_url}/#/claim/{host.host_id}/{host.owner_claim()}")
    create_identity(owner, XSS_NAME)
    expect(owner.get_by_role("heading", name="Create your first space")).to_be_visible()
    assert "#/claim/" not in owner.url, "the claim secret must leave the address bar"

    owner.locator("#new-space").click()
    owner.get_by_label("Space name").fill(XSS_SPACE)
    owner.get_by_role("button", name="Create space").click()
    expect(owner.locator(".space-name")).to_have_text(XSS_SPACE)
    owner.get_by_role("button", name=f"New channel in {XSS_SPACE}").click()
    owner.get_by_label("Channel name").fill(XSS_CHANNEL)
    owner.get_by_role("button", name="Create channel").click()
    expect(owner.locator(".channel-title")).to_have_text(XSS_CHANNEL)
    expect(owner.locator(".member[data-role=owner] .member-name")).to_have_text(f"{XSS_NAME} (you)")

    # -- invite by link ---------------------------------------------------------------
    owner.locator("#invite-button").click()
    owner.get_by_role("button", name="Create invite").click()
    link = owner.locator("#invite-link").input_value()
    assert re.fullmatch(rf"{re.escape(relay.http_url)}/#/join/{host.host_id}/[A-Za-z0-9_-]{{43}}",
                        link), link
    shot(owner, "04-invite-link")
    owner.keyboard.press("Escape")
    expect(owner.locator("#invite-dialog")).to_have_count(0)

    # -- a second person joins with the link alone --------------------------------------
    member = new_person(browser, contexts)
    member.goto(link)
    expect(member.get_by_role("heading", name="Welcome!")).to_be_visible()
    create_identity(member, "Mia")
    expect(member.locator(".space-name")).to_have_text(XSS_SPACE)
    expect(member.locator(".space .role-badge")).to_have_text("member")
    expect(member.locator(".composer-input")).to_be_enabled()
    # the owner sees the new member, with the right role
    expect(owner.locator(".member[data-role=member] .member-name")).to_have_text("Mia",
                                                                                timeout=10_000)
    shot(owner, "02-owner-channel")

    # -- history: 120 stored envelopes page back with no gap and no duplicate ------------
    publish(relay, host, link, 120)
    member.locator(".channel-link", has_text="general").click()
    expect(member.locator(".message[data-seq='120']")).to_be_visible()
    # the bot's bytes are no envelope: each row says why, never shows them as text
    expect(member.locator(".message[data-seq='120'] .message-body")).to_contain_text(
        "the message was altered, or is not from its sender")
    for _ in range(10):
        if member.locator(".history-start").is_visible():
            break
        member.locator(".scroller").evaluate("el => { el.scrollTop = 0; }")
        member.wait_for_timeout(150)
    expect(member.locator(".history-start")).to_be_visible()
    assert seqs(member) == list(range(1, 121))
    member.locator(".scroller").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    shot(member, "03-member-history")

    # -- the relay restarts: both show it, then reconnect without a reload ---------------
    for page in (owner, member):
        page.evaluate("() => { window.__sameDocument = true; }")
    relay.process.stop()
    for page in (owner, member):
        expect(page.locator(".shell")).to_have_attribute("data-connection", "reconnecting")
        expect(page.locator("#connection-banner")).to_contain_text("Reconnecting")
    shot(member, "05-reconnecting")
    restarted = start_relay(tmp_path, *FAST_RATES, port=relay.port)
    relay.process = restarted.process
    for page in (owner, member):
        expect(page.locator(".shell")).to_have_attribute("data-connection", "online",
                                                         timeout=20_000)
        assert page.evaluate("() => window.__sameDocument") is True
    # the subscription is back: a message stored now arrives live
    deadline = time.monotonic() + 15
    while True:
        try:
            publish(relay, host, link, 1, name="Bot 2")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    expect(member.locator(".message[data-seq='121']")).to_be_visible(timeout=10_000)
    assert seqs(member) == list(range(1, 122))

    for page in (owner, member):
        expect(page.locator("#connection-banner")).to_be_hidden(timeout=5_000)

    # -- the phone layout ----------------------------------------------------------------
    member.set_viewport_size(PHONE)
    expect(member.locator(".channel-title")).to_have_text("general")
    shot(member, "08-phone-channel")
    member.get_by_role("button", name="Open the list of spaces and channels").click()
    expect(member.locator(".sidebar")).to_be_in_viewport()
    shot(member, "09-phone-navigation")
    member.keyboard.press("Escape")
    member.set_viewport_size(DESKTOP)

    # -- account panel -------------------------------------------------------------------
    member.locator("#account-button").click()
    expect(member.locator("#account-key")).to_have_value(re.compile(r"^[A-Za-z0-9_-]{43}$"))
    expect(member.locator("#device-list .device")).to_have_count(1)
    expect(member.locator("#device-list")).to_contain_text("This browser")
    shot(member, "06-account")
    member.keyboard.press("Escape")
    expect(member.locator("#account-dialog")).to_have_count(0)

    # -- removal: the removed member's browser shows it ----------------------------------
    owner.get_by_role("button", name="Remove Mia").click()
    owner.get_by_role("button", name="Remove", exact=True).click()
    expect(owner.locator(".member[data-role=member]", has_text="Mia")).to_have_count(0)
    expect(member.locator(".notice[data-kind=removed]")).to_contain_text(
        f"You were removed from {XSS_SPACE}")
    expect(member.locator(".space")).to_have_count(0)
    shot(member, "10-removed")

    # -- nothing anyone typed became markup ------------------------------------------------
    for page in (owner, member):
        assert page.evaluate("() => window.__xss") is None
        assert page.locator("img, script:not([src])").count() == 0
