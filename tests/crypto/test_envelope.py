"""hearth.crypto.envelope: every tampering is refused with a specific error."""

from __future__ import annotations

from nacl.signing import SigningKey

from hearth.crypto import envelope
from hearth.crypto.sender_session import InboundSession, OutboundSession
from hearth.errors import ErrorCode
from tests.crypto._e2e import HOST, refused

PLACE = envelope.Place(HOST, "space", "chan", "msg-1")


def sealed(plaintext: bytes = b"hello") -> tuple[SigningKey, bytes, InboundSession]:
    device = SigningKey.generate()
    out = OutboundSession.create(0)
    inbound = InboundSession.from_key(out.export())
    return device, envelope.seal(device, out, PLACE, plaintext, 1000), inbound


def open_(env: bytes, inbound: InboundSession, place: envelope.Place = PLACE) -> bytes:
    return envelope.open(envelope.parse(env), place, inbound)


def test_round_trip_layout_and_cost() -> None:
    device, env, inbound = sealed(b"hello")
    assert len(env) == envelope.OVERHEAD + 5
    header = envelope.parse(env).header
    assert (header.sender, header.index, header.sent_at) == (bytes(device.verify_key), 0, 1000)
    assert open_(env, inbound) == b"hello"
    assert open_(env, inbound) == b"hello"  # shown again: not a replay


def test_tampered_ciphertext_header_or_signature() -> None:
    _, env, inbound = sealed()
    for at in (envelope.HEADER_SIZE, 50, 60, len(env) - 1, len(env) - 70):
        bad = env[:at] + bytes([env[at] ^ 1]) + env[at + 1:]
        message = refused(ErrorCode.BAD_SIGNATURE, open_, bad, inbound)
        assert message.endswith("it was altered or made for another place")


def test_another_sender_cannot_sign_in_the_senders_name() -> None:
    _, env, inbound = sealed()
    mallory = SigningKey.generate()
    forged = env[:1] + bytes(mallory.verify_key) + env[33:]
    refused(ErrorCode.BAD_SIGNATURE, open_, forged, inbound)


def test_moved_to_another_host_space_channel_or_message_id() -> None:
    _, env, inbound = sealed()
    for moved in (
        envelope.Place(HOST[:-1] + "b", "space", "chan", "msg-1"),
        envelope.Place(HOST, "space-2", "chan", "msg-1"),
        envelope.Place(HOST, "space", "chan-2", "msg-1"),
        envelope.Place(HOST, "space", "chan", "msg-2"),
    ):
        message = refused(ErrorCode.BAD_SIGNATURE, open_, env, inbound, moved)
        assert repr(moved.chan) in message and repr(moved.msg_id) in message


def test_a_member_holding_the_key_but_signing_correctly_still_fails_the_aead() -> None:
    # A sender that signs an envelope sealed under another chain: decrypt_failed.
    device = SigningKey.generate()
    out = OutboundSession.create(0)
    wrong = InboundSession(out.session_id, 0, bytes(32))
    env = envelope.seal(device, out, PLACE, b"x", 1)
    refused(ErrorCode.DECRYPT_FAILED, open_, env, wrong)


def test_replayed_index_under_another_message_id() -> None:
    device = SigningKey.generate()
    out = OutboundSession.create(0)
    inbound = InboundSession.from_key(out.export())
    twin = OutboundSession(out.session_id, out.index, out.chain_key, 0)
    first = envelope.seal(device, out, PLACE, b"a", 1)
    other_place = envelope.Place(HOST, "space", "chan", "msg-2")
    replay = envelope.seal(device, twin, other_place, b"b", 1)  # same index, new id
    assert open_(first, inbound) == b"a"
    message = refused(ErrorCode.REPLAY, open_, replay, inbound, other_place)
    assert "index 0" in message


def test_malformed_envelopes() -> None:
    _, env, _ = sealed()
    assert refused(ErrorCode.BAD_ENVELOPE, envelope.parse, env[:60]).startswith("envelope: ")
    assert refused(ErrorCode.BAD_ENVELOPE, envelope.parse, b"\x02" + env[1:]) == (
        "envelope: version 2 is not 1")
    short = env[: envelope.HEADER_SIZE] + env[-64:]
    assert refused(ErrorCode.BAD_ENVELOPE, envelope.parse, short) == (
        "envelope: ciphertext is 0 bytes, shorter than a tag")
