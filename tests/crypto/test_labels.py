"""hearth.crypto.labels: prefix-free, versioned, and the same strings the JS uses."""

from __future__ import annotations

import itertools

from hearth.crypto.labels import Label
from tests.crypto._vectors import load


def test_labels_are_versioned_ascii_and_prefix_free() -> None:
    values = [label.value for label in Label]
    assert len(set(values)) == len(values)
    for value in values:
        assert value.startswith(b"hearth/v1/") and value.isascii()
    for a, b in itertools.permutations(values, 2):
        assert not b.startswith(a), (a, b)


def test_shared_vectors_pin_every_label() -> None:
    pinned = load("hearth_primitives.json")["labels"]
    assert pinned == {label.name: label.value.decode("ascii") for label in Label}
