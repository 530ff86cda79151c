"""Start a real relay and a real host as processes on 127.0.0.1, as the tests do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def hearth_cli(*args: str, timeout: float = 30) -> str:
    """Run ``hearth ARGS``; returns stdout, raises RuntimeError with stderr on failure."""
    done = subprocess.run([sys.executable, "-m", "hearth", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"hearth {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


@dataclass
class Process:
    """A child process whose output goes to ``log``."""

    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

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


def spawn(log: Path, *argv: str) -> Process:
    """Start ``python ARGV`` (its stdout and stderr go to ``log``)."""
    out = log.open("wb")
    proc = subprocess.Popen([sys.executable, *argv], stdout=out, stderr=subprocess.STDOUT,
                            env=dict(os.environ))
    return Process(proc, log)


def wait_http_ok(process: Process, url: str, what: str, wait_s: float = 20) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.proc.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{process.output()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    process.stop()
    raise RuntimeError(f"{what} not ready in {wait_s:g} s:\n{process.output()[-4000:]}")


@dataclass
class Relay:
    port: int
    process: Process

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def start_relay(tmp: Path, *extra: str) -> Relay:
    """``hearth relay --port N EXTRA...``, ready once /health/ready answers 200."""
    port = free_port()
    process = spawn(tmp / f"relay-{port}.log", "-m", "hearth", "--log-level", "warning",
                    "relay", "--port", str(port), *extra)
    wait_http_ok(process, f"http://127.0.0.1:{port}/health/ready", "relay")
    return Relay(port, process)


@dataclass
class Host:
    data: Path
    host_id: str
    process: Process

    def owner_claim(self) -> str:
        return hearth_cli("host", "owner-invite", "--data", str(self.data)).strip()


def start_host(tmp: Path, relay: Relay) -> Host:
    """``hearth host init`` (once) and ``hearth host run`` against ``relay``."""
    data = tmp / "host"
    if not (data / "host.key").exists():
        hearth_cli("host", "init", "--data", str(data))
    host_id = hearth_cli("host", "id", "--data", str(data)).strip()
    process = spawn(tmp / "host.log", "-m", "hearth", "--log-level", "warning", "host", "run",
                    "--data", str(data), "--relay", relay.ws_url)
    return Host(data, host_id, process)


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
