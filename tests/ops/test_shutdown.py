"""Graceful shutdown of real processes on SIGTERM: stop accepting, finish what is in
hand, close with 1001, exit 0 within a bound."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hearth.client import RequestError, new_message_id
from hearth.frames import HostStatus
from tests.conftest import (
    FAST_RATES,
    Community,
    Host,
    Relay,
    connect_user,
    free_port,
    spawn,
    start_host,
)
from tests.ops.support import status_json, terminate, wait_for


async def test_relay_sigterm_closes_everyone_with_1001_and_exits_0(
    relay: Relay, host: Host, community: Community,
) -> None:
    client = community.owner
    assert client.closed is not None
    assert terminate(relay.process) == 0
    code, reason = await asyncio.wait_for(client.closed, 10)
    assert (code, reason) == (1001, "relay is shutting down")
    log = relay.process.output()
    assert "event=shutdown_started connections=2" in log  # the host and the client
    assert log.index("event=shutdown_started") < log.index("event=relay_stopped")
    # The host noticed the 1001 and keeps redialling; it never exits on its own.
    wait_for(lambda: "event=reconnect_wait" in host.process.output(), "the host to redial")
    assert host.process.proc.poll() is None


@pytest.mark.relay_args(*FAST_RATES)
async def test_host_sigterm_finishes_in_flight_requests_and_loses_none(
    relay: Relay, host: Host, community: Community, tmp_path: Path,
) -> None:
    owner = community.owner
    owner.request_timeout = 3.0  # requests the host never read fail fast
    api = owner.host(host.host_id)
    space, general = community.space, community.general
    watcher = await connect_user(relay, host, "watcher")
    await api.call("invite.key", space=space, acct=watcher.identity.account)
    await watcher.host(host.host_id).call("invite.accept", space=space)
    ids = [new_message_id() for _ in range(300)]
    sends = [asyncio.create_task(api.publish(space, general, b"x", mid)) for mid in ids]
    await asyncio.wait(sends, return_when=asyncio.FIRST_COMPLETED)  # the host is busy
    assert terminate(host.process) == 0
    results = await asyncio.gather(*sends, return_exceptions=True)
    acked = {mid for mid, r in zip(ids, results, strict=True) if isinstance(r, dict)}
    failed = [r for r in results if not isinstance(r, dict)]
    assert acked and all(isinstance(r, RequestError) and r.wire_code == "host_offline"
                         for r in failed), failed[:3]

    log = host.process.output()
    assert "event=host_stopped" in log and "Traceback" not in log
    status = status_json(host.data)
    assert status["running"] is False and status["node"]["state"] == "stopped"  # type: ignore[index]
    # The relay told the host's clients it went away (a clean 1001, not a dead socket).
    notice = await asyncio.wait_for(watcher.notices.get(), 10)
    assert isinstance(notice, HostStatus) and notice.online is False

    again = start_host(tmp_path, relay, host.data)
    try:
        owner.request_timeout = 15.0
        for _ in range(200):
            try:
                stored: set[str] = set()
                after = 0
                while True:
                    page = await api.history(space, general, after=after, limit=200)
                    stored |= {m["id"] for m in page["messages"]}
                    if not page["messages"] or not page["more"]:
                        break
                    after = page["messages"][-1]["seq"]
                break
            except RequestError as exc:
                assert exc.wire_code == "host_offline", exc
                await asyncio.sleep(0.05)
        # Exactly what was acknowledged was stored: nothing half-done, nothing lost.
        assert stored == acked
    finally:
        again.process.stop()
    await watcher.close()


def test_up_prints_next_steps_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    up = spawn(tmp_path / "up.log", "up", "--port", str(port), "--data", str(tmp_path / "d"))
    deadline = time.monotonic() + 30
    while "event=connected" not in up.output():
        assert up.proc.poll() is None and time.monotonic() < deadline, up.output()
        time.sleep(0.05)
    printed = up.output()
    for line in ("Owner link:  http://127.0.0.1:", "What next:", "Open the owner link in your",
                 "hearth.invite_link",
                 "await api.claim(link.secret)", "docs/operations.md", "Press Ctrl+C"):
        assert line in printed, line
    assert terminate(up) == 0
    log = up.output()
    # The host leaves first (its clients hear it went away), then the relay drains.
    assert log.index("event=host_stopped") < log.index("event=relay_stopped")
