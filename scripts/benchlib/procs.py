"""Start a real relay and a real host as processes on 127.0.0.1, as the tests do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hearth import processes
from hearth.processes import Host, Process, Relay, free_port, hearth_cli, spawn, wait_http_ok

__all__ = ["Host", "Process", "Relay", "free_port", "hearth_cli", "spawn", "wait_http_ok"]


def start_relay(tmp: Path, *extra: str) -> Relay:
    """``hearth relay`` with warnings-only logs (benchmarks log nothing per event)."""
    return processes.start_relay(tmp, *extra, log_level="warning")


def start_host(tmp: Path, relay: Relay, *extra: str) -> Host:
    return processes.start_host(tmp, relay, log_level="warning", extra=extra)


@dataclass
class BareApp:
    port: int
    process: Process

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def start_bare_app(tmp: Path) -> BareApp:
    """The bare fan-out app of benchmarks.bare_app, ready once /health/ready answers 200."""
    port = free_port()
    process = spawn(tmp / f"bare-{port}.log", "-m", "benchmarks.bare_app", "--port", str(port))
    wait_http_ok(process, f"http://127.0.0.1:{port}/health/ready", "bare app")
    return BareApp(port, process)
