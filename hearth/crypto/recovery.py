"""The account's one recovery secret: a generated recovery key, or one from a passphrase.

Both give a 32-byte *recovery secret*; the key backup is encrypted under it
(backup.py) and the identity backup carries it (identity_backup.py).

- generated: 32 random bytes, shown as a *recovery key text*: lowercase RFC 4648
  base32, no padding, of ``secret || check`` (34 bytes, 55 characters) in groups of 4
  separated by spaces, where ``check = HKDF(secret, info="hearth/v1/hkdf/recovery-key-check",
  L=2)`` catches typos. Parsing ignores spaces, dashes and case.
- passphrase: ``PBKDF2-HMAC-SHA256(UTF-8(NFKC(passphrase)), salt (16 random bytes),
  iterations (600,000 by default), 32)``.

Layout of a recovery record (53 bytes; inside identity backups and link transfers)::

    0  1  kind: 0x00 generated, 0x01 passphrase
    1  4  iterations, big-endian (0 for generated)
    5 16  salt (zeros for generated)
    21 32 recovery secret
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import struct
import unicodedata
from dataclasses import dataclass
from enum import IntEnum

from hearth.crypto import hkdf, pbkdf2
from hearth.crypto.labels import Label
from hearth.crypto.wire import Reader
from hearth.errors import ErrorCode, ProtocolError

SECRET_SIZE = 32
SALT_SIZE = 16
_LAYOUT = struct.Struct(">BI16s32s")
RECORD_SIZE = _LAYOUT.size
KEY_TEXT_CHARS = 55


class RecoveryKind(IntEnum):
    GENERATED = 0
    PASSPHRASE = 1


@dataclass(frozen=True, slots=True)
class Recovery:
    """A recovery secret and how it was made (the salt and count re-derive it)."""

    kind: RecoveryKind
    iterations: int
    salt: bytes
    secret: bytes

    def to_bytes(self) -> bytes:
        return _LAYOUT.pack(self.kind, self.iterations, self.salt, self.secret)

    @classmethod
    def from_bytes(cls, raw: bytes) -> Recovery:
        reader = Reader(raw, "recovery record", ErrorCode.BAD_KEY)
        kind = reader.uint(1)
        if kind not in (RecoveryKind.GENERATED, RecoveryKind.PASSPHRASE):
            raise reader.fail(f"kind {kind} is neither 0 (generated) nor 1 (passphrase)")
        record = cls(RecoveryKind(kind), reader.uint(4), reader.take(16), reader.take(32))
        reader.end()
        return record

    @classmethod
    def generate(cls, *, secret: bytes | None = None) -> Recovery:
        """A fresh generated recovery key (a fixed ``secret`` is for test vectors only)."""
        return cls(RecoveryKind.GENERATED, 0, bytes(SALT_SIZE),
                   secrets.token_bytes(SECRET_SIZE) if secret is None else secret)

    @classmethod
    def from_passphrase(cls, passphrase: str, *, salt: bytes | None = None,
                        iterations: int = pbkdf2.PASSPHRASE_ITERATIONS) -> Recovery:
        """Derive the secret (slow on purpose); a new salt unless re-deriving."""
        salt = salt if salt is not None else secrets.token_bytes(SALT_SIZE)
        if len(salt) != SALT_SIZE:
            raise ValueError(f"recovery salt must be {SALT_SIZE} bytes, got {len(salt)}")
        secret = pbkdf2.pbkdf2_sha256(passphrase_bytes(passphrase), salt,
                                      iterations=iterations, length=SECRET_SIZE)
        return cls(RecoveryKind.PASSPHRASE, iterations, salt, secret)

    @classmethod
    def from_key_text(cls, text: str) -> Recovery:
        """Parse a recovery key text; bad_key (quoting it) on a typo."""
        return cls.generate(secret=parse_key_text(text))

    def key_text(self) -> str:
        if self.kind is not RecoveryKind.GENERATED:
            raise ValueError("only a generated recovery key has a key text")
        return key_text(self.secret)


def passphrase_bytes(passphrase: str) -> bytes:
    """UTF-8 of the NFKC form, so the same passphrase typed anywhere gives the same key."""
    return unicodedata.normalize("NFKC", passphrase).encode("utf-8")


def _check(secret: bytes) -> bytes:
    return hkdf.hkdf(secret, salt=b"", info=Label.HKDF_RECOVERY_KEY_CHECK.value, length=2)


def key_text(secret: bytes) -> str:
    chars = base64.b32encode(secret + _check(secret)).decode("ascii").rstrip("=").lower()
    return " ".join(chars[i : i + 4] for i in range(0, len(chars), 4))


def parse_key_text(text: str) -> bytes:
    compact = "".join(c for c in text if c not in " -\t\n").upper()
    if len(compact) != KEY_TEXT_CHARS:
        raise ProtocolError(
            ErrorCode.BAD_KEY,
            f"recovery key {text[:80]!r} has {len(compact)} characters, not {KEY_TEXT_CHARS}",
        )
    try:
        raw = base64.b32decode(compact + "=")
    except (binascii.Error, ValueError):
        raise ProtocolError(
            ErrorCode.BAD_KEY, f"recovery key {text[:80]!r} is not base32"
        ) from None
    secret, check = raw[:SECRET_SIZE], raw[SECRET_SIZE:]
    if not hmac.compare_digest(_check(secret), check):
        raise ProtocolError(
            ErrorCode.BAD_KEY, f"recovery key {text[:80]!r} has a typo (its check does not match)"
        )
    return secret
