"""hearth.auth: challenge-response authentication of hosts and devices."""

from __future__ import annotations

import pytest
from nacl.signing import SigningKey

from hearth.auth import (
    NONCE_SIZE,
    client_hello,
    host_hello,
    new_challenge,
    verify_client_hello,
    verify_host_hello,
)
from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.frames import (
    Challenge,
    Hello,
    HostHello,
    decode_client_frame,
    decode_frame,
    decode_host_frame,
)
from hearth.frames import encode_frame as enc
from hearth.keys import DeviceKeys, host_id_from_public_key
from hearth.signing import Context, sign


def auth_failed(fn: object, *args: object) -> str:
    with pytest.raises(ProtocolError) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.code is ErrorCode.AUTH_FAILED, info.value
    return info.value.message


def test_new_challenge() -> None:
    challenges = [new_challenge() for _ in range(20)]
    for challenge in challenges:
        assert len(b64d(challenge.nonce, size=NONCE_SIZE)) == 32
    assert len({c.nonce for c in challenges}) == 20
    assert NONCE_SIZE == 32
    # The challenge is a valid relay frame.
    assert decode_frame(enc(challenges[0]), Challenge) == challenges[0]


# ---- host ----------------------------------------------------------------------------

def test_host_hello_round_trip(host_key: SigningKey, host_id: str) -> None:
    challenge = new_challenge()
    hello = host_hello(host_key, challenge)
    assert b64d(hello.pk) == bytes(host_key.verify_key)
    # It survives the wire and the relay's strict decoder.
    decoded = decode_host_frame(enc(hello))
    assert isinstance(decoded, HostHello)
    assert verify_host_hello(challenge, decoded) == host_id
    assert host_id == host_id_from_public_key(bytes(host_key.verify_key))
    host_key.verify_key.verify(
        b"hearth/v1/host-auth\x00" + b64d(challenge.nonce), b64d(hello.sig)
    )


def test_host_signature_over_another_nonce_refused(host_key: SigningKey) -> None:
    hello = host_hello(host_key, new_challenge())
    message = auth_failed(verify_host_hello, new_challenge(), hello)
    assert message == "host-auth signature does not verify"


def test_host_hello_claiming_another_key_refused(
    host_key: SigningKey, other_host_key: SigningKey
) -> None:
    challenge = new_challenge()
    hello = host_hello(host_key, challenge)
    forged = HostHello(pk=b64e(bytes(other_host_key.verify_key)), sig=hello.sig)
    auth_failed(verify_host_hello, challenge, forged)


def test_host_signature_under_other_context_refused(host_key: SigningKey) -> None:
    challenge = new_challenge()
    nonce = b64d(challenge.nonce)
    for context in Context:
        if context is not Context.HOST_AUTH:
            hello = HostHello(pk=b64e(bytes(host_key.verify_key)),
                              sig=b64e(sign(host_key, context, nonce)))
            auth_failed(verify_host_hello, challenge, hello)


@pytest.mark.parametrize(("pk", "prefix"), [
    (b64e(bytes(31)), "pk: expected 32 bytes, got 31"),
    (b64e(bytes(33)), "pk: expected 32 bytes, got 33"),
    ("*" * 43, "pk: "),
    ("A" * 42 + "=", "pk: "),
])
def test_malformed_host_public_key(host_key: SigningKey, pk: str, prefix: str) -> None:
    challenge = new_challenge()
    hello = HostHello(pk=pk, sig=host_hello(host_key, challenge).sig)
    assert auth_failed(verify_host_hello, challenge, hello).startswith(prefix)


@pytest.mark.parametrize(("sig", "prefix"), [
    (b64e(bytes(63)), "sig: expected 64 bytes, got 63"),
    (b64e(bytes(65)), "sig: expected 64 bytes, got 65"),
    ("!" * 86, "sig: "),
    (b64e(bytes(64)), "host-auth signature does not verify"),
])
def test_malformed_host_signature(host_key: SigningKey, sig: str, prefix: str) -> None:
    challenge = new_challenge()
    hello = HostHello(pk=b64e(bytes(host_key.verify_key)), sig=sig)
    assert auth_failed(verify_host_hello, challenge, hello).startswith(prefix)


def test_host_hello_needs_a_32_byte_nonce(host_key: SigningKey) -> None:
    with pytest.raises(ProtocolError) as info:
        host_hello(host_key, Challenge(nonce=b64e(bytes(16))))
    assert info.value.code is ErrorCode.BAD_FRAME
    assert info.value.message == "nonce: expected 32 bytes, got 16"


# ---- client --------------------------------------------------------------------------

