"""A user's identity on one device: the account key and this device's certified keys.

Stored as a small JSON file (mode 0600) for bots, the CLI and tests; the browser
keeps the same material in IndexedDB.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from nacl.signing import SigningKey

from hearth.b64 import b64d, b64e
from hearth.keys import DeviceCertificate, DeviceKeys, new_device


@dataclass(frozen=True, slots=True)
class Identity:
    """An account key and one device certified by it."""

    account_key: SigningKey
    device: DeviceKeys

    @property
    def account(self) -> str:
        """The account public key, base64url: how hosts and users name this account."""
        return b64e(bytes(self.account_key.verify_key))

    @property
    def device_id(self) -> str:
        return b64e(self.device.public_key)

    @classmethod
    def generate(cls) -> Identity:
        account_key = SigningKey.generate()
        return cls(account_key, new_device(account_key))

    def new_device(self) -> Identity:
        """The same account on a fresh device (a second browser, a bot)."""
        return Identity(self.account_key, new_device(self.account_key))

    def to_json(self) -> bytes:
        x25519 = self.device.x25519.private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        )
        return orjson.dumps({
            "account_seed": b64e(bytes(self.account_key)),
            "device_seed": b64e(bytes(self.device.signing)),
            "device_x25519": b64e(x25519),
            "cert": self.device.certificate.encode(),
        })

    @classmethod
    def from_json(cls, data: bytes) -> Identity:
        obj = orjson.loads(data)
        return cls(
            SigningKey(b64d(obj["account_seed"], field="account_seed", size=32)),
            DeviceKeys(
                SigningKey(b64d(obj["device_seed"], field="device_seed", size=32)),
                X25519PrivateKey.from_private_bytes(
                    b64d(obj["device_x25519"], field="device_x25519", size=32)
                ),
                DeviceCertificate.decode(obj["cert"]),
            ),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.to_json())

    @classmethod
    def load(cls, path: Path) -> Identity:
        return cls.from_json(path.read_bytes())
