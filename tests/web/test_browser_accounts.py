"""Accounts in real Chromium against real relay and host processes: several hosts in one
client, the identity backup file (export, then restore in a fresh browser), and the
warning when a contact's account key changes.

Each test starts its own relay and host(s) and is independent of the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

from hearth import content
from hearth.client import Client
from hearth.crypto.recovery import Recovery
from hearth.e2e.secure import SecureClient
from tests.conftest import Host, Relay, connect_user, start_host, start_relay
from tests.web.test_browser_app import contexts, create_identity, join_by_link, new_person
from tests.web.test_browser_e2e import Loop, body_of, loop, send, set_up_recovery_key

__all__ = ["contexts", "loop"]  # the fixtures, re-exported for pytest

PASSPHRASE = "correct horse battery staple"


@dataclass
class Owned:
    """A host whose Python owner claimed it, created one space and can send encrypted."""

    host: Host
    owner: Client
    secure: SecureClient
    space: str
    general: str

    def invite(self, loop: Loop) -> str:
        api = self.owner.host(self.host.host_id)
        secret = loop.run(api.invite_link(self.space))["secret"]
        return f"{self.host.relay.http_url}/#/join/{self.host.host_id}/{secret}"


async def joins(relay: Relay, host: Host, name: str, link: str) -> Client:
    """A Python member called ``name`` who joined by the invite ``link``."""
    member = await connect_user(relay, host, name)
    await member.host(host.host_id).redeem(link.rsplit("/", 1)[1])
    return member


def own(loop: Loop, relay: Relay, host: Host, space_name: str, owner_name: str) -> Owned:
    async def run() -> Owned:
        owner = await connect_user(relay, host, owner_name)
        api = owner.host(host.host_id)
        await api.claim(host.owner_claim())
        space = (await api.create_space(space_name))["space"]["id"]
        channels = (await api.call("channel.list", space=space))["channels"]
        general = next(c["id"] for c in channels if c["name"] == "general")
        secure = SecureClient(owner, host.host_id)
        await secure.replenish_prekeys()
        secure.use_recovery(Recovery.generate())
        return Owned(host, owner, secure, space, general)
    return loop.run(run())


def add_host(page: Page, target: str) -> None:
    """Paste an invite link or host id into the "Add a host" dialog of the host rail."""
    page.locator(".rail-add").click()
    dialog = page.locator("#add-host-dialog")
    dialog.get_by_label("Invite link or host id").fill(target)
    dialog.get_by_role("button", name="Add").click()
    expect(dialog).to_have_count(0)


def stored(page: Page, text: str) -> None:
    expect(body_of(page, text)).to_have_count(1)
    expect(page.locator(".message.pending")).to_have_count(0)


# -- several hosts in one client ------------------------------------------------------------


def test_one_browser_joins_two_hosts_and_switches_between_them(
        browser: Browser, contexts: list[BrowserContext], tmp_path: Path, loop: Loop) -> None:
    relay = start_relay(tmp_path)
    hosts: list[Host] = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            hosts.append(start_host(tmp_path / name, relay))
        alpha = own(loop, relay, hosts[0], "Alpha club", "Ada")
        beta = own(loop, relay, hosts[1], "Beta guild", "Ben")
        assert alpha.host.host_id != beta.host.host_id

        sam = join_by_link(browser, contexts, alpha.invite(loop), "Sam")
        expect(sam.locator(".space-name")).to_have_text(["Alpha club"])

        # The second host, by its invite link alone: its own spaces, not the first's.
        add_host(sam, beta.invite(loop))
        expect(sam.locator(".space-name")).to_have_text(["Beta guild"])
        expect(sam.locator(".channel-title")).to_have_text("general")
        rail = sam.locator(".rail-host")
        expect(rail).to_have_count(2)
        expect(sam.get_by_role("button", name="Host: Beta guild")).to_have_attribute(
            "aria-current", "true")
        send(sam, "hello Beta")
        set_up_recovery_key(sam)  # once for the account, not once per host
        stored(sam, "hello Beta")

        sam.get_by_role("button", name="Host: Alpha club").click()
        expect(sam.get_by_role("button", name="Host: Alpha club")).to_have_attribute(
            "aria-current", "true")
        expect(sam.locator(".space-name")).to_have_text(["Alpha club"])
        expect(body_of(sam, "hello Beta")).to_have_count(0)
        send(sam, "hello Alpha")
        expect(sam.locator("#recovery-dialog")).to_have_count(0)
        stored(sam, "hello Alpha")

        # Each host's owner reads only what was sent on their host, and answers.
        for owned, mine in ((alpha, "hello Alpha"), (beta, "hello Beta")):
            shown = loop.run(owned.secure.history(owned.space, owned.general))
            assert [content.parse(m.plaintext or b"") for m in shown] == [
                content.Text(mine)], shown
        loop.run(alpha.secure.send(alpha.space, alpha.general, b"Ada answers on Alpha"))
        loop.run(beta.secure.send(beta.space, beta.general, b"Ben answers on Beta"))
        expect(body_of(sam, "Ada answers on Alpha")).to_have_count(1)
        expect(body_of(sam, "Ben answers on Beta")).to_have_count(0)

        sam.get_by_role("button", name="Host: Beta guild").click()
        expect(sam.locator(".space-name")).to_have_text(["Beta guild"])
        expect(body_of(sam, "Ben answers on Beta")).to_have_count(1)
        expect(body_of(sam, "hello Beta")).to_have_count(1)
        expect(body_of(sam, "Ada answers on Alpha")).to_have_count(0)

        # Both hosts are remembered: after a reload the rail still has both, on the last view.
        sam.reload()
        expect(sam.locator(".rail-host")).to_have_count(2)
        expect(sam.locator(".space-name")).to_have_text(["Beta guild"])
        expect(body_of(sam, "Ben answers on Beta")).to_have_count(1)
        for owned in (alpha, beta):
            loop.run(owned.owner.close())
    finally:
        for h in hosts:
            h.process.stop()
        relay.process.stop()


# -- identity backup: export, then restore in a fresh browser ------------------------------


def test_identity_backup_exports_and_restores_the_account_in_a_fresh_browser(
        browser: Browser, contexts: list[BrowserContext], relay: Relay, host: Host,
        tmp_path: Path) -> None:
    olive = new_person(browser, contexts)
    olive.goto(f"{relay.http_url}/#/claim/{host.host_id}/{host.owner_claim()}")
    create_identity(olive, "Olive")
    olive.locator("#new-space").click()
    olive.get_by_label("Space name").fill("Book club")
    olive.get_by_role("button", name="Create space").click()
    expect(olive.locator(".channel-title")).to_have_text("general")
    send(olive, "written before the backup")
    set_up_recovery_key(olive)
    stored(olive, "written before the backup")
    account = olive.evaluate("() => window.hearth.identity.account")

    olive.locator("#account-button").click()
    expect(olive.locator("#account-key")).to_have_value(account)
    olive.locator("#export-identity").click()
    dialog = olive.locator("#identity-backup-dialog")
    dialog.get_by_label("Passphrase for the file").fill("short")
    dialog.get_by_label("Passphrase again").fill("short")
    dialog.get_by_role("button", name="Download backup").click()
    expect(dialog.locator(".form-error")).to_contain_text("at least 10 characters")
    dialog.get_by_label("Passphrase for the file").fill(PASSPHRASE)
    dialog.get_by_label("Passphrase again").fill(PASSPHRASE)
    with olive.expect_download() as download:
        dialog.get_by_role("button", name="Download backup").click()
    assert download.value.suggested_filename == "hearth-identity-Olive.hearthid"
    backup = tmp_path / download.value.suggested_filename
    download.value.save_as(backup)
    assert backup.stat().st_size > 0
    expect(dialog).to_have_count(0)

    # A fresh browser (no keys): a wrong passphrase is said plainly, the right one restores.
    fresh = new_person(browser, contexts)
    fresh.goto(relay.http_url)
    fresh.locator("#start-restore").click()
    screen = fresh.locator("#restore-screen")
    screen.get_by_label("Display name").fill("Olive")
    screen.get_by_label("Identity backup file").set_input_files(str(backup))
    screen.get_by_label("Its passphrase").fill("not the passphrase at all")
    screen.get_by_role("button", name="Restore my account").click()
    expect(screen.locator(".form-error")).to_have_text(
        "That passphrase does not open this file, or the file is not a Hearth identity backup.",
        timeout=15_000)
    expect(screen.get_by_role("button", name="Restore my account")).to_be_enabled()
    screen.get_by_label("Its passphrase").fill(PASSPHRASE)
    screen.get_by_role("button", name="Restore my account").click()
    expect(fresh.get_by_role("heading", name="Join your first community")).to_be_visible(
        timeout=15_000)
    assert fresh.evaluate("() => window.hearth.identity.account") == account
    assert fresh.evaluate("() => window.hearth.identity.deviceId") != olive.evaluate(
        "() => window.hearth.identity.deviceId")

    # The same account on the host: its space, and the history through the key backup.
    fresh.get_by_role("button", name="Add a host or invite link").click()
    fresh.locator("#add-host-dialog").get_by_label("Invite link or host id").fill(host.host_id)
    fresh.locator("#add-host-dialog").get_by_role("button", name="Add").click()
    expect(fresh.locator(".space-name")).to_have_text(["Book club"])
    expect(fresh.locator(".channel-title")).to_have_text("general")
    expect(body_of(fresh, "written before the backup")).to_have_count(1, timeout=15_000)
    fresh.locator("#account-button").click()
    expect(fresh.locator("#account-key")).to_have_value(account)
    fresh.keyboard.press("Escape")

    # It writes as the same person, with no new recovery setup, and the first browser reads it.
    send(fresh, "written on the restored browser")
    expect(fresh.locator("#recovery-dialog")).to_have_count(0)
    stored(fresh, "written on the restored browser")
    expect(body_of(olive, "written on the restored browser")).to_have_count(1)
    expect(olive.locator(".notice[data-kind=key-changed]")).to_have_count(0)


# -- a contact's account key changes ----------------------------------------------------


def test_a_changed_account_key_warns_and_clears_the_verified_mark(
        browser: Browser, contexts: list[BrowserContext], relay: Relay, host: Host,
        loop: Loop) -> None:
    club = own(loop, relay, host, "Book club", "Owner")

    first_mia = loop.run(joins(relay, host, "Mia", club.invite(loop)))
    sam = join_by_link(browser, contexts, club.invite(loop), "Sam")
    mia_row = sam.locator(".member", has_text="Mia")
    expect(mia_row).to_have_count(1)

    # Sam compares safety numbers with Mia and marks her verified.
    sam.get_by_role("button", name="Safety number with Mia").click()
    sam.get_by_role("button", name="They match: mark as verified").click()
    expect(mia_row.locator(".verified-badge")).to_be_visible()
    expect(sam.locator(".notice[data-kind=key-changed]")).to_have_count(0)

    # Mia's account leaves; a new account takes the name "Mia" in the same space.
    loop.run(first_mia.host(host.host_id).call("space.leave", space=club.space))
    second_mia = loop.run(joins(relay, host, "Mia", club.invite(loop)))
    banner = sam.locator(".notice[data-kind=key-changed]")
    expect(banner).to_have_count(1, timeout=15_000)  # the member list polls every 4 s
    expect(banner).to_contain_text("Mia's account key has changed")
    expect(banner).to_contain_text("Compare safety numbers with Mia")
    expect(mia_row).to_have_count(1)
    expect(mia_row.locator(".verified-badge")).to_have_count(0)
    sam.get_by_role("button", name="Safety number with Mia").click()
    expect(sam.locator("#safety-status")).to_have_text("Not verified yet.")
    sam.keyboard.press("Escape")

    # Once acknowledged, the warning is not shown again (not on the next poll, not on reload).
    banner.get_by_role("button", name="I understand").click()
    expect(banner).to_have_count(0)
    sam.wait_for_timeout(4_500)
    expect(banner).to_have_count(0)
    sam.reload()
    expect(sam.locator(".member", has_text="Mia")).to_have_count(1)
    expect(sam.locator(".notice[data-kind=key-changed]")).to_have_count(0)
    expect(sam.locator(".member", has_text="Mia").locator(".verified-badge")).to_have_count(0)
    for c in (first_mia, second_mia, club.owner):
        loop.run(c.close())


def test_a_second_account_taking_a_members_name_warns_once(
        browser: Browser, contexts: list[BrowserContext], relay: Relay, host: Host,
        loop: Loop) -> None:
    """Both accounts named "Mia" stay in the space: one warning, not one every poll."""
    club = own(loop, relay, host, "Book club", "Owner")

    first_mia = loop.run(joins(relay, host, "Mia", club.invite(loop)))
    sam = join_by_link(browser, contexts, club.invite(loop), "Sam")
    expect(sam.locator(".member", has_text="Mia")).to_have_count(1)
    sam.get_by_role("button", name="Safety number with Mia").click()
    sam.get_by_role("button", name="They match: mark as verified").click()
    expect(sam.locator(".member .verified-badge")).to_have_count(1)

    impostor = loop.run(joins(relay, host, "Mia", club.invite(loop)))
    banner = sam.locator(".notice[data-kind=key-changed]")
    expect(sam.locator(".member", has_text="Mia")).to_have_count(2, timeout=15_000)
    expect(banner).to_have_count(1)
    expect(sam.locator(".member .verified-badge")).to_have_count(0)
    sam.wait_for_timeout(8_500)  # two more polls of the member list
    expect(banner).to_have_count(1)
    banner.get_by_role("button", name="I understand").click()
    sam.wait_for_timeout(4_500)
    expect(banner).to_have_count(0)
    for c in (first_mia, impostor, club.owner):
        loop.run(c.close())
