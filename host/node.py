"""The host's network shell: dial the relay, authenticate, serve forwarded requests.

Invariants: requests are processed one at a time in arrival order, and each one's
``resp_to`` is sent before the events it caused, so fan-out order is seq order and
a sender hears its acknowledgement before anyone sees the message. Any disconnect
leads to a reconnect with full-jitter exponential backoff until ``stop`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from pathlib import Path

from nacl.signing import SigningKey
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from hearth.auth import host_hello
from hearth.errors import ProtocolError
from hearth.frames import (
    Challenge,
    Error,
    ForwardedRequest,
    HostWelcome,
    Ping,
    Pong,
    RelayToHost,
    decode_frame,
    encode_frame,
)
from hearth.keys import now_ms
from hearth.limits import MAX_HOST_FRAME
from host.config import db_path, load_host_key
from host.context import pending_revocations
from host.errors import HostConfigError
from host.service import Service
from host.store import Store

log = logging.getLogger("hearth.host")

PING_INTERVAL_S = 30.0
AUTH_TIMEOUT_S = 10.0
BACKOFF_BASE_S = 0.2
BACKOFF_CAP_S = 30.0

Ready = asyncio.Event | Callable[[str], object] | None


class AuthFailed(Exception):
    """The relay did not accept this host's hello (or spoke out of turn)."""


class Backoff:
    """Full jitter: each delay is uniform in [base, min(cap, base * 2**attempt)]."""

    def __init__(
        self, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S,
        rng: random.Random | None = None,
    ) -> None:
        self.base, self.cap = base, cap
        self._rng = rng or random.Random()
        self._attempt = 0

    def next(self) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(self._attempt, 32))
        self._attempt += 1
        return self._rng.uniform(self.base, ceiling)

    def reset(self) -> None:
        self._attempt = 0


def relay_endpoint(relay_url: str) -> str:
    """``ws[s]://relay`` → its host endpoint; a malformed URL is a config error, since
    retrying it forever would only hide the typo."""
    if not relay_url.startswith(("ws://", "wss://")):
        raise HostConfigError(f"relay URL {relay_url!r} must start with ws:// or wss://")
    return relay_url.rstrip("/") + "/ws/host"


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


async def _read_forever(ws: ClientConnection, service: Service) -> None:
    async for raw in ws:
        try:
            frame = decode_frame(raw, RelayToHost)
        except ProtocolError as exc:
            log.warning("ignoring a bad frame from the relay: %s", exc.message[:200])
            continue
        if isinstance(frame, ForwardedRequest):
            for out in await service.respond(frame.from_, frame.body, frame.sig):
                await ws.send(encode_frame(out))
        elif isinstance(frame, Error):
            log.warning("relay error %s: %s", frame.code, frame.msg)
        elif not isinstance(frame, Pong):
            log.debug("ignoring %s frame from the relay", type(frame).__name__)


async def _session(ws: ClientConnection, service: Service, stop: asyncio.Event) -> None:
    """Serve one authenticated connection until it closes or ``stop`` is set."""
    for revoke in await pending_revocations(service.store, now_ms()):
        await ws.send(encode_frame(revoke))
    reader = asyncio.create_task(_read_forever(ws, service))
    pinger = asyncio.create_task(_ping_forever(ws))
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait(
            {reader, pinger, stopper}, return_when=asyncio.FIRST_COMPLETED
        )
        for task in done - {stopper}:
            task.result()  # re-raise why the connection ended
    finally:
        for task in (reader, pinger, stopper):
            task.cancel()
        await asyncio.gather(reader, pinger, stopper, return_exceptions=True)


def _notify(ready: Ready, host_id: str) -> None:
    if isinstance(ready, asyncio.Event):
        ready.set()
    elif ready is not None:
        ready(host_id)


async def run_node(
    data_dir: Path | str,
    relay_url: str,
    *,
    stop: asyncio.Event | None = None,
    ready: Ready = None,
) -> None:
    """Serve the host in ``data_dir`` through the relay until ``stop`` is set.

    ``ready`` (an Event, or a callable given the host id) is signalled after every
    successful authentication. Configuration problems raise HostConfigError at once;
    network problems only ever lead to a reconnect.
    """
    endpoint = relay_endpoint(relay_url)
    key = load_host_key(data_dir)
    store = await Store.open(db_path(data_dir))
    service = Service(store, key)
    stop = stop or asyncio.Event()
    backoff = Backoff()
    try:
        while not stop.is_set():
            try:
                async with connect(
                    endpoint, compression=None, max_size=MAX_HOST_FRAME, open_timeout=10,
                ) as ws:
                    await _authenticate(ws, key, service.host_id)
                    backoff.reset()
                    log.info("connected to %s as host %s", endpoint, service.host_id)
                    _notify(ready, service.host_id)
                    await _session(ws, service, stop)
                    if not stop.is_set():
                        log.warning("disconnected from %s: connection closed", endpoint)
            except AuthFailed as exc:
                log.warning("authentication to %s failed: %s", endpoint, exc)
            except InvalidURI as exc:
                raise HostConfigError(f"relay URL {relay_url!r} is invalid: {exc}") from None
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake,
                    ProtocolError) as exc:
                log.warning("disconnected from %s: %s", endpoint, str(exc)[:200] or repr(exc))
            if stop.is_set():
                break
            delay = backoff.next()
            log.info("reconnecting in %.1f s", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
    finally:
        await store.close()
    log.info("host %s stopped", service.host_id)
