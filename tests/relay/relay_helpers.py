"""Test helpers: a real relay (uvicorn on 127.0.0.1, free port) and real authenticated peers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import orjson
from nacl.signing import SigningKey
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from hearth.auth import client_hello, host_hello
from hearth.b64 import b64e
from hearth.frames import Challenge, encode_frame
from hearth.keys import DeviceKeys, host_id_from_public_key, new_device, now_ms
from hearth.rpc import EventBody, sign_host_body
from hearth.token import issue_token
from relay.hub import Hub
from relay.server import RelayServer, build_server
from relay.settings import RelaySettings

FAST = RelaySettings(sweep_interval=0.05, close_timeout=1.0, shutdown_grace=2.0)
"""Test defaults: production values except a sweep fast enough to observe expiries."""


@dataclass
class RelayHandle:
    url: str
    http: str
    hub: Hub
    server: RelayServer
    settings: RelaySettings


@contextlib.asynccontextmanager
async def running_relay(**overrides: Any) -> AsyncIterator[RelayHandle]:
    settings = replace(FAST, **overrides)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = build_server(replace(settings, port=port))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            raise RuntimeError("relay did not start")
        await asyncio.sleep(0.01)
    try:
        yield RelayHandle(f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}", server.hub, server,
                    settings)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()


class Peer:
    """A real WebSocket client with JSON helpers; every wait is bounded."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, frame: Any) -> None:
        if isinstance(frame, str | bytes):
            await self.ws.send(frame)
        elif isinstance(frame, dict):
            await self.ws.send(orjson.dumps(frame).decode())
        else:
            await self.ws.send(encode_frame(frame))

    async def recv(self, within: float = 2.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), within)
        frame: dict[str, Any] = orjson.loads(raw)
        return frame

    async def expect(self, t: str, within: float = 2.0) -> dict[str, Any]:
        frame = await self.recv(within)
        assert frame["t"] == t, frame
        return frame

    async def expect_error(self, code: str, ref: str | None = None) -> dict[str, Any]:
        frame = await self.expect("error")
        assert frame["code"] == code, frame
        if ref is not None:
            assert frame["ref"] == ref, frame
        return frame

    async def silent(self, for_s: float = 0.2) -> None:
        """Assert that no frame arrives for ``for_s`` seconds."""
        with contextlib.suppress(TimeoutError):
            frame = await asyncio.wait_for(self.ws.recv(), for_s)
            raise AssertionError(f"unexpected frame {frame!r}")

    async def closed(self, within: float = 3.0) -> tuple[int | None, str]:
        """Drain frames until the relay closes; (close code, reason)."""
        async with asyncio.timeout(within):
            with contextlib.suppress(ConnectionClosed):
                while True:
                    await self.ws.recv()
        rcvd = self.ws.protocol.close_rcvd
        return (rcvd.code, rcvd.reason) if rcvd else (None, "")

    async def alive(self, n: int = 7) -> None:
        """Prove the connection still works: ping, get the matching pong."""
        await self.send({"t": "ping", "n": n})
        assert (await self.expect("pong"))["n"] == n

    async def close(self) -> None:
        await self.ws.close()


async def open_peer(relay: RelayHandle, path: str, **kwargs: Any) -> tuple[Peer, Challenge]:
    ws = await connect(f"{relay.url}{path}", max_size=2**21, **kwargs)
    peer = Peer(ws)
    first = await peer.expect("challenge")
    return peer, Challenge(nonce=first["nonce"])


@dataclass
class HostPeer:
    peer: Peer
    key: SigningKey
    id: str

    def token(self, device: DeviceKeys, space: str = "s1", chans: list[str] | None = None,
              *, scopes: list[str] | None = None, iat: int | None = None,
              lifetime_ms: int = 60_000) -> str:
        wire, _ = issue_token(
            self.key, device=device.public_key, account=device.account, space=space,
            channels=chans or ["general"], scopes=scopes or ["read"],
            issued_at_ms=now_ms() if iat is None else iat, lifetime_ms=lifetime_ms,
        )
        return wire

    def pub(self, space: str = "s1", chan: str = "general", seq: int = 1,
            env: str = "AAAA") -> dict[str, Any]:
        body, sig = sign_host_body(self.key, EventBody(
            v=1, host=self.id, space=space, chan=chan, k="msg", seq=seq, id=f"m{seq}",
            ts=now_ms(), env=env,
        ))
        return {"t": "pub", "space": space, "chan": chan, "body": body, "sig": sig}


async def connect_host(
    relay: RelayHandle, key: SigningKey | None = None, **kwargs: Any
) -> HostPeer:
    key = key or SigningKey.generate()
    peer, challenge = await open_peer(relay, "/ws/host", **kwargs)
    await peer.send(host_hello(key, challenge))
    welcome = await peer.expect("host_welcome")
    host_id = host_id_from_public_key(bytes(key.verify_key))
    assert welcome["host"] == host_id
    return HostPeer(peer, key, host_id)


@dataclass
class ClientPeer:
    peer: Peer
    device: DeviceKeys
    conn: str

    async def subscribe(self, host: HostPeer, space: str = "s1",
                        chans: list[str] | None = None) -> dict[str, Any]:
        chans = chans or ["general"]
        await self.peer.send({"t": "sub", "token": host.token(self.device, space, chans),
                              "chans": chans})
        return await self.peer.expect("subbed")


async def connect_client(
    relay: RelayHandle, device: DeviceKeys | None = None, **kwargs: Any
) -> ClientPeer:
    device = device or new_device(SigningKey.generate())
    peer, challenge = await open_peer(relay, "/ws/client", **kwargs)
    await peer.send(client_hello(device, challenge))
    welcome = await peer.expect("welcome")
    assert welcome["acct"] == b64e(device.account)
    assert welcome["dev"] == b64e(device.public_key)
    return ClientPeer(peer, device, welcome["conn"])
