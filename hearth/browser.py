"""Debian's Chromium and a static file server on 127.0.0.1: what browser tests and
browser benchmarks share (never a downloaded browser; Playwright is a dev dependency,
imported only when a browser is launched)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium's background connections fail slowly on a closed network.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
WEB = Path(__file__).resolve().parent.parent / "web"
BLANK_PAGE = b"<!doctype html><meta charset=utf-8><title>hearth</title>"


class _Files(SimpleHTTPRequestHandler):
    """Files of one directory, plus in-memory pages and extra headers; no request log."""

    inline_pages: Mapping[str, bytes] = {}
    extra_headers: Mapping[str, str] = {}

    def end_headers(self) -> None:
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def do_GET(self) -> None:
        page = self.inline_pages.get(self.path)
        if page is None:
            super().do_GET()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_files(directory: Path = WEB, *, pages: Mapping[str, bytes] | None = None,
                headers: Mapping[str, str] | None = None) -> Iterator[str]:
    """Serve ``directory`` (and ``pages``: path -> HTML) on a free 127.0.0.1 port with
    ``headers`` added to every answer; yields the base URL."""
    handler = type("Files", (_Files,), {"inline_pages": dict(pages or {}),
                                         "extra_headers": dict(headers or {})})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium() -> Iterator[Browser]:
    """One headless Debian Chromium (sync Playwright: never two alive at once)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
