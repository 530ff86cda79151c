"""hearth.frames: the relay's two strict frame vocabularies."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hearth.b64 import b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.frames import (
    ALL_TAGS,
    CLIENT_TAGS,
    HOST_ONLY_TAGS,
    HOST_TAGS,
    Challenge,
    ClientRequest,
    ClientResponse,
    Ephemeral,
    Error,
    Event,
    ForwardedRequest,
    Frame,
    Hello,
    HostHello,
    HostResponse,
    HostStatus,
    HostWelcome,
    Ping,
    Pong,
    Publish,
    RelayToClient,
    RelayToHost,
    Revoke,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
    Welcome,
    decode_client_frame,
    decode_frame,
    decode_host_frame,
    encode_frame,
)
from hearth.keys import host_id_from_public_key
from hearth.limits import MAX_BODY, MAX_ID, MAX_SUB_CHANNELS, MAX_TOKEN

KEY = b64e(bytes(range(32)))
KEY2 = b64e(bytes(range(32, 64)))
SIG = b64e(bytes(range(64)))
NONCE = b64e(bytes(range(100, 132)))
CERT = b64e(bytes(i % 256 for i in range(169)))
HOST = host_id_from_public_key(bytes(range(32)))
BODY = '{"v":1,"op":"space.list"}'

SAMPLES: dict[str, Frame] = {
    "challenge": Challenge(nonce=NONCE),
    "ping": Ping(n=7),
    "pong": Pong(n=7),
    "error": Error(code="bad_frame", msg="sub: bad", ref="r1"),
    "hello": Hello(cert=CERT, sig=SIG),
    "welcome": Welcome(conn="c1", acct=KEY, dev=KEY2),
    "req": ClientRequest(host=HOST, id="r1", body=BODY, sig=SIG),
    "resp": ClientResponse(host=HOST, body=BODY, sig=SIG),
    "sub": Subscribe(token="tok.en", chans=["general", "random"]),
    "subbed": Subscribed(host=HOST, space="s1", chans=["general"], exp=123),
    "unsub": Unsubscribe(host=HOST, space="s1", chans=["general"]),
    "unsubbed": Unsubscribed(host=HOST, space="s1", chans=["general"], reason="revoked"),
    "event": Event(host=HOST, space="s1", chan="general", body=BODY, sig=SIG),
    "eph": Ephemeral(host=HOST, space="s1", chan="*", body=BODY, sig=SIG),
    "host_status": HostStatus(host=HOST, online=False),
    "host_hello": HostHello(pk=KEY, sig=SIG),
    "host_welcome": HostWelcome(host=HOST),
    "fwd": ForwardedRequest(from_="c1", body=BODY, sig=SIG),
    "resp_to": HostResponse(to="c1", body=BODY, sig=SIG),
    "pub": Publish(space="s1", chan="general", body=BODY, sig=SIG),
    "revoke": Revoke(before=99, acct=KEY, dev=KEY2, space="s1"),
}


def wire(frame: Frame) -> dict[str, Any]:
    obj: dict[str, Any] = orjson.loads(encode_frame(frame))
    return obj


def raw(obj: object) -> str:
    return orjson.dumps(obj).decode()


def refused_client(frame: object | str | bytes, code: ErrorCode) -> str:
    text = frame if isinstance(frame, str | bytes) else raw(frame)
    with pytest.raises(ProtocolError) as info:
        decode_client_frame(text)
    assert info.value.code is code, info.value
    return info.value.message


def refused_host(frame: object | str | bytes, code: ErrorCode) -> str:
    text = frame if isinstance(frame, str | bytes) else raw(frame)
    with pytest.raises(ProtocolError) as info:
        decode_host_frame(text)
    assert info.value.code is code, info.value
    return info.value.message


# ---- vocabularies --------------------------------------------------------------------

def test_tag_sets() -> None:
    assert set(SAMPLES) == ALL_TAGS
    assert {SAMPLES[t].__struct_config__.tag for t in SAMPLES} == ALL_TAGS
    assert {"hello", "req", "sub", "unsub", "eph", "ping"} == CLIENT_TAGS
    assert {"host_hello", "resp_to", "pub", "revoke", "ping"} == HOST_TAGS
    assert {"host_hello", "resp_to", "pub", "revoke"} == HOST_ONLY_TAGS


@pytest.mark.parametrize("tag", sorted(CLIENT_TAGS))
def test_client_inbound_types_decode(tag: str) -> None:
    frame = SAMPLES[tag]
    for text in (encode_frame(frame), encode_frame(frame).encode()):
        decoded = decode_client_frame(text)
        assert type(decoded) is type(frame)
        assert decoded == frame


@pytest.mark.parametrize("tag", sorted(HOST_TAGS))
def test_host_inbound_types_decode(tag: str) -> None:
    frame = SAMPLES[tag]
    for text in (encode_frame(frame), encode_frame(frame).encode()):
        decoded = decode_host_frame(text)
        assert type(decoded) is type(frame)
        assert decoded == frame


def test_optional_fields_default() -> None:
    assert decode_client_frame('{"t":"ping"}') == Ping(n=0)
    assert decode_host_frame('{"t":"revoke","before":5}') == Revoke(before=5)


@pytest.mark.parametrize("tag", sorted(HOST_ONLY_TAGS))
def test_host_only_frames_forbidden_from_client(tag: str) -> None:
    message = refused_client(encode_frame(SAMPLES[tag]), ErrorCode.FORBIDDEN_FRAME)
    assert message == f"frame type {tag!r} is not accepted from a client"


@pytest.mark.parametrize("tag", sorted(ALL_TAGS - CLIENT_TAGS))
def test_every_non_client_type_forbidden_from_client(tag: str) -> None:
    """Relay-to-client frames (event, welcome, resp...) must not be injectable either."""
    message = refused_client(encode_frame(SAMPLES[tag]), ErrorCode.FORBIDDEN_FRAME)
    assert repr(tag) in message


@pytest.mark.parametrize("tag", ["event", "welcome", "resp", "subbed", "host_status"])
def test_relay_to_client_types_forbidden_from_client(tag: str) -> None:
    refused_client(encode_frame(SAMPLES[tag]), ErrorCode.FORBIDDEN_FRAME)


@pytest.mark.parametrize("tag", sorted(ALL_TAGS - HOST_TAGS))
def test_every_non_host_type_forbidden_from_host(tag: str) -> None:
    message = refused_host(encode_frame(SAMPLES[tag]), ErrorCode.FORBIDDEN_FRAME)
    assert message == f"frame type {tag!r} is not accepted from a host"


@pytest.mark.parametrize("tag", ["bogus", "Ping", "PING", "host-hello", "", "ping "])
def test_unknown_tag(tag: str) -> None:
    for refused in (refused_client, refused_host):
        message = refused({"t": tag}, ErrorCode.UNKNOWN_FRAME)
        assert message == f"unknown frame type {tag!r}"


def test_unknown_tag_is_truncated_in_message() -> None:
    message = refused_client({"t": "x" * 500}, ErrorCode.UNKNOWN_FRAME)
    assert repr("x" * 40) in message
    assert "x" * 41 not in message


@pytest.mark.parametrize("tag", [None, 5, True, 1.5])
def test_non_string_tag_is_bad(tag: object) -> None:
    refused_client({"t": tag}, ErrorCode.BAD_FRAME)
    refused_host({"t": tag}, ErrorCode.BAD_FRAME)


@pytest.mark.parametrize("tag", [[], ["ping"], {}, {"ping": 1}])
def test_unhashable_tag_is_a_protocol_error(tag: object) -> None:
    """BUG (hearth/frames.py:198): ``tag not in allowed`` with a list or dict ``t``
    raises TypeError (unhashable type) instead of ProtocolError, so one frame like
    {"t":[]} escapes the relay's error handling."""
    for decode in (decode_client_frame, decode_host_frame):
        with pytest.raises(ProtocolError) as info:
            decode(raw({"t": tag}))
        assert info.value.code in (ErrorCode.UNKNOWN_FRAME, ErrorCode.BAD_FRAME)


