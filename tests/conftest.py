"""Fixtures that run the real thing: a relay and a host as separate processes on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hearth.client import Client, RequestError
from hearth.identity import Identity


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def hearth_cli(*args: str, timeout: float = 30) -> str:
    """Run ``hearth ARGS`` as a user would; returns stdout, raises with stderr on failure."""
    done = subprocess.run([sys.executable, "-m", "hearth", *args], capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"hearth {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


@dataclass
class Process:
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def spawn(log: Path, *args: str, env: dict[str, str] | None = None) -> Process:
    out = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "hearth", *args], stdout=out,
                            stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    return Process(proc, log)


@dataclass
class Relay:
    port: int
    process: Process

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_relay(tmp: Path, *extra: str, port: int | None = None) -> Relay:
    port = port or free_port()
    process = spawn(tmp / f"relay-{port}.log", "relay", "--port", str(port), *extra)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.proc.poll() is not None:
            raise AssertionError(f"relay exited early:\n{process.output()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return Relay(port, process)
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.stop()
    raise AssertionError(f"relay not ready in 20 s:\n{process.output()}")


@dataclass
class Host:
    data: Path
    host_id: str
    process: Process
    relay: Relay

    @property
    def db(self) -> Path:
        return self.data / "hearth.sqlite3"

    def owner_claim(self) -> str:
        return hearth_cli("host", "owner-invite", "--data", str(self.data)).strip()


def start_host(tmp: Path, relay: Relay, data: Path | None = None) -> Host:
    data = data or tmp / "host"
    if not (data / "host.key").exists():
        hearth_cli("host", "init", "--data", str(data))
    host_id = hearth_cli("host", "id", "--data", str(data)).strip()
    process = spawn(tmp / "host.log", "host", "run", "--data", str(data), "--relay", relay.ws_url)
    return Host(data, host_id, process, relay)


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
