"""Fixtures for the relay tests (helpers live in relay_helpers.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from tests.relay.relay_helpers import RelayHandle, running_relay


@pytest.fixture
async def live_relay() -> AsyncIterator[RelayHandle]:
    async with running_relay() as r:
        yield r


@pytest.fixture
def live_relay_with() -> Callable[..., contextlib.AbstractAsyncContextManager[RelayHandle]]:
    """``async with live_relay_with(idle_timeout=0.5) as r:`` for non-default settings."""
    return running_relay
