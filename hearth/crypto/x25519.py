"""X25519 (RFC 7748) key agreement that refuses low-order points.

Invariants: public keys are 32 raw bytes (the u-coordinate, little-endian); a shared
secret is 32 bytes and never all zero -- a peer key of small order (which forces the
all-zero output, RFC 7748 section 6.1) raises ProtocolError(LOW_ORDER_KEY). Private keys
stay ``X25519PrivateKey`` objects; raw private bytes come in only through
:func:`private_key_from_bytes` (test vectors, HPKE DeriveKeyPair, backups).
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from hearth.errors import ErrorCode, ProtocolError

KEY_SIZE = 32
_ZERO = bytes(KEY_SIZE)


def generate() -> X25519PrivateKey:
    """A fresh random private key."""
    return X25519PrivateKey.generate()


def private_key_from_bytes(raw: bytes) -> X25519PrivateKey:
    """Import a 32-byte scalar (clamped by X25519 itself, RFC 7748 section 5)."""
    if len(raw) != KEY_SIZE:
        raise ValueError(f"X25519 private key must be {KEY_SIZE} bytes, got {len(raw)}")
    return X25519PrivateKey.from_private_bytes(raw)


def private_key_bytes(key: X25519PrivateKey) -> bytes:
    """The raw 32-byte scalar, for encrypted backups and test vectors only."""
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def public_key(key: X25519PrivateKey) -> bytes:
    """The 32-byte public key X25519(sk, 9)."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def shared_secret(private: X25519PrivateKey, peer_public: bytes) -> bytes:
    """X25519(sk, peer); ProtocolError(BAD_KEY) if not 32 bytes, (LOW_ORDER_KEY) if all zero."""
    if len(peer_public) != KEY_SIZE:
        raise ProtocolError(
            ErrorCode.BAD_KEY, f"X25519 public key must be {KEY_SIZE} bytes, got {len(peer_public)}"
        )
    try:
        secret = private.exchange(X25519PublicKey.from_public_bytes(peer_public))
    except ValueError:
        # OpenSSL refuses exactly the all-zero result; say what that means.
        secret = _ZERO
    if hmac.compare_digest(secret, _ZERO):
        raise ProtocolError(
            ErrorCode.LOW_ORDER_KEY,
            f"X25519 public key {peer_public.hex()} has small order (all-zero shared secret)",
        )
    return secret
