"""Fixtures that run the real thing: a relay and a host as separate processes on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hearth.client import Client, RequestError
from hearth.identity import Identity
from hearth.processes import (
    Host,
    Process,
    Relay,
    free_port,
    hearth_cli,
    spawn_hearth,
    start_host,
    start_relay,
)

__all__ = ["Process", "free_port", "hearth_cli", "spawn", "start_host", "start_relay"]


def spawn(log: Path, *args: str, env: dict[str, str] | None = None) -> Process:
    """Start ``hearth ARGS`` (the tests' shorthand)."""
    return spawn_hearth(log, *args, env=env)


FAST_RATES = ("--rate", "req=5000/10000", "--rate", "account=10000/20000")
"""Rate limits for tests that push thousands of requests on purpose."""


@pytest.fixture
def relay(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Relay]:
    """A relay process; ``@pytest.mark.relay_args(...)`` adds command-line arguments."""
    marker = request.node.get_closest_marker("relay_args")
    r = start_relay(tmp_path, *(marker.args if marker else ()))
    yield r
    r.process.stop()


@pytest.fixture
def host(tmp_path: Path, relay: Relay) -> Iterator[Host]:
    h = start_host(tmp_path, relay)
    yield h
    h.process.stop()


def database_bytes(db: Path) -> bytes:
    """A SQLite database as stored on disk: the file, then its write-ahead log if any
    (where recent writes live until a checkpoint)."""
    wal = db.with_name(db.name + "-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def connect_user(relay: Relay, host: Host, name: str,
                       identity: Identity | None = None) -> Client:
    """An authenticated client that has said hello to ``host`` (waiting for it to be online)."""
    client = await Client(identity or Identity.generate(), relay.ws_url).connect()
    deadline = time.monotonic() + 20
    while True:
        try:
            await client.host(host.host_id).hello(name)
            return client
        except RequestError as exc:
            if exc.wire_code != "host_offline" or time.monotonic() > deadline:
                await client.close()
                raise
            await asyncio.sleep(0.1)


@dataclass
class Community:
    """A host with an owner who has claimed it and created one space."""

    host: Host
    owner: Client
    space: str
    general: str


@pytest.fixture
async def community(relay: Relay, host: Host) -> AsyncIterator[Community]:
    owner = await connect_user(relay, host, "owner")
    api = owner.host(host.host_id)
    await api.claim(host.owner_claim())
    created = await api.create_space("Hearthside")
    space = created["space"]["id"]
    channels = (await api.call("channel.list", space=space))["channels"]
    general = next(c["id"] for c in channels if c["name"] == "general")
    yield Community(host, owner, space, general)
    await owner.close()
