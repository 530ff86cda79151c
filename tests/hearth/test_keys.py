"""hearth.keys: self-certifying host ids and account-signed device certificates."""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from nacl.signing import SigningKey, VerifyKey

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.keys import (
    CERT_PAYLOAD_SIZE,
    CERT_SIZE,
    CERT_VERSION,
    HOST_ID_LENGTH,
    DeviceCertificate,
    DeviceKeys,
    certify_device,
    host_id_from_public_key,
    new_device,
    public_key_from_host_id,
    x25519_public_bytes,
)
from hearth.signing import Context, sign

# RFC 8032 TEST 1 public key: a fixed, well-known Ed25519 key.
KNOWN_PK = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def expected_host_id(pk: bytes) -> str:
    """The documented layout, computed independently of hearth.keys."""
    checksum = hashlib.sha256(b"hearth/v1/host-id" + pk).digest()[:3]
    return base64.b32encode(pk + checksum).decode().lower()


def bad_host_id(text: object) -> str:
    with pytest.raises(ProtocolError) as info:
        public_key_from_host_id(text)  # type: ignore[arg-type]
    assert info.value.code is ErrorCode.BAD_FRAME
    return info.value.message


def bad_cert(raw: bytes) -> str:
    with pytest.raises(ProtocolError) as info:
        DeviceCertificate.from_bytes(raw)
    assert info.value.code is ErrorCode.BAD_CERTIFICATE
    # The text form gets the same answer.
    with pytest.raises(ProtocolError) as info2:
        DeviceCertificate.decode(b64e(raw))
    assert info2.value.code is ErrorCode.BAD_CERTIFICATE
    return info.value.message


# ---- host ids -----------------------------------------------------------------------

def test_host_id_of_known_key() -> None:
    host_id = host_id_from_public_key(KNOWN_PK)
    assert host_id == expected_host_id(KNOWN_PK)
    # Pinned so that any change of the derivation is noticed.
    assert host_id == "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkennzsno"
    assert public_key_from_host_id(host_id) == KNOWN_PK


def test_host_id_shape_and_round_trip_for_random_keys() -> None:
    for _ in range(50):
        pk = bytes(SigningKey.generate().verify_key)
        host_id = host_id_from_public_key(pk)
        assert len(host_id) == HOST_ID_LENGTH == 56
        assert re.fullmatch(r"[a-z2-7]{56}", host_id)
        assert host_id == expected_host_id(pk)
        assert public_key_from_host_id(host_id) == pk


def test_every_single_character_change_is_caught() -> None:
    host_id = host_id_from_public_key(KNOWN_PK)
    for i, char in enumerate(host_id):
        for replacement in (BASE32[(BASE32.index(char) + 1) % 32], BASE32[BASE32.index(char) ^ 16]):
            changed = host_id[:i] + replacement + host_id[i + 1:]
            message = bad_host_id(changed)
            assert message == f"host id {changed!r} has a bad checksum"


def test_swapped_characters_are_caught() -> None:
    host_id = host_id_from_public_key(KNOWN_PK)
    for i in range(len(host_id) - 1):
        if host_id[i] != host_id[i + 1]:
            swapped = host_id[:i] + host_id[i + 1] + host_id[i] + host_id[i + 2:]
            assert "bad checksum" in bad_host_id(swapped)


@pytest.mark.parametrize("length", [0, 1, 55, 57, 64, 112])
def test_wrong_length_refused(length: int) -> None:
    text = (host_id_from_public_key(KNOWN_PK) * 2)[:length]
    message = bad_host_id(text)
    assert "is not 56 lowercase base32 characters" in message
    assert repr(text[:80]) in message


@pytest.mark.parametrize("bad_char", ["0", "1", "8", "9", "!", "-", "é", " "])
def test_non_base32_refused(bad_char: str) -> None:
    host_id = host_id_from_public_key(KNOWN_PK)
    text = host_id[:10] + bad_char + host_id[11:]
    message = bad_host_id(text)
    assert message == f"host id {text!r} is not base32"


def test_padding_inside_host_id_refused() -> None:
    text = host_id_from_public_key(KNOWN_PK)[:50] + "======"
    bad_host_id(text)


@pytest.mark.parametrize("value", [None, 5, KNOWN_PK, b"x" * 56])
def test_non_string_host_id_refused(value: object) -> None:
    assert "is not 56 lowercase base32 characters" in bad_host_id(value)


def test_uppercase_host_id_refused() -> None:
    """Host ids are lowercase; an uppercase spelling must not name the same host.

    BUG (hearth/keys.py:48): public_key_from_host_id() calls host_id.upper() before
    b32decode, so the all-uppercase (or mixed-case) spelling of a valid id is accepted
    and yields the same key: two strings for one host (the frame schema's HostId
    pattern ^[a-z2-7]+$ refuses it, the core function does not).
    """
    host_id = host_id_from_public_key(KNOWN_PK)
    bad_host_id(host_id.upper())
    bad_host_id(host_id[:28] + host_id[28:].upper())


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_host_id_needs_a_32_byte_key(length: int) -> None:
    with pytest.raises(ValueError, match=f"got {length}"):
        host_id_from_public_key(bytes(length))


# ---- device certificates -----------------------------------------------------------

FIELDS = {
    "version": (0, 1),
    "account": (1, 33),
    "device": (33, 65),
    "x25519": (65, 97),
    "issued_at": (97, 105),
    "signature": (105, 169),
}


