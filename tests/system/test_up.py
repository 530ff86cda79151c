"""`hearth up`, the README's first command, gives a relay + host a client can use end to end."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from hearth.client import Client
from hearth.identity import Identity
from hearth.invite_link import InviteLink
from tests.conftest import free_port, spawn


async def test_up_serves_a_working_community(tmp_path: Path) -> None:
    port = free_port()
    up = spawn(tmp_path / "up.log", "up", "--port", str(port), "--data", str(tmp_path / "data"))
    try:
        deadline = time.monotonic() + 30
        while "Owner link:" not in up.output():
            assert up.proc.poll() is None, up.output()
            assert time.monotonic() < deadline, up.output()
            await asyncio.sleep(0.05)
        printed = up.output()
        link_text = re.search(r"Owner link:\s+(\S+)", printed)
        assert link_text is not None, printed
        claim = InviteLink.parse(link_text.group(1))
        assert claim.kind == "claim" and claim.base_url == f"http://127.0.0.1:{port}"
        assert f"Host id:     {claim.host_id}" in printed

        owner = Client(Identity.generate(), claim.relay_ws_url)
        for _ in range(200):  # the relay may still be starting
            try:
                await owner.connect()
                break
            except OSError:
                await asyncio.sleep(0.05)
        api = owner.host(claim.host_id)
        for _ in range(200):  # and the host may still be dialling in
            try:
                await api.hello("owner")
                break
            except Exception as exc:  # host_offline until the node has authenticated
                assert "host_offline" in str(exc), exc
                await asyncio.sleep(0.05)
        await api.claim(claim.secret)
        space = (await api.create_space("first"))["space"]
        await api.subscribe(space["id"])
        ack = await api.publish(space["id"], space["channels"][0]["id"], b"hello, hearth")
        event = await owner.next_event()
        assert (event.seq, event.envelope) == (ack["seq"], b"hello, hearth")
        await owner.close()
        assert (tmp_path / "data" / "hearth.sqlite3").exists()
    finally:
        assert up.stop() == 0, up.output()
