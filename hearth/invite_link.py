"""Invite links: everything a new member needs, in one URL.

``<relay base URL>/#/join/<host id>/<secret>``. The secret sits in the fragment so it
never reaches a server log; the relay's address is the link's origin, so the link
alone is enough to connect and join.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from hearth.errors import ErrorCode, ProtocolError
from hearth.keys import public_key_from_host_id


@dataclass(frozen=True, slots=True)
class InviteLink:
    base_url: str
    host_id: str
    secret: str

    def __str__(self) -> str:
        return f"{self.base_url.rstrip('/')}/#/join/{self.host_id}/{self.secret}"

    @property
    def relay_ws_url(self) -> str:
        """The relay's WebSocket base URL (ws:// or wss://) for this link's origin."""
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}"

    @classmethod
    def parse(cls, link: str) -> InviteLink:
        base, sep, fragment = link.strip().partition("#/join/")
        host_id, slash, secret = fragment.partition("/")
        if not sep or not slash or not secret or not base.startswith(("http://", "https://")):
            raise ProtocolError(
                ErrorCode.INVITE_INVALID,
                f"{link[:120]!r} is not an invite link (expected <url>/#/join/<host>/<secret>)",
            )
        try:
            public_key_from_host_id(host_id)
        except ProtocolError as exc:
            raise ProtocolError(ErrorCode.INVITE_INVALID, exc.message) from None
        return cls(base.rstrip("/"), host_id, secret)
