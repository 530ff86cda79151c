"""hearth.content against tests/vectors/content.json (web/chat/content.js reads the same
file), and the file itself is what scripts/make_content_vectors.py writes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from hearth import content
from hearth.errors import ErrorCode, ProtocolError
from tests.crypto._vectors import load

V = load("content.json")
ROOT = Path(__file__).resolve().parent.parent.parent
A = "A" * 43


def names(cases: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for c in cases]


def test_file_is_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_content_vectors", ROOT / "scripts/make_content_vectors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert json.loads(json.dumps(module.build(), ensure_ascii=False)) == V


def test_limits_are_the_spec_s() -> None:
    assert V["limits"] == {"body": 4000, "quote": 200, "mentions": 50, "emoji_bytes": 32,
                           "id": 64}


@pytest.mark.parametrize("case", V["valid"], ids=names(V["valid"]))
def test_valid_content_parses_and_encodes_canonically(case: dict[str, Any]) -> None:
    parsed = content.parse(case["plaintext"].encode())
    assert content.as_dict(parsed) == case["content"]
    assert not isinstance(parsed, content.Text) or not parsed.plain
    if case["canonical"]:
        assert content.encode(parsed) == case["plaintext"].encode()
    assert content.parse(content.encode(parsed)) == parsed


@pytest.mark.parametrize("case", V["plain"], ids=names(V["plain"]))
def test_anything_without_v_is_plain_text(case: dict[str, Any]) -> None:
    parsed = content.parse(case["plaintext"].encode())
    assert parsed == content.Text(case["plaintext"], plain=True)
    assert case["content"] == {"v": 1, "t": "text", "body": case["plaintext"]}


@pytest.mark.parametrize("case", V["invalid"], ids=names(V["invalid"]))
def test_invalid_content_is_refused_naming_the_field(case: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as refused:
        content.parse(case["plaintext"].encode())
    assert (refused.value.code, refused.value.message) == (ErrorCode.BAD_CONTENT, case["msg"])
    assert case["code"] == "bad_content"


def test_bytes_that_are_not_utf8_are_plain_text_with_replacement_characters() -> None:
    assert content.parse(b"caf\xc3 ok") == content.Text("caf\ufffd ok", plain=True)


def test_encode_refuses_what_a_peer_would_refuse() -> None:
    for bad, msg in [
        (content.Text(""), "body must be 1 to 4000 characters, not 0"),
        (content.Edit("m1", "x", (A, A)), "mentions must not repeat an account"),
        (content.React("m1", "\U0001F44D ", True),
         "emoji must not hold whitespace or control characters"),
        (content.React("m 1", "+", False),
         "target must be a message id: 1 to 64 characters of A-Z a-z 0-9 _ -"),
    ]:
        with pytest.raises(ProtocolError) as refused:
            content.encode(bad)
        assert (refused.value.code, refused.value.message) == (ErrorCode.BAD_CONTENT, msg)


def test_a_reply_quotes_the_first_200_characters_of_its_parent() -> None:
    made = content.text("yes", reply_to=("m1", A, "\U0001F600" * 300), mentions=[A])
    assert made.reply == content.Reply("m1", A, "\U0001F600" * 200)
    assert content.parse(content.encode(made)) == made
    assert content.target_of(made) is None
    assert content.target_of(content.React("m1", "+", True)) == "m1"
    with pytest.raises(ProtocolError) as refused:
        content.text("x" * 4001)
    assert refused.value.message == "body must be 1 to 4000 characters, not 4001"
