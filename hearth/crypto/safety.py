"""Safety numbers: what two users compare to know they hold each other's account keys.

Made from the two ACCOUNT keys only, so adding or removing a device never changes it::

    half(k)  = 30 digits: HKDF(k, salt = "", info = "hearth/v1/hkdf/safety-number", L = 30)
               read as six 5-byte big-endian integers, each mod 100000, zero-padded to 5
    number   = the two halves, the smaller string first (60 digits; shown as 12 groups of 5)
    QR       = 0x01 || the two account keys, the smaller (bytewise) first (65 bytes)

Invariant: both users compute the same number and QR payload; a changed account key on
either side changes both.
"""

from __future__ import annotations

from hearth.crypto import hkdf
from hearth.crypto.labels import Label
from hearth.errors import ErrorCode, ProtocolError

QR_VERSION = 1
QR_SIZE = 65


def half(account: bytes) -> str:
    if len(account) != 32:
        raise ValueError(f"account key must be 32 bytes, got {len(account)}")
    okm = hkdf.hkdf(account, salt=b"", info=Label.HKDF_SAFETY_NUMBER.value, length=30)
    return "".join(f"{int.from_bytes(okm[i:i + 5], 'big') % 100_000:05d}" for i in range(0, 30, 5))


def safety_number(mine: bytes, theirs: bytes) -> str:
    """60 digits, the same whichever side computes it."""
    return "".join(sorted((half(mine), half(theirs))))


def grouped(number: str) -> str:
    """``12345 67890 ...`` for display."""
    return " ".join(number[i : i + 5] for i in range(0, len(number), 5))


def qr_payload(mine: bytes, theirs: bytes) -> bytes:
    low, high = sorted((mine, theirs))
    return bytes([QR_VERSION]) + low + high


def verify_qr(payload: bytes, mine: bytes, theirs: bytes) -> None:
    """bad_key unless a scanned QR payload names exactly these two account keys."""
    if payload != qr_payload(mine, theirs):
        raise ProtocolError(
            ErrorCode.BAD_KEY,
            f"scanned safety code {payload[:QR_SIZE].hex()} does not match the account keys "
            f"you hold ({mine.hex()} and {theirs.hex()}): do not trust this contact's key",
        )
