"""Ed25519 (RFC 8032) signatures over exact bytes, via PyNaCl (libsodium).

Invariants: a seed is 32 bytes, a public key 32, a signature 64; signing is
deterministic. Verification is libsodium's: it refuses non-canonical S, small-order R
and small-order or non-canonical public keys, all as ProtocolError(BAD_SIGNATURE).
Domain separation lives one layer up (``hearth.signing``); this module signs raw bytes.
"""

from __future__ import annotations

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from hearth.errors import ErrorCode, ProtocolError

SEED_SIZE = 32
PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64


def generate() -> SigningKey:
    """A fresh random signing key."""
    return SigningKey.generate()


def signing_key_from_seed(seed: bytes) -> SigningKey:
    """The signing key for a 32-byte RFC 8032 secret (seed)."""
    if len(seed) != SEED_SIZE:
        raise ValueError(f"Ed25519 seed must be {SEED_SIZE} bytes, got {len(seed)}")
    return SigningKey(seed)


def public_key(key: SigningKey) -> bytes:
    """The 32-byte public key."""
    return bytes(key.verify_key)


def sign(key: SigningKey, message: bytes) -> bytes:
    """The 64-byte signature of ``message``."""
    return bytes(key.sign(message).signature)


def verify(public: bytes, message: bytes, signature: bytes) -> None:
    """Raise ProtocolError(BAD_SIGNATURE) unless ``signature`` is valid for ``message``."""
    if len(public) != PUBLIC_KEY_SIZE:
        raise ProtocolError(
            ErrorCode.BAD_SIGNATURE,
            f"Ed25519 public key must be {PUBLIC_KEY_SIZE} bytes, got {len(public)}",
        )
    if len(signature) != SIGNATURE_SIZE:
        raise ProtocolError(
            ErrorCode.BAD_SIGNATURE,
            f"Ed25519 signature must be {SIGNATURE_SIZE} bytes, got {len(signature)}",
        )
    try:
        VerifyKey(public).verify(message, signature)
    except (BadSignatureError, ValueError, TypeError):
        raise ProtocolError(ErrorCode.BAD_SIGNATURE, "Ed25519 signature does not verify") from None
