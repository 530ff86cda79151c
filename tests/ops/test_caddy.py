"""Caddyfile.example for real: Debian's Caddy with ``tls internal`` on 127.0.0.1 high
ports, in front of a real relay and host, and the Python client through it over wss://
trusting Caddy's own CA, and the web client in Debian's Chromium through it."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from websockets.asyncio.client import connect

from hearth.client import Client
from hearth.identity import Identity
from tests.browser import chromium
from tests.conftest import Host, Relay, free_port, start_host, start_relay
from tests.ops.support import REPO


@dataclass
class Caddy:
    url: str
    ca: Path
    proc: subprocess.Popen[bytes]
    log: Path

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


@pytest.fixture
def proxied_relay(tmp_path: Path) -> Iterator[Relay]:
    relay = start_relay(tmp_path, "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1")
    yield relay
    relay.process.stop()


@pytest.fixture
def caddy(tmp_path: Path, proxied_relay: Relay) -> Iterator[Caddy]:
    binary = shutil.which("caddy")
    assert binary is not None, "caddy is missing: scripts/bootstrap installs Debian's caddy"
    https = free_port()
    env = {
        **os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HEARTH_DOMAIN": f"https://127.0.0.1:{https}", "HEARTH_BIND": "127.0.0.1",
        "HEARTH_TLS": "internal", "HEARTH_RELAY": f"127.0.0.1:{proxied_relay.port}",
        "HEARTH_HTTPS_PORT": str(https), "HEARTH_HTTP_PORT": str(free_port()),
        "HEARTH_CADDY_ADMIN": f"127.0.0.1:{free_port()}",
    }
    log = tmp_path / "caddy.log"
    proc = subprocess.Popen(
        [binary, "run", "--config", str(REPO / "Caddyfile.example"), "--adapter", "caddyfile"],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    ca = tmp_path / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    url = f"https://127.0.0.1:{https}"
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"caddy not serving in 30 s:\n{log.read_text()}"
        if ca.exists():
            try:
                httpx.get(f"{url}/health/live", verify=ssl.create_default_context(cafile=str(ca)),
                          timeout=2).raise_for_status()
                break
            except (httpx.HTTPError, ssl.SSLError):
                pass
        time.sleep(0.1)
    yield Caddy(url, ca, proc, log)
    proc.terminate()
    proc.wait(10)


async def test_client_through_caddy_end_to_end(
    caddy: Caddy, proxied_relay: Relay, tmp_path: Path,
) -> None:
    relay = proxied_relay
    async with httpx.AsyncClient(verify=caddy.tls()) as http:
        page = await http.get(f"{caddy.url}/")
        hidden = await http.get(f"{caddy.url}/metrics")
    assert page.status_code == 200 and "<html" in page.text.lower()
    headers = page.headers
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "connect-src 'self'" in headers["content-security-policy"]
    assert "server" not in headers
    assert hidden.status_code == 404

    # Nothing but TLS with a certificate from Caddy's CA: a client trusting only the
    # system store refuses it.
    wss = caddy.url.replace("https://", "wss://")
    with pytest.raises(ssl.SSLCertVerificationError):
        await Client(Identity.generate(), wss).connect()

    host: Host = start_host(tmp_path, relay)
    try:
        owner = await Client(Identity.generate(), wss, ssl=caddy.tls()).connect()
        api = owner.host(host.host_id)
        for _ in range(200):
            try:
                await api.hello("owner")
                break
            except Exception as exc:
                assert "host_offline" in str(exc), exc
                await asyncio.sleep(0.05)
        await api.claim(host.owner_claim())
        space = (await api.create_space("Behind Caddy"))["space"]
        await api.subscribe(space["id"])
        ack = await api.publish(space["id"], space["channels"][0]["id"], b"over TLS")
        event = await owner.next_event()
        assert (event.seq, event.envelope) == (ack["seq"], b"over TLS")
        await owner.close()
    finally:
        host.process.stop()

    # The relay logs the client's real address (from Caddy's X-Forwarded-For), not
    # Caddy's, and a client cannot forge it: Caddy replaces what the client sent.
    sock = socket.socket()
    sock.bind(("127.0.0.2", 0))
    sock.connect(("127.0.0.1", int(caddy.url.rsplit(":", 1)[1])))
    async with connect(f"{wss}/ws/client", ssl=caddy.tls(), sock=sock,
                       server_hostname="127.0.0.1",
                       additional_headers={"X-Forwarded-For": "203.0.113.9"}) as ws:
        assert '"t":"challenge"' in await ws.recv()
    deadline = time.monotonic() + 10
    while "peer=127.0.0.2:" not in relay.process.output():
        assert time.monotonic() < deadline, relay.process.output()
        await asyncio.sleep(0.05)
    assert "203.0.113.9" not in relay.process.output()


def test_browser_through_caddy_end_to_end(
    caddy: Caddy, proxied_relay: Relay, tmp_path: Path,
) -> None:
    """The web client over https:// and wss:// through Caddy: the owner claims the host
    and creates a space; every request of the page went through Caddy's TLS."""
    host = start_host(tmp_path, proxied_relay)
    try:
        with chromium() as browser:
            # Caddy's internal CA is not in Chromium's store; the certificate itself was
            # checked against that CA by the Python test above.
            context = browser.new_context(ignore_https_errors=True)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            origins: set[str] = set()
            page.on("request", lambda r: origins.add(r.url.split("/", 3)[2]))
            sockets: list[str] = []
            page.on("websocket", lambda ws: sockets.append(ws.url))
            page.goto(f"{caddy.url}/#/claim/{host.host_id}/{host.owner_claim()}")
            expect(page.locator("#welcome")).to_be_visible()
            page.get_by_label("Display name").fill("Operator")
            page.locator("#welcome button[type=submit]").click()
            expect(page.get_by_role("heading", name="Create your first space")).to_be_visible(
                timeout=20_000)
            page.locator("#new-space").click()
            page.get_by_label("Space name").fill("Behind Caddy")
            page.get_by_role("button", name="Create space").click()
            expect(page.locator(".space-name")).to_have_text("Behind Caddy")
            context.close()
        assert errors == []
        assert origins == {caddy.url.removeprefix("https://")}
        assert sockets and all(url.startswith(caddy.url.replace("https://", "wss://"))
                               for url in sockets)
    finally:
        host.process.stop()
