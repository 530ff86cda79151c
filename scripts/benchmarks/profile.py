"""Sample a running server with py-spy and say where its CPU time goes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import orjson


@dataclass
class Hotspot:
    function: str
    where: str
    self_share: float
    """Fraction of on-CPU samples spent in this function itself."""
    total_share: float
    """Fraction of on-CPU samples with this function anywhere on the stack."""


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise RuntimeError("py-spy is not installed: scripts/bench installs the 'bench' extra")
    return found


def start_recording(pid: int, out: Path, seconds: float,
                    rate: int = 250) -> subprocess.Popen[bytes]:
    """py-spy record of ``pid`` (needs ptrace: run as root) into a speedscope file."""
    return subprocess.Popen(
        [py_spy(), "record", "--pid", str(pid), "--format", "speedscope", "--output", str(out),
         "--duration", str(int(seconds)), "--rate", str(rate), "--nonblocking",
         "--function", "--full-filenames"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _short(path: str) -> str:
    for marker in ("/site-packages/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    for top in ("/relay/", "/hearth/", "/host/"):
        if top in path:
            return top[1:] + path.rsplit(top, 1)[1]
    return path


def hotspots(speedscope: Path) -> tuple[float, list[Hotspot]]:
    """(seconds of on-CPU samples, functions) of a py-spy speedscope file."""
    data = orjson.loads(speedscope.read_bytes())
    frames = data["shared"]["frames"]
    self_count: dict[int, float] = defaultdict(float)
    total_count: dict[int, float] = defaultdict(float)
    samples = 0.0
    for profile in data["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            if not stack:
                continue
            samples += weight
            self_count[stack[-1]] += weight
            for index in set(stack):
                total_count[index] += weight
    found = [
        Hotspot(frames[i]["name"],
                f"{_short(frames[i].get('file', '?'))}:{frames[i].get('line', 0)}",
                self_count[i] / samples, total_count[i] / samples)
        for i in total_count
    ] if samples else []
    return samples, found


def by_package(spots: list[Hotspot]) -> dict[str, float]:
    """Self time per top-level package (relay, hearth, starlette, uvicorn, ...)."""
    shares: dict[str, float] = defaultdict(float)
    for spot in spots:
        shares[spot.where.split("/", 1)[0].split(":", 1)[0]] += spot.self_share
    return dict(sorted(shares.items(), key=lambda kv: -kv[1]))
