"""Browser fixtures: each simulated person gets their own browser context (separate
storage, as separate devices would have) in the module's one Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.browser import CHROMIUM, CHROMIUM_ARGS, ROOT, WEB, chromium

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "WEB"]
SCREENSHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b
