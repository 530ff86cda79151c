"""The host's network shell: dial the relay, authenticate, serve forwarded requests.

Invariants: requests are handled in arrival order, in batches (group commit: one
transaction per batch, formed from whatever arrived while the previous batch was being
handled; the reader never stops for a commit). A batch's frames are sent only after its
transaction committed, and in request order, each ``resp_to`` before the events it
caused: fan-out order is seq order, a sender hears its acknowledgement before anyone
sees the message, and nothing is live before it is durably stored. Any disconnect leads
to a reconnect with full-jitter exponential backoff until ``stop`` is set. When
``stop`` is set the node reads no further request, finishes the batch in hand (bounded
by ``shutdown_grace``; requests read but not begun are dropped, unanswered, so the
relay reports the host offline to their senders), closes with 1001 and exits;
``node.json`` in the data dir always says what the node is doing (host.node_status).
Every TICK_S the node runs ``Service.tick`` (expired messages erased, then their ``del``
events and the coalesced ``rcpt`` events sent), never between a batch's commit and its
frames; without a relay session it still erases (the events are dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from hearth.auth import host_hello
from hearth.backoff import Backoff
from hearth.errors import ProtocolError
from hearth.frames import (
    Challenge,
    Error,
    ForwardedRequest,
    Frame,
    HostWelcome,
    Ping,
    Pong,
    RelayToHost,
    Revoke,
    decode_frame,
    encode_frame,
)
from hearth.keys import now_ms
from hearth.limits import HOST_FRAME_RATES, HOST_ID_RATE, MAX_HOST_FRAME
from hearth.ratelimit import RateLimit, TokenBucket, parse_rate
from host.config import db_path, load_host_key
from host.errors import HostConfigError
from host.node_status import CONNECTED, CONNECTING, STOPPED, NodeStatus, write_status
from host.revocation_feed import RevocationFeed
from host.service import Service
from host.store import Store
from host.verifier import Request

log = logging.getLogger("hearth.host")

MAX_BATCH = 256
"""Most requests taken into one batch (one transaction, one fsync)."""
BATCH_BUDGET_S = 0.010
"""A batch stops taking requests once it has run this long; the rest wait for the next
one. Keeps a batch's first request from waiting long for its last at high load."""
MAX_QUEUED = 1024
"""Requests read but not handled before the reader stops reading (backpressure)."""
PING_INTERVAL_S = 30.0
AUTH_TIMEOUT_S = 10.0
BACKOFF_BASE_S = 0.2
BACKOFF_CAP_S = 30.0
SHUTDOWN_GRACE_S = 10.0
ADMIN_POLL_S = 1.0
TICK_S = 0.25
"""How often the node erases expired messages and flushes coalesced receipts
(``Service.tick``): an expired message is gone within about this, well under the
second docs/protocol.md §13.3 promises."""
GOING_AWAY = 1001

Ready = asyncio.Event | Callable[[str], object] | None


class AuthFailed(Exception):
    """The relay did not accept this host's hello (or spoke out of turn)."""


def relay_endpoint(relay_url: str) -> str:
    """``ws[s]://relay`` → its host endpoint; a malformed URL is a config error, since
    retrying it forever would only hide the typo."""
    if not relay_url.startswith(("ws://", "wss://")):
        raise HostConfigError(f"relay URL {relay_url!r} must start with ws:// or wss://")
    return relay_url.rstrip("/") + "/ws/host"


def relay_endpoints(relay_urls: str | Sequence[str]) -> list[str]:
    """Several relays of one deployment (a list, or one comma-separated string): the node
    uses one at a time and moves to the next whenever a connection fails or ends."""
    urls = relay_urls.split(",") if isinstance(relay_urls, str) else list(relay_urls)
    urls = [u.strip() for u in urls if u.strip()]
    if not urls:
        raise HostConfigError(f"no relay URL in {relay_urls!r}")
    return [relay_endpoint(u) for u in urls]


async def _authenticate(ws: ClientConnection, key: SigningKey, host_id: str) -> None:
    async with asyncio.timeout(AUTH_TIMEOUT_S):
        challenge = decode_frame(await ws.recv(), RelayToHost)
        if not isinstance(challenge, Challenge):
            raise AuthFailed(f"expected a challenge, got {type(challenge).__name__}")
        await ws.send(encode_frame(host_hello(key, challenge)))
        answer = decode_frame(await ws.recv(), RelayToHost)
    if isinstance(answer, Error):
        raise AuthFailed(f"relay refused: {answer.code}: {answer.msg}")
    if not isinstance(answer, HostWelcome) or answer.host != host_id:
        raise AuthFailed(f"unexpected answer to host_hello: {encode_frame(answer)[:200]}")


