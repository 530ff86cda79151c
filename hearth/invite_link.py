"""Invite links: everything a new member (or the first owner) needs, in one URL.

``<relay base URL>/#/join/<host id>/<secret>`` joins a space; ``…/#/claim/…`` makes its
holder a host owner. The secret sits in the fragment so it never reaches a server
log; the relay's address is the link's origin, so the link alone is enough.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from nacl.signing import SigningKey

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.keys import public_key_from_host_id
from hearth.signing import SIGNATURE_SIZE, Context, sign, verify

# An invite secret (link invite or owner claim) is the 32-byte seed of an Ed25519 key.
# The host stores only the public key; redeeming proves possession by signing
# ``host id (UTF-8) || redeeming device key (32)`` under Context.INVITE. What crosses the
# relay (the public key at creation, the proof at redemption) cannot be redeemed by
# anyone else: the proof names the device that signed the request.


_KINDS = ("join", "claim")


def new_invite_secret() -> str:
    return b64e(secrets.token_bytes(32))


def _invite_key(secret: str) -> SigningKey:
    try:
        return SigningKey(b64d(secret, field="invite secret", size=32))
    except ProtocolError as exc:
        raise ProtocolError(ErrorCode.INVITE_INVALID, exc.message) from None


def invite_public_key(secret: str) -> str:
    """The public half of an invite secret: what the host stores (base64url)."""
    return b64e(bytes(_invite_key(secret).verify_key))


def prove_invite(secret: str, host_id: str, device: bytes) -> str:
    """Proof that ``device`` holds the invite secret, for ``host_id`` only (base64url)."""
    return b64e(sign(_invite_key(secret), Context.INVITE, host_id.encode() + device))


def verify_invite_proof(public_key: bytes, host_id: str, device: bytes, proof: str) -> None:
    """ProtocolError(invite_invalid) unless ``proof`` was made with the invite's secret."""
    try:
        signature = b64d(proof, field="proof", size=SIGNATURE_SIZE)
    except ProtocolError as exc:
        raise ProtocolError(ErrorCode.INVITE_INVALID, exc.message) from None
    verify(public_key, Context.INVITE, host_id.encode() + device, signature,
           code=ErrorCode.INVITE_INVALID)


@dataclass(frozen=True, slots=True)
class InviteLink:
    base_url: str
    host_id: str
    secret: str
    kind: str = "join"
    """``join`` (a link invite to a space) or ``claim`` (an owner claim)."""

    def __str__(self) -> str:
        return f"{self.base_url.rstrip('/')}/#/{self.kind}/{self.host_id}/{self.secret}"

    @property
    def relay_ws_url(self) -> str:
        """The relay's WebSocket base URL (ws:// or wss://) for this link's origin."""
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}"

    @classmethod
    def parse(cls, link: str) -> InviteLink:
        base, sep, fragment = link.strip().partition("#/")
        kind, _, rest = fragment.partition("/")
        host_id, slash, secret = rest.partition("/")
        if (not sep or kind not in _KINDS or not slash or not secret
                or not base.startswith(("http://", "https://"))):
            raise ProtocolError(
                ErrorCode.INVITE_INVALID,
                f"{link[:120]!r} is not an invite link "
                "(expected <url>/#/join/<host>/<secret> or <url>/#/claim/<host>/<secret>)",
            )
        try:
            public_key_from_host_id(host_id)
        except ProtocolError as exc:
            raise ProtocolError(ErrorCode.INVITE_INVALID, exc.message) from None
        _invite_key(secret)
        return cls(base.rstrip("/"), host_id, secret, kind)
