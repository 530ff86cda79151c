"""Logs and metrics of real processes: one logfmt line per event, never a secret, and
the metrics an operator graphs."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import sys
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from hearth.b64 import b64e
from hearth.client import Client
from hearth.frames import HostStatus
from hearth.logs import LogfmtFormatter
from tests.conftest import FAST_RATES, Community, Host, Relay, connect_user
from tests.ops.support import log_events, parse_logfmt, terminate, wait_for

SECRET_ENVELOPE = b"attack at dawn, bring the good biscuits"


def test_a_record_is_one_logfmt_line_whatever_it_holds() -> None:
    formatter = LogfmtFormatter()
    record = logging.LogRecord("hearth.relay", logging.INFO, __file__, 1,
                               'two\nlines "quoted" = x', None, None)
    line = formatter.format(record)
    assert "\n" not in line
    assert parse_logfmt(line)["msg"] == 'two\\nlines \\"quoted\\" = x'
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("hearth.host", logging.ERROR, __file__, 1,
                                   "event=op_failed op=%s", ("publish",), sys.exc_info())
    fields = parse_logfmt(formatter.format(record))
    assert fields["level"] == "error" and fields["event"] == "op_failed"
    assert "ValueError: boom" in fields["exc"] and "\n" not in formatter.format(record)


async def slow_client(relay: Relay, identity: Client) -> Client:
    """A reconnection of ``identity`` with a tiny receive buffer (stalls in kilobytes)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", relay.port))
    await identity.close()
    return await Client(identity.identity, relay.ws_url).connect(sock=sock)


@pytest.mark.relay_args(*FAST_RATES, "--client-queue", "8", "--send-buffer", "4096")
async def test_events_are_logged_and_counted_without_secrets(
    relay: Relay, host: Host, community: Community, monkeypatch: pytest.MonkeyPatch,
) -> None:
    host_id, space, general = host.host_id, community.space, community.general
    api = community.owner.host(host_id)
    claim = host.owner_claim()  # a secret the operator saw: it must never be logged
    reader = await connect_user(relay, host, "reader")
    await api.call("invite.key", space=space, acct=reader.identity.account)
    await reader.host(host_id).call("invite.accept", space=space)
    await reader.host(host_id).subscribe(space, [general])

    # An authentication failure and a refusal.
    async with connect(f"{relay.ws_url}/ws/client") as ws:
        await ws.recv()
        await ws.send('{"t":"hello","cert":"' + "A" * 226 + '","sig":"' + "A" * 86 + '"}')
        await ws.recv()
    await community.owner.send_raw('{"t":"pub","space":"s","chan":"c","body":"{}","sig":"'
                                   + "A" * 86 + '"}')
    # A stalled reader is cut off (4008) while the others keep receiving.
    slow = await slow_client(relay, reader)
    await slow.host(host_id).subscribe(space, [general])
    slow.pause_reading()
    for _ in range(60):
        await api.publish(space, general, SECRET_ENVELOPE + bytes(2048))
    wait_for(lambda: "event=slow_consumer" in relay.process.output(), "the slow consumer")

    async with httpx.AsyncClient(base_url=relay.http_url) as http:
        metrics = (await http.get("/metrics")).text

    def value(name: str) -> float:
        match = re.search(rf"^{re.escape(name)} (\S+)$", metrics, re.M)
        assert match, name
        return float(match[1])

    assert value('hearth_relay_connections{kind="host"}') == 1
    assert value('hearth_relay_connections{kind="client"}') >= 1
    assert value("hearth_relay_hosts_online") == 1
    assert value("hearth_relay_accepting") == 1
    assert value('hearth_relay_frames_in_total{kind="client",type="req"}') >= 60
    # The 60 messages, and a ``mem`` event each for the owner's and the reader's joins.
    published = 60 + 2
    assert value('hearth_relay_frames_in_total{kind="host",type="pub"}') == published
    assert value('hearth_relay_frames_out_total{kind="client",type="event"}') >= 8
    assert value('hearth_relay_refusals_total{code="forbidden_frame",kind="client"}') == 1
    assert value('hearth_relay_refusals_total{code="auth_failed",kind="client"}') == 1
    assert value('hearth_relay_slow_consumer_closes_total{kind="client"}') == 1
    assert value('hearth_relay_closes_total{code="4008",kind="client"}') == 1
    # Fan-outs are timed only where someone listens: the space's topic has nobody here.
    assert value("hearth_relay_fanout_seconds_count") == 60
    assert "hearth_relay_queue_drops_total" in metrics

    watcher = await connect_user(relay, host, "watcher")
    await watcher.host(host_id).call("space.list")
    assert terminate(host.process) == 0
    notice = await asyncio.wait_for(watcher.notices.get(), 10)
    assert isinstance(notice, HostStatus) and not notice.online
    async with httpx.AsyncClient(base_url=relay.http_url) as http:
        metrics = (await http.get("/metrics")).text
    assert value("hearth_relay_hosts_online") == 0
    assert value('hearth_relay_connections{kind="host"}') == 0
    await watcher.close()

    relay_log, host_log = relay.process.output(), host.process.output()
    events = log_events(relay_log) + log_events(host_log)
    assert all({"ts", "level", "logger"} <= e.keys() and ("event" in e or "msg" in e)
               for e in events)
    named = {(e["logger"], e.get("event")) for e in events}
    for expected in ("connect", "authenticated", "auth_failed", "refused", "slow_consumer",
                     "close", "disconnect", "relay_started"):
        assert ("hearth.relay", expected) in named, expected
    for expected in ("host_started", "connected", "host_stopped"):
        assert ("hearth.host", expected) in named, expected
    refusals = {(e.get("code"), e.get("ref")) for e in events if e.get("event") == "refused"}
    assert ("forbidden_frame", "pub") in refusals and ("auth_failed", "None") in refusals

    everything = relay_log + host_log
    key_seed = (host.data / "host.key").read_text().strip()
    for secret in (key_seed, claim, b64e(SECRET_ENVELOPE)[:40], "attack at dawn",
                   community.owner.identity.device.certificate.encode()):
        assert secret not in everything
    assert "Traceback" not in everything


def test_log_level_is_configurable(tmp_path: Path) -> None:
    from tests.ops.support import run

    quiet = run("--log-level", "warning", "host", "run", "--data", str(tmp_path / "x"),
                "--relay", "ws://127.0.0.1:9")
    assert quiet.returncode == 1 and "event=" not in quiet.stderr
    assert "no host key at" in quiet.stderr
