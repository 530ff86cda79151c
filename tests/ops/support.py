"""Helpers for the operations tests: the ``hearth`` command as an operator runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from tests.conftest import Process

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``hearth ARGS``; the completed process, whatever its exit status."""
    return subprocess.run([sys.executable, "-m", "hearth", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})}, cwd=cwd,
                          input=stdin)


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    done = run(*args, env=env)
    assert done.returncode == 0, f"hearth {' '.join(args)} exited {done.returncode}: " \
                                 f"{done.stderr}"
    return done.stdout


def refused(*args: str, status: int = 1, env: dict[str, str] | None = None,
            stdin: str | None = None) -> str:
    """Run a command that must fail with ``status``; its error text (stderr)."""
    done = run(*args, env=env, stdin=stdin)
    assert done.returncode == status, (done.returncode, done.stdout, done.stderr)
    return done.stderr


def status_json(data: Path) -> dict[str, object]:
    parsed: dict[str, object] = orjson.loads(ok("host", "status", "--data", str(data), "--json"))
    return parsed


def wait_for(check: Callable[[], bool], what: str, within: float = 20) -> None:
    """Poll ``check`` until true (bounded: fails naming ``what`` after ``within`` s)."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def terminate(process: Process, within: float = 30) -> int:
    """SIGTERM, then the exit status (SIGKILL and fail if it does not exit in time)."""
    process.proc.send_signal(signal.SIGTERM)
    try:
        return process.proc.wait(within)
    except subprocess.TimeoutExpired:
        process.proc.kill()
        process.proc.wait(5)
        raise AssertionError(f"no exit within {within} s of SIGTERM:\n{process.output()}") \
            from None


def log_events(text: str) -> list[dict[str, str]]:
    """Parse logfmt lines into dicts (values unquoted); every line must parse."""
    events = []
    for line in text.splitlines():
        events.append(parse_logfmt(line))
    return events


def parse_logfmt(line: str) -> dict[str, str]:
    out: dict[str, str] = {}
    i, n = 0, len(line)
    while i < n:
        eq = line.index("=", i)
        key = line[i:eq]
        assert key and " " not in key, f"bad key in {line!r}"
        j = eq + 1
        if j < n and line[j] in "\"'":
            quote = line[j]
            k = j + 1
            while line[k] != quote:
                k += 2 if line[k] == "\\" else 1
            value, i = line[j + 1:k], k + 1
        else:
            k = line.find(" ", j)
            k = n if k < 0 else k
            value, i = line[j:k], k
        out[key] = value
        while i < n and line[i] == " ":
            i += 1
    return out
