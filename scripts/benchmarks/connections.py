"""Resident memory of the relay per idle authenticated client connection, up to 10,000,
against the bare app holding as many idle WebSockets (fresh processes for each)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from benchlib.proc_stat import rss_kib
from benchlib.procs import Process, start_bare_app, start_relay

from benchmarks.results import Row
from benchmarks.worker import Worker

HOLDER_PROCESSES = 4
STEP = 2000
MAX_CONNECTIONS = 10_000
SETTLE_S = 0.5
JOIN_WAIT_S = 120.0


@dataclass
class Curve:
    """(connections, VmRSS KiB) points for one server."""

    points: list[tuple[int, int]] = field(default_factory=list)

    @property
    def kib_per_connection(self) -> float:
        (n0, r0), (n1, r1) = self.points[0], self.points[-1]
        return (r1 - r0) / (n1 - n0)


def _fill(process: Process, holders: list[Worker], method: str, url: str) -> Curve:
    curve = Curve([(0, rss_kib(process.pid))])
    held = 0
    while held < MAX_CONNECTIONS:
        share = STEP // len(holders)
        for holder in holders:
            holder.send(method, **{"relay_url" if method == "hold_hearth" else "url": url,
                                   "count": share})
        for holder in holders:
            holder.result(JOIN_WAIT_S)
        held += share * len(holders)
        time.sleep(SETTLE_S)
        curve.points.append((held, rss_kib(process.pid)))
    return curve


def measure(tmp: Path) -> tuple[list[Row], dict[str, Curve]]:
    curves: dict[str, Curve] = {}
    for name in ("relay", "bare"):
        holders = [Worker("subscribers") for _ in range(HOLDER_PROCESSES)]
        if name == "relay":
            server = start_relay(tmp)
            process, method, url = server.process, "hold_hearth", server.ws_url
        else:
            app = start_bare_app(tmp)
            process, method, url = app.process, "hold_bare", app.ws_url
        try:
            time.sleep(SETTLE_S)
            curves[name] = _fill(process, holders, method, url)
        finally:
            for holder in holders:
                holder.close()
            process.stop()
    relay, bare = curves["relay"], curves["bare"]
    rows = [Row(
        "Connections", f"resident memory per idle authenticated connection (0 to "
        f"{MAX_CONNECTIONS:,})", relay.kib_per_connection, bare.kib_per_connection, "KiB",
        "bare app, idle WebSocket", better="lower", target="<= 30 KiB",
        note=(f"relay VmRSS {relay.points[0][1] / 1024:.0f} -> {relay.points[-1][1] / 1024:.0f}"
              f" MiB, bare {bare.points[0][1] / 1024:.0f} -> {bare.points[-1][1] / 1024:.0f} MiB;"
              f" {relay.kib_per_connection:.1f} MiB per 1,000 connections"),
    )]
    return rows, curves
