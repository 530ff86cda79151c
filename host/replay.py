"""Which (device, nonce) pairs were already accepted, for as long as they could be.

A request is only accepted while ``|ts - now| <= window``, so its nonce must be
remembered until ``ts + window`` and can be forgotten after: memory stays bounded by
the request rate times the window.
"""

from __future__ import annotations

import heapq


class ReplayCache:
    def __init__(self, window_ms: int) -> None:
        self._window_ms = window_ms
        self._seen: set[tuple[str, str]] = set()
        self._expiry: list[tuple[int, tuple[str, str]]] = []

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, dev: str, nonce: str, ts: int, now: int) -> bool:
        """Record the pair; False if it was already recorded (a replay)."""
        self._purge(now)
        key = (dev, nonce)
        if key in self._seen:
            return False
        self._seen.add(key)
        heapq.heappush(self._expiry, (ts + self._window_ms, key))
        return True

    def _purge(self, now: int) -> None:
        while self._expiry and self._expiry[0][0] < now:
            _, key = heapq.heappop(self._expiry)
            self._seen.discard(key)
