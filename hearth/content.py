"""Message content: the plaintext inside an envelope (docs/protocol.md section 13.1).

The twin of ``web/chat/content.js``; both are held to ``tests/vectors/content.json``.

Invariants: :func:`encode` only produces plaintexts :func:`parse` accepts, in one
spelling (keys in the order of the spec's table, ``v`` and ``t`` first); :func:`parse`
accepts exactly the shapes of the spec and refuses anything else that has a ``v`` with
ProtocolError ``bad_content`` (the message names the field); a plaintext that is not a
JSON object with a ``v`` is plain text. Lengths count code points, never UTF-16 units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from hearth.errors import ErrorCode, ProtocolError

VERSION = 1
BODY_MAX = 4000
"""Characters (code points) of a text or edit body; at least one."""
QUOTE_MAX = 200
"""Characters of the parent a reply quotes (its first ones; may be empty)."""
MENTIONS_MAX = 50
EMOJI_MAX_BYTES = 32
ID_MAX = 64

_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{ID_MAX}}}")
_ACCOUNT = re.compile(r"[A-Za-z0-9_-]{43}")
_CONTROL = {*range(0x00, 0x20), *range(0x7F, 0xA0)}
"""General category Cc: a fixed set, the same in every Unicode version."""
_WHITE_SPACE = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                0x2028, 0x2029, 0x202F, 0x205F, 0x3000}
"""The Unicode White_Space property, spelled out so Python and JS agree on it exactly.
Format characters (ZWJ, variation selectors, tag characters of subdivision flags) are
parts of emoji and allowed."""
_NOT_EMOJI = frozenset(_CONTROL | _WHITE_SPACE)


@dataclass(frozen=True, slots=True)
class Reply:
    """The parent a text replies to, as its sender saw it."""

    id: str
    acct: str
    quote: str


@dataclass(frozen=True, slots=True)
class Text:
    """A message. ``plain``: the plaintext was not content (no ``v``), shown as is."""

    body: str
    reply: Reply | None = None
    mentions: tuple[str, ...] = ()
    plain: bool = False


@dataclass(frozen=True, slots=True)
class Edit:
    """A new version of ``target``'s body, valid only from ``target``'s author."""

    target: str
    body: str
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class React:
    """Add (``on``) or remove one emoji reaction of the sender on ``target``."""

    target: str
    emoji: str
    on: bool


Content = Text | Edit | React

_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "text": (("v", "t", "body"), ("reply", "mentions")),
    "edit": (("v", "t", "target", "body"), ("mentions",)),
    "react": (("v", "t", "target", "emoji", "on"), ()),
}
"""(required, optional) fields of each content type, in their encoded order."""


def _bad(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.BAD_CONTENT, message)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _text(value: Any, name: str, low: int, high: int) -> str:
    if not isinstance(value, str):
        raise _bad(f"{name} must be a string")
    if not low <= len(value) <= high:
        raise _bad(f"{name} must be {low} to {high} characters, not {len(value)}")
    return value


def _message_id(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"{name} must be a string")
    if not _ID.fullmatch(value):
        raise _bad(f"{name} must be a message id: 1 to {ID_MAX} characters of A-Z a-z 0-9 _ -")
    return value


def _account(value: Any, name: str) -> str:
    if not isinstance(value, str) or not _ACCOUNT.fullmatch(value):
        raise _bad(f"{name} must be an account key")
    return value


def _mentions(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MENTIONS_MAX:
        raise _bad(f"mentions must be a list of 1 to {MENTIONS_MAX} account keys")
    accts = tuple(_account(a, f"mentions[{i}]") for i, a in enumerate(value))
    if len(set(accts)) != len(accts):
        raise _bad("mentions must not repeat an account")
    return accts


def _emoji(value: Any) -> str:
    if not isinstance(value, str):
        raise _bad("emoji must be a string")
    size = len(value.encode("utf-8", "surrogatepass"))
    if not 1 <= size <= EMOJI_MAX_BYTES:
        raise _bad(f"emoji must be 1 to {EMOJI_MAX_BYTES} UTF-8 bytes, not {size}")
    if any(ord(ch) in _NOT_EMOJI for ch in value):
        raise _bad("emoji must not hold whitespace or control characters")
    return value


def _only_fields(obj: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...],
                 where: str) -> None:
    for key in obj:
        if key not in required and key not in optional:
            raise _bad(f"unknown field {where}.{key}")
    for key in required:
        if key not in obj:
            raise _bad(f"missing field {where}.{key}")


def _reply(value: Any) -> Reply:
    if not isinstance(value, dict):
        raise _bad("reply must be an object")
    _only_fields(value, ("id", "acct", "quote"), (), "reply")
    return Reply(_message_id(value["id"], "reply.id"), _account(value["acct"], "reply.acct"),
                 _text(value["quote"], "reply.quote", 0, QUOTE_MAX))


def check(obj: Any) -> Content:
    """A decoded JSON value as content, or ProtocolError ``bad_content``."""
    if not isinstance(obj, dict):
        raise _bad("content must be a JSON object")
    version = obj.get("v")
    if isinstance(version, bool) or version != VERSION:
        raise _bad(f"unsupported content version {_json(version)}")
    if "t" not in obj:
        raise _bad("missing field content.t")
    kind = obj["t"]
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise _bad(f"unknown content type {_json(kind)}")
    _only_fields(obj, *_FIELDS[kind], "content")
    if kind == "text":
        return Text(_text(obj["body"], "body", 1, BODY_MAX),
                    _reply(obj["reply"]) if "reply" in obj else None,
                    _mentions(obj["mentions"]) if "mentions" in obj else ())
    if kind == "edit":
        return Edit(_message_id(obj["target"], "target"), _text(obj["body"], "body", 1, BODY_MAX),
                    _mentions(obj["mentions"]) if "mentions" in obj else ())
    if not isinstance(obj["on"], bool):
        raise _bad("on must be true or false")
    return React(_message_id(obj["target"], "target"), _emoji(obj["emoji"]), obj["on"])


def parse(plaintext: bytes) -> Content:
    """What a decrypted plaintext says: content, or plain :class:`Text` when it is not a
    JSON object with a ``v`` field; ProtocolError ``bad_content`` when it has ``v`` but
    does not parse. Bytes that are not UTF-8 are plain text with U+FFFD for each bad
    sequence, as a browser's TextDecoder shows them."""
    decoded = plaintext.decode("utf-8", "replace")
    try:
        obj = orjson.loads(decoded)
    except orjson.JSONDecodeError:
        return Text(decoded, plain=True)
    if not isinstance(obj, dict) or "v" not in obj:
        return Text(decoded, plain=True)
    return check(obj)


