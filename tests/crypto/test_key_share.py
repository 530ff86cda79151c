"""hearth.crypto.key_share: sealed to one device's prekey, signed by the sharer."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from nacl.signing import SigningKey

from hearth.crypto import key_share, x25519
from hearth.crypto.prekeys import Kind, make_prekey
from hearth.crypto.sender_session import OutboundSession, SessionKey
from hearth.errors import ErrorCode
from tests.crypto._e2e import HOST, refused

PLACE = key_share.ChannelPlace(HOST, "space", "chan")


@dataclass
class Setup:
    sender: SigningKey
    me: bytes
    share: bytes
    private: X25519PrivateKey
    kind: Kind
    key: SessionKey

    def lookup(self, kind: Kind, key_id: int) -> X25519PrivateKey | None:
        return self.private if (kind, key_id) == (self.kind, 9) else None


def setup(kind: Kind = Kind.ONE_TIME) -> Setup:
    sender, recipient = SigningKey.generate(), SigningKey.generate()
    private = x25519.generate()
    prekey = make_prekey(recipient, kind, 9, 0, private)
    key = OutboundSession.create(0).export()
    share = key_share.seal(sender, bytes(recipient.verify_key), prekey, PLACE, key)
    return Setup(sender, bytes(recipient.verify_key), share, private, kind, key)


def test_round_trip_names_the_prekey_kind() -> None:
    for kind in (Kind.ONE_TIME, Kind.SIGNED):
        s = setup(kind)
        assert len(s.share) == key_share.SIZE == 235
        parsed, key = key_share.open(s.share, s.me, PLACE, s.lookup)
        assert (parsed.kind, parsed.prekey_id) == (kind, 9)
        assert (parsed.sender, key) == (bytes(s.sender.verify_key), s.key)


def test_refusals() -> None:
    s = setup()
    me, share, lookup = s.me, s.share, s.lookup

    other = bytes(SigningKey.generate().verify_key)
    assert refused(ErrorCode.WRONG_RECIPIENT, key_share.open, share, other, PLACE, lookup
                   ).startswith("key share is for device ")
    moved = key_share.ChannelPlace(HOST, "space", "other-chan")
    assert "channel 'other-chan'" in refused(ErrorCode.BAD_SIGNATURE, key_share.open, share, me,
                                             moved, lookup)
    flipped = share[:120] + bytes([share[120] ^ 1]) + share[121:]
    refused(ErrorCode.BAD_SIGNATURE, key_share.open, flipped, me, PLACE, lookup)
    assert refused(ErrorCode.UNKNOWN_PREKEY, key_share.open, share, me, PLACE,
                   lambda k, i: None) == (
        "this device holds no one_time prekey 9 (a one-time prekey is deleted after its "
        "first use)")
    wrong_key = x25519.generate()
    refused(ErrorCode.DECRYPT_FAILED, key_share.open, share, me, PLACE, lambda k, i: wrong_key)
    assert refused(ErrorCode.BAD_ENVELOPE, key_share.parse, share[:-1]).startswith("key share: ")