def test_certificate_sizes() -> None:
    assert CERT_PAYLOAD_SIZE == 105
    assert CERT_SIZE == 169
    assert CERT_VERSION == 1


def test_certificate_layout(account_key: SigningKey) -> None:
    device_key = SigningKey.generate()
    x25519 = X25519PrivateKey.generate()
    issued = 1_700_000_000_123
    cert = certify_device(account_key, device_key, x25519, issued_at_ms=issued)
    raw = cert.to_bytes()
    assert len(raw) == 169
    assert raw[0] == 1
    assert raw[1:33] == bytes(account_key.verify_key)
    assert raw[33:65] == bytes(device_key.verify_key)
    assert raw[65:97] == x25519_public_bytes(x25519)
    assert raw[97:105] == struct.pack(">Q", issued)
    assert raw[:105] == cert.payload
    assert raw[105:] == cert.signature
    # The signature is plain Ed25519 by the account key over the DEVICE_CERT signing input.
    VerifyKey(bytes(account_key.verify_key)).verify(
        b"hearth/v1/device-cert\x00" + raw[:105], raw[105:]
    )
    assert (cert.account, cert.device, cert.device_x25519, cert.issued_at_ms) == (
        bytes(account_key.verify_key), bytes(device_key.verify_key),
        x25519_public_bytes(x25519), issued,
    )


def test_certificate_round_trips(device: DeviceKeys) -> None:
    cert = device.certificate
    text = cert.encode()
    assert len(text) == 226
    assert b64d(text) == cert.to_bytes()
    assert DeviceCertificate.decode(text) == cert
    assert DeviceCertificate.from_bytes(cert.to_bytes()) == cert


def test_new_device(account_key: SigningKey) -> None:
    before = int(time.time() * 1000)
    device = new_device(account_key)
    after = int(time.time() * 1000)
    assert device.account == bytes(account_key.verify_key)
    assert device.public_key == bytes(device.signing.verify_key) == device.certificate.device
    assert device.certificate.device_x25519 == x25519_public_bytes(device.x25519)
    assert before <= device.certificate.issued_at_ms <= after
    DeviceCertificate.from_bytes(device.certificate.to_bytes())
    assert new_device(account_key).public_key != device.public_key


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_tampering_any_field_is_caught(device: DeviceKeys, field: str) -> None:
    raw = device.certificate.to_bytes()
    start, end = FIELDS[field]
    for offset in (start, end - 1):
        for bit in (0x01, 0x80):
            tampered = bytearray(raw)
            tampered[offset] ^= bit
            message = bad_cert(bytes(tampered))
            if field == "version":
                assert message == f"cert version {tampered[0]} is not 1"
            else:
                assert message == "device-cert signature does not verify"


def test_other_version_refused_even_when_properly_signed(account_key: SigningKey) -> None:
    device_key = SigningKey.generate()
    x25519 = X25519PrivateKey.generate()
    payload = struct.pack(
        ">B32s32s32sQ", 2, bytes(account_key.verify_key), bytes(device_key.verify_key),
        x25519_public_bytes(x25519), 1,
    )
    raw = payload + sign(account_key, Context.DEVICE_CERT, payload)
    assert bad_cert(raw) == "cert version 2 is not 1"


def test_certificate_signed_by_another_account_key(
    account_key: SigningKey, other_account_key: SigningKey
) -> None:
    genuine = certify_device(account_key, SigningKey.generate(), X25519PrivateKey.generate())
    forged_sig = sign(other_account_key, Context.DEVICE_CERT, genuine.payload)
    bad_cert(genuine.payload + forged_sig)


def test_certificate_signature_under_another_context_refused(account_key: SigningKey) -> None:
    cert = certify_device(account_key, SigningKey.generate(), X25519PrivateKey.generate())
    for context in Context:
        if context is not Context.DEVICE_CERT:
            bad_cert(cert.payload + sign(account_key, context, cert.payload))


def test_certificate_signed_by_the_device_itself_refused(account_key: SigningKey) -> None:
    device_key = SigningKey.generate()
    cert = certify_device(account_key, device_key, X25519PrivateKey.generate())
    bad_cert(cert.payload + sign(device_key, Context.DEVICE_CERT, cert.payload))


@pytest.mark.parametrize("length", [0, 105, 168, 170, 338])
def test_wrong_certificate_size(device: DeviceKeys, length: int) -> None:
    raw = (device.certificate.to_bytes() * 2)[:length]
    with pytest.raises(ProtocolError) as info:
        DeviceCertificate.from_bytes(raw)
    assert info.value.code is ErrorCode.BAD_CERTIFICATE
    assert info.value.message == f"cert must be 169 bytes, got {length}"
    with pytest.raises(ProtocolError) as info2:
        DeviceCertificate.decode(b64e(raw))
    assert info2.value.code is ErrorCode.BAD_CERTIFICATE
    assert info2.value.message == f"cert: expected 169 bytes, got {length}"


@pytest.mark.parametrize("text", ["", "not base64!", "A" * 225 + "=", "*" * 226])
def test_malformed_certificate_text(text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        DeviceCertificate.decode(text)
    assert info.value.code is ErrorCode.BAD_CERTIFICATE
    assert info.value.message.startswith("cert: ")
