"""Key backup: the account's inbound session keys, encrypted under its recovery secret.

The host stores the blob opaquely (``backup.put`` / ``backup.get``). Layout::

    header (34 bytes)
      0   1  version 0x01
      1   1  recovery kind: 0x00 generated recovery key, 0x01 passphrase (recovery.py)
      2   4  PBKDF2 iterations, big-endian (0 for a generated key)
      6  16  PBKDF2 salt (zeros for a generated key)
      22 12  AES-GCM nonce (random per backup)
    ciphertext   AES-256-GCM(backup key, nonce, plaintext, aad = header || account key (32))

    backup key = HKDF(recovery secret, salt = "", info = "hearth/v1/hkdf/backup-key", L = 32)
    plaintext  = count (4, big-endian) || count records, each
                 fields(host id, space id, channel id) || sender device key (32)
                 || session key (53 bytes, sender_session.SessionKey)

Invariants: only the recovery secret opens a backup (wrong_secret otherwise: a wrong
passphrase and a tampered blob are indistinguishable); a backup opens only for the
account it was made for (the account key is in the AAD).
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass

from hearth.crypto import aead, hkdf, pbkdf2
from hearth.crypto.labels import Label
from hearth.crypto.recovery import Recovery, RecoveryKind
from hearth.crypto.sender_session import SESSION_KEY_SIZE, SessionKey
from hearth.crypto.wire import Reader, fields
from hearth.errors import ErrorCode, ProtocolError

VERSION = 1
_HEADER = struct.Struct(">BBI16s12s")
HEADER_SIZE = _HEADER.size


@dataclass(frozen=True, slots=True)
class BackedUpSession:
    """One inbound session: where it belongs, who sent it, and its earliest key."""

    host: str
    space: str
    chan: str
    sender: bytes
    key: SessionKey

    def to_bytes(self) -> bytes:
        return fields(self.host, self.space, self.chan) + self.sender + self.key.to_bytes()


def backup_key(recovery: Recovery) -> bytes:
    return hkdf.hkdf(recovery.secret, salt=b"", info=Label.HKDF_BACKUP_KEY.value, length=32)


def seal(recovery: Recovery, account: bytes, sessions: list[BackedUpSession], *,
         nonce: bytes | None = None) -> bytes:
    """The encrypted blob (a fixed ``nonce`` is for test vectors only)."""
    header = _HEADER.pack(VERSION, recovery.kind, recovery.iterations, recovery.salt,
                          secrets.token_bytes(aead.NONCE_SIZE) if nonce is None else nonce)
    plaintext = len(sessions).to_bytes(4, "big") + b"".join(s.to_bytes() for s in sessions)
    return header + aead.seal(backup_key(recovery), header[22:], plaintext, header + account)


def recovery_params(blob: bytes) -> tuple[RecoveryKind, int, bytes]:
    """(kind, iterations, salt) from a blob's header: what re-derives a passphrase secret."""
    reader = Reader(blob, "key backup", ErrorCode.BAD_ENVELOPE)
    reader.version(VERSION)
    kind = reader.uint(1)
    if kind not in (RecoveryKind.GENERATED, RecoveryKind.PASSPHRASE):
        raise reader.fail(f"recovery kind {kind} is neither 0 nor 1")
    iterations = reader.uint(4)
    if iterations > pbkdf2.MAX_FILE_ITERATIONS:
        raise reader.fail(f"iteration count {iterations} exceeds {pbkdf2.MAX_FILE_ITERATIONS}")
    return RecoveryKind(kind), iterations, reader.take(16)


def open(blob: bytes, recovery: Recovery, account: bytes) -> list[BackedUpSession]:
    """The sessions in ``blob``; wrong_secret if ``recovery`` (or ``account``) is not its."""
    kind, iterations, salt = recovery_params(blob)
    if len(blob) < HEADER_SIZE + aead.TAG_SIZE:
        raise ProtocolError(ErrorCode.BAD_ENVELOPE, f"key backup is only {len(blob)} bytes")
    if (kind, iterations, salt) != (recovery.kind, recovery.iterations, recovery.salt):
        raise ProtocolError(
            ErrorCode.WRONG_SECRET,
            f"this backup is locked by a {kind.name.lower()} recovery secret "
            f"({iterations} iterations), not the one given",
        )
    header = blob[:HEADER_SIZE]
    try:
        plaintext = aead.open(backup_key(recovery), header[22:], blob[HEADER_SIZE:],
                              header + account)
    except ProtocolError:
        raise ProtocolError(
            ErrorCode.WRONG_SECRET,
            "the passphrase or recovery key does not open this key backup "
            "(or the backup was altered)",
        ) from None
    reader = Reader(plaintext, "key backup contents", ErrorCode.BAD_ENVELOPE)
    sessions = []
    for _ in range(reader.uint(4)):
        host, space, chan = reader.text(), reader.text(), reader.text()
        sender = reader.take(32)
        key = SessionKey.from_bytes(reader.take(SESSION_KEY_SIZE))
        sessions.append(BackedUpSession(host, space, chan, sender, key))
    reader.end()
    return sessions
