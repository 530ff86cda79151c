"""The bus every route goes through, so several relays can share one (Redis later).

Subjects are per destination:
  ``host.<host_id>``               frames for a host (wire text, pushed as is)
  ``conn.<conn_id>``               frames for one client connection (wire text)
  ``topic.<host>.<space>.<chan>``  a channel's events (wire text, encoded once)
  ``eph.<host>.<space>``           a space's presence and typing (relay.ephemeral: sender, chan
                                   and wire text, see ``ephemeral_data``)
  ``ctl.<host>``                   control messages about a host (relay.control)
A subject ending in ``.*`` subscribes to every subject with that prefix (Redis PSUBSCRIBE).
Ids never contain a dot, so subjects are unambiguous.

Handlers are synchronous and must not block: they only push into outboxes. Delivery to
handlers of one subject follows publish order.

Control subjects may also *retain* a message (``publish_retained``): it is kept for a
while and replayed to whoever subscribes later, in this process or another, so a relay
that starts after a revocation still knows it. Replays may repeat a message, so control
handlers must be idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from hearth.keys import now_ms
from hearth.ratelimit import RateLimit

log = logging.getLogger("hearth.relay")

Handler = Callable[[str, str], None]
"""Called with (subject, data)."""

CTL_ALL = "ctl.*"
CTL_PREFIX = "ctl."

Usage = dict[str, tuple[int, RateLimit]]
"""Per identity: frames this relay admitted since the last share, and the identity's limit."""


def matches(subject_or_pattern: str, subject: str) -> bool:
    """Whether a subscription to ``subject_or_pattern`` receives ``subject``."""
    if subject_or_pattern.endswith(".*"):
        return subject.startswith(subject_or_pattern[:-1])
    return subject == subject_or_pattern


def check_retainable(subject: str) -> None:
    if not subject.startswith(CTL_PREFIX) or subject.endswith(".*"):
        raise ValueError(f"only control subjects (ctl.<host>) retain messages, not {subject!r}")


def host_subject(host_id: str) -> str:
    return f"host.{host_id}"


def conn_subject(conn_id: str) -> str:
    return f"conn.{conn_id}"


def topic_subject(host_id: str, space: str, chan: str) -> str:
    return f"topic.{host_id}.{space}.{chan}"


def eph_subject(host_id: str, space: str) -> str:
    return f"eph.{host_id}.{space}"


def ephemeral_data(sender: str, chan: str, wire: str) -> str:
    """Bus data of an ephemeral update: the sending connection (so every relay can leave
    it out), the channel (``*``: the whole space) and the ``eph`` frame's wire text.
    Connection and channel ids never contain a space."""
    return f"{sender} {chan} {wire}"


def parse_ephemeral_data(data: str) -> tuple[str, str, str]:
    sender, chan, wire = data.split(" ", 2)
    return sender, chan, wire


def ctl_subject(host_id: str) -> str:
    return f"ctl.{host_id}"


