"""The bus every route goes through, so several relays can share one (Redis later).

Subjects are per destination:
  ``host.<host_id>``               frames for a host (wire text, pushed as is)
  ``conn.<conn_id>``               frames for one client connection (wire text)
  ``topic.<host>.<space>.<chan>``  a channel's events (wire text, encoded once)
  ``ctl.<host>``                   control messages about a host (relay.control)
A subject ending in ``.*`` subscribes to every subject with that prefix (Redis PSUBSCRIBE).
Ids never contain a dot, so subjects are unambiguous.

Handlers are synchronous and must not block: they only push into outboxes. Delivery to
handlers of one subject follows publish order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("hearth.relay")

Handler = Callable[[str, str], None]
"""Called with (subject, data)."""

CTL_ALL = "ctl.*"


def host_subject(host_id: str) -> str:
    return f"host.{host_id}"


def conn_subject(conn_id: str) -> str:
    return f"conn.{conn_id}"


def topic_subject(host_id: str, space: str, chan: str) -> str:
    return f"topic.{host_id}.{space}.{chan}"


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


class InProcessBus:
    """The single-process bus: publish calls the handlers directly, in order."""

    def __init__(self) -> None:
        self._exact: dict[str, list[Handler]] = {}
        self._prefix: dict[str, list[Handler]] = {}
        self._owners: dict[str, str] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._exact.clear()
        self._prefix.clear()
        self._owners.clear()

    def healthy(self) -> bool:
        return True

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
