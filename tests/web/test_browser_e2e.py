"""End-to-end encryption in real Chromium against real relay and host processes.

One community story, in order: an owner and two members in three browser contexts
exchange encrypted messages (recovery set up before the first one), a Python
SecureClient reads and writes in the same channel, safety numbers agree, a tampered
history row shows its reason and never text, the owner links a second device that reads
history from before the link (key backup), the relay restarts mid-conversation, and a
removed member sees the removal and decrypts nothing sent after it.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from hearth import content
from hearth.b64 import b64d
from hearth.client import Disconnected
from hearth.crypto.recovery import Recovery
from hearth.e2e.secure import SecureClient
from tests.conftest import FAST_RATES, Host, Relay, connect_user, start_host, start_relay
from tests.web.test_browser_app import (
    claim_space_and_invite,
    contexts,
    create_identity,
    join_by_link,
    new_person,
    shot,
)
from tests.web.test_qr import qrcode_matrix, qrcode_version

__all__ = ["contexts"]  # the fixture, re-exported for pytest

T = TypeVar("T")


class Loop:
    """An asyncio loop on its own thread: Playwright's sync API owns this one."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


def send(page: Page, text: str) -> None:
    box = page.locator(".composer-input")
    box.fill(text)
    box.press("Enter")


def set_up_recovery_key(page: Page) -> None:
    dialog = page.locator("#recovery-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#recovery-key")).to_have_value(
        re.compile(r"^([a-z2-7]{4} ){13}[a-z2-7]{3}$")
    )
    dialog.get_by_label("I have saved my recovery key somewhere safe").check()
    dialog.get_by_role("button", name="Turn on recovery").click()
    expect(dialog).to_have_count(0)


def assert_draws_qr(svg: str, payload: bytes) -> None:
    """The drawn SVG, read back module by module, is `qrcode`'s symbol for the payload at
    the version and mask the SVG names, with a 4-module quiet zone on every side."""
    named = re.search(r'data-version="(\d+)" data-mask="(\d+)"', svg)
    assert named, svg
    version, mask = int(named[1]), int(named[2])
    assert version == qrcode_version(payload)
    want = qrcode_matrix(payload, version, mask)
    side = len(want) + 8
    assert f'viewBox="0 0 {side} {side}"' in svg
    drawn = [["0"] * len(want) for _ in want]
    (path,) = re.findall(r' d="([^"]*)"', svg)
    runs = re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path)
    assert "".join(f"M{x} {y}h{n}v1h-{n}z" for x, y, n in runs) == path, "unexpected path syntax"
    for x, y, n in runs:
        for col in range(int(x) - 4, int(x) - 4 + int(n)):
            drawn[int(y) - 4][col] = "1"
    assert ["".join(row) for row in drawn] == want


def body_of(page: Page, text: str) -> Any:
    return page.locator(".message:not(.pending) .message-body", has_text=text)


def test_encrypted_chat_between_browsers_python_and_a_linked_device(
    browser: Browser, contexts: list[BrowserContext], tmp_path: Path, loop: Loop
) -> None:
    relay = start_relay(tmp_path, *FAST_RATES)
    host = start_host(tmp_path, relay)
    try:
        run_story(browser, contexts, tmp_path, relay, host, loop)
    finally:
        host.process.stop()
        relay.process.stop()


