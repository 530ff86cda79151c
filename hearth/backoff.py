"""Reconnect delays shared by everything that dials out (host → relay, relay → Redis)."""

from __future__ import annotations

import random


class Backoff:
    """Full jitter: each delay is uniform in [base, min(cap, base * 2**attempt)]."""

    def __init__(
        self, base: float = 0.2, cap: float = 30.0, rng: random.Random | None = None,
    ) -> None:
        self.base, self.cap = base, cap
        self._rng = rng or random.Random()
        self._attempt = 0

    def next(self) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(self._attempt, 32))
        self._attempt += 1
        return self._rng.uniform(self.base, ceiling)

    def reset(self) -> None:
        self._attempt = 0
