"""hearth.signing: domain-separated Ed25519 over exact bytes."""

from __future__ import annotations

import itertools

import pytest
from nacl.signing import SigningKey, VerifyKey

from hearth.errors import ErrorCode, ProtocolError
from hearth.signing import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, Context, sign, signing_input, verify

# RFC 8032, section 7.1: TEST 1 and TEST 2 (secret key, public key, message, signature).
RFC8032_VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]

PAYLOAD = b'{"v":1,"op":"space.list"}'


def refused(*args: object, code: ErrorCode = ErrorCode.BAD_SIGNATURE) -> str:
    with pytest.raises(ProtocolError) as info:
        verify(*args, code=code)  # type: ignore[arg-type]
    assert info.value.code is code
    return info.value.message


@pytest.mark.parametrize(("sk", "pk", "msg", "sig"), RFC8032_VECTORS)
def test_rfc8032_known_answers(sk: str, pk: str, msg: str, sig: str) -> None:
    key = SigningKey(bytes.fromhex(sk))
    assert bytes(key.verify_key).hex() == pk
    assert key.sign(bytes.fromhex(msg)).signature.hex() == sig
    VerifyKey(bytes.fromhex(pk)).verify(bytes.fromhex(msg), bytes.fromhex(sig))


@pytest.mark.parametrize(("sk", "pk", "_msg", "_sig"), RFC8032_VECTORS)
def test_hearth_signature_is_plain_ed25519_over_signing_input(
    sk: str, pk: str, _msg: str, _sig: str
) -> None:
    key = SigningKey(bytes.fromhex(sk))
    for context in Context:
        ours = sign(key, context, PAYLOAD)
        assert len(ours) == SIGNATURE_SIZE
        # Ed25519 is deterministic: our signature is exactly the raw one over signing_input.
        assert ours == key.sign(signing_input(context, PAYLOAD)).signature
        VerifyKey(bytes.fromhex(pk)).verify(signing_input(context, PAYLOAD), ours)
        verify(bytes.fromhex(pk), context, PAYLOAD, ours)


def test_signing_input_layout_literal() -> None:
    assert signing_input(Context.REQUEST, b"abc") == b"hearth/v1/request\x00abc"
    assert signing_input(Context.DEVICE_CERT, b"") == b"hearth/v1/device-cert\x00"
    assert signing_input(Context.HOST_AUTH, b"\x00\xff") == b"hearth/v1/host-auth\x00\x00\xff"


def test_context_values() -> None:
    assert {c.value for c in Context} == {
        b"host-auth", b"client-auth", b"device-cert", b"request", b"response", b"event", b"invite",
        b"capability", b"prekey", b"message", b"key-share", b"ephemeral",
    }
    assert PUBLIC_KEY_SIZE == 32
    assert SIGNATURE_SIZE == 64


def test_no_context_is_a_prefix_of_another() -> None:
    for a, b in itertools.permutations(Context, 2):
        assert not b.value.startswith(a.value), (a, b)
        assert b"\x00" not in a.value


@pytest.mark.parametrize(
    ("signed_as", "checked_as"),
    [(a, b) for a, b in itertools.permutations(Context, 2)],
    ids=lambda c: c.name,
)
def test_domain_separation_every_pair(signed_as: Context, checked_as: Context) -> None:
    key = SigningKey.generate()
    signature = sign(key, signed_as, PAYLOAD)
    verify(bytes(key.verify_key), signed_as, PAYLOAD, signature)
    message = refused(bytes(key.verify_key), checked_as, PAYLOAD, signature)
    assert message == f"{checked_as.value.decode()} signature does not verify"


def test_verify_accepts_bytes_and_verify_key() -> None:
    key = SigningKey.generate()
    signature = sign(key, Context.EVENT, PAYLOAD)
    verify(bytes(key.verify_key), Context.EVENT, PAYLOAD, signature)
    verify(key.verify_key, Context.EVENT, PAYLOAD, signature)


@pytest.mark.parametrize(
    "tampered",
    [PAYLOAD + b" ", PAYLOAD[:-1], b" " + PAYLOAD, PAYLOAD.replace(b"list", b"lisT"), b""],
)
def test_tampered_payload_refused(tampered: bytes) -> None:
    key = SigningKey.generate()
    signature = sign(key, Context.REQUEST, PAYLOAD)
    refused(bytes(key.verify_key), Context.REQUEST, tampered, signature)


def test_every_single_bit_flip_of_payload_refused() -> None:
    key = SigningKey.generate()
    payload = b"hearth"
    signature = sign(key, Context.EVENT, payload)
    for i in range(len(payload) * 8):
        flipped = bytearray(payload)
        flipped[i // 8] ^= 1 << (i % 8)
        refused(key.verify_key, Context.EVENT, bytes(flipped), signature)


def test_tampered_signature_refused() -> None:
    key = SigningKey.generate()
    signature = sign(key, Context.RESPONSE, PAYLOAD)
    for i in (0, 1, 31, 32, 33, 62, 63):
        bad = bytearray(signature)
        bad[i] ^= 0x01
        refused(key.verify_key, Context.RESPONSE, PAYLOAD, bytes(bad))
    refused(key.verify_key, Context.RESPONSE, PAYLOAD, bytes(64))


def test_wrong_key_refused() -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    signature = sign(key, Context.CAPABILITY, PAYLOAD)
    refused(bytes(other.verify_key), Context.CAPABILITY, PAYLOAD, signature)


@pytest.mark.parametrize("length", [0, 63, 65, 128])
@pytest.mark.parametrize("code", [ErrorCode.BAD_SIGNATURE, ErrorCode.AUTH_FAILED,
                                  ErrorCode.BAD_CERTIFICATE, ErrorCode.BAD_TOKEN])
def test_wrong_signature_length_gets_the_callers_code(length: int, code: ErrorCode) -> None:
    key = SigningKey.generate()
    signature = sign(key, Context.REQUEST, PAYLOAD)
    bad = (signature * 2)[:length]
    message = refused(bytes(key.verify_key), Context.REQUEST, PAYLOAD, bad, code=code)
    assert message == f"signature must be 64 bytes, got {length}"


def test_a_valid_signature_with_extra_byte_is_refused() -> None:
    key = SigningKey.generate()
    signature = sign(key, Context.REQUEST, PAYLOAD)
    refused(key.verify_key, Context.REQUEST, PAYLOAD, signature + b"\x00")
    refused(key.verify_key, Context.REQUEST, PAYLOAD, signature[:63])


@pytest.mark.parametrize("length", [0, 31, 33])
def test_malformed_public_key_gets_the_callers_code(length: int) -> None:
    key = SigningKey.generate()
    signature = sign(key, Context.REQUEST, PAYLOAD)
    public = (bytes(key.verify_key) * 2)[:length]
    message = refused(public, Context.REQUEST, PAYLOAD, signature, code=ErrorCode.AUTH_FAILED)
    assert "request signature does not verify" in message
