"""Replacing the host's signing key (``hearth host rotate-key``).

The host id is derived from the key, so a new key is a new host id. What that means,
stated in CONSEQUENCES and printed by the command, is the honest part: nothing tells
members; they reach the host again only once someone gives them the new id.

Invariants: refused while a node runs on the data dir (it holds the old key in
memory); ``host.key`` is replaced atomically (the new key is written and fsynced
beside it, the old one hard-linked to ``host.key.retired-<ms>``, then renamed over), so
at every instant ``host.key`` is one whole key; the retired key's public half and host
id are recorded in the database first, so ``hearth host status`` lists every id the
host has had.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nacl.signing import SigningKey

from hearth.b64 import b64e
from hearth.keys import now_ms
from host.config import db_path, host_id_for, key_path, load_host_key
from host.node_status import refuse_if_running
from host.store import connect_sync, prepare_database

CONSEQUENCES = """\
What changes with a new host key:
  - The host id changes. Clients address a host by its id, so every member must be
    given the new id (or a new link); nothing tells them automatically, and to them
    the old id simply stays offline.
  - Invite links and owner links already handed out name the old id: make new ones.
  - Capability tokens signed with the old key stop mattering (they name the old id).
What stays:
  - Spaces, channels, members, roles, devices, messages and key backups: the database
    is untouched. Message content was never readable by the host, with either key.
Why rotate: if the old key may have leaked, whoever holds it can impersonate this
host to clients that still use the old id, and only to them. The old key is kept as
host.key.retired-<ms> so you can roll back; delete it once members have moved."""


@dataclass(frozen=True, slots=True)
class Rotation:
    old_host_id: str
    new_host_id: str
    retired_key: Path


def _write_key(path: Path, key: SigningKey) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(b64e(bytes(key)) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def rotate_host_key(data_dir: Path) -> Rotation:
    old = load_host_key(data_dir)  # refuses a missing or unsafe key, naming the file
    refuse_if_running(data_dir, "rotate the host key")
    now = now_ms()
    current = key_path(data_dir)
    fresh = current.with_name(f".{current.name}.new")
    retired = current.with_name(f"{current.name}.retired-{now}")
    new = SigningKey.generate()
    fresh.unlink(missing_ok=True)  # left over from an interrupted rotation
    _write_key(fresh, new)
    prepare_database(db_path(data_dir))
    conn = connect_sync(db_path(data_dir))
    try:
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO retired_host_keys (pk, host_id, retired_at) VALUES (?, ?, ?)",
                (bytes(old.verify_key), host_id_for(old), now),
            )
    finally:
        conn.close()
    os.link(current, retired)
    os.replace(fresh, current)
    dir_fd = os.open(data_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)
    return Rotation(host_id_for(old), host_id_for(new), retired)