def as_dict(content: Content) -> dict[str, Any]:
    """The JSON object of ``content``, fields in encoded order (optional ones only if set)."""
    out: dict[str, Any] = {"v": VERSION}
    if isinstance(content, Text):
        out |= {"t": "text", "body": content.body}
        if content.reply is not None:
            r = content.reply
            out["reply"] = {"id": r.id, "acct": r.acct, "quote": r.quote}
    elif isinstance(content, Edit):
        out |= {"t": "edit", "target": content.target, "body": content.body}
    else:
        return out | {"t": "react", "target": content.target, "emoji": content.emoji,
                      "on": content.on}
    if content.mentions:
        out["mentions"] = list(content.mentions)
    return out


def encode(content: Content) -> bytes:
    """The plaintext of ``content``; checked first, so a peer never refuses what we send
    (a ``plain`` Text is encoded as content too)."""
    obj = as_dict(content)
    check(obj)
    return orjson.dumps(obj)


def target_of(content: Content) -> str | None:
    """The message an annotation acts on (published as ``re``); None for a text."""
    return None if isinstance(content, Text) else content.target


def text(body: str, *, reply_to: tuple[str, str, str] | None = None,
         mentions: tuple[str, ...] | list[str] = ()) -> Text:
    """A text; ``reply_to`` is the parent's (id, author account, current body), of which
    the first QUOTE_MAX characters are quoted."""
    reply = None if reply_to is None else Reply(reply_to[0], reply_to[1],
                                                reply_to[2][:QUOTE_MAX])
    made = Text(body, reply, tuple(mentions))
    check(as_dict(made))
    return made
