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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

from hearth.auth import client_hello
from hearth.b64 import b64d, b64e
from hearth.backoff import Backoff
from hearth.ephemeral import EphemeralBody, Kind, open_ephemeral, sign_ephemeral
from hearth.errors import ErrorCode, ProtocolError
from hearth.frames import (
    Challenge,
    ClientRequest,
    ClientResponse,
    CloseCode,
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
RECONNECT_BASE_S = 0.2
RECONNECT_CAP_S = 15.0
"""Redial (and resubscription) delays: hearth.backoff's full jitter between these, as
the browser's connection caps its own at 15 s."""
TERMINAL_CLOSE_CODES = frozenset({CloseCode.AUTH_FAILED, CloseCode.MESSAGE_TOO_BIG,
                                  CloseCode.FLOODING})
"""Closes that judge this client's own behaviour: redialling would only repeat it."""
RESUME_RETRYABLE = frozenset({ErrorCode.HOST_OFFLINE, ErrorCode.RATE_LIMITED,
                              ErrorCode.INTERNAL, ErrorCode.STALE_REQUEST})
"""Refusals of a resubscription that may pass later (right after a relay restart the
host has often not reconnected yet); any other refusal ends that subscription."""

CloseOutcome = tuple[int | None, str]
"""How a connection ended: the close code the relay sent (None if it sent none) and
its reason."""


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
class Disconnected:
    """Notice: the connection ended other than by :meth:`Client.close`.

    ``retry_in`` is the delay (s) before the first redial, or None when the client will
    not redial (the close was terminal, reconnection is off, or the socket was the
    caller's); ``Client.stopped`` is then resolved as well."""

    code: int | None
    reason: str
    retry_in: float | None


@dataclass(frozen=True, slots=True)
class Resumed:
    """Notice: after a reconnection the relay follows ``chans`` of ``space`` on ``host``
    again, under a fresh token. Events published while the client was away were not
    delivered live: catch up with ``history(after=<last seq seen>)`` per channel."""

    host: str
    space: str
    chans: tuple[str, ...]


Notice = Frame | Disconnected | Resumed
ResumeHook = Callable[[Resumed], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ChannelEvent:
    """A verified host-signed event on a channel, of any kind (``msg``, ``del``,
    ``rcpt``, ``chan``, or ``mem`` on the space's own topic, where ``chan`` is the
    space id; docs/protocol.md §13.2). ``re`` is the message a ``msg``
    annotates (``""``: none), ``exp`` when the host erases it (ms; 0: never)."""

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
    re: str = ""
    exp: int = 0

    @classmethod
    def from_body(cls, body: EventBody) -> ChannelEvent:
        envelope = b64d(body.env, field="env") if body.env else b""
        return cls(body.host, body.space, body.chan, body.k, body.seq, body.id, body.acct,
                   body.dev, body.ts, envelope, body.info, body.re, body.exp)


def new_message_id() -> str:
    """A fresh client-chosen message id (16 random bytes): resends reuse it."""
    return b64e(secrets.token_bytes(16))


class Client:
    """One authenticated connection to a relay, for one device, kept up by itself.

    With ``reconnect`` (the default), a connection that ends other than by
    :meth:`close` is redialled with :class:`hearth.backoff.Backoff` (full jitter,
    RECONNECT_BASE_S to RECONNECT_CAP_S, reset by every successful authentication),
    re-authenticated, and every subscription it held is taken out again with a fresh
    token from its host's ``token`` op; each is announced by a :class:`Resumed` notice
    once the relay confirms it (after the ``resume_hooks`` ran). Never redialled: a
    connection opened over a caller's ``sock``, a close in TERMINAL_CLOSE_CODES, and a
    redial the relay refuses with ``auth_failed``.

    Invariants: at most one connection is open at a time; requests and subscriptions
    waiting when it ends fail with RequestError ``host_offline`` (resend them: publish
    with the same message id is idempotent) and are never replayed by the client;
    ``_subs`` is what this client follows: exactly the topics the relay confirmed
    (``subbed``) that did not end since (``unsubbed``, :meth:`unsubscribe`, a refused
    resumption). A new connection holds none of them until resumed; a resumption
    restores neither less nor more.
    """

    def __init__(self, identity: Identity, relay_url: str, *, request_timeout: float = 15.0,
                 ssl: ssl_module.SSLContext | None = None, reconnect: bool = True):
        self.identity = identity
        self.relay_url = relay_url.rstrip("/")
        self.request_timeout = request_timeout
        self.ssl = ssl
        """For wss:// only: the TLS context (e.g. trusting a private CA); None uses the
        system's trust store."""
        self.reconnect = reconnect
        self.conn_id = ""
        self.events: asyncio.Queue[ChannelEvent] = asyncio.Queue()
        self.notices: asyncio.Queue[Notice] = asyncio.Queue()
        """Relay frames nobody was waiting for (``error``, ``unsubbed``, ``host_status``)
        and this client's :class:`Disconnected` and :class:`Resumed`, in order."""
        self.ephemerals: asyncio.Queue[EphemeralBody] = asyncio.Queue()
        """Presence and typing whose device signature, route and clock verified; not yet
        checked against a roster (SecureClient.next_ephemeral does that)."""
        self.closed: asyncio.Future[CloseOutcome] | None = None
        """How the current connection ended, whether or not it is redialled; a fresh
        future for each connection. ``stopped`` is the end of the client."""
        self.stopped: asyncio.Future[CloseOutcome] | None = None
        """Resolved once, when the client will not connect again: :meth:`close`, or the
        end of a connection that is not redialled (the outcome of that connection)."""
        self.resume_hooks: list[ResumeHook] = []
        """Awaited in turn for each resumed subscription, before its Resumed notice:
        how a layer above catches up (SecureClient fetches the missed history)."""
        self._ws: ClientConnection | None = None
        self._online = asyncio.Event()
        self._redial = reconnect
        """Whether the current connection is to be redialled when it ends."""
        self._closing = False
        self._backoff = Backoff(RECONNECT_BASE_S, RECONNECT_CAP_S)
        self._pending: dict[str, asyncio.Future[ResponseBody]] = {}
        self._sub_waiter: asyncio.Future[Subscribed] | None = None
        self._sub_lock = asyncio.Lock()
        self._subs: dict[tuple[str, str], dict[str, None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        """The current connection's reader (always first), pinger and resumer."""
        self._redialer: asyncio.Task[None] | None = None

    # ---- connection --------------------------------------------------------------

    async def connect(self, *, sock: socket.socket | None = None) -> Client:
        """Open the WebSocket (over ``sock`` if given) and authenticate with this device.

        A failure here is raised, not retried: only a connection that was up is
        redialled. A connection over ``sock`` is never redialled."""
        self._redial = self.reconnect and sock is None
        ws = await self._open(sock)
        self.stopped = asyncio.get_running_loop().create_future()
        self._attach(ws)
        return self

    async def _open(self, sock: socket.socket | None) -> ClientConnection:
        """Dial, answer the challenge, and return the authenticated WebSocket."""
        tls: dict[str, Any] = {} if self.ssl is None else {"ssl": self.ssl}
        ws = await connect(f"{self.relay_url}/ws/client", compression=None, sock=sock,
                           max_size=MAX_HOST_FRAME + 4096, open_timeout=10, **tls)
        try:
            challenge = decode_frame(await ws.recv(), Challenge)
            await ws.send(encode_frame(client_hello(self.identity.device, challenge)))
            reply = decode_frame(await ws.recv(), Welcome | Error)
        except BaseException:
            await ws.close()
            raise
        if isinstance(reply, Error):
            await ws.close()
            raise RequestError(reply.code, reply.msg)
        self.conn_id = reply.conn
        return ws

    def _attach(self, ws: ClientConnection) -> None:
        self._ws = ws
        self.closed = asyncio.get_running_loop().create_future()
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._ping())]
        self._online.set()

    async def close(self) -> None:
        """Close for good: nothing is redialled, ``stopped`` is resolved, and no
        Disconnected notice is posted (the caller knows)."""
        self._closing = True
        tasks = [*self._tasks, *([self._redialer] if self._redialer else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._ws is not None:
            await self._ws.close()
            self._connection_ended(self._ws)
        if self.closed is not None and self.closed.done():
            self._stop(self.closed.result())  # it had ended already, while redialling

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
        ws = self._ws
        assert ws is not None
        try:
            async for raw in ws:
                self._dispatch(decode_frame(raw, RelayToClient))
        except websockets.ConnectionClosed:
            pass
        except asyncio.CancelledError:
            if ws.state is not State.CLOSED:
                raise  # paused or closing: close() reports the end itself
        self._connection_ended(ws)

    def _connection_ended(self, ws: ClientConnection) -> None:
        """Record how ``ws`` ended, fail everything still waiting on it, then redial or
        stop. Runs once per connection (later calls for the same one do nothing)."""
        if ws is not self._ws or self.closed is None or self.closed.done():
            return
        rcvd = ws.protocol.close_rcvd
        outcome: CloseOutcome = (rcvd.code, rcvd.reason) if rcvd else (None, "connection lost")
        self._online.clear()
        self.closed.set_result(outcome)
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()  # the pinger and a resumption still running
        lost = f"connection to the relay lost ({outcome[0]}, {outcome[1]!r})"
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(RequestError(ErrorCode.HOST_OFFLINE, f"{lost}; resend"))
        self._pending.clear()
        if self._sub_waiter is not None and not self._sub_waiter.done():
            self._sub_waiter.set_exception(RequestError(ErrorCode.HOST_OFFLINE, lost))
        if self._closing:
            self._stop(outcome)
        elif not self._redial or outcome[0] in TERMINAL_CLOSE_CODES:
            self.notices.put_nowait(Disconnected(*outcome, retry_in=None))
            self._stop(outcome)
        else:
            delay = self._backoff.next()
            log.info("event=disconnected code=%s reason=%r retry_in=%.1f", *outcome, delay)
            self.notices.put_nowait(Disconnected(*outcome, retry_in=delay))
            self._redialer = asyncio.create_task(self._reconnect(delay))

    def _stop(self, outcome: CloseOutcome) -> None:
        """The client is done: resolve ``stopped`` (once) and never redial."""
        self._redial = False
        if self.stopped is not None and not self.stopped.done():
            self.stopped.set_result(outcome)

    async def _reconnect(self, delay: float) -> None:
        """Redial after ``delay`` and then after each backoff delay until authenticated,
        then resume the subscriptions; a redial refused ``auth_failed`` stops the client."""
        while True:
            await asyncio.sleep(delay)
            try:
                ws = await self._open(None)
            except RequestError as exc:
                if exc.wire_code == ErrorCode.AUTH_FAILED:
                    log.warning("event=reconnect_refused reason=%r", exc.message[:200])
                    self.notices.put_nowait(
                        Disconnected(CloseCode.AUTH_FAILED, exc.message, retry_in=None))
                    self._stop((CloseCode.AUTH_FAILED, exc.message))
                    return
                reason = f"{exc.wire_code}: {exc.message}"
            except (OSError, TimeoutError, websockets.WebSocketException, ProtocolError) as exc:
                reason = str(exc) or repr(exc)
            else:
                self._backoff.reset()
                self._attach(ws)
                self._tasks.append(asyncio.create_task(self._resume()))
                log.info("event=reconnected conn=%s", self.conn_id)
                return
            delay = self._backoff.next()
            log.info("event=reconnect_wait secs=%.1f reason=%r", delay, reason[:200])

    async def _resume(self) -> None:
        """Take out again every subscription the previous connection held."""
        await asyncio.gather(*(self._resume_one(host, space) for host, space in list(self._subs)))

    async def _resume_one(self, host: str, space: str) -> None:
        """Resubscribe ``space`` on ``host`` with a fresh token, retrying refusals in
        RESUME_RETRYABLE with backoff; any other refusal ends the subscription (reported
        as ``unsubbed`` with the refusal's code as reason). Then the resume hooks run and
        :class:`Resumed` is posted."""
        backoff = Backoff(RECONNECT_BASE_S, RECONNECT_CAP_S)
        while held := list(self._subs.get((host, space), ())):
            try:
                    subbed = await self.subscribe(host, space, held)
            except (RequestError, TimeoutError) as exc:
                code = exc.wire_code if isinstance(exc, RequestError) else ErrorCode.HOST_OFFLINE
                if code not in RESUME_RETRYABLE:
                    log.warning("event=resume_refused host=%s space=%s code=%s", host, space,
                                code)
                    self._forget(host, space, held)
                    self.notices.put_nowait(
                        Unsubscribed(host=host, space=space, chans=held, reason=code))
                    return
                await asyncio.sleep(backoff.next())
                continue
            resumed = Resumed(host, space, tuple(subbed.chans))
            for hook in self.resume_hooks:
                try:
                    await hook(resumed)
                except Exception:
                    log.warning("a resume hook failed for %s", resumed, exc_info=True)
            self.notices.put_nowait(resumed)
            return

    def _forget(self, host: str, space: str, chans: Sequence[str]) -> None:
        held = self._subs.get((host, space), {})
        for chan in chans:
            held.pop(chan, None)
        if not held:
            self._subs.pop((host, space), None)

    def _dispatch(self, frame: Frame) -> None:
        if isinstance(frame, ClientResponse):
            self._on_response(frame)
        elif isinstance(frame, Event):
            self._on_event(frame)
        elif isinstance(frame, Ephemeral):
            self._on_ephemeral(frame)
        elif isinstance(frame, Subscribed):
            self._subs.setdefault((frame.host, frame.space), {}).update(
                dict.fromkeys(frame.chans))
            if self._sub_waiter is not None and not self._sub_waiter.done():
                self._sub_waiter.set_result(frame)
        elif isinstance(frame, Error):
            self._on_error(frame)
        elif isinstance(frame, Unsubscribed):
            self._forget(frame.host, frame.space, frame.chans)
            self.notices.put_nowait(frame)
        elif isinstance(frame, HostStatus):
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

    async def _wait_online(self, what: str) -> None:
        """Return once connected, waiting up to ``request_timeout`` while redialling;
        RequestError ``host_offline`` if no connection comes (or the client stopped)."""
        if not self._online.is_set():
            if self.stopped is None or self.stopped.done():
                raise RequestError(ErrorCode.HOST_OFFLINE, f"not connected: {what} not sent")
            online: asyncio.Future[Any] = asyncio.ensure_future(self._online.wait())
            stopped: asyncio.Future[Any] = self.stopped
            await asyncio.wait([online, stopped], timeout=self.request_timeout,
                               return_when=asyncio.FIRST_COMPLETED)
            online.cancel()
            if not self._online.is_set():
                raise RequestError(ErrorCode.HOST_OFFLINE,
                                   f"not connected to the relay: {what} not sent")

    async def _send(self, text: str, what: str) -> None:
        """Send on the current connection (see _wait_online); RequestError
        ``host_offline`` if it ends first."""
        await self._wait_online(what)
        try:
            await self.send_raw(text)
        except websockets.ConnectionClosed:
            raise RequestError(ErrorCode.HOST_OFFLINE,
                               f"connection to the relay lost: {what} not sent") from None

    async def request(self, host_id: str, op: str, **args: Any) -> dict[str, Any]:
        """Send a device-signed request to ``host_id``; the verified result, or RequestError.

        Signed when sent (after waiting for a connection, if one is being redialled).
        Never resent by the client: if the connection ends before the answer, this
        raises RequestError ``host_offline``."""
        await self._wait_online(repr(op))
        body, text, sig = sign_request(self.identity.device, host_id, op, args)
        fut: asyncio.Future[ResponseBody] = asyncio.get_running_loop().create_future()
        frame = ClientRequest(host=host_id, id=body.n, body=text, sig=sig)
        self._pending[body.n] = fut
        try:
            await self._send(encode_frame(frame), repr(op))
        except RequestError:
            self._pending.pop(body.n, None)
            raise
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
        """Get a capability token from the host (unless given) and follow ``chans``.

        Once confirmed, the subscription is held until the relay ends it or
        :meth:`unsubscribe`, across reconnections (with fresh tokens from the host)."""
        if token is None:
            granted = await self.request(host_id, "token", space=space, chans=list(chans))
            token = str(granted["token"])
        async with self._sub_lock:
            self._sub_waiter = asyncio.get_running_loop().create_future()
            await self._send(encode_frame(Subscribe(token=token, chans=list(chans))), "sub")
            return await asyncio.wait_for(self._sub_waiter, self.request_timeout)

    async def unsubscribe(self, host_id: str, space: str, chans: Sequence[str]) -> None:
        """Stop following ``chans`` (also for later reconnections); the relay answers
        ``unsubbed`` (reason ``left``) in ``notices`` if connected."""
        self._forget(host_id, space, chans)
        frame = encode_frame(Unsubscribe(host=host_id, space=space, chans=list(chans)))
        if self._online.is_set():
            with contextlib.suppress(websockets.ConnectionClosed):
                await self.send_raw(frame)

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
                      msg_id: str | None = None, *, re: str | None = None) -> dict[str, Any]:
        """``re``: the message this one annotates (docs/protocol.md §13.2)."""
        extra = {} if re is None else {"re": re}
        return await self.call("publish", space=space, chan=chan,
                               id=msg_id or new_message_id(), env=b64e(envelope), **extra)

    async def delete(self, space: str, chan: str, msg_id: str) -> dict[str, Any]:
        return await self.call("message.delete", space=space, chan=chan, id=msg_id)

    async def mark(self, space: str, chan: str, *, read: int | None = None,
                   delivered: int | None = None) -> dict[str, Any]:
        marks = {k: v for k, v in (("read", read), ("delivered", delivered)) if v is not None}
        return await self.call("channel.mark", space=space, chan=chan, **marks)

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
