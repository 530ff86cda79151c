"""Token buckets (sans-I/O: the caller passes ``now``, a monotonic time in seconds)."""

from __future__ import annotations

from collections.abc import Mapping

from relay.settings import RateLimit


class TokenBucket:
    """Holds at most ``burst`` tokens, refilled at ``rate`` per second; a frame costs one."""

    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, limit: RateLimit, now: float) -> None:
        self.rate = limit.rate
        self.burst = limit.burst
        self.tokens = limit.burst
        self.updated = now

    def _refill(self, now: float) -> None:
        # A clock that steps backwards must not mint tokens, hence max(0, ...).
        elapsed = max(0.0, now - self.updated)
        self.updated = now
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)

    def take(self, now: float, cost: float = 1.0) -> bool:
        """Spend ``cost`` tokens if available; False (nothing spent) otherwise."""
        self._refill(now)
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def is_full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.burst


class FrameLimiter:
    """One bucket per frame type for one connection, created on first use."""

    __slots__ = ("_buckets", "_limits")

    def __init__(self, limits: Mapping[str, RateLimit]) -> None:
        self._limits = limits
        self._buckets: dict[str, TokenBucket] = {}

    def limit(self, frame_type: str) -> RateLimit:
        return self._limits[frame_type]

    def allow(self, frame_type: str, now: float) -> bool:
        bucket = self._buckets.get(frame_type)
        if bucket is None:
            bucket = self._buckets[frame_type] = TokenBucket(self._limits[frame_type], now)
        return bucket.take(now)
