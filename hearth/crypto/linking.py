"""Device linking: an existing device E hands the account secrets to a new device N.

Both sides run through the host's link slot (``link.*`` ops), which the host and relay
can read and write: the exchange is a commit-then-reveal key agreement whose short
authentication string (SAS) the user compares, so a man in the middle fails.

Messages (each one slot post)::

    M1  N -> E  0x01 || commit (32)          commit = HKDF(pk_N, salt = "",
                                                     info = "hearth/v1/hkdf/link-commit", L = 32)
    M2  E -> N  0x02 || commit (32) || pk_E (32)        (E echoes the commit it answers)
    M3  N -> E  0x03 || pk_N (32)                       (E checks it against the commit)
    M4  N -> E  0x04 || HMAC-SHA256(confirm key, transcript)   after the user typed E's
                                                        code into N and N found it equal
    M5  E -> N  0x05 || enc (32) || ciphertext          after E's user confirmed too:
                HPKE SealAuth(pkR = pk_N, info = "hearth/v1/hpke/device-link",
                              aad = transcript, account seed (32) || recovery record (53),
                              skS = sk_E)

    transcript  = 0x01 || fields(host id, link id) || commit || pk_E || pk_N
    okm         = HKDF(X25519(own key, peer key), salt = transcript,
                       info = "hearth/v1/hkdf/link-code", L = 40)
    code (SAS)  = big-endian okm[0:8] mod 10^8, as 8 digits;  confirm key = okm[8:40]

pk_E and pk_N are fresh X25519 keys for this link only. N commits to pk_N before it
sees pk_E and E reveals pk_E before it sees pk_N, so a man in the middle must fix both
of its keys before it can know either code: its two codes agree with probability 10^-8.
A mismatch is link_mismatch and nothing secret has been sent.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hearth.crypto import hkdf, hpke, mac, x25519
from hearth.crypto.labels import Label
from hearth.crypto.recovery import RECORD_SIZE, Recovery
from hearth.crypto.wire import Reader, fields
from hearth.errors import ErrorCode, ProtocolError

VERSION = 1
CODE_DIGITS = 8


def commitment(public: bytes) -> bytes:
    return hkdf.hkdf(public, salt=b"", info=Label.HKDF_LINK_COMMIT.value, length=32)


def transcript(host: str, link: str, commit: bytes, pk_e: bytes, pk_n: bytes) -> bytes:
    return bytes([VERSION]) + fields(host, link) + commit + pk_e + pk_n


def code_and_confirm_key(shared: bytes, transcript_bytes: bytes) -> tuple[str, bytes]:
    okm = hkdf.hkdf(shared, salt=transcript_bytes, info=Label.HKDF_LINK_CODE.value, length=40)
    number = int.from_bytes(okm[:8], "big") % 10**CODE_DIGITS
    return f"{number:0{CODE_DIGITS}d}", okm[8:]


def _message(raw: bytes, tag: int, size: int | None) -> Reader:
    reader = Reader(raw, f"link message {tag}", ErrorCode.BAD_ENVELOPE)
    got = reader.uint(1)
    if got != tag:
        raise reader.fail(f"expected message type {tag}, got {got}")
    if size is not None and len(raw) != 1 + size:
        raise reader.fail(f"must be {1 + size} bytes, got {len(raw)}")
    return reader


def _mismatch(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.LINK_MISMATCH, message)


def _normalise_code(code: str) -> str:
    return "".join(c for c in code if "0" <= c <= "9")


@dataclass
class NewDeviceLink:
    """The new device's side (N). Call in order: commit_message, on_reveal, confirm,
    on_secrets."""

    host: str
    link: str
    key: X25519PrivateKey = field(default_factory=x25519.generate)
    code: str = ""
    _transcript: bytes = b""
    _confirm_key: bytes = b""
    _pk_e: bytes = b""

    def commit_message(self) -> bytes:
        """M1."""
        return b"\x01" + commitment(x25519.public_key(self.key))

    def on_reveal(self, m2: bytes) -> bytes:
        """Read M2; returns M3 and sets ``code`` (shown to the user)."""
        reader = _message(m2, 2, 64)
        commit, pk_e = reader.take(32), reader.take(32)
        pk_n = x25519.public_key(self.key)
        if not hmac.compare_digest(commit, commitment(pk_n)):
            raise _mismatch(
                "the existing device answered another device's request "
                f"(commitment {commit.hex()}): someone else used this link code; start again"
            )
        self._pk_e = pk_e
        self._transcript = transcript(self.host, self.link, commit, pk_e, pk_n)
        shared = x25519.shared_secret(self.key, pk_e)
        self.code, self._confirm_key = code_and_confirm_key(shared, self._transcript)
        return b"\x03" + pk_n

    def confirm(self, typed_code: str) -> bytes:
        """M4, only if ``typed_code`` (read off the existing device) equals ours."""
        if not self.code:
            raise ValueError("confirm() before on_reveal()")
        if _normalise_code(typed_code) != self.code:
            raise _mismatch(
                f"code {typed_code!r} typed from the existing device differs from this "
                "device's: someone is in the middle; nothing was sent"
            )
        return b"\x04" + mac.hmac_sha256(self._confirm_key, self._transcript)

    def on_secrets(self, m5: bytes) -> tuple[bytes, Recovery]:
        """Read M5: (account seed, recovery)."""
        reader = _message(m5, 5, None)
        enc = reader.take(hpke.N_ENC)
        plaintext = hpke.open_auth(enc, self.key, Label.HPKE_DEVICE_LINK.value,
                                   self._transcript, reader.rest(), self._pk_e)
        if len(plaintext) != 32 + RECORD_SIZE:
            raise _mismatch(f"link transfer holds {len(plaintext)} bytes, not {32 + RECORD_SIZE}")
        return plaintext[:32], Recovery.from_bytes(plaintext[32:])


@dataclass
class ExistingDeviceLink:
    """The existing device's side (E). Call in order: on_commit, on_key, transfer."""

    host: str
    link: str
    key: X25519PrivateKey = field(default_factory=x25519.generate)
    code: str = ""
    _commit: bytes = b""
    _transcript: bytes = b""
    _confirm_key: bytes = b""
    _pk_n: bytes = b""

    def on_commit(self, m1: bytes) -> bytes:
        """Read M1; returns M2."""
        self._commit = _message(m1, 1, 32).take(32)
        return b"\x02" + self._commit + x25519.public_key(self.key)

    def on_key(self, m3: bytes) -> None:
        """Read M3; sets ``code`` (shown to the user, who types it into the new device)."""
        pk_n = _message(m3, 3, 32).take(32)
        if not hmac.compare_digest(commitment(pk_n), self._commit):
            raise _mismatch(
                f"the new device's key {pk_n.hex()} does not match its commitment "
                f"{self._commit.hex()}: someone is in the middle; nothing was sent"
            )
        self._pk_n = pk_n
        self._transcript = transcript(self.host, self.link, self._commit,
                                      x25519.public_key(self.key), pk_n)
        shared = x25519.shared_secret(self.key, pk_n)
        self.code, self._confirm_key = code_and_confirm_key(shared, self._transcript)

    def transfer(self, user_confirmed: bool, m4: bytes, account_seed: bytes,
                 recovery: Recovery, *, ephemeral: X25519PrivateKey | None = None) -> bytes:
        """M5: the account secrets sealed to the new device, once both sides confirmed."""
        if not self.code:
            raise ValueError("transfer() before on_key()")
        if not user_confirmed:
            raise _mismatch("the user did not confirm that the new device accepted the code")
        tag = _message(m4, 4, 32).take(32)
        try:
            mac.hmac_sha256_verify(self._confirm_key, self._transcript, tag)
        except ProtocolError:
            raise _mismatch(
                "the new device's confirmation does not match this exchange: "
                "someone is in the middle; nothing was sent"
            ) from None
        enc, ciphertext = hpke.seal_auth(
            self._pk_n, Label.HPKE_DEVICE_LINK.value, self._transcript,
            account_seed + recovery.to_bytes(), self.key, ephemeral=ephemeral,
        )
        return b"\x05" + enc + ciphertext
