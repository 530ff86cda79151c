"""What /proc says about a process: CPU seconds used and resident memory."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (fields 14 and 15 of /proc/<pid>/stat), in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        text = f.read()
    # The command name (field 2) may hold spaces; everything after its ')' is fixed.
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` in KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS line")


@dataclass
class CpuWindow:
    """CPU use of some processes over a wall-clock window: start(), then stop()."""

    pids: dict[str, list[int]]
    _cpu0: dict[str, float] | None = None
    _wall0: float = 0.0
    busy: dict[str, float] | None = None
    """After stop(): CPU seconds per wall second for each named group (1.0 = one core)."""

    def _sample(self) -> dict[str, float]:
        return {name: _sum_cpu(pids) for name, pids in self.pids.items()}

    def start(self) -> None:
        self._cpu0 = self._sample()
        self._wall0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        assert self._cpu0 is not None, "start() first"
        cpu1 = self._sample()
        wall = max(1e-9, time.monotonic() - self._wall0)
        self.busy = {name: (cpu1[name] - self._cpu0[name]) / wall for name in cpu1}
        return self.busy


def _sum_cpu(pids: Iterable[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)