async def _ping_forever(ws: ClientConnection) -> None:
    n = 0
    while True:
        await asyncio.sleep(PING_INTERVAL_S)
        n += 1
        await ws.send(encode_frame(Ping(n=n)))


PACE_MARGIN = 0.9
"""Fraction of each relay limit the node uses, for jitter between its clock and the relay's."""
TOTAL = "host_id"
"""The name of the limit on all of a host's frames together (as in ``hearth relay --rate``)."""


def relay_limits(overrides: Sequence[str] = ()) -> dict[str, RateLimit]:
    """The limits the relay applies to this host's frames (hearth.limits defaults, by
    frame type plus TOTAL), with ``NAME=RATE[/BURST]`` overrides for a relay configured
    otherwise; HostConfigError for an unknown name or a malformed value."""
    limits = {**HOST_FRAME_RATES, TOTAL: HOST_ID_RATE}
    for spec in overrides:
        try:
            name, limit = parse_rate(spec)
        except ValueError as exc:
            raise HostConfigError(f"--relay-rate: {exc}") from None
        if name not in limits:
            raise HostConfigError(
                f"--relay-rate: unknown limit {name!r}; known: {', '.join(sorted(limits))}"
            )
        limits[name] = limit
    return limits


class Pacer:
    """Token buckets at PACE_MARGIN of the relay's limits on this connection, so nothing
    the node sends is refused (a refused frame is lost, and repeated refusals close the
    connection). ``delay`` is the sans-I/O decision, ``wait`` acts on it."""

    def __init__(self, limits: dict[str, RateLimit], now: float) -> None:
        self._buckets = {name: TokenBucket(limit.scaled(PACE_MARGIN), now)
                         for name, limit in limits.items()}

    def delay(self, kind: str, now: float) -> float:
        """Seconds before a ``kind`` frame may go; when 0, its tokens have been spent."""
        buckets = [b for b in (self._buckets.get(kind), self._buckets.get(TOTAL)) if b]
        wait = max((b.wait_time(now) for b in buckets), default=0.0)
        if wait == 0:
            for bucket in buckets:
                bucket.take(now)
        return wait

    async def wait(self, kind: str) -> None:
        # Pacing to a known deadline, not polling for a condition.
        while (pause := self.delay(kind, time.monotonic())) > 0:  # noqa: ASYNC110
            await asyncio.sleep(pause)


async def _send(ws: ClientConnection, pacer: Pacer, frame: Frame) -> None:
    await pacer.wait(str(type(frame).__struct_config__.tag))
    await ws.send(encode_frame(frame))