def test_missing_tag() -> None:
    refused_client({"n": 1}, ErrorCode.BAD_FRAME)
    refused_client({}, ErrorCode.BAD_FRAME)
    refused_host({"pk": KEY, "sig": SIG}, ErrorCode.BAD_FRAME)


@pytest.mark.parametrize(("text", "kind"), [
    ("[]", "list"), ('[{"t":"ping"}]', "list"), ("1", "int"), ('"ping"', "str"),
    ("null", "NoneType"), ("true", "bool"), ("1.5", "float"),
])
def test_non_object_json(text: str, kind: str) -> None:
    for refused in (refused_client, refused_host):
        message = refused(text, ErrorCode.BAD_FRAME)
        assert message == f"frame must be a JSON object, got {kind}"


@pytest.mark.parametrize("text", [
    "", "{", '{"t":"ping"', "{'t':'ping'}", '{"t":"ping",}', "ping", b"\xff\xfe",
    '{"t":"ping"} {}', "NaN",
])
def test_invalid_json(text: str | bytes) -> None:
    for refused in (refused_client, refused_host):
        assert refused(text, ErrorCode.BAD_FRAME).startswith("frame is not JSON: ")


# ---- strict fields -------------------------------------------------------------------

@pytest.mark.parametrize("tag", sorted(CLIENT_TAGS))
def test_unknown_field_refused_from_client(tag: str) -> None:
    obj = wire(SAMPLES[tag]) | {"extra_field": 1}
    message = refused_client(obj, ErrorCode.BAD_FRAME)
    assert message.startswith(f"{tag}: ")
    assert "extra_field" in message


