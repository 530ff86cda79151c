"""Key material: host ids, account and device keys, and device certificates.

A host id is the host's Ed25519 public key plus a 3-byte checksum, in lowercase
base32 (56 characters): self-certifying, so the relay needs no registry and a
typo is caught before any network traffic.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nacl.signing import SigningKey

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.signing import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, Context, sign, verify

HOST_ID_LENGTH = 56
_HOST_ID_CHECKSUM = b"hearth/v1/host-id"


def _host_id_checksum(public_key: bytes) -> bytes:
    return hashlib.sha256(_HOST_ID_CHECKSUM + public_key).digest()[:3]


def host_id_from_public_key(public_key: bytes) -> str:
    """The 56-character host id for a 32-byte Ed25519 public key."""
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise ValueError(f"host public key must be 32 bytes, got {len(public_key)}")
    raw = public_key + _host_id_checksum(public_key)
    return base64.b32encode(raw).decode("ascii").lower()


def public_key_from_host_id(host_id: str) -> bytes:
    """The Ed25519 public key inside ``host_id``; ProtocolError if it is malformed."""
    if not isinstance(host_id, str) or len(host_id) != HOST_ID_LENGTH or host_id != host_id.lower():
        raise ProtocolError(
            ErrorCode.BAD_FRAME,
            f"host id {str(host_id)[:80]!r} is not 56 lowercase base32 characters",
        )
    try:
        raw = base64.b32decode(host_id.upper())
    except (binascii.Error, ValueError):
        raise ProtocolError(ErrorCode.BAD_FRAME, f"host id {host_id!r} is not base32") from None
    public_key, checksum = raw[:PUBLIC_KEY_SIZE], raw[PUBLIC_KEY_SIZE:]
    if _host_id_checksum(public_key) != checksum:
        raise ProtocolError(ErrorCode.BAD_FRAME, f"host id {host_id!r} has a bad checksum")
    return public_key


# A device certificate is a fixed 105-byte payload signed by the account key:
#   version (1 byte, =1) | account Ed25519 pk (32) | device Ed25519 pk (32)
#   | device X25519 pk (32) | issued-at ms (8, big-endian)
# followed by the 64-byte signature: 169 bytes, sent as unpadded base64url.
CERT_VERSION = 1
_CERT_LAYOUT = struct.Struct(">B32s32s32sQ")
CERT_PAYLOAD_SIZE = _CERT_LAYOUT.size
CERT_SIZE = CERT_PAYLOAD_SIZE + SIGNATURE_SIZE


@dataclass(frozen=True, slots=True)
class DeviceCertificate:
    """An account key's signed statement that a device's keys belong to the account."""

    account: bytes
    device: bytes
    device_x25519: bytes
    issued_at_ms: int
    signature: bytes

    @property
    def payload(self) -> bytes:
        return _CERT_LAYOUT.pack(
            CERT_VERSION, self.account, self.device, self.device_x25519, self.issued_at_ms
        )

    def to_bytes(self) -> bytes:
        return self.payload + self.signature

    def encode(self) -> str:
        return b64e(self.to_bytes())

    @classmethod
    def decode(cls, text: str) -> DeviceCertificate:
        """Parse and verify a certificate; ProtocolError(bad_certificate) if either fails."""
        try:
            raw = b64d(text, field="cert", size=CERT_SIZE)
        except ProtocolError as exc:
            raise ProtocolError(ErrorCode.BAD_CERTIFICATE, exc.message) from None
        return cls.from_bytes(raw)

    @classmethod
    def from_bytes(cls, raw: bytes) -> DeviceCertificate:
        if len(raw) != CERT_SIZE:
            raise ProtocolError(
                ErrorCode.BAD_CERTIFICATE, f"cert must be {CERT_SIZE} bytes, got {len(raw)}"
            )
        version, account, device, x25519, issued = _CERT_LAYOUT.unpack(raw[:CERT_PAYLOAD_SIZE])
        if version != CERT_VERSION:
            raise ProtocolError(
                ErrorCode.BAD_CERTIFICATE, f"cert version {version} is not {CERT_VERSION}"
            )
        cert = cls(account, device, x25519, issued, raw[CERT_PAYLOAD_SIZE:])
        verify(account, Context.DEVICE_CERT, cert.payload, cert.signature,
               code=ErrorCode.BAD_CERTIFICATE)
        return cert


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class DeviceKeys:
    """One device's private keys and the certificate binding them to an account."""

    signing: SigningKey
    x25519: X25519PrivateKey
    certificate: DeviceCertificate

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing.verify_key)

    @property
    def account(self) -> bytes:
        return self.certificate.account


def x25519_public_bytes(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def certify_device(
    account_key: SigningKey,
    device_key: SigningKey,
    device_x25519: X25519PrivateKey,
    *,
    issued_at_ms: int | None = None,
) -> DeviceCertificate:
    """Have the account key certify a device's signing and encryption keys."""
    unsigned = DeviceCertificate(
        account=bytes(account_key.verify_key),
        device=bytes(device_key.verify_key),
        device_x25519=x25519_public_bytes(device_x25519),
        issued_at_ms=now_ms() if issued_at_ms is None else issued_at_ms,
        signature=b"",
    )
    signature = sign(account_key, Context.DEVICE_CERT, unsigned.payload)
    return DeviceCertificate(
        unsigned.account, unsigned.device, unsigned.device_x25519, unsigned.issued_at_ms,
        signature,
    )


def new_device(account_key: SigningKey) -> DeviceKeys:
    """Generate fresh device keys certified by ``account_key``."""
    signing = SigningKey.generate()
    x25519 = X25519PrivateKey.generate()
    return DeviceKeys(signing, x25519, certify_device(account_key, signing, x25519))
