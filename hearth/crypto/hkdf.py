"""HKDF-SHA256 (RFC 5869): extract, expand, and both in one call.

Invariants: a PRK is 32 bytes; expand yields at most 255 * 32 = 8160 bytes; an empty
salt means 32 zero bytes (RFC 5869 section 2.2), which HMAC treats identically.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

HASH_SIZE = 32
MAX_OUTPUT = 255 * HASH_SIZE


def _check_length(length: int) -> None:
    if not 0 < length <= MAX_OUTPUT:
        raise ValueError(f"HKDF-SHA256 output must be 1..{MAX_OUTPUT} bytes, got {length}")


def extract(salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract(salt, IKM): the 32-byte pseudorandom key."""
    return HKDF.extract(SHA256(), salt or None, ikm)


def expand(prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand(PRK, info, L); ``prk`` must be at least 32 bytes (RFC 5869 section 2.3)."""
    _check_length(length)
    if len(prk) < HASH_SIZE:
        raise ValueError(f"HKDF PRK must be at least {HASH_SIZE} bytes, got {len(prk)}")
    return HKDFExpand(SHA256(), length, info).derive(prk)


def hkdf(ikm: bytes, *, salt: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand(HKDF-Extract(salt, IKM), info, L)."""
    _check_length(length)
    return HKDF(SHA256(), length, salt or None, info).derive(ikm)