class Bus(Protocol):
    """Publish/subscribe by subject, plus which relay connection currently owns a host."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def healthy(self) -> bool:
        """False while the backend is unreachable (the relay then reports not ready)."""
        ...

    async def publish(self, subject: str, data: str) -> None: ...

    async def subscribe(self, subject: str, handler: Handler) -> None:
        """Deliver ``subject`` to ``handler`` from now on (returns once that is true)."""
        ...

    def unsubscribe(self, subject: str, handler: Handler) -> None:
        """Stop delivering to ``handler``; immediate locally, queued for a remote backend."""
        ...

    async def mark_online(self, host_id: str, owner: str) -> None:
        """Record that connection ``owner`` now serves ``host_id`` (the newest wins)."""
        ...

    async def mark_offline(self, host_id: str, owner: str) -> bool:
        """Forget ``host_id`` if ``owner`` still serves it; True if it did."""
        ...

    async def is_online(self, host_id: str) -> bool: ...

    async def publish_retained(
        self, subject: str, data: str, *, key: str, rank: int, ttl_ms: int
    ) -> None:
        """Publish, and keep ``data`` for ``ttl_ms`` as entry ``key`` of control subject
        ``subject`` (a higher ``rank`` replaces it, a lower one does not), replaying it to
        later subscribers of ``subject``."""
        ...

    def last_error(self) -> str | None:
        """Why the backend is unreachable, quoting it; None while healthy."""
        ...

    def share_interval(self) -> float | None:
        """How often (s) the relay should call ``share_usage``; None when it is alone."""
        ...

    async def share_usage(self, usage: Usage) -> dict[str, float]:
        """Add this relay's admitted frames to each identity's shared token bucket; returns
        each bucket's level (tokens left for all relays together) for this relay to adopt.
        Empty when the backend cannot say."""
        ...


class InProcessBus:
    """The single-process bus: publish calls the handlers directly, in order."""

    def __init__(self) -> None:
        self._exact: dict[str, list[Handler]] = {}
        self._prefix: dict[str, list[Handler]] = {}
        self._owners: dict[str, str] = {}
        self._retained: dict[tuple[str, str], tuple[int, int, str]] = {}
        """(subject, key) -> (rank, expires at ms, data)."""

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._exact.clear()
        self._prefix.clear()
        self._owners.clear()
        self._retained.clear()

    def healthy(self) -> bool:
        return True

    def last_error(self) -> str | None:
        return None

    def share_interval(self) -> float | None:
        return None  # one process: the local buckets are the whole truth

    async def share_usage(self, usage: Usage) -> dict[str, float]:
        return {}

    def subject_count(self) -> int:
        """Subjects with at least one handler (tests use it to prove nothing leaks)."""
        return len(self._exact) + len(self._prefix)

    async def publish(self, subject: str, data: str) -> None:
        handlers = list(self._exact.get(subject, ()))
        for prefix, more in self._prefix.items():
            if subject.startswith(prefix):
                handlers.extend(more)
        for handler in handlers:
            try:
                handler(subject, data)
            except Exception:
                # One broken handler must not starve the others of the message.
                log.exception("event=bus_handler_failed subject=%s", subject.split(".", 1)[0])

    async def subscribe(self, subject: str, handler: Handler) -> None:
        if subject.endswith(".*"):
            self._prefix.setdefault(subject[:-1], []).append(handler)
        else:
            self._exact.setdefault(subject, []).append(handler)
        if subject.startswith(CTL_PREFIX):
            now = now_ms()
            for (retained_subject, _), (_, until, data) in list(self._retained.items()):
                if until > now and matches(subject, retained_subject):
                    handler(retained_subject, data)

    async def publish_retained(
        self, subject: str, data: str, *, key: str, rank: int, ttl_ms: int
    ) -> None:
        check_retainable(subject)
        now = now_ms()
        for entry in [k for k, (_, until, _) in self._retained.items() if until <= now]:
            del self._retained[entry]
        old = self._retained.get((subject, key))
        if old is None or old[0] <= rank:
            self._retained[(subject, key)] = (rank, now + ttl_ms, data)
        await self.publish(subject, data)

    def unsubscribe(self, subject: str, handler: Handler) -> None:
        table, key = (
            (self._prefix, subject[:-1]) if subject.endswith(".*") else (self._exact, subject)
        )
        handlers = table.get(key)
        if handlers is None:
            return
        try:
            handlers.remove(handler)
        except ValueError:
            return
        if not handlers:
            del table[key]

    async def mark_online(self, host_id: str, owner: str) -> None:
        self._owners[host_id] = owner

    async def mark_offline(self, host_id: str, owner: str) -> bool:
        if self._owners.get(host_id) != owner:
            return False
        del self._owners[host_id]
        return True

    async def is_online(self, host_id: str) -> bool:
        return host_id in self._owners


def bus_from_url(url: str | None) -> Bus:
    """The bus a relay's ``bus_url`` names: None is the in-process bus, ``redis://`` (or
    ``rediss://``, ``unix://``) a RedisBus shared with every relay using that Redis."""
    if url is None:
        return InProcessBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from relay.bus_redis import RedisBus

        return RedisBus(url)
    raise ValueError(f"bus URL {url!r} is not supported: use redis://HOST:PORT[/DB]")
