"""Load the JSON vector files under tests/vectors (shared with the node suite in tests/js)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def load(name: str) -> Any:
    """The parsed JSON of tests/vectors/``name``."""
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def h(text: str) -> bytes:
    """Hex to bytes."""
    return bytes.fromhex(text)


def wycheproof(name: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (group, test) of tests/vectors/wycheproof/``name``."""
    data = load(f"wycheproof/{name}")
    for group in data["testGroups"]:
        for test in group["tests"]:
            yield group, test


def wycheproof_ids(name: str) -> list[str]:
    return [f"tc{t['tcId']}-{t['result']}" for _, t in wycheproof(name)]


def assert_known_flags(name: str, known: dict[str, str]) -> None:
    """Every flag in the file is one we considered (``known`` says how each is handled)."""
    seen = {flag for _, test in wycheproof(name) for flag in test["flags"]}
    assert seen <= set(known), f"{name}: review new Wycheproof flags {sorted(seen - set(known))}"
