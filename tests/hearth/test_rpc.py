"""hearth.rpc: signed request / response / event bodies and per-op argument schemas."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from nacl.signing import SigningKey

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.keys import DeviceKeys
from hearth.limits import MAX_CHANNEL_TTL_S, MAX_ENVELOPE, MAX_MAILBOX_PAYLOAD
from hearth.rpc import (
    OPS,
    ErrorInfo,
    EventBody,
    RequestBody,
    ResponseBody,
    body_bytes,
    dump_body,
    load_body,
    open_host_body,
    open_request,
    parse_args,
    sign_host_body,
    sign_request,
)
from hearth.signing import Context, sign

KEY = b64e(bytes(range(32)))
SIG = b64e(bytes(64))


def refused(fn: Any, *args: Any, code: ErrorCode) -> str:
    with pytest.raises(ProtocolError) as info:
        fn(*args)
    assert info.value.code is code, info.value
    return info.value.message


# ---- requests ------------------------------------------------------------------------

def test_request_round_trip(device: DeviceKeys, host_id: str) -> None:
    args = {"space": "s1", "name": "général ☃"}
    body, text, sig = sign_request(device, host_id, "space.rename", args, ts=1234)
    assert text == dump_body(body)
    assert orjson.loads(text) == {
        "v": 1, "host": host_id, "dev": b64e(device.public_key), "n": body.n, "ts": 1234,
        "op": "space.rename", "a": args,
    }
    assert len(b64d(body.n, size=16)) == 16
    assert len(b64d(sig, size=64)) == 64
    opened = open_request(text, sig)
    assert opened == body
    assert isinstance(opened, RequestBody)
    # The signature covers exactly the UTF-8 bytes of the text under REQUEST.
    device.signing.verify_key.verify(b"hearth/v1/request\x00" + text.encode(), b64d(sig))


def test_each_request_gets_a_fresh_nonce(device: DeviceKeys, host_id: str) -> None:
    nonces = {sign_request(device, host_id, "space.list", {})[0].n for _ in range(20)}
    assert len(nonces) == 20


def test_request_timestamp_defaults_to_now(device: DeviceKeys, host_id: str) -> None:
    import time
    before = int(time.time() * 1000)
    body, _, _ = sign_request(device, host_id, "space.list", {})
    assert before <= body.ts <= int(time.time() * 1000)


@pytest.mark.parametrize(("old", "new"), [
    ('"op":"space.list"', '"op":"space.lisT"'),
    ('"v":1', '"v":2'),
    ("{", "{ "),
    ('"a":{}', '"a":{"x":1}'),
])
def test_tampered_request_text_refused(
    device: DeviceKeys, host_id: str, old: str, new: str
) -> None:
    _, text, sig = sign_request(device, host_id, "space.list", {})
    assert old in text
    message = refused(open_request, text.replace(old, new, 1), sig, code=ErrorCode.BAD_SIGNATURE)
    assert message == "request signature does not verify"


def test_reordered_keys_refused(device: DeviceKeys, host_id: str) -> None:
    """Same JSON value, different bytes: exact bytes are signed, so it must not open."""
    _, text, sig = sign_request(device, host_id, "space.rename", {"space": "s", "name": "n"})
    obj = orjson.loads(text)
    reordered = orjson.dumps(dict(reversed(list(obj.items())))).decode()
    assert reordered != text
    assert orjson.loads(reordered) == orjson.loads(text)
    refused(open_request, reordered, sig, code=ErrorCode.BAD_SIGNATURE)
    pretty = orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode()
    refused(open_request, pretty, sig, code=ErrorCode.BAD_SIGNATURE)


def test_every_single_character_change_refused(device: DeviceKeys, host_id: str) -> None:
    _, text, sig = sign_request(device, host_id, "channel.list", {"space": "s1"})
    for i, char in enumerate(text):
        for replacement in {"a", "0", " "} - {char}:
            changed = text[:i] + replacement + text[i + 1:]
            with pytest.raises(ProtocolError) as info:
                open_request(changed, sig)
            # Still-valid bodies fail the signature; broken ones fail to parse.
            assert info.value.code in (ErrorCode.BAD_SIGNATURE, ErrorCode.BAD_REQUEST), (i, info)


def test_swapped_signature_refused(device: DeviceKeys, host_id: str) -> None:
    _, text1, sig1 = sign_request(device, host_id, "space.list", {})
    _, text2, sig2 = sign_request(device, host_id, "space.list", {})
    open_request(text1, sig1)
    open_request(text2, sig2)
    refused(open_request, text1, sig2, code=ErrorCode.BAD_SIGNATURE)
    refused(open_request, text2, sig1, code=ErrorCode.BAD_SIGNATURE)


def test_rewritten_dev_refused(
    device: DeviceKeys, other_device: DeviceKeys, host_id: str
) -> None:
    _, text, sig = sign_request(device, host_id, "space.list", {})
    rewritten = text.replace(b64e(device.public_key), b64e(other_device.public_key))
    assert rewritten != text
    refused(open_request, rewritten, sig, code=ErrorCode.BAD_SIGNATURE)


def test_signature_under_other_context_refused(device: DeviceKeys, host_id: str) -> None:
    _, text, _ = sign_request(device, host_id, "space.list", {})
    for context in Context:
        if context is not Context.REQUEST:
            sig = b64e(sign(device.signing, context, text.encode()))
            refused(open_request, text, sig, code=ErrorCode.BAD_SIGNATURE)


@pytest.mark.parametrize("sig", ["", "A" * 85, "A" * 87, "*" * 86, "A" * 84 + "=="])
def test_malformed_request_signature(device: DeviceKeys, host_id: str, sig: str) -> None:
    _, text, _ = sign_request(device, host_id, "space.list", {})
    message = refused(open_request, text, sig, code=ErrorCode.BAD_SIGNATURE)
    assert message.startswith("sig: ")


def test_lone_surrogate_refused(device: DeviceKeys, host_id: str) -> None:
    _, text, sig = sign_request(device, host_id, "space.create", {"name": "x"})
    bad = text.replace('"name":"x"', '"name":"x\ud800"')
    assert bad != text
    assert refused(open_request, bad, sig, code=ErrorCode.BAD_FRAME) == (
        "body is not valid UTF-8 text"
    )
    refused(body_bytes, "\udfff", code=ErrorCode.BAD_FRAME)
    assert body_bytes("é☃") == "é☃".encode()


@pytest.mark.parametrize("text", [
    "", "{", "[]", '"x"', '{"v":1}', "null",
])
def test_malformed_request_body(text: str) -> None:
    message = refused(open_request, text, "A" * 86, code=ErrorCode.BAD_REQUEST)
    assert message.startswith("body: ")


def test_request_body_with_unknown_field(device: DeviceKeys, host_id: str) -> None:
    _, text, sig = sign_request(device, host_id, "space.list", {})
    message = refused(open_request, text[:-1] + ',"zz":1}', sig, code=ErrorCode.BAD_REQUEST)
    assert "zz" in message


def test_request_fields_validated(device: DeviceKeys, host_id: str) -> None:
    text = orjson.dumps({
        "v": 1, "host": host_id.upper(), "dev": b64e(device.public_key), "n": "A" * 22,
        "ts": 1, "op": "space.list", "a": {},
    }).decode()
    assert "$.host" in refused(open_request, text, "A" * 86, code=ErrorCode.BAD_REQUEST)


# ---- host-signed bodies --------------------------------------------------------------

def response(host_id: str, **kw: Any) -> ResponseBody:
    return ResponseBody(v=1, host=host_id, dev=KEY, re="A" * 22, ok=True, r={"x": 1}, **kw)


def event(host_id: str) -> EventBody:
    return EventBody(v=1, host=host_id, space="s1", chan="c1", k="msg", seq=7, id="m1",
                     acct=KEY, dev=KEY, ts=5, env="AAAA", re="m0", exp=99)


def test_event_kinds_round_trip(host_key: SigningKey, host_id: str) -> None:
    """``del``, ``rcpt`` and ``chan`` (docs/protocol.md §13.2) carry their details in
    ``info``; ``re``/``exp`` default to none, so older events parse unchanged."""
    for k, info in (("del", {"ids": ["m1", "m2"]}),
                    ("rcpt", {"marks": [{"acct": KEY, "read": 3, "delivered": 4}]}),
                    ("chan", {"channel": {"id": "c1", "name": "n", "seq": 2, "ttl_s": 60}})):
        body = EventBody(v=1, host=host_id, space="s1", chan="c1", k=k, ts=5, info=info)
        text, sig = sign_host_body(host_key, body)
        opened = open_host_body(host_id, text, sig, EventBody)
        assert (opened.k, opened.info, opened.re, opened.exp) == (k, info, "", 0)
    old = {"v": 1, "host": host_id, "space": "s", "chan": "c", "k": "msg", "seq": 1,
           "id": "m", "acct": "", "dev": "", "ts": 1, "env": "AAAA", "info": None}
    opened = load_body(orjson.dumps(old), EventBody)
    assert (opened.re, opened.exp) == ("", 0)


def test_response_round_trip(host_key: SigningKey, host_id: str) -> None:
    body = response(host_id)
    text, sig = sign_host_body(host_key, body)
    assert text == dump_body(body)
    assert open_host_body(host_id, text, sig, ResponseBody) == body
    host_key.verify_key.verify(b"hearth/v1/response\x00" + text.encode(), b64d(sig))


def test_error_response_round_trip(host_key: SigningKey, host_id: str) -> None:
    body = ResponseBody(v=1, host=host_id, dev=KEY, re="B" * 22, ok=False,
                        err=ErrorInfo(code="not_member", msg="you are not in space 's1'"))
    text, sig = sign_host_body(host_key, body)
    opened = open_host_body(host_id, text, sig, ResponseBody)
    assert opened.err == ErrorInfo(code="not_member", msg="you are not in space 's1'")


def test_event_round_trip(host_key: SigningKey, host_id: str) -> None:
    body = event(host_id)
    text, sig = sign_host_body(host_key, body)
    assert open_host_body(host_id, text, sig, EventBody) == body
    host_key.verify_key.verify(b"hearth/v1/event\x00" + text.encode(), b64d(sig))


def test_response_never_opens_as_event(host_key: SigningKey, host_id: str) -> None:
    # A body that parses as both kinds, so only the context can tell them apart.
    both = orjson.dumps({"v": 1, "host": host_id, "space": "s", "chan": "c", "k": "x"}).decode()
    resp_sig = b64e(sign(host_key, Context.RESPONSE, both.encode()))
    event_sig = b64e(sign(host_key, Context.EVENT, both.encode()))
    open_host_body(host_id, both, event_sig, EventBody)
    assert refused(open_host_body, host_id, both, resp_sig, EventBody,
                   code=ErrorCode.BAD_SIGNATURE) == "event signature does not verify"

    text, sig = sign_host_body(host_key, response(host_id))
    refused(open_host_body, host_id, text, sig, EventBody, code=ErrorCode.BAD_SIGNATURE)
    text, sig = sign_host_body(host_key, event(host_id))
    assert refused(open_host_body, host_id, text, sig, ResponseBody,
                   code=ErrorCode.BAD_SIGNATURE) == "response signature does not verify"


def test_body_naming_another_host_refused(
    host_key: SigningKey, host_id: str, other_host_id: str
) -> None:
    for body in (response(other_host_id), event(other_host_id)):
        text, sig = sign_host_body(host_key, body)
        message = refused(open_host_body, host_id, text, sig, type(body),
                          code=ErrorCode.BAD_SIGNATURE)
        assert message == "signed body names a different host"


def test_body_signed_by_another_host_refused(
    host_key: SigningKey, other_host_key: SigningKey, host_id: str
) -> None:
    text, sig = sign_host_body(other_host_key, response(host_id))
    refused(open_host_body, host_id, text, sig, ResponseBody, code=ErrorCode.BAD_SIGNATURE)


def test_tampered_host_body_refused(host_key: SigningKey, host_id: str) -> None:
    text, sig = sign_host_body(host_key, event(host_id))
    refused(open_host_body, host_id, text.replace('"seq":7', '"seq":8'), sig, EventBody,
            code=ErrorCode.BAD_SIGNATURE)
    bad_sig = b64e(bytes(64))
    refused(open_host_body, host_id, text, bad_sig, EventBody, code=ErrorCode.BAD_SIGNATURE)
    refused(open_host_body, host_id, text + "\ud800", sig, EventBody,
            code=ErrorCode.BAD_SIGNATURE)


def test_request_signature_never_opens_as_host_body(device: DeviceKeys, host_id: str) -> None:
    _, text, sig = sign_request(device, host_id, "space.list", {})
    refused(open_host_body, host_id, text, sig, ResponseBody, code=ErrorCode.BAD_SIGNATURE)


def test_load_body_strict(host_id: str) -> None:
    raw = orjson.dumps({"v": "1", "host": host_id, "dev": KEY, "re": "A" * 22, "ok": True})
    assert "$.v" in refused(load_body, raw, ResponseBody, code=ErrorCode.BAD_REQUEST)
    raw = orjson.dumps({"v": 1, "host": host_id, "space": "s", "chan": "c", "k": "m", "seq": -1})
    assert "$.seq" in refused(load_body, raw, EventBody, code=ErrorCode.BAD_REQUEST)


# ---- op arguments --------------------------------------------------------------------

CERT = b64e(bytes(169))
MINIMAL_ARGS: dict[str, dict[str, Any]] = {
    "hello": {"cert": CERT},
    "host.claim": {"pk": KEY, "proof": SIG},
    "space.create": {"name": "n"},
    "space.list": {},
    "space.rename": {"space": "s", "name": "n"},
    "space.delete": {"space": "s"},
    "space.leave": {"space": "s"},
    "channel.create": {"space": "s", "name": "n"},
    "channel.list": {"space": "s"},
    "channel.rename": {"space": "s", "chan": "c", "name": "n"},
    "channel.delete": {"space": "s", "chan": "c"},
    "member.list": {"space": "s"},
    "member.remove": {"space": "s", "acct": KEY},
    "member.role": {"space": "s", "acct": KEY, "role": "admin"},
    "invite.key": {"space": "s", "acct": KEY},
    "invite.link": {"space": "s", "pk": KEY},
    "invite.list": {"space": "s"},
    "invite.revoke": {"space": "s", "invite": "i"},
    "invite.accept": {"space": "s"},
    "invite.redeem": {"pk": KEY, "proof": SIG},
    "token": {"space": "s"},
    "publish": {"space": "s", "chan": "c", "id": "m1", "env": "AAAA"},
    "history": {"space": "s", "chan": "c"},
    "device.list": {"acct": KEY},
    "device.revoke": {"dev": KEY},
    "mailbox.put": {"dev": KEY, "payload": "AAAA"},
    "mailbox.fetch": {},
    "mailbox.ack": {"ids": [1]},
    "backup.put": {"blob": "AAAA", "version": 1},
    "backup.get": {},
    "prekey.put": {},
    "prekey.claim": {"devs": [KEY]},
    "keys.put": {"space": "s", "chan": "c", "sess": "x", "shares": {KEY: "AAAA"}},
    "keys.fetch": {"space": "s", "chan": "c", "sess": ["x"]},
    "space.devices": {"space": "s"},
    "link.open": {},
    "link.post": {"link": "abcdefghij", "msg": "AAAA"},
    "link.read": {"link": "abcdefghij"},
    "message.delete": {"space": "s", "chan": "c", "id": "m1"},
    "channel.ttl": {"space": "s", "chan": "c", "ttl_s": 0},
    "channel.mark": {"space": "s", "chan": "c"},
    "channel.receipts": {"space": "s", "chan": "c"},
    "space.unread": {"space": "s"},
    "account.settings": {},
}


def test_minimal_args_cover_every_op() -> None:
    assert set(MINIMAL_ARGS) == set(OPS)


@pytest.mark.parametrize("op", sorted(OPS))
def test_every_op_accepts_minimal_args(op: str) -> None:
    args = parse_args(op, MINIMAL_ARGS[op])
    assert type(args) is OPS[op]
    for field, value in MINIMAL_ARGS[op].items():
        assert getattr(args, field) == value


@pytest.mark.parametrize("op", sorted(OPS))
def test_every_op_refuses_unknown_field(op: str) -> None:
    message = refused(parse_args, op, MINIMAL_ARGS[op] | {"zz_unknown": 1},
                      code=ErrorCode.BAD_REQUEST)
    assert message.startswith(f"{op}: ")
    assert "zz_unknown" in message


@pytest.mark.parametrize("op", sorted(op for op in OPS if MINIMAL_ARGS[op]))
def test_every_op_refuses_missing_required_field(op: str) -> None:
    for field in MINIMAL_ARGS[op]:
        args = dict(MINIMAL_ARGS[op])
        del args[field]
        message = refused(parse_args, op, args, code=ErrorCode.BAD_REQUEST)
        assert f"`{field}`" in message


FULL_ARGS: dict[str, dict[str, Any]] = {
    "hello": {"cert": CERT, "name": "laptop"},
    "invite.key": {"space": "s", "acct": KEY, "role": "admin"},
    "invite.link": {"space": "s", "pk": KEY, "ttl_s": 60, "uses": 10_000, "role": "owner"},
    "token": {"space": "s", "chans": ["a", "b"]},
    "history": {"space": "s", "chan": "c", "before": 10, "after": 2, "limit": 200},
    "mailbox.fetch": {"after": 5, "limit": 200},
    "mailbox.ack": {"ids": [0, 1, 2]},
    "publish": {"space": "s", "chan": "c", "id": "m1", "env": "AAAA", "sess": "x", "re": "m0"},
    "channel.ttl": {"space": "s", "chan": "c", "ttl_s": MAX_CHANNEL_TTL_S},
    "channel.mark": {"space": "s", "chan": "c", "read": 3, "delivered": 4},
    "account.settings": {"receipts": False},
    "prekey.put": {"reset": True, "signed": "AAAA", "one_time": ["AAAA", "AAAB"]},
    "link.read": {"link": "abcdefghij", "after": 3},
}


@pytest.mark.parametrize("op", sorted(FULL_ARGS))
def test_optional_fields_accepted(op: str) -> None:
    args = parse_args(op, FULL_ARGS[op])
    for field, value in FULL_ARGS[op].items():
        assert getattr(args, field) == value


@pytest.mark.parametrize("op", ["nope", "space", "SPACE.LIST", "", "space.list ", "x" * 100])
def test_unknown_op(op: str) -> None:
    message = refused(parse_args, op, {}, code=ErrorCode.UNKNOWN_OP)
    assert message == f"unknown op {op[:40]!r}"


def test_defaults() -> None:
    assert parse_args("token", {"space": "s"}).chans == ["*"]  # type: ignore[attr-defined]
    link = parse_args("invite.link", {"space": "s", "pk": KEY})
    assert (link.ttl_s, link.uses, link.role) == (7 * 24 * 3600, 1, "member")  # type: ignore[attr-defined]
    assert parse_args("history", {"space": "s", "chan": "c"}).limit == 50  # type: ignore[attr-defined]


def test_envelope_size_limit() -> None:
    base = {"space": "s", "chan": "c", "id": "m1"}
    ok = b64e(bytes(MAX_ENVELOPE))
    assert parse_args("publish", base | {"env": ok}).env == ok  # type: ignore[attr-defined]
    message = refused(parse_args, "publish", base | {"env": b64e(bytes(MAX_ENVELOPE + 1))},
                      code=ErrorCode.BAD_REQUEST)
    assert "$.env" in message
    assert "$.env" in refused(parse_args, "publish", base | {"env": "AA=="},
                              code=ErrorCode.BAD_REQUEST)
    assert "$.env" in refused(parse_args, "publish", base | {"env": "A"},
                              code=ErrorCode.BAD_REQUEST)


def test_mailbox_payload_size_limit() -> None:
    parse_args("mailbox.put", {"dev": KEY, "payload": b64e(bytes(MAX_MAILBOX_PAYLOAD))})
    message = refused(parse_args, "mailbox.put",
                      {"dev": KEY, "payload": b64e(bytes(MAX_MAILBOX_PAYLOAD + 1))},
                      code=ErrorCode.BAD_REQUEST)
    assert "$.payload" in message


@pytest.mark.parametrize(("op", "args", "path"), [
    ("member.role", {"space": "s", "acct": KEY, "role": "root"}, "$.role"),
    ("member.role", {"space": "s", "acct": KEY[:-1], "role": "admin"}, "$.acct"),
    ("history", {"space": "s", "chan": "c", "limit": 201}, "$.limit"),
    ("history", {"space": "s", "chan": "c", "limit": 0}, "$.limit"),
    ("history", {"space": "s", "chan": "c", "limit": "5"}, "$.limit"),
    ("history", {"space": "s", "chan": "c", "before": -1}, "$.before"),
    ("invite.link", {"space": "s", "pk": KEY, "ttl_s": 59}, "$.ttl_s"),
    ("invite.link", {"space": "s", "pk": KEY, "uses": 10_001}, "$.uses"),
    ("space.create", {"name": ""}, "$.name"),
    ("space.create", {"name": "n" * 101}, "$.name"),
    ("space.rename", {"space": "a b", "name": "n"}, "$.space"),
    ("mailbox.ack", {"ids": []}, "$.ids"),
    ("mailbox.ack", {"ids": [True]}, "$.ids[0]"),
    ("host.claim", {"pk": KEY, "proof": "short"}, "$.proof"),
    ("token", {"space": "s", "chans": []}, "$.chans"),
    ("backup.put", {"blob": "AAAA", "version": 0}, "$.version"),
    ("hello", {"cert": CERT[:-1]}, "$.cert"),
    ("publish", {"space": "s", "chan": "c", "id": "m1", "env": "AAAA", "re": ""}, "$.re"),
    ("message.delete", {"space": "s", "chan": "c", "id": "x" * 65}, "$.id"),
    ("channel.ttl", {"space": "s", "chan": "c", "ttl_s": -1}, "$.ttl_s"),
    ("channel.ttl", {"space": "s", "chan": "c", "ttl_s": MAX_CHANNEL_TTL_S + 1}, "$.ttl_s"),
    ("channel.ttl", {"space": "s", "chan": "c", "ttl_s": 1.5}, "$.ttl_s"),
    ("channel.mark", {"space": "s", "chan": "c", "read": -1}, "$.read"),
    ("channel.mark", {"space": "s", "chan": "c", "delivered": "3"}, "$.delivered"),
    ("account.settings", {"receipts": 1}, "$.receipts"),
])
def test_bad_values_name_the_field(op: str, args: dict[str, Any], path: str) -> None:
    message = refused(parse_args, op, args, code=ErrorCode.BAD_REQUEST)
    assert message.startswith(f"{op}: ")
    assert path in message


def test_max_publish_request_fits_a_client_frame(device: DeviceKeys, host_id: str) -> None:
    from hearth.frames import ClientRequest, decode_client_frame, encode_frame
    from hearth.limits import MAX_BODY, MAX_CLIENT_FRAME

    args = {"space": "s" * 64, "chan": "c" * 64, "id": "i" * 64,
            "env": b64e(bytes(MAX_ENVELOPE))}
    _, text, sig = sign_request(device, host_id, "publish", args)
    assert len(text.encode()) <= MAX_BODY
    frame = encode_frame(ClientRequest(host=host_id, id="r" * 64, body=text, sig=sig))
    assert len(frame.encode()) <= MAX_CLIENT_FRAME
    req = decode_client_frame(frame)
    assert isinstance(req, ClientRequest)
    opened = open_request(req.body, req.sig)
    parse_args(opened.op, opened.a)
