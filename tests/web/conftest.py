"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser).

One Chromium process per test session; each simulated person gets their own browser
context (separate storage, as separate devices would have).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium's background connections fail slowly on a closed network.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent.parent
WEB = ROOT / "web"
SCREENSHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is not installed: run scripts/bootstrap "
                    "(it runs apt-get install chromium)", pytrace=False)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()
