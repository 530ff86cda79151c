"""hearth.crypto.prekeys: signed by their device, refused when forged or malformed."""

from __future__ import annotations

from nacl.signing import SigningKey

from hearth.crypto import x25519
from hearth.crypto.prekeys import SIZE, Kind, Prekey, make_prekey
from hearth.errors import ErrorCode
from tests.crypto._e2e import refused


def test_round_trip_and_size() -> None:
    device = SigningKey.generate()
    prekey = make_prekey(device, Kind.ONE_TIME, 7, 123, x25519.generate())
    raw = prekey.to_bytes()
    assert len(raw) == SIZE == 110
    assert Prekey.from_bytes(raw, bytes(device.verify_key)) == prekey


def test_another_devices_key_or_a_flipped_bit_is_refused() -> None:
    device = SigningKey.generate()
    raw = make_prekey(device, Kind.SIGNED, 1, 0, x25519.generate()).to_bytes()
    other = bytes(SigningKey.generate().verify_key)
    assert refused(ErrorCode.BAD_SIGNATURE, Prekey.from_bytes, raw, other) == (
        "prekey signature does not verify")
    flipped = raw[:10] + bytes([raw[10] ^ 1]) + raw[11:]
    refused(ErrorCode.BAD_SIGNATURE, Prekey.from_bytes, flipped, bytes(device.verify_key))


def test_malformed_prekeys_are_refused_with_the_reason() -> None:
    device = SigningKey.generate()
    raw = make_prekey(device, Kind.SIGNED, 1, 0, x25519.generate()).to_bytes()
    me = bytes(device.verify_key)
    assert refused(ErrorCode.BAD_KEY, Prekey.from_bytes, raw[:-1], me) == (
        "prekey: needs 64 bytes at offset 46, only 63 left")
    assert refused(ErrorCode.BAD_KEY, Prekey.from_bytes, raw + b"\0", me) == (
        "prekey: 1 unexpected bytes at offset 110")
    assert refused(ErrorCode.BAD_KEY, Prekey.from_bytes, b"\x02" + raw[1:], me) == (
        "prekey: version 2 is not 1")
    assert refused(ErrorCode.BAD_KEY, Prekey.from_bytes, raw[:1] + b"\x03" + raw[2:], me) == (
        "prekey: kind 3 is neither 1 (signed) nor 2 (one-time)")
