"""hearth.e2e.trust: trust on first use, verified marks tied to one key, loud key changes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hearth.e2e.trust import KeyStatus, TrustStore

A, B = bytes(32), bytes([1]) * 32


def test_first_use_same_and_changed(tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    store = TrustStore(path)
    assert store.observe("bob", A) is KeyStatus.NEW
    store.mark_verified("bob", A)
    assert TrustStore(path).is_verified("bob", A)  # persisted
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.observe("bob", A) is KeyStatus.SAME
    assert store.observe("bob", B) is KeyStatus.CHANGED
    assert not store.is_verified("bob", B) and not store.is_verified("bob", A)
    reloaded = TrustStore(path)
    assert (reloaded.contacts["bob"].account, reloaded.contacts["bob"].previous) == (B, A)


def test_only_the_key_on_record_can_be_marked_verified() -> None:
    store = TrustStore()
    store.observe("bob", A)
    with pytest.raises(ValueError, match="is not the one on record"):
        store.mark_verified("bob", B)
