"""hearth.crypto.sender_session: the hash ratchet, bounded skipping, replay refusal."""

from __future__ import annotations

import pytest

from hearth.crypto.sender_session import (
    MAX_SKIP,
    InboundSession,
    OutboundSession,
    SessionKey,
    message_keys,
    ratchet_to,
)
from hearth.errors import ErrorCode
from tests.crypto._e2e import refused


def test_outbound_never_repeats_an_index_or_key() -> None:
    out = OutboundSession.create(0)
    seen = [out.advance() for _ in range(50)]
    assert [i for i, _ in seen] == list(range(50))
    assert len({k.key for _, k in seen}) == len({k.nonce for _, k in seen}) == 50


def test_inbound_from_a_later_index_reads_on_but_not_back() -> None:
    out = OutboundSession.create(0)
    keys = [out.advance()[1] for _ in range(5)]
    shared = out.export()  # index 5
    later = [out.advance()[1] for _ in range(3)]
    inbound = InboundSession.from_key(shared)
    assert [inbound.keys_for(i) for i in (7, 5, 6)] == [later[2], later[0], later[1]]
    assert refused(ErrorCode.INDEX_TOO_OLD, inbound.keys_for, 4) == (
        "message index 4 precedes index 5, the earliest this device was given")
    full = InboundSession.from_key(SessionKey(shared.session_id, 0, OutboundSession.create(
        0, session_id=shared.session_id).chain_key))
    assert full.keys_for(0) != keys[0]  # a different chain: different keys


def test_merge_keeps_the_earliest_key() -> None:
    out = OutboundSession.create(0)
    first = out.export()
    out.advance()
    out.advance()
    inbound = InboundSession.from_key(out.export())
    assert inbound.merge(first) and inbound.first_index == 0
    assert not inbound.merge(out.export())
    assert ratchet_to(first, 2) == out.export()
    with pytest.raises(ValueError, match="back to 0"):
        ratchet_to(out.export(), 0)


def test_skipping_ahead_is_bounded() -> None:
    inbound = InboundSession.from_key(OutboundSession.create(0).export())
    assert inbound.keys_for(MAX_SKIP) == message_keys(ratchet_to(inbound.export(),
                                                                 MAX_SKIP).chain_key)
    fresh = InboundSession.from_key(inbound.export())
    assert refused(ErrorCode.INDEX_TOO_FAR, fresh.keys_for, MAX_SKIP + 1) == (
        f"message index {MAX_SKIP + 1} is {MAX_SKIP + 1} steps past index 0 (max {MAX_SKIP})")


def test_an_index_opened_as_one_message_is_refused_as_another() -> None:
    inbound = InboundSession.from_key(OutboundSession.create(0).export())
    inbound.mark_seen(3, "m1")
    inbound.check_replay(3, "m1")  # showing the same message again is fine
    message = refused(ErrorCode.REPLAY, inbound.check_replay, 3, "m2")
    assert "already opened message 'm1'; refusing it again as 'm2'" in message


def test_session_key_layout() -> None:
    key = SessionKey(bytes(range(16)), 258, bytes(32))
    raw = key.to_bytes()
    assert raw == b"\x01" + bytes(range(16)) + b"\x00\x00\x01\x02" + bytes(32)
    assert refused(ErrorCode.BAD_ENVELOPE, SessionKey.from_bytes, raw[:-1]) == (
        "session key: needs 32 bytes at offset 21, only 31 left")
