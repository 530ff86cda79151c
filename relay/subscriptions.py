"""Which connection follows which channel topic, and under which token (sans-I/O)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from hearth.token import CapabilityToken

Topic = tuple[str, str, str]
"""(host id, space, channel); the host is always the token's issuer."""


class Subscriptions:
    """Invariants: ``by_topic`` and ``by_conn`` mirror each other exactly; every entry is
    the token that allowed it; ``by_host[h]`` is the set of topics of host ``h`` that have
    at least one subscriber. Expiry is found through a lazy heap (stale entries skipped)."""

    def __init__(self) -> None:
        self.by_topic: dict[Topic, dict[str, CapabilityToken]] = {}
        self.by_conn: dict[str, dict[Topic, CapabilityToken]] = {}
        self.by_host: dict[str, set[Topic]] = {}
        self._expiry: list[tuple[int, str, Topic]] = []

    def count(self, conn_id: str) -> int:
        return len(self.by_conn.get(conn_id, ()))

    def held(self, conn_id: str, topic: Topic) -> bool:
        return topic in self.by_conn.get(conn_id, ())

    def add(self, conn_id: str, topics: Iterable[Topic], token: CapabilityToken) -> list[Topic]:
        """Subscribe (or re-subscribe under a newer token); returns the topics that had no
        subscriber before (the caller subscribes to them on the bus)."""
        fresh: list[Topic] = []
        mine = self.by_conn.setdefault(conn_id, {})
        for topic in topics:
            subscribers = self.by_topic.get(topic)
            if subscribers is None:
                subscribers = self.by_topic[topic] = {}
                self.by_host.setdefault(topic[0], set()).add(topic)
                fresh.append(topic)
            subscribers[conn_id] = token
            mine[topic] = token
            heapq.heappush(self._expiry, (token.exp, conn_id, topic))
        return fresh

    def remove(self, conn_id: str, topics: Iterable[Topic]) -> tuple[list[Topic], list[Topic]]:
        """Unsubscribe; returns (topics actually removed, topics left with no subscriber)."""
        removed: list[Topic] = []
        emptied: list[Topic] = []
        mine = self.by_conn.get(conn_id)
        if mine is None:
            return removed, emptied
        for topic in topics:
            if mine.pop(topic, None) is None:
                continue
            removed.append(topic)
            subscribers = self.by_topic[topic]
            del subscribers[conn_id]
            if not subscribers:
                del self.by_topic[topic]
                host_topics = self.by_host[topic[0]]
                host_topics.discard(topic)
                if not host_topics:
                    del self.by_host[topic[0]]
                emptied.append(topic)
        if not mine:
            del self.by_conn[conn_id]
        return removed, emptied

    def drop_conn(self, conn_id: str) -> list[Topic]:
        """Forget every subscription of a closed connection; returns the emptied topics."""
        return self.remove(conn_id, list(self.by_conn.get(conn_id, ())))[1]

    def expired(self, now_ms: int) -> list[tuple[str, Topic]]:
        """(connection, topic) pairs whose token expired, still subscribed."""
        found: list[tuple[str, Topic]] = []
        while self._expiry and self._expiry[0][0] <= now_ms:
            exp, conn_id, topic = heapq.heappop(self._expiry)
            token = self.by_conn.get(conn_id, {}).get(topic)
            if token is not None and token.exp == exp:
                found.append((conn_id, topic))
        return found

    def of_host(self, host_id: str) -> list[tuple[str, Topic, CapabilityToken]]:
        """Every (connection, topic, token) on ``host_id``'s topics."""
        return [
            (conn_id, topic, token)
            for topic in self.by_host.get(host_id, ())
            for conn_id, token in self.by_topic[topic].items()
        ]