def run_story(
    browser: Browser,
    contexts: list[BrowserContext],
    tmp_path: Path,
    relay: Relay,
    host: Host,
    loop: Loop,
) -> None:
    # -- an owner, a space, an invite link ---------------------------------------------
    owner = new_person(browser, contexts)
    link = claim_space_and_invite(owner, relay, host)

    mia = join_by_link(browser, contexts, link)
    expect(owner.locator(".member[data-role=member] .member-name")).to_have_text("Mia")

    # -- the first message asks for recovery first, then goes out encrypted -------------
    send(owner, "Welcome to the club, Mia!")
    set_up_recovery_key(owner)
    expect(owner.locator(".message.pending")).to_have_count(0)
    expect(body_of(owner, "Welcome to the club, Mia!")).to_have_count(1)
    expect(body_of(mia, "Welcome to the club, Mia!")).to_have_count(1)
    send(
        mia, "Thanks!\nHappy to be here."
    )  # Shift+Enter is not needed to keep newlines typed by fill
    set_up_recovery_key(mia)
    expect(body_of(owner, "Happy to be here.")).to_have_count(1)
    mia.locator(".composer-input").press("Shift+Enter")
    expect(mia.locator(".composer-input")).to_have_value("\n")
    mia.locator(".composer-input").fill("")

    # a third person
    cleo = new_person(browser, contexts)
    cleo.goto(link)
    create_identity(cleo, "Cleo")
    expect(cleo.locator(".channel-title")).to_have_text("general")
    # before she joined: said so, in plain words
    expect(cleo.locator(".message.undecryptable .reason").first).to_contain_text(
        "sent before you joined"
    )
    send(owner, "Hi Cleo")
    expect(body_of(cleo, "Hi Cleo")).to_have_count(1)
    expect(body_of(mia, "Hi Cleo")).to_have_count(1)

    # -- a Python SecureClient in the same channel ----------------------------------------
    async def python_joins() -> tuple[SecureClient, str, str]:
        client = await connect_user(relay, host, "Bot")
        space = (await client.host(host.host_id).redeem(link.rsplit("/", 1)[1]))["space"]
        chan = next(c["id"] for c in space["channels"] if c["name"] == "general")
        bot = SecureClient(client, host.host_id)
        await bot.replenish_prekeys()
        bot.use_recovery(Recovery.generate())
        return bot, space["id"], chan

    bot, space, chan = loop.run(python_joins())
    loop.run(bot.send(space, chan, b"beep from python"))
    for page in (owner, mia, cleo):
        expect(body_of(page, "beep from python")).to_have_count(1)
    send(mia, "hello python")
    expect(body_of(owner, "hello python")).to_have_count(1)
    shown = loop.run(bot.history(space, chan))
    # The bot sent raw bytes (shown as plain text); the browser sends §13.1 content.
    assert [content.parse(m.plaintext or b"") for m in shown[-2:]] == [
        content.Text("beep from python", plain=True), content.Text("hello python")], shown
    # what was sent before the bot joined is refused with the reason, as in the browser
    assert {m.reason.text for m in shown[:-2] if m.reason} == {"sent before you joined"}, shown
    shot(owner, "11-encrypted-channel")

    # -- safety numbers agree in both browsers ---------------------------------------------
    numbers = []
    for page, other in ((owner, "Mia"), (mia, "Olive")):
        page.get_by_role("button", name=f"Safety number with {other}").click()
        number = page.locator("#safety-number").inner_text()
        assert re.fullmatch(r"(\d{5} ){11}\d{5}", number), number
        qr = page.locator("#safety-qr-code")
        expect(qr).to_be_visible()
        payload = page.locator("#safety-qr").inner_text()
        svg = qr.evaluate("svg => svg.outerHTML")
        assert_draws_qr(svg, bytes.fromhex(payload))
        # The same drawing on both sides; only the spoken label names the other person.
        numbers.append((number, payload, re.sub(r' aria-label="[^"]*"', "", svg)))
        if page is owner:
            shot(owner, "12-safety-number")
            page.get_by_role("button", name="They match: mark as verified").click()
        else:
            page.keyboard.press("Escape")
    assert numbers[0] == numbers[1]
    expect(owner.locator(".member", has_text="Mia").locator(".verified-badge")).to_be_visible()

    # -- a tampered row in the host's database shows its reason, never text ----------------
    with sqlite3.connect(host.db) as db:
        (env,) = db.execute("SELECT env FROM messages WHERE seq = 1").fetchone()
        tampered = bytes(env[:-70]) + bytes([env[-70] ^ 1]) + bytes(env[-69:])
        db.execute("UPDATE messages SET env = ? WHERE seq = 1", (tampered,))
    mia.reload()
    row = mia.locator(".message[data-seq='1']")
    expect(row.locator(".reason")).to_contain_text(
        "the message was altered, or is not from its sender"
    )
    expect(row).not_to_contain_text("Welcome to the club")
    expect(body_of(mia, "beep from python")).to_have_count(1)
    shot(mia, "13-tampered")

    # -- the owner links a second device; it reads history from before the link -----------
    owner.locator("#account-button").click()
    owner.locator("#link-device").click()
    address = owner.locator("#link-address").input_value()
    assert re.fullmatch(
        rf"{re.escape(relay.http_url)}/#/link/{host.host_id}/[a-z2-7]{{10}}", address
    )
    laptop = new_person(browser, contexts)
    laptop.goto(address)
    expect(laptop.locator("#link-screen")).to_be_visible()
    laptop.get_by_label("Display name").fill("Olive")
    laptop.get_by_role("button", name="Link this browser").click()
    code = owner.locator("#link-code").inner_text()
    assert re.fullmatch(r"\d{4} \d{4}", code)
    shot(owner, "14-link-code")
    laptop.get_by_label("Code shown on your other device").fill(
        "0000 0000" if code != "0000 0000" else "1111 1111"
    )
    laptop.locator("#link-code-submit").click()
    expect(laptop.locator("#link-screen .form-error")).to_contain_text("does not match")
    laptop.get_by_label("Code shown on your other device").fill(code)
    laptop.locator("#link-code-submit").click()
    owner.locator("#link-confirm").click()
    expect(owner.locator("#link-done")).to_be_visible(timeout=15_000)
    owner.keyboard.press("Escape")
    owner.keyboard.press("Escape")
    expect(laptop.locator(".channel-title")).to_have_text("general", timeout=15_000)
    for text in ("Happy to be here.", "Hi Cleo", "beep from python", "hello python"):
        expect(body_of(laptop, text)).to_have_count(1, timeout=15_000)
    send(laptop, "typed on my laptop")
    set_up_existing = laptop.locator("#recovery-dialog")
    expect(set_up_existing).to_have_count(0)  # the link brought the recovery secret along
    for page in (owner, mia):
        expect(body_of(page, "typed on my laptop")).to_have_count(1)
    shot(laptop, "15-linked-device")

    # -- the relay restarts mid-conversation: no reload, nothing lost -----------------------
    for page in (owner, mia):
        page.evaluate("() => { window.__sameDocument = true; }")
    relay.process.stop()
    expect(mia.locator(".shell")).to_have_attribute("data-connection", "reconnecting")
    restarted = start_relay(tmp_path, *FAST_RATES, port=relay.port)
    relay.process = restarted.process
    for page in (owner, mia):
        expect(page.locator(".shell")).to_have_attribute(
            "data-connection", "online", timeout=20_000
        )
        assert page.evaluate("() => window.__sameDocument") is True

    # the Python client saw the drop and redials by itself (its later requests wait for it)
    async def python_saw_the_drop() -> Disconnected:
        while not isinstance(notice := await bot.client.notices.get(), Disconnected):
            pass
        return notice

    assert loop.run(python_saw_the_drop()).retry_in is not None
    send(owner, "still here after the restart")
    expect(body_of(mia, "still here after the restart")).to_have_count(1, timeout=15_000)
    send(mia, "me too")
    expect(body_of(owner, "me too")).to_have_count(1, timeout=15_000)

    # -- Mia is removed: her browser says so and decrypts nothing sent after ----------------
    owner.get_by_role("button", name="Remove Mia").click()
    owner.get_by_role("button", name="Remove", exact=True).click()
    expect(mia.locator(".notice[data-kind=removed]")).to_contain_text(
        "You were removed from Book club"
    )
    send(owner, "after Mia left")
    expect(body_of(cleo, "after Mia left")).to_have_count(1)
    last = loop.run(bot.history(space, chan))[-1]
    assert content.parse(last.plaintext or b"") == content.Text("after Mia left"), last
    expect(mia.locator(".message-body", has_text="after Mia left")).to_have_count(0)
    # the new session was never shared with Mia's device
    mia_dev = mia.evaluate("() => window.hearth.identity.deviceId")
    with sqlite3.connect(f"file:{host.db}?mode=ro", uri=True) as db:
        (last_sess,) = db.execute(
            "SELECT sess FROM messages ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
        shared = db.execute(
            "SELECT count(*) FROM key_shares WHERE sess = ? AND recipient = ?",
            (last_sess, b64d(mia_dev)),
        ).fetchone()[0]
    assert shared == 0
    shot(mia, "16-removed")
    loop.run(bot.client.close())
