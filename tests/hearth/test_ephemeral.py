"""hearth.ephemeral: presence and typing bodies, their signature context and checks."""

from __future__ import annotations

from typing import Any

import msgspec
import orjson
import pytest
from nacl.signing import SigningKey

from hearth.b64 import b64d, b64e
from hearth.e2e.roster import verify_roster
from hearth.ephemeral import check_sender, open_ephemeral, parse_body, sign_ephemeral
from hearth.errors import ErrorCode, ProtocolError
from hearth.frames import Ephemeral, decode_client_frame, encode_frame
from hearth.keys import DeviceKeys, host_id_from_public_key, new_device
from hearth.limits import EPHEMERAL_MAX_AGE_MS, MAX_EPHEMERAL_BODY
from hearth.signing import Context, sign, verify

HOST = host_id_from_public_key(bytes(SigningKey.generate().verify_key))
NOW = 1_730_000_000_000


def device() -> DeviceKeys:
    return new_device(SigningKey.generate())


def refused(code: ErrorCode, frame: Ephemeral, now: int = NOW) -> str:
    with pytest.raises(ProtocolError) as info:
        open_ephemeral(frame, now)
    assert info.value.code is code, info.value
    return info.value.message


def resigned(dev: DeviceKeys, frame: Ephemeral, **changes: Any) -> Ephemeral:
    """The same frame with body fields changed and a valid signature over the new body."""
    body = orjson.loads(frame.body) | changes
    text = orjson.dumps(body).decode()
    sig = b64e(sign(dev.signing, Context.EPHEMERAL, text.encode()))
    return msgspec.structs.replace(frame, body=text, sig=sig)


def test_presence_and_typing_round_trip_with_exact_bytes() -> None:
    dev = device()
    frame = sign_ephemeral(dev, HOST, "s1", "*", "presence", "away", ts=NOW)
    assert frame.body == (
        f'{{"v":1,"host":"{HOST}","space":"s1","chan":"*","k":"presence","state":"away",'
        f'"dev":"{b64e(dev.public_key)}","acct":"{b64e(dev.account)}","ts":{NOW}}}'
    )
    # The signature is over exactly those bytes, under the ephemeral context only.
    verify(dev.public_key, Context.EPHEMERAL, frame.body.encode(), b64d(frame.sig))
    with pytest.raises(ProtocolError):
        verify(dev.public_key, Context.REQUEST, frame.body.encode(), b64d(frame.sig))
    # The frame survives the client endpoint's strict decoder and comes back equal.
    assert decode_client_frame(encode_frame(frame)) == frame
    body = open_ephemeral(frame, NOW + 5)
    assert (body.k, body.state, body.chan, body.dev) == ("presence", "away", "*",
                                                          b64e(dev.public_key))
    typing = open_ephemeral(sign_ephemeral(dev, HOST, "s1", "general", "typing", "typing",
                                           ts=NOW), NOW)
    assert (typing.k, typing.chan, typing.state) == ("typing", "general", "typing")


def test_signature_from_another_context_or_device_is_refused() -> None:
    dev, other = device(), device()
    frame = sign_ephemeral(dev, HOST, "s1", "*", "presence", "online", ts=NOW)
    as_request = b64e(sign(dev.signing, Context.REQUEST, frame.body.encode()))
    message = refused(ErrorCode.BAD_SIGNATURE, msgspec.structs.replace(frame, sig=as_request))
    assert message == "ephemeral signature does not verify"
    by_other = b64e(sign(other.signing, Context.EPHEMERAL, frame.body.encode()))
    refused(ErrorCode.BAD_SIGNATURE, msgspec.structs.replace(frame, sig=by_other))
    # One flipped byte of the body breaks it too.
    tampered = frame.body.replace('"online"', '"offline"')
    refused(ErrorCode.BAD_SIGNATURE, msgspec.structs.replace(frame, body=tampered))


@pytest.mark.parametrize(("field", "value"), [("host", "a" * 56), ("space", "s2"),
                                             ("chan", "random")])
def test_body_and_route_must_agree(field: str, value: str) -> None:
    dev = device()
    frame = sign_ephemeral(dev, HOST, "s1", "general", "typing", "typing", ts=NOW)
    moved = msgspec.structs.replace(frame, **{field: value})
    message = refused(ErrorCode.BAD_FRAME, moved)
    signed = {"host": HOST, "space": "s1", "chan": "general"}[field]
    assert message == (f"eph body names {field} {signed!r} but the frame is routed to "
                       f"{value!r}")


