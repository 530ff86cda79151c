"""The Redis bus: several relay processes joined by Redis pub/sub, acting as one relay.

Two connections per process: the *command* connection (relay/redis_commands.py: one
pipelining writer, one reply reader) and the *subscriber* connection
(relay/redis_subscriber.py: one Redis channel per destination subject). This module
runs their sessions, reconnects, and restores state on a new session: subscriptions,
retained control messages and host presence.

Invariants: while healthy, every subject with a local handler is subscribed on Redis;
no method raises because Redis is unreachable — publishes are dropped (counted in
``dropped``), presence answers from what this process knows, and ``healthy()`` is False
with ``last_error()`` saying why until a reconnect (jittered backoff) has resubscribed
everything. Keys and scripts: relay/redis_scripts.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from hearth.backoff import Backoff
from relay import redis_scripts as lua
from relay.bus import CTL_PREFIX, Handler, Usage, check_retainable, matches
from relay.redis_commands import BusUnavailable, CommandPipe, reason_of
from relay.redis_subscriber import Subscriber, dispatch

log = logging.getLogger("hearth.relay")

__all__ = ["BusUnavailable", "RedisBus", "redact"]

_START_WAIT = 2.0
"""Longest a relay's startup waits for Redis before serving (not ready) without it."""
_SHARE_CHUNK = 1000
"""Identities per shared-limit script call (one script blocks Redis while it runs)."""


