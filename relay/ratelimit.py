"""Per-connection frame limits, one shared-core TokenBucket per frame type."""

from __future__ import annotations

from collections.abc import Mapping

from hearth.ratelimit import RateLimit, TokenBucket

__all__ = ["FrameLimiter", "TokenBucket"]


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
