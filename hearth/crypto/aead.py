"""AES-256-GCM with associated data: 32-byte key, 12-byte nonce, 16-byte tag appended.

Invariants: ``seal`` returns ciphertext || tag (len(plaintext) + 16 bytes); ``open``
either returns the exact plaintext or raises ProtocolError(DECRYPT_FAILED) -- a wrong
key, nonce, AAD, a flipped bit or a truncated ciphertext are indistinguishable.
A (key, nonce) pair must never seal twice; callers derive nonces, never draw them twice.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hearth.errors import ErrorCode, ProtocolError

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16


def _cipher(key: bytes, nonce: bytes) -> AESGCM:
    if len(key) != KEY_SIZE:
        raise ValueError(f"AES-256-GCM key must be {KEY_SIZE} bytes, got {len(key)}")
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"AES-256-GCM nonce must be {NONCE_SIZE} bytes, got {len(nonce)}")
    return AESGCM(key)


def seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext``, authenticating ``aad`` too."""
    return _cipher(key, nonce).encrypt(nonce, plaintext, aad)


def open(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """The plaintext, or ProtocolError(DECRYPT_FAILED) if anything does not authenticate."""
    cipher = _cipher(key, nonce)
    if len(ciphertext) < TAG_SIZE:
        raise ProtocolError(
            ErrorCode.DECRYPT_FAILED,
            f"ciphertext is {len(ciphertext)} bytes, shorter than the {TAG_SIZE}-byte tag",
        )
    try:
        return cipher.decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise ProtocolError(
            ErrorCode.DECRYPT_FAILED, "AES-256-GCM tag does not verify (wrong key, nonce or AAD)"
        ) from None
