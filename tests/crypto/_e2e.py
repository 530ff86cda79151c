"""Shared fixtures for the end-to-end format tests: fresh keys and a refusal checker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hearth.errors import ErrorCode, ProtocolError

HOST = "7n7ajzh3xjt6mbqzpsqxwrdgdz7ln2fd3uyxkp7qd5mwdyxzw3ga5eaq"


def refused(code: ErrorCode, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Call ``fn``; it must raise ProtocolError(code). Returns the message."""
    with pytest.raises(ProtocolError) as caught:
        fn(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value.message
