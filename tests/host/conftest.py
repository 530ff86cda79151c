"""Fixtures for the host's tests: a real data dir, real SQLite, real signed requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from host.config import db_path, init_host, load_host_key
from host.service import Service
from host.store import Store
from tests.host.support import Clock, Community, Host, User


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "host"
    init_host(path)
    return path


@pytest.fixture
async def host(data_dir: Path) -> AsyncIterator[Host]:
    store = await Store.open(db_path(data_dir))
    clock = Clock()
    yield Host(data_dir, Service(store, load_host_key(data_dir), clock=clock), clock)
    await store.close()


@pytest.fixture
async def community(host: Host) -> Community:
    """A claimed host whose owner created one space (with its "general" channel)."""
    owner = User("owner")
    await host.join(owner)
    await host.ok(owner, "host.claim", **host.proof(owner, host.claim()))
    created = (await host.ok(owner, "space.create", name="Hearthside"))["space"]
    general = next(c["id"] for c in created["channels"] if c["name"] == "general")
    return Community(host, owner, created["id"], general)