def test_stale_and_future_timestamps_are_refused() -> None:
    dev = device()
    frame = sign_ephemeral(dev, HOST, "s1", "*", "presence", "online", ts=NOW)
    open_ephemeral(frame, NOW + EPHEMERAL_MAX_AGE_MS)
    open_ephemeral(frame, NOW - EPHEMERAL_MAX_AGE_MS)
    late = refused(ErrorCode.STALE_REQUEST, frame, NOW + EPHEMERAL_MAX_AGE_MS + 1)
    assert late == f"eph body ts {NOW} is {EPHEMERAL_MAX_AGE_MS + 1} ms from this clock, " \
                   f"max {EPHEMERAL_MAX_AGE_MS}"
    refused(ErrorCode.STALE_REQUEST, frame, NOW - EPHEMERAL_MAX_AGE_MS - 1)


def test_shapes_are_checked_on_both_sides() -> None:
    dev = device()
    with pytest.raises(ProtocolError) as info:
        sign_ephemeral(dev, HOST, "s1", "general", "presence", "online")
    assert info.value.message == ("eph body: 'presence' needs chan '*' (presence is "
                                  "space-wide), got 'general'")
    with pytest.raises(ProtocolError) as info:
        sign_ephemeral(dev, HOST, "s1", "*", "typing", "typing")
    assert info.value.message == "eph body: 'typing' needs chan one channel id, got '*'"
    with pytest.raises(ProtocolError) as info:
        sign_ephemeral(dev, HOST, "s1", "*", "presence", "busy")
    assert info.value.message == ("eph body: state 'busy' is not one of ['away', 'offline', "
                                  "'online'] for 'presence'")
    good = sign_ephemeral(dev, HOST, "s1", "*", "presence", "online", ts=NOW)
    # A signed body of the wrong shape is refused before anyone acts on it.
    for changes, needle in (({"k": "mood"}, "Invalid enum value 'mood' - at `$.k`"),
                            ({"v": 2}, "version 2 is not 1"),
                            ({"extra": 1}, "unknown field `extra`"),
                            ({"state": "busy"}, "state 'busy'")):
        message = refused(ErrorCode.BAD_FRAME, resigned(dev, good, **changes))
        assert needle in message, message
    assert parse_body(good.body).state == "online"
    with pytest.raises(ProtocolError) as info:
        parse_body("{" + " " * MAX_EPHEMERAL_BODY + "}")
    assert info.value.code is ErrorCode.TOO_LARGE


def roster_listing(members: list[DeviceKeys], *, revoked: DeviceKeys | None = None,
                   departed: tuple[DeviceKeys, ...] = ()) -> dict[str, Any]:
    def entry(d: DeviceKeys) -> dict[str, Any]:
        return {"dev": b64e(d.public_key), "cert": d.certificate.encode(), "created_at": 1,
                "revoked_at": 5 if d is revoked else None}
    return {
        "members": [{"acct": b64e(d.account), "role": "member", "joined_at": 1,
                     "devices": [entry(d)]} for d in members],
        "departed": [{"acct": b64e(d.account), "left_at": 9, "devices": [entry(d)]}
                     for d in departed],
    }


def test_sender_must_be_a_certified_unrevoked_device_of_a_current_member() -> None:
    alice, bob, gone, stranger = device(), device(), device(), device()
    roster = verify_roster("s1", roster_listing([alice, bob], revoked=bob, departed=(gone,)),
                           NOW)

    def body_of(d: DeviceKeys) -> Any:
        return open_ephemeral(sign_ephemeral(d, HOST, "s1", "*", "presence", "online",
                                             ts=NOW), NOW)

    check_sender(body_of(alice), roster)
    cases = ((bob, ErrorCode.DEVICE_REVOKED, "was revoked at 5"),
             (gone, ErrorCode.NOT_MEMBER, "is not a member of space 's1'"),
             (stranger, ErrorCode.UNKNOWN_DEVICE, "is not certified by account"))
    for who, code, needle in cases:
        with pytest.raises(ProtocolError) as info:
            check_sender(body_of(who), roster)
        assert info.value.code is code and needle in info.value.message, info.value
    # Alice's device claimed for Bob's account: not certified by that account.
    claimed = resigned(alice, sign_ephemeral(alice, HOST, "s1", "*", "presence", "online",
                                             ts=NOW), acct=b64e(bob.account))
    with pytest.raises(ProtocolError) as info:
        check_sender(open_ephemeral(claimed, NOW), roster)
    assert info.value.code is ErrorCode.UNKNOWN_DEVICE
