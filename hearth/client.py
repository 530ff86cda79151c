"""The Python client: everything a browser can do, over the same relay protocol.

It is what tests, bots and load generators use. It verifies every host signature
(responses and events) against the key inside the host id, so a relay can neither
forge nor alter what a host says. Presence and typing (``eph`` frames) are verified
against the sending device's key, route and clock here; whether that device belongs to
a current member needs the space's roster, which SecureClient.next_ephemeral checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import ssl as ssl_module
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

from hearth.auth import client_hello
from hearth.b64 import b64d, b64e
from hearth.ephemeral import EphemeralBody, Kind, open_ephemeral, sign_ephemeral
from hearth.errors import ErrorCode, ProtocolError
from hearth.frames import (
    Challenge,
    ClientRequest,
    ClientResponse,
    Ephemeral,
    Error,
    Event,
    Frame,
    HostStatus,
    Ping,
    Pong,
    RelayToClient,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
    Welcome,
    decode_frame,
    encode_frame,
)
from hearth.identity import Identity
from hearth.invite_link import invite_public_key, new_invite_secret, prove_invite
from hearth.keys import now_ms
from hearth.limits import MAX_HOST_FRAME
from hearth.rpc import EventBody, ResponseBody, open_host_body, sign_request

log = logging.getLogger("hearth.client")

PING_INTERVAL_S = 30.0


class RequestError(ProtocolError):
    """A refusal from the relay or the host, with its wire code."""

    def __init__(self, code: str, message: str) -> None:
        try:
            wire_code = ErrorCode(code)
        except ValueError:
            wire_code = ErrorCode.INTERNAL
        super().__init__(wire_code, message)
        self.wire_code = code


@dataclass(frozen=True, slots=True)
class ChannelEvent:
    """A verified host-signed event on a channel."""

    host: str
    space: str
    chan: str
    kind: str
    seq: int
    id: str
    acct: str
    dev: str
    ts: int
    envelope: bytes
    info: dict[str, Any] | None

    @classmethod
    def from_body(cls, body: EventBody) -> ChannelEvent:
        envelope = b64d(body.env, field="env") if body.env else b""
        return cls(body.host, body.space, body.chan, body.k, body.seq, body.id, body.acct,
                   body.dev, body.ts, envelope, body.info)


def new_message_id() -> str:
    """A fresh client-chosen message id (16 random bytes): resends reuse it."""
    return b64e(secrets.token_bytes(16))


class Client:
    """One authenticated connection to a relay, for one device."""

    def __init__(self, identity: Identity, relay_url: str, *, request_timeout: float = 15.0,
                 ssl: ssl_module.SSLContext | None = None):
        self.identity = identity
        self.relay_url = relay_url.rstrip("/")
        self.request_timeout = request_timeout
        self.ssl = ssl
        """For wss:// only: the TLS context (e.g. trusting a private CA); None uses the
        system's trust store."""
        self.conn_id = ""
        self.events: asyncio.Queue[ChannelEvent] = asyncio.Queue()
        self.notices: asyncio.Queue[Frame] = asyncio.Queue()
        self.ephemerals: asyncio.Queue[EphemeralBody] = asyncio.Queue()
        """Presence and typing whose device signature, route and clock verified; not yet
        checked against a roster (SecureClient.next_ephemeral does that)."""
        self.closed: asyncio.Future[tuple[int | None, str]] | None = None
        self._ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future[ResponseBody]] = {}
        self._sub_waiter: asyncio.Future[Subscribed] | None = None
        self._sub_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    # ---- connection --------------------------------------------------------------

    async def connect(self, *, sock: socket.socket | None = None) -> Client:
        """Open the WebSocket (over ``sock`` if given) and authenticate with this device."""
        tls: dict[str, Any] = {} if self.ssl is None else {"ssl": self.ssl}
        ws = await connect(f"{self.relay_url}/ws/client", compression=None, sock=sock,
                           max_size=MAX_HOST_FRAME + 4096, open_timeout=10, **tls)
        challenge = decode_frame(await ws.recv(), Challenge)
        await ws.send(encode_frame(client_hello(self.identity.device, challenge)))
        reply = decode_frame(await ws.recv(), Welcome | Error)
        if isinstance(reply, Error):
            await ws.close()
            raise RequestError(reply.code, reply.msg)
        self.conn_id = reply.conn
        self._ws = ws
        self.closed = asyncio.get_running_loop().create_future()
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._ping())]
        return self

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._ws is not None:
            await self._ws.close()
            self._on_closed()

    async def __aenter__(self) -> Client:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def pause_reading(self) -> None:
        """Stop reading frames (the socket fills up): how a stalled receiver looks."""
        self._tasks[0].cancel()

    def resume_reading(self) -> None:
        self._tasks[0] = asyncio.create_task(self._read())

    async def send_raw(self, text: str) -> None:
        """Send a frame as-is (tests use this to send bad or forbidden frames)."""
        assert self._ws is not None, "not connected"
        await self._ws.send(text)

    async def _ping(self) -> None:
        n = 0
        while True:
            await asyncio.sleep(PING_INTERVAL_S)
            n += 1
            with contextlib.suppress(websockets.ConnectionClosed):
                await self.send_raw(encode_frame(Ping(n=n)))

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                self._dispatch(decode_frame(raw, RelayToClient))
        except websockets.ConnectionClosed:
            pass
        except asyncio.CancelledError:
            if self._ws.state is not State.CLOSED:
                raise  # paused or closing: close() reports the end itself
        self._on_closed()

    def _on_closed(self) -> None:
        """Record how the connection ended and fail everything still waiting on it."""
        assert self._ws is not None
        rcvd = self._ws.protocol.close_rcvd
        outcome = (rcvd.code, rcvd.reason) if rcvd else (None, "connection lost")
        if self.closed is not None and not self.closed.done():
            self.closed.set_result(outcome)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(RequestError("host_offline", f"connection closed: {outcome}"))
        self._pending.clear()
        if self._sub_waiter is not None and not self._sub_waiter.done():
            self._sub_waiter.set_exception(RequestError("bad_frame", "connection closed"))

    def _dispatch(self, frame: Frame) -> None:
        if isinstance(frame, ClientResponse):
            self._on_response(frame)
        elif isinstance(frame, Event):
            self._on_event(frame)
        elif isinstance(frame, Ephemeral):
            self._on_ephemeral(frame)
        elif isinstance(frame, Subscribed):
            if self._sub_waiter is not None and not self._sub_waiter.done():
                self._sub_waiter.set_result(frame)
        elif isinstance(frame, Error):
            self._on_error(frame)
        elif isinstance(frame, Unsubscribed | HostStatus):
            self.notices.put_nowait(frame)
        elif isinstance(frame, Pong):
            pass

    def _on_response(self, frame: ClientResponse) -> None:
        try:
            body = open_host_body(frame.host, frame.body, frame.sig, ResponseBody)
        except ProtocolError as exc:
            log.warning("dropped a response that failed verification: %s", exc)
            return
        if body.dev != self.identity.device_id:
            log.warning("dropped a response addressed to another device")
            return
        fut = self._pending.pop(body.re, None)
        if fut is not None and not fut.done():
            fut.set_result(body)

    def _on_event(self, frame: Event) -> None:
        try:
            body = open_host_body(frame.host, frame.body, frame.sig, EventBody)
        except ProtocolError as exc:
            log.warning("dropped an event that failed verification: %s", exc)
            return
        if (body.space, body.chan) != (frame.space, frame.chan):
            log.warning("dropped an event whose signed channel differs from its route")
            return
        self.events.put_nowait(ChannelEvent.from_body(body))

    def _on_ephemeral(self, frame: Ephemeral) -> None:
        try:
            body = open_ephemeral(frame, now_ms())
        except ProtocolError as exc:
            log.warning("dropped an ephemeral update that failed verification: %s", exc)
            return
        self.ephemerals.put_nowait(body)

    def _on_error(self, frame: Error) -> None:
        if frame.ref is not None and frame.ref in self._pending:
            fut = self._pending.pop(frame.ref)
            if not fut.done():
                fut.set_exception(RequestError(frame.code, frame.msg))
        elif frame.ref == "sub" and self._sub_waiter is not None and not self._sub_waiter.done():
            self._sub_waiter.set_exception(RequestError(frame.code, frame.msg))
        else:
            self.notices.put_nowait(frame)

    # ---- requests ----------------------------------------------------------------

    async def request(self, host_id: str, op: str, **args: Any) -> dict[str, Any]:
        """Send a device-signed request to ``host_id``; the verified result, or RequestError."""
        body, text, sig = sign_request(self.identity.device, host_id, op, args)
        fut: asyncio.Future[ResponseBody] = asyncio.get_running_loop().create_future()
        self._pending[body.n] = fut
        frame = ClientRequest(host=host_id, id=body.n, body=text, sig=sig)
        await self.send_raw(encode_frame(frame))
        try:
            response = await asyncio.wait_for(fut, self.request_timeout)
        except TimeoutError:
            self._pending.pop(body.n, None)
            raise RequestError("host_offline", f"no answer to {op!r} within "
                                               f"{self.request_timeout} s") from None
        if not response.ok:
            err = response.err
            raise RequestError(err.code if err else "internal", err.msg if err else "no detail")
        return response.r or {}

    async def subscribe(self, host_id: str, space: str, chans: Sequence[str] = ("*",),
                        token: str | None = None) -> Subscribed:
        """Get a capability token from the host (unless given) and follow ``chans``."""
        if token is None:
            granted = await self.request(host_id, "token", space=space, chans=list(chans))
            token = str(granted["token"])
        async with self._sub_lock:
            self._sub_waiter = asyncio.get_running_loop().create_future()
            await self.send_raw(encode_frame(Subscribe(token=token, chans=list(chans))))
            return await asyncio.wait_for(self._sub_waiter, self.request_timeout)

    async def unsubscribe(self, host_id: str, space: str, chans: Sequence[str]) -> None:
        await self.send_raw(encode_frame(Unsubscribe(host=host_id, space=space, chans=list(chans))))

    async def next_event(self, wait_s: float = 10.0) -> ChannelEvent:
        return await asyncio.wait_for(self.events.get(), wait_s)

    # ---- presence and typing (never stored; docs/protocol.md section 12) ------------

    async def send_ephemeral(self, host_id: str, space: str, chan: str, kind: Kind,
                             state: str) -> None:
        """Sign and send one update. The relay refuses it (an ``error`` in ``notices``,
        ref ``eph``) unless this connection follows that space or channel."""
        frame = sign_ephemeral(self.identity.device, host_id, space, chan, kind, state)
        await self.send_raw(encode_frame(frame))

    async def send_presence(self, host_id: str, space: str, state: str = "online") -> None:
        """``online`` (on subscribe, then every PRESENCE_HEARTBEAT_MS), ``away`` or
        ``offline`` (a clean leave), to every member following ``space``."""
        await self.send_ephemeral(host_id, space, "*", "presence", state)

    async def send_typing(self, host_id: str, space: str, chan: str,
                          state: str = "typing") -> None:
        """``typing`` (at most every TYPING_EVERY_MS while typing) or ``stopped``."""
        await self.send_ephemeral(host_id, space, chan, "typing", state)

    async def next_ephemeral(self, wait_s: float = 10.0) -> EphemeralBody:
        return await asyncio.wait_for(self.ephemerals.get(), wait_s)

    def host(self, host_id: str) -> HostClient:
        return HostClient(self, host_id)


