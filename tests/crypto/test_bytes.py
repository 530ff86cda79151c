"""hearth.b64 on the shared vectors that web/crypto/bytes.js must also pass."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from tests.crypto._vectors import h, load

SHARED = load("hearth_primitives.json")["base64url"]


ENCODE = SHARED["encode"]


@pytest.mark.parametrize("case", ENCODE, ids=[c["text"] or "empty" for c in ENCODE])
def test_encode_decode(case: dict[str, Any]) -> None:
    assert b64e(h(case["bytes"])) == case["text"]
    assert b64d(case["text"]) == h(case["bytes"])


@pytest.mark.parametrize("text", SHARED["reject"])
def test_reject(text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        b64d(text)
    assert info.value.code is ErrorCode.BAD_FRAME
