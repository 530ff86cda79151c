"""hearth.b64: unpadded base64url, strictly decoded."""

from __future__ import annotations

import base64
import re

import pytest

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError

URL_ALPHABET = re.compile(r"^[A-Za-z0-9_-]*$")


def refused(text: object, **kwargs: object) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        b64d(text, **kwargs)  # type: ignore[arg-type]
    assert info.value.code is ErrorCode.BAD_FRAME
    return info.value


@pytest.mark.parametrize("length", range(0, 70))
def test_round_trip_every_length(length: int) -> None:
    data = bytes((i * 37 + length) % 256 for i in range(length))
    text = b64e(data)
    assert "=" not in text
    assert URL_ALPHABET.match(text)
    assert text == base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert b64d(text) == data
    assert b64d(text, size=length) == data


def test_uses_url_alphabet() -> None:
    # 0xfb 0xff encodes to "+/8=" in standard base64.
    assert b64e(b"\xfb\xff") == "-_8"
    assert b64d("-_8") == b"\xfb\xff"


def test_known_values() -> None:
    assert b64e(b"") == ""
    assert b64e(b"f") == "Zg"
    assert b64e(b"fo") == "Zm8"
    assert b64e(b"foo") == "Zm9v"
    assert b64d("Zm9vYg") == b"foob"


@pytest.mark.parametrize("text", ["Zg==", "Zm8=", "Zg=", "=", "Zm9v====", "Z=g"])
def test_padding_refused(text: str) -> None:
    err = refused(text, field="nonce")
    assert err.message.startswith("nonce: ")
    assert repr(text) in err.message


@pytest.mark.parametrize(
    "text",
    ["Zm9*", "Zm 9v", "Zm9v\n", " Zm9v", "Zm9v.", "Zé9v", "Zm9v\x00", "Z", "Zm9vY"],
)
def test_invalid_characters_and_lengths_refused(text: str) -> None:
    err = refused(text, field="sig")
    assert err.message.startswith("sig: ")
    assert "not unpadded base64url" in err.message
    assert repr(text) in err.message


@pytest.mark.parametrize("text", ["ab+c", "ab/c", "+/8", "-_8+"])
def test_standard_alphabet_characters_refused(text: str) -> None:
    """'+' and '/' belong to standard base64, not base64url: refused like any stray char.

    BUG (hearth/b64.py:21): base64.b64decode(altchars=b"-_") translates '-' and '_'
    to '+' and '/' and then accepts the original '+' and '/' as well, so
    b64d("ab+c") returns b"i\\xbf\\x9c" instead of raising.
    """
    err = refused(text, field="pk")
    assert repr(text) in err.message


@pytest.mark.parametrize(("text", "canonical"), [("AB", "AA"), ("AAB", "AAA"), ("Zh", "Zg")])
def test_non_canonical_encoding_refused(text: str, canonical: str) -> None:
    """Only one text may decode to given bytes (b64e(b64d(t)) == t).

    BUG (hearth/b64.py:21): the unused low bits of the last character are not checked,
    so "AB" and "AA" both decode to b"\\x00" (4 different texts per 32-byte key).
    """
    assert b64e(b64d(canonical)) == canonical  # the canonical text is fine
    refused(text)


@pytest.mark.parametrize("value", [b"Zm9v", None, 12, ["Zm9v"]])
def test_non_string_refused(value: object) -> None:
    err = refused(value, field="cert")
    assert err.message.startswith("cert: ")


def test_long_bad_value_is_truncated_in_message() -> None:
    text = "*" * 1000
    err = refused(text)
    assert repr("*" * 64) in err.message
    assert "*" * 65 not in err.message


@pytest.mark.parametrize(("length", "size"), [(31, 32), (33, 32), (0, 32), (63, 64), (65, 64)])
def test_wrong_size_refused(length: int, size: int) -> None:
    err = refused(b64e(b"\x01" * length), field="pk", size=size)
    assert err.message == f"pk: expected {size} bytes, got {length}"


def test_default_field_name() -> None:
    err = refused("a=")
    assert err.message.startswith("value: ")
