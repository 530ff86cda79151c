"""The Redis bus: several relay processes joined by Redis pub/sub, acting as one relay.

Two connections per process. The *command* connection is driven by one writer task that
pipelines everything queued (publishes, presence, shared rate limits) in batches, and
one reply reader that answers the queued commands in order. The *subscriber* connection
SUBSCRIBEs each exact subject and PSUBSCRIBEs each ``prefix.*`` subject, one Redis
channel per destination, never one shared channel.

Invariants: while healthy, every subject with a local handler is subscribed on Redis;
no method raises because Redis is unreachable — publishes are dropped (counted in
``dropped``), presence answers from what this process knows, and ``healthy()`` is False
with ``last_error()`` saying why until a reconnect (jittered backoff) has resubscribed
everything. Keys live under ``hearth:``, so a Redis can be shared with other software.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from hearth.backoff import Backoff
from relay.bus import CTL_PREFIX, Handler, Usage, check_retainable, matches

log = logging.getLogger("hearth.relay")

PRESENCE = "hearth:presence:"
LIMIT = "hearth:rl:"
RETAINED_INDEX = "hearth:retained"
RETAINED = "hearth:retained:"

_BATCH = 512
"""Commands per pipelined write: large enough to amortise a syscall, small enough that
one batch never delays the next by much."""
_MAX_IN_FLIGHT = 8192
"""Commands sent but not yet answered before the writer waits for replies."""
_START_WAIT = 2.0
"""Longest a relay's startup waits for Redis before serving (not ready) without it."""
_SHARE_CHUNK = 1000
"""Identities per shared-limit script call (one script blocks Redis while it runs)."""

_DEL_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_REFRESH = """
local out = {}
for i, key in ipairs(KEYS) do
  local owner = ARGV[i + 1]
  local current = redis.call('GET', key)
  if not current then
    redis.call('SET', key, owner, 'PX', ARGV[1])
    out[i] = 1
  elseif current == owner then
    redis.call('PEXPIRE', key, ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
"""

_RETAIN = _NOW + """
local old = redis.call('GET', KEYS[2])
if old then
  local old_rank = tonumber(string.match(old, '^(%S+) '))
  if old_rank and old_rank > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[2], ARGV[2] .. ' ' .. ARGV[4], 'PX', ARGV[3])
redis.call('ZADD', KEYS[1], 'GT', math.floor(now) + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', math.floor(now))
return 1
"""