def redact(url: str) -> str:
    """``url`` without its password, for logs and /health/ready."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


class RedisBus:
    """A Bus over Redis (see the module doc for what holds while Redis is away)."""

    def __init__(
        self,
        url: str,
        *,
        presence_ttl: float = 10.0,
        share_every: float = 0.2,
        command_timeout: float = 5.0,
        max_pending: int = 100_000,
        backoff: Backoff | None = None,
    ) -> None:
        if presence_ttl < 0.3:
            raise ValueError(f"presence_ttl must be at least 0.3 s, got {presence_ttl!r}")
        self.url = redact(url)
        self._pool = ConnectionPool.from_url(
            # RESP2: pub/sub messages are plain arrays on a connection of their own.
            url, decode_responses=True, protocol=2, retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=command_timeout, socket_keepalive=True,
        )
        self._presence_ms = int(presence_ttl * 1000)
        self._share_every = share_every
        self._timeout = command_timeout
        self._backoff = backoff or Backoff(0.1, 5.0)

        self._healthy = False
        self._connected = asyncio.Event()
        self._closing = False
        self._supervisor: asyncio.Task[None] | None = None
        self._commands = CommandPipe(self.url, timeout=command_timeout,
                                     max_pending=max_pending)
        self._subs = Subscriber()
        self._owned: dict[str, str] = {}
        """Hosts whose connection is on this relay: host id -> owning connection id."""
        self._retained: dict[str, tuple[int, float, str]] = {}
        """Retained entries this process knows (member -> rank, expiry (monotonic), data),
        written back if Redis comes back empty."""

    @property
    def dropped(self) -> int:
        """Publishes dropped because Redis was unreachable."""
        return self._commands.dropped

    # ---- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Connect in the background; wait (bounded) for the first connection so a relay
        that can reach Redis is ready at once, and one that cannot still starts."""
        self._supervisor = asyncio.create_task(self._supervise())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(self._timeout, _START_WAIT)):
                await self._connected.wait()

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        self._subs.handlers.clear()
        self._owned.clear()
        await self._pool.aclose()

    def healthy(self) -> bool:
        return self._healthy

    def last_error(self) -> str | None:
        return None if self._healthy else f"redis at {self.url}: {self._commands.error}"

    def subject_count(self) -> int:
        """Subjects with at least one handler (tests use it to prove nothing leaks)."""
        return len(self._subs.handlers)

    async def _supervise(self) -> None:
        down_since: float | None = None
        attempts = 0
        while not self._closing:
            try:
                await self._session(down_since)
                reason = "connection ended"
            except (RedisError, OSError, TimeoutError, BusUnavailable) as exc:
                reason = reason_of(exc)
            except Exception as exc:  # a bug: log it loudly, but keep the relay alive
                log.exception("event=bus_failed backend=redis")
                reason = reason_of(exc)
            was_healthy = self._healthy
            self._went_down(reason)
            if was_healthy or down_since is None:
                down_since = time.monotonic()
                attempts = 0
                log.warning("event=bus_down backend=redis url=%s reason=%r", self.url, reason)
            attempts += 1
            delay = self._backoff.next()
            log.info("event=bus_reconnect_wait backend=redis secs=%.2f attempt=%d reason=%r",
                     delay, attempts, reason)
            await asyncio.sleep(delay)

    async def _session(self, down_since: float | None) -> None:
        """Connect, restore everything, serve until a connection fails (raises why)."""
        cmd: AbstractConnection = self._pool.make_connection()  # type: ignore[no-untyped-call]
        sub: AbstractConnection = self._pool.make_connection()  # type: ignore[no-untyped-call]
        try:
            async with asyncio.timeout(self._timeout):
                await cmd.connect()  # type: ignore[no-untyped-call]
                await sub.connect()  # type: ignore[no-untyped-call]
            self._commands.conn = cmd
            self._subs.connected(sub)
            tasks = [
                asyncio.create_task(self._commands.send_forever(cmd)),
                asyncio.create_task(self._commands.read_forever(cmd)),
                asyncio.create_task(self._subs.sync_forever(sub)),
                asyncio.create_task(self._subs.read_forever(sub)),
                asyncio.create_task(self._keep(down_since)),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # raises why the session ended
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks, timeout=self._timeout)
        finally:
            self._commands.conn = self._subs.conn = None
            for conn in (cmd, sub):
                with contextlib.suppress(Exception):
                    await conn.disconnect(nowait=True)

    async def _keep(self, down_since: float | None) -> None:
        """Restore state on a new connection, then refresh presence (which doubles as the
        liveness probe: a Redis that stops answering ends the session)."""
        await self._subs.wait_confirmed(list(self._subs.handlers))
        now = time.monotonic()
        for member, (rank, until, data) in list(self._retained.items()):
            if until > now:
                self._retain_remote(member, rank, int((until - now) * 1000), data)
        await self._refresh_presence()
        await self._replay(self._subs.handlers)
        self._healthy, self._commands.error = True, None
        self._backoff.reset()
        self._connected.set()
        if down_since is None:
            log.info("event=bus_up backend=redis url=%s", self.url)
        else:
            log.warning("event=bus_recovered backend=redis url=%s down_secs=%.1f "
                        "subjects=%d hosts=%d", self.url, now - down_since,
                        len(self._subs.handlers), len(self._owned))
        tick = min(1.0, self._presence_ms / 3000)
        while True:
            await asyncio.sleep(tick)
            await self._refresh_presence()

    def _went_down(self, reason: str) -> None:
        self._healthy, self._commands.error = False, reason
        self._connected.clear()
        self._commands.lost(BusUnavailable(f"redis at {self.url} is unreachable: {reason}"))
        self._subs.lost()

    # ---- publish and subscribe -------------------------------------------------------

    async def publish(self, subject: str, data: str) -> None:
        commands = self._commands
        if commands.conn is None:
            commands.dropped += 1
            return
        if not commands.room.is_set():
            await commands.room.wait()  # Redis is behind: hold the publisher, not the memory
            if commands.conn is None:
                commands.dropped += 1
                return
        commands.enqueue(("PUBLISH", subject, data))

    async def subscribe(self, subject: str, handler: Handler) -> None:
        connected = self._subs.conn is not None
        await self._subs.add(subject, handler)
        if connected and subject.startswith(CTL_PREFIX) and self._commands.conn is not None:
            try:
                await self._replay({subject: [handler]})
            except (BusUnavailable, RedisError) as exc:
                # The session is failing; the next one replays to every handler.
                log.info("event=bus_replay_deferred backend=redis reason=%r", reason_of(exc))

    def unsubscribe(self, subject: str, handler: Handler) -> None:
        self._subs.remove(subject, handler)

    # ---- retained control messages ---------------------------------------------------

    async def publish_retained(
        self, subject: str, data: str, *, key: str, rank: int, ttl_ms: int
    ) -> None:
        check_retainable(subject)
        member = f"{subject} {key}"
        old = self._retained.get(member)
        if old is None or old[0] <= rank:
            self._retained[member] = (rank, time.monotonic() + ttl_ms / 1000, data)
        if self._commands.conn is not None:
            self._retain_remote(member, rank, ttl_ms, data)
        await self.publish(subject, data)

    def _retain_remote(self, member: str, rank: int, ttl_ms: int, data: str) -> None:
        self._commands.enqueue(("EVAL", lua.RETAIN, 2, lua.RETAINED_INDEX,
                                lua.RETAINED + member, member, rank, ttl_ms, data))

    async def _replay(self, handlers: dict[str, list[Handler]]) -> None:
        """Hand every live retained message to the control handlers that match it."""
        wanted = {s: list(h) for s, h in handlers.items() if s.startswith(CTL_PREFIX)}
        if not wanted:
            return
        flat: list[Any] = await self._commands.call(
            "EVAL", lua.RETAINED_ALL, 1, lua.RETAINED_INDEX, lua.RETAINED)
        now = time.monotonic()
        for i in range(0, len(flat), 3):
            member, value, pttl = flat[i], flat[i + 1], int(flat[i + 2])
            subject = member.split(" ", 1)[0]
            rank_text, _, data = value.partition(" ")
            rank = int(rank_text)
            old = self._retained.get(member)
            if pttl > 0 and (old is None or old[0] <= rank):
                self._retained[member] = (rank, now + pttl / 1000, data)
            for pattern, hs in wanted.items():
                if matches(pattern, subject):
                    dispatch(hs, subject, data)
        for member in [m for m, (_, until, _) in self._retained.items() if until <= now]:
            del self._retained[member]

    # ---- host presence -----------------------------------------------------------------

    async def mark_online(self, host_id: str, owner: str) -> None:
        self._owned[host_id] = owner
        await self._commands.attempt("SET", lua.PRESENCE + host_id, owner, "PX",
                                     self._presence_ms)

    async def mark_offline(self, host_id: str, owner: str) -> bool:
        mine = self._owned.get(host_id) == owner
        if mine:
            del self._owned[host_id]
        deleted = await self._commands.attempt("EVAL", lua.DEL_IF_OWNER, 1,
                                               lua.PRESENCE + host_id, owner)
        return mine if deleted is None else bool(deleted)

    async def is_online(self, host_id: str) -> bool:
        if host_id in self._owned:
            return True
        return bool(await self._commands.attempt("EXISTS", lua.PRESENCE + host_id))

    async def _refresh_presence(self) -> None:
        """Keep this relay's hosts' keys alive (re-creating them after a Redis restart);
        a key that now names another owner means the host moved: forget it here."""
        owned = list(self._owned.items())
        if not owned:
            await self._commands.call("PING")
            return
        keys = [lua.PRESENCE + host_id for host_id, _ in owned]
        kept: list[int] = await self._commands.call(
            "EVAL", lua.REFRESH, len(keys), *keys, self._presence_ms, *(o for _, o in owned)
        )
        for (host_id, owner), ok in zip(owned, kept, strict=True):
            if not ok and self._owned.get(host_id) == owner:
                del self._owned[host_id]

    # ---- shared per-identity rate limits ------------------------------------------------

    def share_interval(self) -> float | None:
        return self._share_every

    async def share_usage(self, usage: Usage) -> dict[str, float]:
        levels: dict[str, float] = {}
        items = list(usage.items())
        for start in range(0, len(items), _SHARE_CHUNK):
            chunk = items[start:start + _SHARE_CHUNK]
            args: list[str | int] = []
            for _, (used, limit) in chunk:
                args += [used, repr(limit.rate), repr(limit.burst)]
            result = await self._commands.attempt(
                "EVAL", lua.SHARE, len(chunk), *(lua.LIMIT + identity for identity, _ in chunk),
                *args)
            if result is None:
                return levels  # Redis is away: each relay limits on its own meanwhile
            for (identity, _), level in zip(chunk, result, strict=True):
                levels[identity] = float(level)
        return levels