class Inbox:
    """Forwarded requests read from the relay and not handled yet, oldest first.

    Bounded: while it holds ``limit`` requests the reader stops reading, so a flood
    backs up into the relay's socket buffers instead of the host's memory.
    """

    def __init__(self, limit: int = MAX_QUEUED) -> None:
        self._items: deque[Request] = deque()
        self._limit = limit
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    def __len__(self) -> int:
        return len(self._items)

    async def put(self, request: Request) -> None:
        while len(self._items) >= self._limit:
            self._room.clear()
            await self._room.wait()
        self._items.append(request)
        self._ready.set()

    def peek(self, most: int) -> list[Request]:
        """The oldest ``most`` requests, left in place."""
        return list(itertools.islice(self._items, most))

    async def take(self, most: int) -> list[Request]:
        """The oldest ``most`` requests (at least one: waits for it; never for more)."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        batch = [self._items.popleft() for _ in range(min(most, len(self._items)))]
        self._room.set()
        return batch

    def put_back(self, requests: Sequence[Request]) -> None:
        """Return requests a batch did not reach to the front, in their order."""
        self._items.extendleft(reversed(requests))
        if requests:
            self._ready.set()


async def answer_batch(service: Service, inbox: Inbox, batch: list[Request]) -> list[list[Frame]]:
    """The frames answering ``batch`` (taken from ``inbox``), one list per request handled
    within BATCH_BUDGET_S; the requests not reached go back to the front of ``inbox``.
    The requests still waiting (the next batch, under load) are verified on the
    verification thread meanwhile (``Verifier.prepare``): a pipeline, not a second pass."""
    service.verifier.prepare(inbox.peek(MAX_BATCH))
    answers = await service.respond_batch(batch, budget_s=BATCH_BUDGET_S)
    inbox.put_back(batch[len(answers):])
    return answers


async def _read_forever(ws: ClientConnection, inbox: Inbox) -> None:
    """Read the relay's frames; forwarded requests go to ``inbox`` in arrival order.
    Runs beside ``_serve_forever``, so requests keep arriving while a batch commits."""
    async for raw in ws:
        try:
            frame = decode_frame(raw, RelayToHost)
        except ProtocolError as exc:
            log.warning("event=bad_relay_frame msg=%r", exc.message[:200])
            continue
        if isinstance(frame, ForwardedRequest):
            await inbox.put(Request(frame.from_, frame.body, frame.sig))
        elif isinstance(frame, Error):
            log.warning("event=relay_error code=%s msg=%r", frame.code, frame.msg[:200])
        elif not isinstance(frame, Pong):
            log.debug("event=ignored_frame type=%s", type(frame).__name__)


async def _serve_forever(
    ws: ClientConnection, service: Service, feed: RevocationFeed, busy: asyncio.Lock,
    inbox: Inbox, pacer: Pacer,
) -> None:
    """Handle the inbox in batches: whatever arrived while the previous batch was being
    handled (at most MAX_BATCH; a lone request is a batch of one and waits for nothing).

    ``busy`` is held from a batch's first request to its last frame sent: shutdown waits
    for it, and the revocation poll never slips between a commit and its frames. Frames
    go out only after ``respond_batch`` returned, i.e. after the batch committed, and in
    request order: each ``resp_to`` before the events it caused, events in seq order,
    paced below the relay's limits (``Pacer``).
    """
    while True:
        batch = await inbox.take(MAX_BATCH)
        async with busy:
            for frames in await answer_batch(service, inbox, batch):
                for out in frames:
                    await _send(ws, pacer, out)
                    if isinstance(out, Revoke):
                        feed.note(out)


async def _poll_forever(
    ws: ClientConnection, service: Service, feed: RevocationFeed, busy: asyncio.Lock,
    interval: float, pacer: Pacer,
) -> None:
    """Pass on what the admin CLI changed meanwhile: its revocations, then the ``mem``
    events of the removals among them."""
    while True:
        await asyncio.sleep(interval)
        async with busy:
            fresh = await feed.poll()
            frames = [*fresh, *await service.announce_departures(fresh)] if fresh else []
            for frame in frames:
                await _send(ws, pacer, frame)
        if fresh:
            log.info("event=revocations_sent count=%d source=admin", len(fresh))


async def _tick_forever(ws: ClientConnection, service: Service, busy: asyncio.Lock,
                        interval: float, pacer: Pacer) -> None:
    """``Service.tick`` every ``interval`` s; its events go out after its commit, never
    between a batch's commit and that batch's frames (``busy``)."""
    while True:
        await asyncio.sleep(interval)
        async with busy:
            for frame in await service.tick():
                await _send(ws, pacer, frame)


async def _tick_offline(service: Service, online: asyncio.Event, interval: float) -> None:
    """``Service.tick`` every ``interval`` s while no relay session runs, so expired
    messages leave the disk on time even when no relay can be reached. Its events are
    dropped: nobody could receive them (clients drop their copies at ``exp`` and history
    shows the tombstones)."""
    while True:
        await asyncio.sleep(interval)
        if not online.is_set():
            await service.tick()


async def _session(
    ws: ClientConnection, service: Service, stop: asyncio.Event, *,
    shutdown_grace: float, admin_poll: float, limits: dict[str, RateLimit],
) -> None:
    """Serve one authenticated connection until it closes or ``stop`` is set."""
    feed = RevocationFeed(service.store)
    pacer = Pacer(limits, time.monotonic())
    for revoke in await feed.start(now_ms()):
        await _send(ws, pacer, revoke)
    busy = asyncio.Lock()
    inbox = Inbox()
    reader = asyncio.create_task(_read_forever(ws, inbox))
    server = asyncio.create_task(_serve_forever(ws, service, feed, busy, inbox, pacer))
    pinger = asyncio.create_task(_ping_forever(ws))
    poller = asyncio.create_task(_poll_forever(ws, service, feed, busy, admin_poll, pacer))
    ticker = asyncio.create_task(_tick_forever(ws, service, busy, TICK_S, pacer))
    stopper = asyncio.create_task(stop.wait())
    tasks = (reader, server, pinger, poller, ticker, stopper)
    try:
        done, _ = await asyncio.wait(set(tasks), return_when=asyncio.FIRST_COMPLETED)
        for task in done - {stopper}:
            task.result()  # re-raise why the connection ended
        if stopper in done:
            reader.cancel()  # read nothing more; what was read but not begun is dropped
            await _finish(ws, tasks, busy, shutdown_grace)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _finish(ws: ClientConnection, tasks: tuple[asyncio.Task[Any], ...],
                  busy: asyncio.Lock, grace: float) -> None:
    """Let the batch in hand complete and its frames go out, then close with 1001."""
    try:
        async with asyncio.timeout(grace):
            await busy.acquire()  # the server is idle (or done); keep it so
    except TimeoutError:
        log.warning("event=shutdown_timeout grace=%g in_flight=1", grace)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    with contextlib.suppress(ConnectionClosed, TimeoutError):
        async with asyncio.timeout(grace):
            await ws.close(GOING_AWAY, "host is shutting down")


def _notify(ready: Ready, host_id: str) -> None:
    if isinstance(ready, asyncio.Event):
        ready.set()
    elif ready is not None:
        ready(host_id)


async def run_node(
    data_dir: Path | str,
    relay_url: str | Sequence[str],
    *,
    stop: asyncio.Event | None = None,
    ready: Ready = None,
    shutdown_grace: float = SHUTDOWN_GRACE_S,
    admin_poll: float = ADMIN_POLL_S,
    relay_rates: Sequence[str] = (),
) -> None:
    """Serve the host in ``data_dir`` through the relay until ``stop`` is set.

    ``ready`` (an Event, or a callable given the host id) is signalled after every
    successful authentication. Configuration problems raise HostConfigError at once;
    network problems only ever lead to a reconnect. ``admin_poll`` is how often (s)
    the node looks for revocations written by ``hearth host`` admin commands;
    ``relay_rates`` tells it a relay's limits on host frames where they differ from the
    defaults (``NAME=RATE[/BURST]``, see ``relay_limits``).
    """
    endpoints = relay_endpoints(relay_url)
    limits = relay_limits(relay_rates)
    endpoint, turn = endpoints[0], 0
    key = load_host_key(data_dir)
    store = await Store.open(db_path(data_dir))
    service = Service(store, key)
    stop = stop or asyncio.Event()
    backoff = Backoff()
    host_id = service.host_id

    def status(state: str, detail: str = "") -> None:
        relay = endpoint.removesuffix("/ws/host")
        write_status(data_dir, NodeStatus(os.getpid(), host_id, relay, state, now_ms(),
                                          detail))

    status(CONNECTING)
    log.info("event=host_started host=%s relay=%s", host_id, endpoint)
    online = asyncio.Event()
    offline_ticker = asyncio.create_task(_tick_offline(service, online, TICK_S))
    try:
        while not stop.is_set():
            reason = "connection closed"
            try:
                async with connect(
                    endpoint, compression=None, max_size=MAX_HOST_FRAME, open_timeout=10,
                ) as ws:
                    await _authenticate(ws, key, host_id)
                    backoff.reset()
                    status(CONNECTED)
                    log.info("event=connected relay=%s host=%s", endpoint, host_id)
                    _notify(ready, host_id)
                    online.set()
                    try:
                        await _session(ws, service, stop, shutdown_grace=shutdown_grace,
                                       admin_poll=admin_poll, limits=limits)
                    finally:
                        online.clear()
                    if not stop.is_set():
                        log.warning("event=disconnected relay=%s reason=%r", endpoint, reason)
            except AuthFailed as exc:
                reason = f"authentication failed: {exc}"
                log.warning("event=auth_failed relay=%s reason=%r", endpoint, str(exc)[:200])
            except InvalidURI as exc:
                raise HostConfigError(f"relay URL {relay_url!r} is invalid: {exc}") from None
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake,
                    ProtocolError) as exc:
                reason = str(exc)[:200] or repr(exc)
                log.warning("event=disconnected relay=%s reason=%r", endpoint, reason)
            if stop.is_set():
                break
            turn += 1
            endpoint = endpoints[turn % len(endpoints)]
            delay = backoff.next()
            status(CONNECTING, reason)
            log.info("event=reconnect_wait secs=%.1f", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
    finally:
        offline_ticker.cancel()
        await asyncio.gather(offline_ticker, return_exceptions=True)
        service.close()
        await store.close()
        status(STOPPED)
    log.info("event=host_stopped host=%s", host_id)
