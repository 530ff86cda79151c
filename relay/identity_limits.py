"""Per-identity rate limits (an account's or a host's connections together), sans-I/O.

Every frame is judged by a local token bucket, never by a round trip. When several relays
share a bus, the hub periodically hands ``take_usage()`` to ``Bus.share_usage`` and feeds
the shared levels back with ``adopt``: each relay's bucket then reflects what every relay
admitted, up to one share interval late (docs/scaling.md has the trade-off).
"""

from __future__ import annotations

from hearth.ratelimit import RateLimit, TokenBucket
from relay.bus import Usage


class IdentityLimiter:
    """Invariant: ``_used[i]`` counts the frames admitted for identity ``i`` since the
    last ``take_usage``; every identity with a bucket has an entry in ``_limits``."""

    def __init__(self) -> None:
        self._buckets: dict[str, TokenBucket] = {}
        self._limits: dict[str, RateLimit] = {}
        self._used: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def allow(self, identity: str, limit: RateLimit, now: float) -> bool:
        """Spend one token of ``identity``'s bucket; False (nothing spent) if it is empty."""
        bucket = self._buckets.get(identity)
        if bucket is None:
            bucket = self._buckets[identity] = TokenBucket(limit, now)
            self._limits[identity] = limit
        if not bucket.take(now):
            return False
        self._used[identity] = self._used.get(identity, 0) + 1
        return True

    def take_usage(self) -> Usage:
        """Frames admitted per live identity since the last call (zero counts too: a
        relay that admitted nothing still needs to hear what the others spent)."""
        usage = {i: (self._used.get(i, 0), self._limits[i]) for i in self._buckets}
        self._used.clear()
        return usage

    def adopt(self, levels: dict[str, float], now: float) -> None:
        """Set each bucket to its shared level, less what was admitted here since the
        usage that level accounts for was taken."""
        for identity, level in levels.items():
            bucket = self._buckets.get(identity)
            if bucket is not None:
                bucket.tokens = min(bucket.burst, level) - self._used.get(identity, 0)
                bucket.updated = now

    def prune(self, now: float) -> None:
        """Forget buckets that are full again (an idle identity costs nothing)."""
        for identity in [i for i, b in self._buckets.items()
                         if b.is_full(now) and not self._used.get(i)]:
            del self._buckets[identity]
            del self._limits[identity]