def test_client_hello_round_trip(device: DeviceKeys) -> None:
    challenge = new_challenge()
    hello = client_hello(device, challenge)
    assert hello.cert == device.certificate.encode()
    decoded = decode_client_frame(enc(hello))
    assert isinstance(decoded, Hello)
    cert = verify_client_hello(challenge, decoded)
    assert cert == device.certificate
    assert cert.device == device.public_key
    assert cert.account == device.account
    # The device signs nonce + certificate bytes under CLIENT_AUTH.
    device.signing.verify_key.verify(
        b"hearth/v1/client-auth\x00" + b64d(challenge.nonce) + device.certificate.to_bytes(),
        b64d(hello.sig),
    )


def test_client_signature_over_another_nonce_refused(device: DeviceKeys) -> None:
    hello = client_hello(device, new_challenge())
    message = auth_failed(verify_client_hello, new_challenge(), hello)
    assert message == "client-auth signature does not verify"


def test_hello_with_another_devices_cert_refused(
    device: DeviceKeys, other_device: DeviceKeys
) -> None:
    """Device A signs, but presents B's (valid) certificate of the same account."""
    challenge = new_challenge()
    nonce = b64d(challenge.nonce)
    cert_b = other_device.certificate.to_bytes()
    hello = Hello(cert=b64e(cert_b), sig=b64e(sign(device.signing, Context.CLIENT_AUTH,
                                                   nonce + cert_b)))
    auth_failed(verify_client_hello, challenge, hello)
    # Swapping the cert of a genuine hello is refused too.
    genuine = client_hello(device, challenge)
    auth_failed(verify_client_hello, challenge,
                Hello(cert=other_device.certificate.encode(), sig=genuine.sig))


def test_hello_signed_by_another_device_key_refused(
    device: DeviceKeys, other_device: DeviceKeys
) -> None:
    challenge = new_challenge()
    nonce = b64d(challenge.nonce)
    cert_a = device.certificate.to_bytes()
    for key in (other_device.signing, SigningKey.generate()):
        hello = Hello(cert=b64e(cert_a),
                      sig=b64e(sign(key, Context.CLIENT_AUTH, nonce + cert_a)))
        auth_failed(verify_client_hello, challenge, hello)


def test_hello_signed_by_the_account_key_refused(
    account_key: SigningKey, device: DeviceKeys
) -> None:
    challenge = new_challenge()
    cert = device.certificate.to_bytes()
    sig = sign(account_key, Context.CLIENT_AUTH, b64d(challenge.nonce) + cert)
    auth_failed(verify_client_hello, challenge, Hello(cert=b64e(cert), sig=b64e(sig)))


def test_client_signature_over_nonce_only_refused(device: DeviceKeys) -> None:
    """The signature must bind the certificate, not only the nonce."""
    challenge = new_challenge()
    nonce = b64d(challenge.nonce)
    hello = Hello(cert=device.certificate.encode(),
                  sig=b64e(sign(device.signing, Context.CLIENT_AUTH, nonce)))
    auth_failed(verify_client_hello, challenge, hello)


def test_host_auth_signature_is_not_a_client_hello(device: DeviceKeys) -> None:
    challenge = new_challenge()
    cert = device.certificate.to_bytes()
    sig = sign(device.signing, Context.HOST_AUTH, b64d(challenge.nonce) + cert)
    auth_failed(verify_client_hello, challenge, Hello(cert=b64e(cert), sig=b64e(sig)))


def test_hello_with_invalid_certificate_refused(
    device: DeviceKeys, other_account_key: SigningKey
) -> None:
    challenge = new_challenge()
    nonce = b64d(challenge.nonce)
    cert = bytearray(device.certificate.to_bytes())
    cert[100] ^= 1  # issued_at changed: the account signature no longer verifies
    hello = Hello(cert=b64e(bytes(cert)),
                  sig=b64e(sign(device.signing, Context.CLIENT_AUTH, nonce + bytes(cert))))
    assert auth_failed(verify_client_hello, challenge, hello) == (
        "device-cert signature does not verify"
    )
    # A certificate re-signed by someone else's account key.
    payload = device.certificate.payload
    forged = payload + sign(other_account_key, Context.DEVICE_CERT, payload)
    hello = Hello(cert=b64e(forged),
                  sig=b64e(sign(device.signing, Context.CLIENT_AUTH, nonce + forged)))
    auth_failed(verify_client_hello, challenge, hello)


@pytest.mark.parametrize(("cert_len", "sig"), [(168, None), (170, None), (169, "A" * 85)])
def test_malformed_client_hello(device: DeviceKeys, cert_len: int, sig: str | None) -> None:
    challenge = new_challenge()
    genuine = client_hello(device, challenge)
    cert = (device.certificate.to_bytes() * 2)[:cert_len]
    hello = Hello(cert=b64e(cert), sig=genuine.sig if sig is None else sig)
    message = auth_failed(verify_client_hello, challenge, hello)
    assert message.startswith("cert: " if sig is None else "sig: ")
