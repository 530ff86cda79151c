"""Capability tokens: host-signed grants the relay verifies without asking the host.

Wire form: ``b64url(payload) + "." + b64url(signature)`` where payload is the exact
JSON bytes the host produced and the signature covers them under Context.CAPABILITY.
The verifier checks the signature over those bytes before parsing anything.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import msgspec
import orjson
from nacl.signing import SigningKey

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.fields import Id, Key
from hearth.keys import host_id_from_public_key, public_key_from_host_id
from hearth.limits import MAX_TOKEN, MAX_TOKEN_CHANNELS, TOKEN_MAX_LIFETIME_MS
from hearth.signing import SIGNATURE_SIZE, Context, sign, verify

READ = "read"
"""The scope that lets a device subscribe to a channel's live traffic."""
ALL_CHANNELS = "*"



class CapabilityToken(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What a host grants: ``sub`` (a device of account ``acct``) may use ``scopes``
    on channels ``chans`` (or ``["*"]``: every channel) of ``space`` until ``exp``."""

    v: int
    host: str
    sub: Key
    acct: Key
    space: Id
    chans: Annotated[list[str], msgspec.Meta(min_length=1, max_length=MAX_TOKEN_CHANNELS)]
    scopes: Annotated[list[str], msgspec.Meta(min_length=1, max_length=8)]
    iat: int
    exp: int
    jti: Id

    def allows_channel(self, channel: str) -> bool:
        return self.chans == [ALL_CHANNELS] or channel in self.chans


def issue_token(
    host_key: SigningKey,
    *,
    device: bytes,
    account: bytes,
    space: str,
    channels: list[str],
    scopes: list[str],
    issued_at_ms: int,
    lifetime_ms: int,
) -> tuple[str, CapabilityToken]:
    """Sign a token; returns its wire form and its parsed value."""
    claims = CapabilityToken(
        v=1,
        host=host_id_from_public_key(bytes(host_key.verify_key)),
        sub=b64e(device),
        acct=b64e(account),
        space=space,
        chans=channels,
        scopes=scopes,
        iat=issued_at_ms,
        exp=issued_at_ms + lifetime_ms,
        jti=b64e(secrets.token_bytes(12)),
    )
    payload = orjson.dumps(msgspec.to_builtins(claims))
    signature = sign(host_key, Context.CAPABILITY, payload)
    return f"{b64e(payload)}.{b64e(signature)}", claims


def verify_token(token: str, *, now_ms: int) -> CapabilityToken:
    """Check a token's signature (by the host its ``host`` field names), shape and expiry."""
    if len(token) > MAX_TOKEN:
        raise ProtocolError(ErrorCode.BAD_TOKEN, f"token is {len(token)} chars, max {MAX_TOKEN}")
    encoded_payload, dot, encoded_signature = token.partition(".")
    if not dot:
        raise ProtocolError(ErrorCode.BAD_TOKEN, "token has no '.' between payload and signature")
    try:
        payload = b64d(encoded_payload, field="token payload")
        signature = b64d(encoded_signature, field="token signature", size=SIGNATURE_SIZE)
        claims = msgspec.convert(orjson.loads(payload), CapabilityToken, strict=True)
        host_key = public_key_from_host_id(claims.host)
    except (ProtocolError, msgspec.ValidationError, orjson.JSONDecodeError) as exc:
        detail = exc.message if isinstance(exc, ProtocolError) else str(exc)
        raise ProtocolError(ErrorCode.BAD_TOKEN, f"malformed token: {detail}") from None
    verify(host_key, Context.CAPABILITY, payload, signature, code=ErrorCode.BAD_TOKEN)
    if claims.v != 1:
        raise ProtocolError(ErrorCode.BAD_TOKEN, f"token version {claims.v} is not 1")
    if claims.exp - claims.iat > TOKEN_MAX_LIFETIME_MS or claims.exp <= claims.iat:
        raise ProtocolError(
            ErrorCode.BAD_TOKEN, f"token lifetime {claims.exp - claims.iat} ms is out of range"
        )
    if claims.exp <= now_ms:
        raise ProtocolError(ErrorCode.TOKEN_EXPIRED, f"token {claims.jti} expired at {claims.exp}")
    return claims
