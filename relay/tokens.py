"""Verified capability tokens, cached by wire string so each is verified once."""

from __future__ import annotations

from collections.abc import Callable

from hearth.errors import ErrorCode, ProtocolError
from hearth.token import CapabilityToken, verify_token


class TokenCache:
    """Invariant: every cached token's signature and shape verified; entries leave the
    cache when they expire (checked on every hit) or when the cache is full (oldest
    first, which only costs a second verification). Refused tokens are never cached."""

    def __init__(self, max_entries: int, *, on_verify: Callable[[], object] | None = None) -> None:
        self.max_entries = max_entries
        self._on_verify = on_verify
        self._tokens: dict[str, CapabilityToken] = {}
        self.verifications = 0
        """Cryptographic verifications performed (a cache hit does not count)."""

    def __len__(self) -> int:
        return len(self._tokens)

    def get(self, token: str, now_ms: int) -> CapabilityToken:
        """The verified claims of ``token``; ProtocolError(bad_token / token_expired)."""
        claims = self._tokens.get(token)
        if claims is not None:
            if claims.exp > now_ms:
                return claims
            del self._tokens[token]
            raise ProtocolError(
                ErrorCode.TOKEN_EXPIRED, f"token {claims.jti} expired at {claims.exp}"
            )
        self.verifications += 1
        if self._on_verify is not None:
            self._on_verify()
        claims = verify_token(token, now_ms=now_ms)
        if len(self._tokens) >= self.max_entries:
            self.prune(now_ms)
            while len(self._tokens) >= self.max_entries:
                del self._tokens[next(iter(self._tokens))]
        self._tokens[token] = claims
        return claims

    def prune(self, now_ms: int) -> None:
        for token in [t for t, c in self._tokens.items() if c.exp <= now_ms]:
            del self._tokens[token]
