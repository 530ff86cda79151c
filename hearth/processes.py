"""Hearth's own commands as child processes on 127.0.0.1: what tests and benchmarks share.

Everything here starts the real thing (``python -m hearth …``) exactly as a user would,
sends its output to a log file, and waits for it to be ready; nothing is simulated.
"""

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
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def hearth_cli(*args: str, timeout: float = 30) -> str:
    """Run ``hearth ARGS`` to completion; its stdout, or RuntimeError quoting stderr."""
    done = subprocess.run([sys.executable, "-m", "hearth", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"hearth {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


@dataclass
class Process:
    """A child process whose stdout and stderr go to ``log``."""

    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after 10 s; the exit status."""
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


def spawn(log: Path, *argv: str, env: dict[str, str] | None = None) -> Process:
    """Start ``python ARGV`` with ``env`` added to this process's environment."""
    out = log.open("wb")
    proc = subprocess.Popen([sys.executable, *argv], stdout=out, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    return Process(proc, log)


def spawn_hearth(log: Path, *args: str, env: dict[str, str] | None = None) -> Process:
    """Start ``hearth ARGS``."""
    return spawn(log, "-m", "hearth", *args, env=env)


def wait_http_ok(process: Process, url: str, what: str, wait_s: float = 20) -> None:
    """Return once ``url`` answers 200; RuntimeError (with the log) if the process dies
    or ``wait_s`` passes first (the process is then stopped)."""
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

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _log_level(level: str | None) -> tuple[str, ...]:
    return ("--log-level", level) if level else ()


def start_relay(tmp: Path, *extra: str, port: int | None = None,
                log_level: str | None = None) -> Relay:
    """``hearth relay --port N EXTRA…``, returned once /health/ready answers 200."""
    port = port or free_port()
    process = spawn_hearth(tmp / f"relay-{port}.log", *_log_level(log_level), "relay",
                           "--port", str(port), *extra)
    wait_http_ok(process, f"http://127.0.0.1:{port}/health/ready", "relay")
    return Relay(port, process)


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


def start_host(tmp: Path, relay: Relay, data: Path | None = None,
               log_level: str | None = None, extra: tuple[str, ...] = ()) -> Host:
    """``hearth host init`` (once) and ``hearth host run`` against ``relay``; it dials in
    on its own (clients see host_offline until it has)."""
    data = data or tmp / "host"
    if not (data / "host.key").exists():
        hearth_cli("host", "init", "--data", str(data))
    host_id = hearth_cli("host", "id", "--data", str(data)).strip()
    process = spawn_hearth(tmp / "host.log", *_log_level(log_level), "host", "run",
                           "--data", str(data), "--relay", relay.ws_url, *extra)
    return Host(data, host_id, process, relay)
