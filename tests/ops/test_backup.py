"""Backup while the node writes, restore into a fresh data dir, and every refusal."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from tests.conftest import FAST_RATES, Community, Host, Relay, connect_user, start_host
from tests.ops.support import ok, refused, run, terminate


@pytest.mark.relay_args(*FAST_RATES)
async def test_backup_while_writing_is_consistent_and_restores(
    relay: Relay, host: Host, community: Community, tmp_path: Path,
) -> None:
    api = community.owner.host(host.host_id)
    space, general = community.space, community.general
    acked: list[int] = []
    backup = tmp_path / "backup.sqlite3"
    fifty = asyncio.Event()

    async def publish(count: int) -> None:
        for i in range(count):
            acked.append((await api.publish(space, general, f"m{i}".encode()))["seq"])
            if len(acked) == 50:
                fifty.set()

    writer = asyncio.create_task(publish(300))
    await asyncio.wait_for(fifty.wait(), 30)  # the backup starts mid-stream
    done = await asyncio.to_thread(run, "host", "backup", "--data", str(host.data), str(backup))
    assert done.returncode == 0, done.stderr
    assert "the host key is not in the backup" in done.stderr
    await writer
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600

    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        last = conn.execute("SELECT last_seq FROM channels WHERE id = ?", (general,)).fetchone()[0]
        seqs = [r[0] for r in conn.execute(
            "SELECT seq FROM messages WHERE channel_id = ? ORDER BY seq", (general,))]
        assert not (tmp_path / "backup.sqlite3-wal").exists()
    # One snapshot: the counter and the rows agree, with no gap, mid-stream.
    assert 50 <= last <= 300
    assert seqs == list(range(1, last + 1))

    err = refused("host", "backup", "--data", str(host.data), str(backup))
    assert f"{str(backup)!r} already exists; choose a new file name" in err

    # Restore: a fresh data dir holding only the key, while the original is stopped.
    fresh = tmp_path / "restored"
    fresh.mkdir(mode=0o700)
    err = refused("host", "restore", "--data", str(fresh), str(backup))
    assert f"no host key at '{fresh}/host.key'" in err
    shutil.copy2(host.data / "host.key", fresh / "host.key")
    err = refused("host", "restore", "--data", str(host.data), str(backup), "--force")
    assert f"a host node (pid {host.process.proc.pid}) is running" in err
    out = ok("host", "restore", "--data", str(fresh), str(backup))
    assert f"restored {backup} into {fresh / 'hearth.sqlite3'}" in out
    assert terminate(host.process) == 0

    again = start_host(tmp_path, relay, fresh)
    try:
        assert again.host_id == host.host_id
        reader = await connect_user(relay, again, "owner", community.owner.identity)
        restored: list[int] = []
        while True:
            page = await reader.host(again.host_id).history(
                space, general, after=restored[-1] if restored else 0, limit=200)
            restored += [m["seq"] for m in page["messages"]]
            if not page["more"]:
                break
        assert restored == seqs
        await reader.close()
    finally:
        again.process.stop()


def test_restore_refuses_what_is_not_a_hearth_backup(tmp_path: Path) -> None:
    data = tmp_path / "h"
    ok("host", "init", "--data", str(data))
    copy = tmp_path / "copy.sqlite3"
    ok("host", "backup", "--data", str(data), str(copy))

    err = refused("host", "restore", "--data", str(data), str(copy))
    assert "already exists; pass --force to set it aside and restore" in err
    out = ok("host", "restore", "--data", str(data), str(copy), "--force")
    aside = list(data.glob("hearth.sqlite3.before-restore-*"))
    assert len(aside) == 1 and f"previous database kept at {aside[0]}" in out

    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database at all" * 100)
    err = refused("host", "restore", "--data", str(data), str(garbage), "--force")
    assert f"{str(garbage)!r} is not a readable SQLite database" in err

    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (x)")
    err = refused("host", "restore", "--data", str(data), str(other), "--force")
    assert f"{str(other)!r} is not a Hearth host database (schema 0" in err

    err = refused("host", "restore", "--data", str(data), str(tmp_path / "nope.sqlite3"))
    assert "does not exist" in err