class HostClient:
    """Typed helpers for one host's ops (each is one signed request)."""

    def __init__(self, client: Client, host_id: str) -> None:
        self.client = client
        self.host_id = host_id

    async def call(self, op: str, **args: Any) -> dict[str, Any]:
        return await self.client.request(self.host_id, op, **args)

    async def hello(self, name: str | None = None) -> dict[str, Any]:
        cert = self.client.identity.device.certificate.encode()
        if name is None:
            return await self.call("hello", cert=cert)
        return await self.call("hello", cert=cert, name=name)

    async def create_space(self, name: str) -> dict[str, Any]:
        return await self.call("space.create", name=name)

    async def create_channel(self, space: str, name: str) -> dict[str, Any]:
        return await self.call("channel.create", space=space, name=name)

    async def invite_link(self, space: str, *, uses: int = 1, ttl_s: int = 7 * 24 * 3600,
                          role: str = "member") -> dict[str, Any]:
        """Create a link invite; the result adds ``secret``, which only this client knows."""
        secret = new_invite_secret()
        created = await self.call("invite.link", space=space, pk=invite_public_key(secret),
                                  uses=uses, ttl_s=ttl_s, role=role)
        return {**created, "secret": secret}

    def _proof(self, secret: str) -> dict[str, str]:
        device = self.client.identity.device.public_key
        return {"pk": invite_public_key(secret),
                "proof": prove_invite(secret, self.host_id, device)}

    async def redeem(self, secret: str) -> dict[str, Any]:
        """Join the space of a link invite whose secret this client was given."""
        return await self.call("invite.redeem", **self._proof(secret))

    async def claim(self, secret: str) -> dict[str, Any]:
        """Become a host owner with a claim secret from ``hearth host owner-invite``."""
        return await self.call("host.claim", **self._proof(secret))

    async def publish(self, space: str, chan: str, envelope: bytes,
                      msg_id: str | None = None) -> dict[str, Any]:
        return await self.call("publish", space=space, chan=chan,
                               id=msg_id or new_message_id(), env=b64e(envelope))

    async def history(self, space: str, chan: str, *, before: int | None = None,
                      after: int | None = None, limit: int = 50) -> dict[str, Any]:
        args: dict[str, Any] = {"space": space, "chan": chan, "limit": limit}
        if before is not None:
            args["before"] = before
        if after is not None:
            args["after"] = after
        return await self.call("history", **args)

    async def subscribe(self, space: str, chans: Sequence[str] = ("*",)) -> Subscribed:
        return await self.client.subscribe(self.host_id, space, chans)
