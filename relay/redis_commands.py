"""The Redis bus's command connection: one pipelining writer, one reply reader.

Everything the bus asks of Redis except pub/sub (publishes, presence, retained messages,
shared rate limits) is queued here. The writer sends whatever is queued in batches of
at most BATCH; the reader answers the queued commands in order, since Redis replies in
the order it was asked.

Invariants: a command is answered once — by its reply, or by ``BusUnavailable`` when the
connection is lost (``lost``); a fire-and-forget command lost that way is counted in
``dropped``. The queue holds at most ``max_pending`` commands before publishers wait
(``room``), so a slow Redis holds publishers back rather than growing memory.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Sequence
from typing import Any

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import RedisError, ResponseError

log = logging.getLogger("hearth.relay")

BATCH = 512
"""Commands per pipelined write: large enough to amortise a syscall, small enough that
one batch never delays the next by much."""
MAX_IN_FLIGHT = 8192
"""Commands sent but not yet answered before the writer waits for replies."""

Command = tuple[str | int, ...]


class BusUnavailable(Exception):
    """Redis cannot be reached right now (the message says why)."""


def reason_of(exc: BaseException) -> str:
    """Why a Redis call failed, short enough for a log line or /health/ready."""
    return (str(exc) or type(exc).__name__)[:300]


async def send_packed(conn: AbstractConnection, commands: Sequence[Command]) -> None:
    """Write pipelined commands on a live connection, never reconnecting it (a new session
    does that, restoring state first) and never swallowing a cancellation."""
    if not conn.is_connected:
        raise BusUnavailable("connection to redis closed")
    await conn.send_packed_command(conn.pack_commands(commands), check_health=False)
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        # redis-py can absorb a CancelledError while it tears the socket down.
        raise asyncio.CancelledError


class CommandPipe:
    """The queue of commands for Redis and the two tasks that drive one connection."""

    def __init__(self, url: str, *, timeout: float, max_pending: int) -> None:
        self.url = url
        self.timeout = timeout
        self.max_pending = max_pending
        self.conn: AbstractConnection | None = None
        """The live connection, or None while Redis is away."""
        self.error: str | None = "not connected yet"
        self.dropped = 0
        """Fire-and-forget commands (publishes) dropped because Redis was unreachable."""
        self._queue: deque[tuple[Command, asyncio.Future[Any] | None]] = deque()
        self._in_flight: deque[asyncio.Future[Any] | None] = deque()
        self._wake = asyncio.Event()
        self.room = asyncio.Event()
        """Set while the queue has room: ``publish`` waits on it."""
        self.room.set()
        self._replied = asyncio.Event()

    def enqueue(self, args: Command, fut: asyncio.Future[Any] | None = None) -> None:
        """Queue ``args``; its reply goes to ``fut`` (None: nobody waits for it)."""
        self._queue.append((args, fut))
        self._wake.set()
        if len(self._queue) >= self.max_pending:
            self.room.clear()

    async def call(self, *args: str | int) -> Any:
        """Run one command; BusUnavailable if Redis is away or slow."""
        if self.conn is None:
            raise BusUnavailable(f"redis at {self.url} is unreachable: {self.error}")
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.enqueue(args, fut)
        try:
            return await asyncio.wait_for(fut, self.timeout)
        except TimeoutError:
            raise BusUnavailable(
                f"redis at {self.url} did not answer {args[0]!s} within {self.timeout:g} s"
            ) from None

    async def attempt(self, *args: str | int) -> Any:
        """``call``, but None instead of an error: callers fall back to local knowledge."""
        try:
            return await self.call(*args)
        except (BusUnavailable, RedisError) as exc:
            log.debug("event=bus_command_skipped backend=redis cmd=%s reason=%r",
                      args[0], reason_of(exc))
            return None

    def lost(self, why: BusUnavailable) -> None:
        """The connection is gone: fail every waiting command and count the dropped ones."""
        while self._queue:
            _, fut = self._queue.popleft()
            if fut is None:
                self.dropped += 1
            elif not fut.done():
                fut.set_exception(why)
        while self._in_flight:
            fut = self._in_flight.popleft()
            if fut is not None and not fut.done():
                fut.set_exception(why)
        self.room.set()

    async def send_forever(self, conn: AbstractConnection) -> None:
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            if len(self._in_flight) >= MAX_IN_FLIGHT:
                self._replied.clear()
                await self._replied.wait()  # the reply reader is behind: let it catch up
                continue
            batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
            self._in_flight.extend(fut for _, fut in batch)
            if len(self._queue) < self.max_pending:
                self.room.set()
            await send_packed(conn, [a for a, _ in batch])

    async def read_forever(self, conn: AbstractConnection) -> None:
        while True:
            try:
                # math.inf: an idle connection is fine; liveness is the bus's keep-alive.
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