@pytest.mark.parametrize("tag", sorted(HOST_TAGS))
def test_unknown_field_refused_from_host(tag: str) -> None:
    obj = wire(SAMPLES[tag]) | {"extra_field": 1}
    message = refused_host(obj, ErrorCode.BAD_FRAME)
    assert message.startswith(f"{tag}: ")
    assert "extra_field" in message


@pytest.mark.parametrize(("tag", "field", "value"), [
    ("ping", "n", "1"),
    ("ping", "n", 1.0),
    ("ping", "n", True),
    ("req", "body", {"v": 1}),
    ("req", "host", 5),
    ("req", "id", None),
    ("sub", "chans", "general"),
    ("sub", "token", 12),
    ("hello", "sig", None),
    ("unsub", "space", ["s1"]),
])
def test_wrong_type_refused_naming_field(tag: str, field: str, value: object) -> None:
    obj = wire(SAMPLES[tag]) | {field: value}
    message = refused_client(obj, ErrorCode.BAD_FRAME)
    assert message.startswith(f"{tag}: ")
    assert f"$.{field}" in message


@pytest.mark.parametrize(("tag", "field", "value"), [
    ("revoke", "before", "5"),
    ("revoke", "acct", 5),
    ("pub", "space", 1),
    ("resp_to", "to", None),
    ("host_hello", "pk", b64e(bytes(31))),
    ("host_hello", "pk", KEY[:-1] + "+"),
    ("host_hello", "sig", SIG + "A"),
    ("resp_to", "body", "x"),
    ("pub", "chan", "has space"),
])
def test_host_field_errors_name_the_field(tag: str, field: str, value: object) -> None:
    obj = wire(SAMPLES[tag]) | {field: value}
    message = refused_host(obj, ErrorCode.BAD_FRAME)
    assert message.startswith(f"{tag}: ")
    assert f"$.{field}" in message


@pytest.mark.parametrize("tag", sorted(CLIENT_TAGS - {"ping"}))
def test_missing_required_field_refused(tag: str) -> None:
    obj = wire(SAMPLES[tag])
    field = next(k for k in obj if k != "t")
    del obj[field]
    message = refused_client(obj, ErrorCode.BAD_FRAME)
    assert f"`{field}`" in message


@pytest.mark.parametrize("host", [
    HOST.upper(), HOST[:-1], HOST + "a", HOST[:-1] + "1", "",
])
def test_bad_host_id_in_request(host: str) -> None:
    obj = wire(SAMPLES["req"]) | {"host": host}
    assert "$.host" in refused_client(obj, ErrorCode.BAD_FRAME)


def test_body_size_limit() -> None:
    ok = wire(SAMPLES["req"]) | {"body": "x" * MAX_BODY}
    assert decode_client_frame(raw(ok)).body == "x" * MAX_BODY  # type: ignore[union-attr]
    too_big = wire(SAMPLES["req"]) | {"body": "x" * (MAX_BODY + 1)}
    message = refused_client(too_big, ErrorCode.BAD_FRAME)
    assert "$.body" in message
    assert str(MAX_BODY) in message
    refused_client(wire(SAMPLES["req"]) | {"body": "x"}, ErrorCode.BAD_FRAME)


def test_token_size_limit() -> None:
    ok = wire(SAMPLES["sub"]) | {"token": "t" * MAX_TOKEN}
    decode_client_frame(raw(ok))
    message = refused_client(wire(SAMPLES["sub"]) | {"token": "t" * (MAX_TOKEN + 1)},
                             ErrorCode.BAD_FRAME)
    assert "$.token" in message
    assert str(MAX_TOKEN) in message


