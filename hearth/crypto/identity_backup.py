"""Identity backup: the account key and recovery secret in one file, under a passphrase.

For a user who has lost every device. Layout::

    header (33 bytes)
      0   1  version 0x01
      1   4  PBKDF2 iterations, big-endian
      5  16  PBKDF2 salt
      21 12  AES-GCM nonce
    ciphertext   AES-256-GCM(file key, nonce, plaintext, aad = header)

    file key  = HKDF(PBKDF2-HMAC-SHA256(UTF-8(NFKC(passphrase)), salt, iterations, 32),
                     salt = "", info = "hearth/v1/hkdf/identity-backup", L = 32)
    plaintext = account Ed25519 seed (32) || recovery record (53, recovery.py)

Invariant: a wrong passphrase (or any altered byte) is wrong_secret; nothing else is
told apart, so the file gives an attacker only offline guessing at PBKDF2's cost.
"""

from __future__ import annotations

import secrets
import struct

from hearth.crypto import aead, hkdf, pbkdf2
from hearth.crypto.labels import Label
from hearth.crypto.recovery import RECORD_SIZE, SALT_SIZE, Recovery, passphrase_bytes
from hearth.crypto.wire import Reader
from hearth.errors import ErrorCode, ProtocolError

VERSION = 1
_HEADER = struct.Struct(">BI16s12s")
HEADER_SIZE = _HEADER.size


def file_key(passphrase: str, salt: bytes, iterations: int) -> bytes:
    stretched = pbkdf2.pbkdf2_sha256(passphrase_bytes(passphrase), salt, iterations=iterations)
    return hkdf.hkdf(stretched, salt=b"", info=Label.HKDF_IDENTITY_BACKUP.value, length=32)


def seal(passphrase: str, account_seed: bytes, recovery: Recovery, *,
         iterations: int = pbkdf2.PASSPHRASE_ITERATIONS, salt: bytes | None = None,
         nonce: bytes | None = None) -> bytes:
    """The backup file's bytes (fixed ``salt``/``nonce``: test vectors only)."""
    if len(account_seed) != 32:
        raise ValueError(f"account seed must be 32 bytes, got {len(account_seed)}")
    header = _HEADER.pack(VERSION, iterations,
                          secrets.token_bytes(SALT_SIZE) if salt is None else salt,
                          secrets.token_bytes(aead.NONCE_SIZE) if nonce is None else nonce)
    key = file_key(passphrase, header[5:21], iterations)
    return header + aead.seal(key, header[21:33], account_seed + recovery.to_bytes(), header)


def open(data: bytes, passphrase: str) -> tuple[bytes, Recovery]:
    """(account seed, recovery); wrong_secret for a wrong passphrase or altered file."""
    reader = Reader(data, "identity backup", ErrorCode.BAD_ENVELOPE)
    reader.version(VERSION)
    iterations, salt, nonce = reader.uint(4), reader.take(16), reader.take(12)
    if not 1 <= iterations <= pbkdf2.MAX_FILE_ITERATIONS:
        raise reader.fail(
            f"iteration count {iterations} is outside 1..{pbkdf2.MAX_FILE_ITERATIONS}"
        )
    try:
        plaintext = aead.open(file_key(passphrase, salt, iterations), nonce,
                              reader.rest(), data[:HEADER_SIZE])
    except ProtocolError:
        raise ProtocolError(
            ErrorCode.WRONG_SECRET,
            "the passphrase does not open this identity backup (or the file was altered)",
        ) from None
    if len(plaintext) != 32 + RECORD_SIZE:
        raise ProtocolError(ErrorCode.BAD_ENVELOPE,
                            f"identity backup holds {len(plaintext)} bytes, not {32 + RECORD_SIZE}")
    return plaintext[:32], Recovery.from_bytes(plaintext[32:])
