"""PBKDF2-HMAC-SHA256 (RFC 8018) for passphrase-derived keys.

The default of 600,000 iterations is OWASP's 2023 figure for PBKDF2-HMAC-SHA256 and what
a browser can afford; callers store the iteration count next to the salt so it can rise.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

PASSPHRASE_ITERATIONS = 600_000
MAX_FILE_ITERATIONS = 10_000_000
"""The most iterations a file may ask for: a hostile file must not hang the client."""


def pbkdf2_sha256(
    password: bytes, salt: bytes, *, iterations: int = PASSPHRASE_ITERATIONS, length: int = 32
) -> bytes:
    """``length`` bytes of PBKDF2-HMAC-SHA256(password, salt, iterations)."""
    if iterations < 1:
        raise ValueError(f"PBKDF2 needs at least one iteration, got {iterations}")
    if length < 1:
        raise ValueError(f"PBKDF2 output must be at least 1 byte, got {length}")
    return PBKDF2HMAC(SHA256(), length, salt, iterations).derive(password)
