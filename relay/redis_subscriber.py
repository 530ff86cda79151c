"""The Redis bus's subscriber connection: the local handler table kept in step with Redis.

Each exact subject is SUBSCRIBEd and each ``prefix.*`` subject PSUBSCRIBEd — one Redis
channel per destination, never one shared channel.

Invariants: while connected, every subject with a local handler is (or is about to be)
subscribed on Redis, and ``subscribe`` returns only once Redis confirmed it, so nothing
published after it returns is missed; one failing handler never starves the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Iterable
from typing import Any

from redis.asyncio.connection import AbstractConnection

from relay.bus import Handler
from relay.redis_commands import send_packed

log = logging.getLogger("hearth.relay")


class Subscriber:
    """Local handlers by subject, and what the current connection has subscribed."""

    def __init__(self) -> None:
        self.conn: AbstractConnection | None = None
        """The live subscriber connection, or None while Redis is away."""
        self.handlers: dict[str, list[Handler]] = {}
        self._remote: set[str] = set()
        """Subjects SUBSCRIBEd (or PSUBSCRIBEd) on the current connection."""
        self._unconfirmed: dict[str, int] = {}
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()

    async def add(self, subject: str, handler: Handler) -> None:
        """Add ``handler``; when connected, return once Redis confirmed the subject."""
        self.handlers.setdefault(subject, []).append(handler)
        if self.conn is None:
            return  # subscribed when the connection is back
        if subject not in self._remote or subject in self._unconfirmed:
            self._dirty.add(subject)
            self._wake.set()
            await self.wait_confirmed([subject])

    def remove(self, subject: str, handler: Handler) -> None:
        handlers = self.handlers.get(subject)
        if handlers is None:
            return
        with contextlib.suppress(ValueError):
            handlers.remove(handler)
        if not handlers:
            del self.handlers[subject]
            if self.conn is not None:
                self._dirty.add(subject)
                self._wake.set()

    def connected(self, conn: AbstractConnection) -> None:
        """A new connection: every subject with a handler must be subscribed again."""
        self.conn = conn
        self._dirty.update(self.handlers)

    def lost(self) -> None:
        """The connection is gone: nothing is subscribed; waiters are released (their
        subjects are subscribed again when Redis is back)."""
        self.conn = None
        self._remote.clear()
        self._unconfirmed.clear()
        self._dirty.clear()
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._waiters.clear()

    async def wait_confirmed(self, subjects: Iterable[str]) -> None:
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

    async def sync_forever(self, conn: AbstractConnection) -> None:
        """Bring Redis's subscriptions to the local handler table, in batches. Deciding at
        send time (not per call) makes unsubscribe-then-subscribe races come out right."""
        while True:
            if not self._dirty:
                self._wake.clear()
                await self._wake.wait()
                continue
            dirty, self._dirty = self._dirty, set()
            commands: dict[str, list[str]] = {
                "SUBSCRIBE": [], "PSUBSCRIBE": [], "UNSUBSCRIBE": [], "PUNSUBSCRIBE": [],
            }
            for subject in dirty:
                want, have = subject in self.handlers, subject in self._remote
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
                await send_packed(conn, packed)

    def _confirm(self, subject: str) -> None:
        for waiter in self._waiters.pop(subject, ()):
            if not waiter.done():
                waiter.set_result(None)

    async def read_forever(self, conn: AbstractConnection) -> None:
        while True:
            message: list[Any] = await conn.read_response(timeout=math.inf)
            kind = message[0]
            if kind == "message":
                dispatch(self.handlers.get(message[1]), message[1], message[2])
            elif kind == "pmessage":
                dispatch(self.handlers.get(message[1]), message[2], message[3])
            elif kind in ("subscribe", "psubscribe"):
                subject = message[1]
                left = self._unconfirmed.get(subject, 1) - 1
                if left > 0:
                    self._unconfirmed[subject] = left
                else:
                    self._unconfirmed.pop(subject, None)
                    self._confirm(subject)


def dispatch(handlers: list[Handler] | None, subject: str, data: str) -> None:
    """Hand ``data`` to each handler; one broken handler must not starve the others."""
    for handler in list(handlers or ()):
        try:
            handler(subject, data)
        except Exception:
            log.exception("event=bus_handler_failed subject=%s", subject.split(".", 1)[0])
