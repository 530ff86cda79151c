"""Revocations a host announced, kept until no token they cover can still be valid."""

from __future__ import annotations

from dataclasses import dataclass

from hearth.limits import TOKEN_MAX_LIFETIME_MS
from hearth.token import CapabilityToken


@dataclass(frozen=True, slots=True)
class Revocation:
    """Tokens of ``host`` for account ``acct`` (or device ``dev``), in ``space`` (None:
    any), issued at or before ``before`` are revoked until ``until_ms``."""

    host: str
    acct: str | None
    dev: str | None
    space: str | None
    before: int
    until_ms: int

    def covers(self, token: CapabilityToken) -> bool:
        return (
            token.host == self.host
            and token.iat <= self.before
            and (self.acct is None or token.acct == self.acct)
            and (self.dev is None or token.sub == self.dev)
            and (self.space is None or token.space == self.space)
        )


def revocation(
    host: str, *, acct: str | None, dev: str | None, space: str | None, before: int, now_ms: int
) -> Revocation:
    """A revocation remembered for TOKEN_MAX_LIFETIME_MS past ``before`` (or past now, if
    the host's clock is behind ours), the longest any covered token can live."""
    return Revocation(host, acct, dev, space, before, max(before, now_ms) + TOKEN_MAX_LIFETIME_MS)


class Revocations:
    """Invariant: at most one entry per (host, acct, dev, space), with the latest ``before``;
    so memory is bounded by the distinct members a host revoked within the last hour."""

    def __init__(self) -> None:
        self._by_host: dict[str, dict[tuple[str | None, str | None, str | None], Revocation]] = {}

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_host.values())

    def add(self, rev: Revocation) -> None:
        entries = self._by_host.setdefault(rev.host, {})
        key = (rev.acct, rev.dev, rev.space)
        old = entries.get(key)
        if old is None or (old.before, old.until_ms) < (rev.before, rev.until_ms):
            entries[key] = rev

    def find(self, token: CapabilityToken, now_ms: int) -> Revocation | None:
        """A live revocation that covers ``token``, if any."""
        for rev in self._by_host.get(token.host, {}).values():
            if rev.until_ms > now_ms and rev.covers(token):
                return rev
        return None

    def prune(self, now_ms: int) -> None:
        for host in list(self._by_host):
            entries = self._by_host[host]
            for key in [k for k, r in entries.items() if r.until_ms <= now_ms]:
                del entries[key]
            if not entries:
                del self._by_host[host]
