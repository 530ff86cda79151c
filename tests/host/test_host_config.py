"""The data directory: init, key file modes, refusals, owner claims."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from hearth.b64 import b64d
from hearth.invite_link import invite_public_key
from hearth.keys import host_id_from_public_key
from host.config import (
    create_owner_claim,
    db_path,
    has_owner,
    host_id_of,
    init_host,
    is_initialised,
    key_path,
    load_host_key,
)
from host.errors import HostConfigError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_private_dir_key_and_database(tmp_path: Path) -> None:
    data = tmp_path / "a" / "host"
    host_id = init_host(data)
    assert mode(data) == 0o700
    assert mode(key_path(data)) == 0o600
    assert mode(db_path(data)) == 0o600
    key = load_host_key(data)
    assert host_id == host_id_from_public_key(bytes(key.verify_key)) == host_id_of(data)
    assert len(key_path(data).read_text().strip()) == 43  # 32-byte seed, base64url
    assert is_initialised(data) and not has_owner(data)


def test_init_tightens_a_pre_existing_directory(tmp_path: Path) -> None:
    data = tmp_path / "host"
    data.mkdir(mode=0o755)
    init_host(data)
    assert mode(data) == 0o700


def test_init_refuses_an_initialised_directory(tmp_path: Path) -> None:
    data = tmp_path / "host"
    first = init_host(data)
    with pytest.raises(HostConfigError, match="already initialised"):
        init_host(data)
    assert host_id_of(data) == first  # the identity was not replaced


def test_load_refuses_missing_unsafe_and_malformed_keys(tmp_path: Path) -> None:
    data = tmp_path / "host"
    with pytest.raises(HostConfigError, match="hearth host init"):
        load_host_key(data)
    init_host(data)
    os.chmod(key_path(data), 0o644)
    with pytest.raises(HostConfigError, match="mode 0644"):
        load_host_key(data)
    os.chmod(key_path(data), 0o600)
    key_path(data).write_text("not a key!\n")
    with pytest.raises(HostConfigError, match="malformed"):
        load_host_key(data)


def test_owner_claim_stores_only_a_public_key_with_a_seven_day_expiry(data_dir: Path) -> None:
    secret = create_owner_claim(data_dir)
    with sqlite3.connect(db_path(data_dir)) as conn:
        rows = conn.execute(
            "SELECT pk, expires_at - created_at, used_at FROM owner_claims"
        ).fetchall()
    assert rows == [(b64d(invite_public_key(secret)), 7 * 24 * 3600 * 1000, None)]
    assert secret.encode() not in db_path(data_dir).read_bytes()


def test_owner_claim_refuses_an_uninitialised_dir(tmp_path: Path) -> None:
    with pytest.raises(HostConfigError):
        create_owner_claim(tmp_path / "nothing")
