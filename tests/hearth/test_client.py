"""The Python client against a hostile relay: it accepts only what the host really signed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
from nacl.signing import SigningKey
from websockets.asyncio.server import ServerConnection, serve

from hearth.auth import new_challenge, verify_client_hello
from hearth.b64 import b64e
from hearth.client import Client, RequestError
from hearth.frames import Hello, decode_frame, encode_frame
from hearth.identity import Identity
from hearth.keys import host_id_from_public_key, now_ms
from hearth.rpc import EventBody, RequestBody, ResponseBody, load_body, sign_host_body
from tests.conftest import free_port

HOST_KEY = SigningKey.generate()
HOST_ID = host_id_from_public_key(bytes(HOST_KEY.verify_key))


class HostileRelay:
    """Authenticates the client, then answers each request with ``script(request)``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.outbox: asyncio.Queue[list[dict[str, object]]] = asyncio.Queue()
        self.requests: asyncio.Queue[RequestBody] = asyncio.Queue()

    async def handler(self, ws: ServerConnection) -> None:
        challenge = new_challenge()
        await ws.send(encode_frame(challenge))
        cert = verify_client_hello(challenge, decode_frame(await ws.recv(), Hello))
        await ws.send(orjson.dumps({"t": "welcome", "conn": "c1", "acct": b64e(cert.account),
                                    "dev": b64e(cert.device)}).decode())

        async def forward() -> None:
            while True:
                for frame in await self.outbox.get():
                    await ws.send(orjson.dumps(frame).decode())

        sender = asyncio.create_task(forward())
        try:
            async for raw in ws:
                frame = orjson.loads(raw)
                if frame["t"] == "req":
                    self.requests.put_nowait(load_body(frame["body"].encode(), RequestBody))
        finally:
            sender.cancel()


def response(request: RequestBody, *, dev: str | None = None, key: SigningKey = HOST_KEY,
             r: dict[str, object] | None = None) -> dict[str, object]:
    text, sig = sign_host_body(key, ResponseBody(
        v=1, host=HOST_ID, dev=dev or request.dev, re=request.n, ok=True, r=r or {"n": 1}))
    return {"t": "resp", "host": HOST_ID, "body": text, "sig": sig}


def event(chan: str, *, key: SigningKey = HOST_KEY, k: str = "msg",
          info: dict[str, object] | None = None) -> dict[str, object]:
    body = (EventBody(v=1, host=HOST_ID, space="s", chan=chan, k=k, seq=1, id="m",
                      ts=now_ms(), env="AAAA") if k == "msg" else
            EventBody(v=1, host=HOST_ID, space="s", chan=chan, k=k, ts=now_ms(), info=info))
    text, sig = sign_host_body(key, body)
    return {"t": "event", "host": HOST_ID, "space": "s", "chan": "general", "body": text,
            "sig": sig}


@pytest.fixture
async def hostile() -> AsyncIterator[tuple[HostileRelay, Client]]:
    relay = HostileRelay()
    async with serve(relay.handler, "127.0.0.1", relay.port, compression=None):
        client = Client(Identity.generate(), f"ws://127.0.0.1:{relay.port}", request_timeout=2)
        await client.connect()
        yield relay, client
        await client.close()


async def test_forged_and_misaddressed_responses_are_dropped(
    hostile: tuple[HostileRelay, Client],
) -> None:
    relay, client = hostile
    pending = asyncio.create_task(client.request(HOST_ID, "space.list"))
    request = await relay.requests.get()
    impostor = SigningKey.generate()
    other_device = b64e(bytes(32))
    relay.outbox.put_nowait([
        response(request, key=impostor, r={"forged": True}),  # not the host's signature
        response(request, dev=other_device, r={"misaddressed": True}),  # for another device
        response(request, r={"genuine": True}),
    ])
    assert await pending == {"genuine": True}


async def test_a_relay_that_only_forges_gets_a_timeout_not_a_result(
    hostile: tuple[HostileRelay, Client],
) -> None:
    relay, client = hostile
    pending = asyncio.create_task(client.request(HOST_ID, "space.list"))
    request = await relay.requests.get()
    relay.outbox.put_nowait([response(request, key=SigningKey.generate())])
    with pytest.raises(RequestError) as refused:
        await pending
    assert refused.value.wire_code == "host_offline"


async def test_forged_or_rerouted_events_are_dropped(
    hostile: tuple[HostileRelay, Client],
) -> None:
    relay, client = hostile
    relay.outbox.put_nowait([
        event("general", key=SigningKey.generate()),  # forged signature
        event("random"),  # genuine event of another channel, re-routed to "general"
        event("general"),
    ])
    got = await client.next_event(5)
    assert (got.chan, got.host) == ("general", HOST_ID)
    await asyncio.sleep(0.2)
    assert client.events.empty()


async def test_a_relay_cannot_forge_a_delete_receipt_or_timer_change(
    hostile: tuple[HostileRelay, Client],
) -> None:
    """Rich-messaging host events (docs/protocol.md §13.2) are host-signed like messages:
    a relay forging one to erase a message, fake a read, set a timer or announce a
    member is ignored."""
    relay, client = hostile
    impostor = SigningKey.generate()
    relay.outbox.put_nowait([
        event("general", key=impostor, k="del", info={"ids": ["m"]}),
        event("general", key=impostor, k="rcpt",
              info={"marks": [{"acct": "a", "read": 9, "delivered": 9}]}),
        event("general", key=impostor, k="chan", info={"channel": {"ttl_s": 1}}),
        event("general", key=impostor, k="mem", info={"acct": "a", "role": "owner"}),
        event("random", k="del", info={"ids": ["m"]}),  # genuine, but re-routed
        event("general", k="del", info={"ids": ["m"]}),
    ])
    got = await client.next_event(5)
    assert (got.kind, got.chan, got.info) == ("del", "general", {"ids": ["m"]})
    await asyncio.sleep(0.2)
    assert client.events.empty()
