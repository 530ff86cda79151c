"""The relay's core: every connection of this relay, and the frames between them.

It takes decoded frames from connections and pushes encoded frames into connection
outboxes; it never touches a socket and never awaits a peer, so a slow peer can only
hurt itself. Every route goes through the bus (see relay.bus), so this same code runs
unchanged when several relays share one.

``Hub`` holds the state and the connections' lifecycle (open, closed, sweeps, drain);
the work is done by modules of functions that take the hub:

  relay.inbound    each frame from a peer: size, decoding, auth gate, rate limits, dispatch
  relay.handshake  ``hello`` / ``host_hello``: authentication
  relay.routing    ``req`` → ``fwd``, ``resp_to`` → ``resp``
  relay.topics     ``sub``, ``unsub``, ``pub`` → ``event``: subscriptions and fan-out
  relay.ephemeral  ``eph``: presence and typing
  relay.hosts      hosts arriving, departing, replaced, and their ``revoke``
  relay.outbound   (``Outbound``) everything sent to a peer: frames, refusals, closes
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from functools import partial

from hearth.auth import new_challenge
from hearth.b64 import b64e
from hearth.frames import CloseCode
from hearth.keys import now_ms
from hearth.ratelimit import TokenBucket
from relay import ephemeral, hosts, routing, topics
from relay.bus import CTL_ALL, Bus, Handler, conn_subject
from relay.connection import Connection, Kind
from relay.identity_limits import IdentityLimiter
from relay.labelled import Children
from relay.metrics import RelayMetrics
from relay.outbound import Outbound
from relay.outbox import Outbox
from relay.ratelimit import FrameLimiter
from relay.revocations import Revocations
from relay.settings import RelaySettings
from relay.subscriptions import Subscriptions
from relay.tokens import TokenCache

log = logging.getLogger("hearth.relay")


class Hub:
    """All connections of this relay and the routes between them.

    Invariants: ``conns`` holds every open connection; ``hosts[h]`` the authenticated
    connections of host ``h`` on this relay (normally one); ``subs`` and ``watchers`` only
    hold connections in ``conns``; a topic has a bus handler exactly while ``subs`` has a
    subscriber for it here; no event reaches a subscriber whose token has expired.
    """

    def __init__(
        self,
        settings: RelaySettings,
        bus: Bus,
        metrics: RelayMetrics,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = now_ms,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.metrics = metrics
        self.clock = clock
        self.wall_ms = wall_ms
        self.accepting = False
        self.conns: dict[str, Connection] = {}
        self.hosts: dict[str, dict[str, Connection]] = {}
        self.subs: Subscriptions[Connection] = Subscriptions()
        self.tokens = TokenCache(
            settings.token_cache_size, on_verify=metrics.token_verifications.inc
        )
        self.revocations = Revocations()
        self.watchers: dict[str, set[Connection]] = {}
        self.identity_limits = IdentityLimiter()
        self.out = Outbound(settings, metrics, clock)
        # Bus handlers, made once: unsubscribing takes the very object that subscribed.
        self.on_topic: Handler = partial(topics.on_topic, self)
        self.on_space_topic: Handler = partial(topics.on_space_topic, self)
        self.on_ephemeral: Handler = partial(ephemeral.on_ephemeral, self)
        self.on_control: Handler = partial(hosts.on_control, self)
        self._sharing: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.frames_in = Children(metrics.frames_in)

    # ---- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        await self.bus.start()
        await self.bus.subscribe(CTL_ALL, self.on_control)
        interval = self.bus.share_interval()
        if interval is not None:
            self._sharing = asyncio.create_task(self._share_usage_forever(interval))
        self.accepting = True

    async def drain(self, code: int, reason: str, grace: float) -> None:
        """Stop accepting, ask every connection to close with ``code``, wait up to ``grace``."""
        self.accepting = False
        for conn in list(self.conns.values()):
            self.out.close(conn, code, reason, flush=True)
        if self.conns:
            try:
                async with asyncio.timeout(grace):
                    await self._idle.wait()
            except TimeoutError:
                log.warning("event=drain_timeout open=%d", len(self.conns))

    async def stop(self) -> None:
        if self._sharing is not None:
            self._sharing.cancel()
            await asyncio.gather(self._sharing, return_exceptions=True)
        self.bus.unsubscribe(CTL_ALL, self.on_control)
        await self.bus.close()

    def ready(self) -> bool:
        return self.accepting and self.bus.healthy()

    # ---- connections ---------------------------------------------------------------

    def open(self, kind: Kind, peer: str) -> Connection:
        """Register a new connection and queue its challenge."""
        now = self.clock()
        s = self.settings
        client = kind is Kind.CLIENT
        challenge = new_challenge()
        conn = Connection(
            kind=kind,
            id=b64e(secrets.token_bytes(16)),
            peer=peer,
            challenge=challenge,
            outbox=Outbox(
                s.client_queue_frames if client else s.host_queue_frames,
                s.client_queue_chars if client else s.host_queue_chars,
            ),
            limiter=FrameLimiter(s.client_rates if client else s.host_rates),
            flood=TokenBucket(s.flood, now),
            opened=now,
            last_seen=now,
        )
        self.conns[conn.id] = conn
        self._idle.clear()
        self.metrics.connections.labels(kind).inc()
        log.info("event=connect conn=%s peer=%s", conn, peer)
        if not self.accepting:
            self.out.close(conn, CloseCode.GOING_AWAY, "relay is shutting down", flush=False)
        else:
            self.out.send(conn, challenge)
        return conn

    async def closed(self, conn: Connection) -> None:
        """Forget a connection whose socket is gone. Idempotent."""
        if self.conns.pop(conn.id, None) is None:
            return
        self.metrics.connections.labels(conn.kind).dec()
        if conn.outbox.dropped:
            self.metrics.queue_drops.labels(conn.kind).inc(conn.outbox.dropped)
        log.info(
            "event=disconnect conn=%s code=%s secs=%.1f",
            conn, conn.outbox.close_code, self.clock() - conn.opened,
        )
        if conn.kind is Kind.CLIENT:
            topics.unsubscribe_topics(self, self.subs.drop(conn))
            routing.unwatch(self, conn)
            if conn.handler is not None:
                self.bus.unsubscribe(conn_subject(conn.id), conn.handler)
        elif conn.identity is not None:
            await hosts.depart(self, conn)
        if not self.conns:
            self._idle.set()

    def sweep(self) -> None:
        """Periodic duties: auth and idle timeouts, expired subscriptions, stale caches."""
        now = self.clock()
        wall = self.wall_ms()
        s = self.settings
        for conn in list(self.conns.values()):
            if conn.outbox.closing:
                continue
            if not conn.authenticated and now - conn.opened >= s.auth_timeout:
                self.out.close(
                    conn, CloseCode.AUTH_TIMEOUT,
                    f"not authenticated within {s.auth_timeout:g} s", flush=True,
                )
            elif now - conn.last_seen >= s.idle_timeout:
                self.out.close(
                    conn, CloseCode.IDLE_TIMEOUT, f"no frame for {s.idle_timeout:g} s",
                    flush=True,
                )
        topics.end_subscriptions(self, self.subs.expired(wall), "expired")
        self.tokens.prune(wall)
        self.revocations.prune(wall)
        self.identity_limits.prune(now)

    async def _share_usage_forever(self, interval: float) -> None:
        """Per-identity limits across relays: trade local usage for shared levels."""
        task = asyncio.current_task()
        while True:
            await asyncio.sleep(interval)
            try:
                usage = self.identity_limits.take_usage()
                if usage:
                    self.identity_limits.adopt(await self.bus.share_usage(usage), self.clock())
            except Exception:
                log.exception("event=share_usage_failed")
            if task is not None and task.cancelling():
                # Python 3.11's wait_for (under the Redis call) can swallow a cancel that
                # lands as its answer arrives: stop anyway, or shutdown waits forever.
                raise asyncio.CancelledError
