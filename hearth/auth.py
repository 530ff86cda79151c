"""Connection authentication: what a host or a device signs to prove itself to the relay.

Host: ``sign(host_key, HOST_AUTH, nonce)``; the relay derives the host id from the key.
Client: ``sign(device_key, CLIENT_AUTH, nonce + cert_bytes)``; the relay checks the
certificate (account signs device) and the device's signature, which binds the
connection to both keys. Both run once per connection, never per frame.
"""

from __future__ import annotations

import secrets

from nacl.signing import SigningKey

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.frames import Challenge, Hello, HostHello
from hearth.keys import DeviceCertificate, DeviceKeys, host_id_from_public_key
from hearth.signing import SIGNATURE_SIZE, Context, sign, verify

NONCE_SIZE = 32


def new_challenge() -> Challenge:
    return Challenge(nonce=b64e(secrets.token_bytes(NONCE_SIZE)))


def host_hello(host_key: SigningKey, challenge: Challenge) -> HostHello:
    nonce = b64d(challenge.nonce, field="nonce", size=NONCE_SIZE)
    return HostHello(
        pk=b64e(bytes(host_key.verify_key)),
        sig=b64e(sign(host_key, Context.HOST_AUTH, nonce)),
    )


def verify_host_hello(challenge: Challenge, hello: HostHello) -> str:
    """The authenticated host id; ProtocolError(auth_failed) otherwise."""
    nonce = b64d(challenge.nonce, field="nonce")
    try:
        public_key = b64d(hello.pk, field="pk", size=32)
        signature = b64d(hello.sig, field="sig", size=SIGNATURE_SIZE)
    except ProtocolError as exc:
        raise ProtocolError(ErrorCode.AUTH_FAILED, exc.message) from None
    verify(public_key, Context.HOST_AUTH, nonce, signature, code=ErrorCode.AUTH_FAILED)
    return host_id_from_public_key(public_key)


def client_hello(device: DeviceKeys, challenge: Challenge) -> Hello:
    nonce = b64d(challenge.nonce, field="nonce", size=NONCE_SIZE)
    cert = device.certificate.to_bytes()
    return Hello(cert=b64e(cert), sig=b64e(sign(device.signing, Context.CLIENT_AUTH, nonce + cert)))


def verify_client_hello(challenge: Challenge, hello: Hello) -> DeviceCertificate:
    """The verified device certificate; ProtocolError(auth_failed) otherwise."""
    nonce = b64d(challenge.nonce, field="nonce")
    try:
        cert = DeviceCertificate.decode(hello.cert)
        signature = b64d(hello.sig, field="sig", size=SIGNATURE_SIZE)
    except ProtocolError as exc:
        raise ProtocolError(ErrorCode.AUTH_FAILED, exc.message) from None
    verify(cert.device, Context.CLIENT_AUTH, nonce + cert.to_bytes(), signature,
           code=ErrorCode.AUTH_FAILED)
    return cert