_RETAINED = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', math.floor(now))
local out = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. member
  local value = redis.call('GET', key)
  if value then
    out[#out + 1] = member
    out[#out + 1] = value
    out[#out + 1] = redis.call('PTTL', key)
  end
end
return out
"""

_SHARE = _NOW + """
local out = {}
for i, key in ipairs(KEYS) do
  local used = tonumber(ARGV[3 * i - 2])
  local rate = tonumber(ARGV[3 * i - 1])
  local burst = tonumber(ARGV[3 * i])
  local state = redis.call('HMGET', key, 'level', 'at')
  local level = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  if now > at then level = math.min(burst, level + (now - at) * rate / 1000) end
  level = level - used
  redis.call('HSET', key, 'level', tostring(level), 'at', tostring(math.max(now, at)))
  redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 10000)
  out[i] = tostring(level)
end
return out
"""


class BusUnavailable(Exception):
    """Redis cannot be reached right now (the message says why)."""


def redact(url: str) -> str:
    """``url`` without its password, for logs and /health/ready."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _reason(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:300]


async def _send(conn: AbstractConnection, commands: Sequence[tuple[str | int, ...]]) -> None:
    """Write pipelined commands on a live connection, never reconnecting it (a new session
    does that, restoring state first) and never swallowing a cancellation."""
    if not conn.is_connected:
        raise BusUnavailable("connection to redis closed")
    await conn.send_packed_command(conn.pack_commands(commands), check_health=False)
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        # redis-py can absorb a CancelledError while it tears the socket down.
        raise asyncio.CancelledError


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
        self._max_pending = max_pending
        self._backoff = backoff or Backoff(0.1, 5.0)

        self._healthy = False
        self._error: str | None = "not connected yet"
        self._connected = asyncio.Event()
        self._closing = False
        self._supervisor: asyncio.Task[None] | None = None
        self.dropped = 0
        """Publishes dropped because Redis was unreachable."""

        self._cmd: AbstractConnection | None = None
        self._queue: deque[tuple[tuple[str | int, ...], asyncio.Future[Any] | None]] = deque()
        self._in_flight: deque[asyncio.Future[Any] | None] = deque()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._replied = asyncio.Event()

        self._sub: AbstractConnection | None = None
        self._handlers: dict[str, list[Handler]] = {}
        self._remote: set[str] = set()
        """Subjects SUBSCRIBEd (or PSUBSCRIBEd) on the current subscriber connection."""
        self._unconfirmed: dict[str, int] = {}
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._dirty: set[str] = set()
        self._sub_wake = asyncio.Event()

        self._owned: dict[str, str] = {}
        """Hosts whose connection is on this relay: host id -> owning connection id."""
        self._retained: dict[str, tuple[int, float, str]] = {}
        """Retained entries this process knows (member -> rank, expiry (monotonic), data),
        written back if Redis comes back empty."""

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
        self._handlers.clear()
        self._owned.clear()
        await self._pool.aclose()

    def healthy(self) -> bool:
        return self._healthy

    def last_error(self) -> str | None:
        return None if self._healthy else f"redis at {self.url}: {self._error}"

    def subject_count(self) -> int:
        """Subjects with at least one handler (tests use it to prove nothing leaks)."""
        return len(self._handlers)

    async def _supervise(self) -> None:
        down_since: float | None = None
        attempts = 0
        while not self._closing:
            try:
                await self._session(down_since)
                reason = "connection ended"
            except (RedisError, OSError, TimeoutError, BusUnavailable) as exc:
                reason = _reason(exc)
            except Exception as exc:  # a bug: log it loudly, but keep the relay alive
                log.exception("event=bus_failed backend=redis")
                reason = _reason(exc)
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
            self._cmd, self._sub = cmd, sub
            self._dirty.update(self._handlers)
            tasks = [
                asyncio.create_task(self._send_commands(cmd)),
                asyncio.create_task(self._read_replies(cmd)),
                asyncio.create_task(self._sync_subscriptions(sub)),
                asyncio.create_task(self._read_messages(sub)),
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
            self._cmd = self._sub = None
            for conn in (cmd, sub):
                with contextlib.suppress(Exception):
                    await conn.disconnect(nowait=True)

    async def _keep(self, down_since: float | None) -> None:
        """Restore state on a new connection, then refresh presence (which doubles as the
        liveness probe: a Redis that stops answering ends the session)."""
        await self._wait_confirmed(list(self._handlers))
        now = time.monotonic()
        for member, (rank, until, data) in list(self._retained.items()):
            if until > now:
                self._retain_remote(member, rank, int((until - now) * 1000), data)
        await self._refresh_presence()
        await self._replay(self._handlers)
        self._healthy, self._error = True, None
        self._backoff.reset()
        self._connected.set()
        if down_since is None:
            log.info("event=bus_up backend=redis url=%s", self.url)
        else:
            log.warning("event=bus_recovered backend=redis url=%s down_secs=%.1f "
                        "subjects=%d hosts=%d", self.url, now - down_since,
                        len(self._handlers), len(self._owned))
        tick = min(1.0, self._presence_ms / 3000)
        while True:
            await asyncio.sleep(tick)
            await self._refresh_presence()

    def _went_down(self, reason: str) -> None:
        self._healthy, self._error = False, reason
        self._connected.clear()
        lost = BusUnavailable(f"redis at {self.url} is unreachable: {reason}")
        while self._queue:
            _, fut = self._queue.popleft()
            if fut is None:
                self.dropped += 1
            elif not fut.done():
                fut.set_exception(lost)
        while self._in_flight:
            fut = self._in_flight.popleft()
            if fut is not None and not fut.done():
                fut.set_exception(lost)
        self._room.set()
        self._remote.clear()
        self._unconfirmed.clear()
        self._dirty.clear()
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)  # resubscribed when Redis is back
        self._waiters.clear()

    # ---- the command connection: one pipelining writer, one reply reader ------------

    async def _send_commands(self, conn: AbstractConnection) -> None:
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            if len(self._in_flight) >= _MAX_IN_FLIGHT:
                self._replied.clear()
                await self._replied.wait()  # the reply reader is behind: let it catch up
                continue
            batch = [self._queue.popleft() for _ in range(min(_BATCH, len(self._queue)))]
            self._in_flight.extend(fut for _, fut in batch)
            if len(self._queue) < self._max_pending:
                self._room.set()
            await _send(conn, [a for a, _ in batch])

    async def _read_replies(self, conn: AbstractConnection) -> None:
        while True:
            try:
                # math.inf: an idle connection is fine; liveness is _keep's job.
                reply: Any = await conn.read_response(timeout=math.inf)
            except ResponseError as exc:
                reply = exc
            if not self._in_flight:
                raise BusUnavailable(f"unexpected reply from redis: {str(reply)[:100]!r}")
            fut = self._in_flight.popleft()
            self._replied.set()
            if isinstance(reply, ResponseError):
                if fut is None:
                    log.error("event=bus_command_failed backend=redis error=%r", str(reply))
                elif not fut.done():
                    fut.set_exception(reply)
            elif fut is not None and not fut.done():
                fut.set_result(reply)

    def _enqueue(self, args: tuple[str | int, ...], fut: asyncio.Future[Any] | None) -> None:
        self._queue.append((args, fut))
        self._wake.set()
        if len(self._queue) >= self._max_pending:
            self._room.clear()

    async def _call(self, *args: str | int) -> Any:
        """Run one command through the writer; BusUnavailable if Redis is away or slow."""
        if self._cmd is None:
            raise BusUnavailable(f"redis at {self.url} is unreachable: {self._error}")
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._enqueue(args, fut)
        try:
            return await asyncio.wait_for(fut, self._timeout)
        except TimeoutError:
            raise BusUnavailable(
                f"redis at {self.url} did not answer {args[0]!s} within {self._timeout:g} s"
            ) from None

    async def _try(self, *args: str | int) -> Any:
        """``_call``, but None instead of an error: callers fall back to local knowledge."""
        try:
            return await self._call(*args)
        except (BusUnavailable, RedisError) as exc:
            log.debug("event=bus_command_skipped backend=redis cmd=%s reason=%r",
                      args[0], _reason(exc))
            return None

    async def publish(self, subject: str, data: str) -> None:
        if self._cmd is None:
            self.dropped += 1
            return
        if not self._room.is_set():
            await self._room.wait()  # Redis is behind: hold the publisher, not the memory
            if self._cmd is None:
                self.dropped += 1
                return
        self._enqueue(("PUBLISH", subject, data), None)

    # ---- the subscriber connection ----------------------------------------------------

    async def subscribe(self, subject: str, handler: Handler) -> None:
        self._handlers.setdefault(subject, []).append(handler)
        if self._sub is None:
            return  # subscribed (and replayed to) when the connection is back
        if subject not in self._remote or subject in self._unconfirmed:
            self._dirty.add(subject)
            self._sub_wake.set()
            await self._wait_confirmed([subject])
        if subject.startswith(CTL_PREFIX) and self._cmd is not None:
            try:
                await self._replay({subject: [handler]})
            except (BusUnavailable, RedisError) as exc:
                # The session is failing; the next one replays to every handler.
                log.info("event=bus_replay_deferred backend=redis reason=%r", _reason(exc))

    def unsubscribe(self, subject: str, handler: Handler) -> None:
        handlers = self._handlers.get(subject)
        if handlers is None:
            return
        with contextlib.suppress(ValueError):
            handlers.remove(handler)
        if not handlers:
            del self._handlers[subject]
            if self._sub is not None:
                self._dirty.add(subject)
                self._sub_wake.set()

    async def _wait_confirmed(self, subjects: Iterable[str]) -> None:
        loop = asyncio.get_running_loop()
        waiters: list[asyncio.Future[None]] = []
        for subject in subjects:
            if subject in self._remote and subject not in self._unconfirmed:
                continue
            waiter = loop.create_future()
            self._waiters.setdefault(subject, []).append(waiter)
            waiters.append(waiter)
        if waiters:
            await asyncio.gather(*waiters)

    async def _sync_subscriptions(self, conn: AbstractConnection) -> None:
        """Bring Redis's subscriptions to the local handler table, in batches. Deciding at
        send time (not per call) makes unsubscribe-then-subscribe races come out right."""
        while True:
            if not self._dirty:
                self._sub_wake.clear()
                await self._sub_wake.wait()
                continue
            dirty, self._dirty = self._dirty, set()
            commands: dict[str, list[str]] = {
                "SUBSCRIBE": [], "PSUBSCRIBE": [], "UNSUBSCRIBE": [], "PUNSUBSCRIBE": [],
            }
            for subject in dirty:
                want, have = subject in self._handlers, subject in self._remote
                pattern = "P" if subject.endswith(".*") else ""
                if want and not have:
                    commands[f"{pattern}SUBSCRIBE"].append(subject)
                    self._remote.add(subject)
                    self._unconfirmed[subject] = self._unconfirmed.get(subject, 0) + 1
                elif have and not want:
                    commands[f"{pattern}UNSUBSCRIBE"].append(subject)
                    self._remote.discard(subject)
            for subject in dirty:
                if subject not in self._unconfirmed:
                    self._confirm(subject)  # nothing to wait for: release any waiter
            packed = [(name, *subjects) for name, subjects in commands.items() if subjects]
            if packed:
                await _send(conn, packed)

    def _confirm(self, subject: str) -> None:
        for waiter in self._waiters.pop(subject, ()):
            if not waiter.done():
                waiter.set_result(None)

    async def _read_messages(self, conn: AbstractConnection) -> None:
        while True:
            message: list[Any] = await conn.read_response(timeout=math.inf)
            kind = message[0]
            if kind == "message":
                self._dispatch(self._handlers.get(message[1]), message[1], message[2])
            elif kind == "pmessage":
                self._dispatch(self._handlers.get(message[1]), message[2], message[3])
            elif kind in ("subscribe", "psubscribe"):
                subject = message[1]
                left = self._unconfirmed.get(subject, 1) - 1
                if left > 0:
                    self._unconfirmed[subject] = left
                else:
                    self._unconfirmed.pop(subject, None)
                    self._confirm(subject)

    @staticmethod
    def _dispatch(handlers: list[Handler] | None, subject: str, data: str) -> None:
        for handler in list(handlers or ()):
            try:
                handler(subject, data)
            except Exception:
                # One broken handler must not starve the others of the message.
                log.exception("event=bus_handler_failed subject=%s", subject.split(".", 1)[0])

    # ---- retained control messages ---------------------------------------------------

    async def publish_retained(
        self, subject: str, data: str, *, key: str, rank: int, ttl_ms: int
    ) -> None:
        check_retainable(subject)
        member = f"{subject} {key}"
        old = self._retained.get(member)
        if old is None or old[0] <= rank:
            self._retained[member] = (rank, time.monotonic() + ttl_ms / 1000, data)
        if self._cmd is not None:
            self._retain_remote(member, rank, ttl_ms, data)
        await self.publish(subject, data)

    def _retain_remote(self, member: str, rank: int, ttl_ms: int, data: str) -> None:
        self._enqueue(("EVAL", _RETAIN, 2, RETAINED_INDEX, RETAINED + member, member,
                       rank, ttl_ms, data), None)

    async def _replay(self, handlers: dict[str, list[Handler]]) -> None:
        """Hand every live retained message to the control handlers that match it."""
        wanted = {s: list(h) for s, h in handlers.items() if s.startswith(CTL_PREFIX)}
        if not wanted:
            return
        flat: list[Any] = await self._call("EVAL", _RETAINED, 1, RETAINED_INDEX, RETAINED)
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
                    self._dispatch(hs, subject, data)
        for member in [m for m, (_, until, _) in self._retained.items() if until <= now]:
            del self._retained[member]

    # ---- host presence -----------------------------------------------------------------

    async def mark_online(self, host_id: str, owner: str) -> None:
        self._owned[host_id] = owner
        await self._try("SET", PRESENCE + host_id, owner, "PX", self._presence_ms)

    async def mark_offline(self, host_id: str, owner: str) -> bool:
        mine = self._owned.get(host_id) == owner
        if mine:
            del self._owned[host_id]
        deleted = await self._try("EVAL", _DEL_IF_OWNER, 1, PRESENCE + host_id, owner)
        return mine if deleted is None else bool(deleted)

    async def is_online(self, host_id: str) -> bool:
        if host_id in self._owned:
            return True
        return bool(await self._try("EXISTS", PRESENCE + host_id))

    async def _refresh_presence(self) -> None:
        """Keep this relay's hosts' keys alive (re-creating them after a Redis restart);
        a key that now names another owner means the host moved: forget it here."""
        owned = list(self._owned.items())
        if not owned:
            await self._call("PING")
            return
        keys = [PRESENCE + host_id for host_id, _ in owned]
        kept: list[int] = await self._call(
            "EVAL", _REFRESH, len(keys), *keys, self._presence_ms, *(o for _, o in owned)
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
            result = await self._try("EVAL", _SHARE, len(chunk),
                                     *(LIMIT + identity for identity, _ in chunk), *args)
            if result is None:
                return levels  # Redis is away: each relay limits on its own meanwhile
            for (identity, _), level in zip(chunk, result, strict=True):
                levels[identity] = float(level)
        return levels
