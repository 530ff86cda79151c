"""Debian's Chromium for tests: one per test module.

Sync Playwright runs its own event loop, so two must never be alive at once, and none
may outlive its module into the asyncio tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from hearth import browser
from hearth.browser import CHROMIUM, CHROMIUM_ARGS, WEB

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ROOT", "WEB", "chromium"]
ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def chromium() -> Iterator[Browser]:
    if shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is not installed: run scripts/bootstrap "
                    "(it runs apt-get install chromium)", pytrace=False)
    with browser.chromium() as b:
        yield b