@pytest.mark.parametrize("tag", ["sub", "unsub"])
def test_channel_list_limits(tag: str) -> None:
    base = wire(SAMPLES[tag])
    decode_client_frame(raw(base | {"chans": [f"c{i}" for i in range(MAX_SUB_CHANNELS)]}))
    message = refused_client(
        base | {"chans": [f"c{i}" for i in range(MAX_SUB_CHANNELS + 1)]}, ErrorCode.BAD_FRAME
    )
    assert "$.chans" in message
    assert str(MAX_SUB_CHANNELS) in message
    assert "$.chans" in refused_client(base | {"chans": []}, ErrorCode.BAD_FRAME)


@pytest.mark.parametrize(("chan", "index"), [
    ("a" * (MAX_ID + 1), 1), ("", 1), ("has space", 1), ("**", 1), ("a*", 1), ("é", 1),
    ("a/b", 1),
])
def test_channel_ids_checked(chan: str, index: int) -> None:
    obj = wire(SAMPLES["sub"]) | {"chans": ["ok", chan]}
    assert f"$.chans[{index}]" in refused_client(obj, ErrorCode.BAD_FRAME)
    decode_client_frame(raw(wire(SAMPLES["sub"]) | {"chans": ["a" * MAX_ID]}))


def test_star_means_every_channel() -> None:
    """``*`` passes the frame schema; the relay checks it stands alone (tests/relay)."""
    frame = decode_client_frame(raw(wire(SAMPLES["sub"]) | {"chans": ["*"]}))
    assert isinstance(frame, Subscribe) and frame.chans == ["*"]


def test_cert_and_sig_lengths() -> None:
    hello = wire(SAMPLES["hello"])
    assert "$.cert" in refused_client(hello | {"cert": CERT[:-1]}, ErrorCode.BAD_FRAME)
    assert "$.cert" in refused_client(hello | {"cert": CERT + "A"}, ErrorCode.BAD_FRAME)
    assert "$.sig" in refused_client(hello | {"sig": SIG[:-1]}, ErrorCode.BAD_FRAME)
    assert "$.sig" in refused_client(hello | {"sig": SIG[:-2] + "=="}, ErrorCode.BAD_FRAME)


# ---- encoding ------------------------------------------------------------------------

@pytest.mark.parametrize("tag", sorted(ALL_TAGS))
def test_encode_decode_round_trip(tag: str) -> None:
    frame = SAMPLES[tag]
    text = encode_frame(frame)
    assert isinstance(text, str)
    assert orjson.loads(text)["t"] == tag
    decoded = decode_frame(text, type(frame))
    assert type(decoded) is type(frame)
    assert decoded == frame
    assert encode_frame(decoded) == text


def test_forwarded_request_uses_from_on_the_wire() -> None:
    frame = ForwardedRequest(from_="conn-7", body=BODY, sig=SIG)
    obj = wire(frame)
    assert obj == {"t": "fwd", "from": "conn-7", "body": BODY, "sig": SIG}
    assert decode_frame(raw(obj), ForwardedRequest).from_ == "conn-7"
    with pytest.raises(ProtocolError) as info:
        decode_frame(raw({"t": "fwd", "from_": "conn-7", "body": BODY, "sig": SIG}),
                     ForwardedRequest)
    assert info.value.code is ErrorCode.BAD_FRAME


def test_decode_frame_unions() -> None:
    for tag in ("challenge", "welcome", "resp", "subbed", "unsubbed", "event", "host_status",
                "error", "pong"):
        assert decode_frame(encode_frame(SAMPLES[tag]), RelayToClient) == SAMPLES[tag]
    for tag in ("challenge", "host_welcome", "fwd", "error", "pong"):
        assert decode_frame(encode_frame(SAMPLES[tag]), RelayToHost) == SAMPLES[tag]


@pytest.mark.parametrize("text", ["{", "[]", '{"t":"fwd"}', '{"t":"req"}', "null"])
def test_decode_frame_refusals(text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_frame(text, RelayToHost)
    assert info.value.code is ErrorCode.BAD_FRAME
    assert info.value.message.startswith("bad frame from relay: ")


def test_error_message_length_capped() -> None:
    obj = {"t": "error", "code": "x", "msg": "m" * 501}
    with pytest.raises(ProtocolError) as info:
        decode_frame(raw(obj), RelayToClient)
    assert "$.msg" in info.value.message
