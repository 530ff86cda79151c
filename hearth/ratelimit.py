"""Token buckets (sans-I/O: the caller passes ``now``, a monotonic time in seconds).

The relay enforces them on every frame; a host paces what it sends by the same
buckets, set to the relay's limits, so that nothing it sends is refused.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``rate`` frames per second sustained, bursts of up to ``burst``."""

    rate: float
    burst: float

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"rate limit needs rate > 0 and burst >= 1, got {self!r}")

    def scaled(self, factor: float) -> RateLimit:
        return RateLimit(self.rate * factor, max(1.0, self.burst * factor))


def parse_rate(spec: str) -> tuple[str, RateLimit]:
    """``NAME=RATE[/BURST]`` (burst defaults to twice the rate) -> (NAME, RateLimit)."""
    name, eq, value = spec.partition("=")
    rate_text, _, burst_text = value.partition("/")
    try:
        rate = float(rate_text)
        limit = RateLimit(rate, float(burst_text) if burst_text else max(1.0, 2 * rate))
    except ValueError:
        raise ValueError(f"rate {spec!r} is not NAME=RATE[/BURST], e.g. req=50/100") from None
    if not eq or not name:
        raise ValueError(f"rate {spec!r} is not NAME=RATE[/BURST], e.g. req=50/100")
    return name, limit


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

    def wait_time(self, now: float, cost: float = 1.0) -> float:
        """Seconds until ``take(cost)`` would succeed (0 if it would now)."""
        self._refill(now)
        return max(0.0, (cost - self.tokens) / self.rate)

    def is_full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.burst
