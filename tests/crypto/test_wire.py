"""hearth.crypto.wire: integers mean the same in Python and JavaScript."""

from __future__ import annotations

from hearth.crypto.wire import MAX_SAFE_INTEGER, Reader
from hearth.errors import ErrorCode
from tests.crypto._e2e import refused


def test_integers_above_2_53_are_refused() -> None:
    assert Reader(MAX_SAFE_INTEGER.to_bytes(8, "big"), "x", ErrorCode.BAD_ENVELOPE).uint(8) \
        == 2**53 - 1
    message = refused(ErrorCode.BAD_ENVELOPE,
                      Reader((2**53).to_bytes(8, "big"), "x", ErrorCode.BAD_ENVELOPE).uint, 8)
    assert message == f"x: integer {2**53} at offset 0 exceeds 2**53 - 1"
