"""The host's network shell: dial the relay, authenticate, serve forwarded requests.

Invariants: requests are processed one at a time in arrival order, and each one's
``resp_to`` is sent before the events it caused, so fan-out order is seq order and
a sender hears its acknowledgement before anyone sees the message. Any disconnect
leads to a reconnect with full-jitter exponential backoff until ``stop`` is set.
When ``stop`` is set the node reads no further request, finishes the one in hand
(bounded by ``shutdown_grace``), closes with 1001 and exits; ``node.json`` in the
data dir always says what the node is doing (host.node_status).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
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
    HostWelcome,
    Ping,
    Pong,
    RelayToHost,
    Revoke,
    decode_frame,
    encode_frame,
)
from hearth.keys import now_ms
from hearth.limits import MAX_HOST_FRAME
from host.config import db_path, load_host_key
from host.errors import HostConfigError
from host.node_status import CONNECTED, CONNECTING, STOPPED, NodeStatus, write_status
from host.revocation_feed import RevocationFeed
from host.service import Service
from host.store import Store

log = logging.getLogger("hearth.host")

PING_INTERVAL_S = 30.0
AUTH_TIMEOUT_S = 10.0
BACKOFF_BASE_S = 0.2
BACKOFF_CAP_S = 30.0
SHUTDOWN_GRACE_S = 10.0
ADMIN_POLL_S = 1.0
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


async def _read_forever(
    ws: ClientConnection, service: Service, feed: RevocationFeed, busy: asyncio.Lock,
) -> None:
    async for raw in ws:
        try:
            frame = decode_frame(raw, RelayToHost)
        except ProtocolError as exc:
            log.warning("event=bad_relay_frame msg=%r", exc.message[:200])
            continue
        if isinstance(frame, ForwardedRequest):
            # Held from request to last frame sent: shutdown waits for it, and the
            # revocation poll never slips between an op's commit and its frames.
            async with busy:
                for out in await service.respond(frame.from_, frame.body, frame.sig):
                    await ws.send(encode_frame(out))
                    if isinstance(out, Revoke):
                        feed.note(out)
        elif isinstance(frame, Error):
            log.warning("event=relay_error code=%s msg=%r", frame.code, frame.msg[:200])
        elif not isinstance(frame, Pong):
            log.debug("event=ignored_frame type=%s", type(frame).__name__)


async def _poll_forever(
    ws: ClientConnection, feed: RevocationFeed, busy: asyncio.Lock, interval: float,
) -> None:
    while True:
        await asyncio.sleep(interval)
        async with busy:
            fresh = await feed.poll()
            for frame in fresh:
                await ws.send(encode_frame(frame))
        if fresh:
            log.info("event=revocations_sent count=%d source=admin", len(fresh))


async def _session(
    ws: ClientConnection, service: Service, stop: asyncio.Event, *,
    shutdown_grace: float, admin_poll: float,
) -> None:
    """Serve one authenticated connection until it closes or ``stop`` is set."""
    feed = RevocationFeed(service.store)
    for revoke in await feed.start(now_ms()):
        await ws.send(encode_frame(revoke))
    busy = asyncio.Lock()
    reader = asyncio.create_task(_read_forever(ws, service, feed, busy))
    pinger = asyncio.create_task(_ping_forever(ws))
    poller = asyncio.create_task(_poll_forever(ws, feed, busy, admin_poll))
    stopper = asyncio.create_task(stop.wait())
    tasks = (reader, pinger, poller, stopper)
    try:
        done, _ = await asyncio.wait(set(tasks), return_when=asyncio.FIRST_COMPLETED)
        for task in done - {stopper}:
            task.result()  # re-raise why the connection ended
        if stopper in done:
            await _finish(ws, tasks, busy, shutdown_grace)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _finish(ws: ClientConnection, tasks: tuple[asyncio.Task[Any], ...],
                  busy: asyncio.Lock, grace: float) -> None:
    """Let the request in hand complete, read nothing more, then close with 1001."""
    try:
        async with asyncio.timeout(grace):
            await busy.acquire()  # the reader is idle (or done); keep it so
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
) -> None:
    """Serve the host in ``data_dir`` through the relay until ``stop`` is set.

    ``ready`` (an Event, or a callable given the host id) is signalled after every
    successful authentication. Configuration problems raise HostConfigError at once;
    network problems only ever lead to a reconnect. ``admin_poll`` is how often (s)
    the node looks for revocations written by ``hearth host`` admin commands.
    """
    endpoints = relay_endpoints(relay_url)
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
                    await _session(ws, service, stop, shutdown_grace=shutdown_grace,
                                   admin_poll=admin_poll)
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
        await store.close()
        status(STOPPED)
    log.info("event=host_stopped host=%s", host_id)
