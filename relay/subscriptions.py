"""Which connection follows which channel topic, and under which token (sans-I/O)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

from hearth.token import CapabilityToken

Topic = tuple[str, str, str]
"""(host id, space, channel); the host is always the token's issuer."""
SpaceKey = tuple[str, str]
"""(host id, space)."""
ALL = "*"

S = TypeVar("S", bound=Hashable)
"""A subscriber. The relay uses its Connection objects (hashed by identity), so that a
fan-out reaches each subscriber without a lookup."""


class _Entry(Generic[S]):
    """One subscription as the expiry heap sees it. ``sub`` is None once the subscription
    ended (a tombstone), so the heap never keeps a closed connection alive."""

    __slots__ = ("sub", "token", "topic")

    def __init__(self, sub: S, topic: Topic, token: CapabilityToken) -> None:
        self.sub: S | None = sub
        self.topic = topic
        self.token = token


class Subscriptions(Generic[S]):
    """Invariants: ``by_topic`` and ``by_conn`` mirror each other exactly (the same
    subscriptions, under the token that allowed each); ``by_host[h]`` (``by_space[(h, s)]``)
    is the set of topics of host ``h`` (of its space ``s``) that have at least one
    subscriber; every live subscription is in the
    expiry heap exactly once under its token's ``exp``, so ``due(now)`` is False only
    while no subscription's token has expired."""

    def __init__(self) -> None:
        self.by_topic: dict[Topic, dict[S, CapabilityToken]] = {}
        self.by_conn: dict[S, dict[Topic, _Entry[S]]] = {}
        self.by_host: dict[str, set[Topic]] = {}
        self.by_space: dict[SpaceKey, set[Topic]] = {}
        # (exp, tie-breaker, entry): the counter keeps heapq from comparing entries.
        self._expiry: list[tuple[int, int, _Entry[S]]] = []
        self._order = itertools.count()

    def count(self, sub: S) -> int:
        return len(self.by_conn.get(sub, ()))

    def held(self, sub: S, topic: Topic) -> bool:
        return topic in self.by_conn.get(sub, ())

    def add(self, sub: S, topics: Iterable[Topic], token: CapabilityToken) -> list[Topic]:
        """Subscribe (or re-subscribe under a newer token); returns the topics that had no
        subscriber before (the caller subscribes to them on the bus)."""
        fresh: list[Topic] = []
        mine = self.by_conn.setdefault(sub, {})
        for topic in topics:
            subscribers = self.by_topic.get(topic)
            if subscribers is None:
                subscribers = self.by_topic[topic] = {}
                self.by_host.setdefault(topic[0], set()).add(topic)
                self.by_space.setdefault((topic[0], topic[1]), set()).add(topic)
                fresh.append(topic)
            subscribers[sub] = token
            old = mine.get(topic)
            if old is not None:
                old.sub = None
            entry = mine[topic] = _Entry(sub, topic, token)
            heapq.heappush(self._expiry, (token.exp, next(self._order), entry))
        return fresh

    def remove(self, sub: S, topics: Iterable[Topic]) -> tuple[list[Topic], list[Topic]]:
        """Unsubscribe; returns (topics actually removed, topics left with no subscriber)."""
        removed: list[Topic] = []
        emptied: list[Topic] = []
        mine = self.by_conn.get(sub)
        if mine is None:
            return removed, emptied
        for topic in topics:
            entry = mine.pop(topic, None)
            if entry is None:
                continue
            entry.sub = None
            removed.append(topic)
            subscribers = self.by_topic[topic]
            del subscribers[sub]
            if not subscribers:
                del self.by_topic[topic]
                host_topics = self.by_host[topic[0]]
                host_topics.discard(topic)
                if not host_topics:
                    del self.by_host[topic[0]]
                space_topics = self.by_space[(topic[0], topic[1])]
                space_topics.discard(topic)
                if not space_topics:
                    del self.by_space[(topic[0], topic[1])]
                emptied.append(topic)
        if not mine:
            del self.by_conn[sub]
        return removed, emptied

    def covering(self, sub: S, topic: Topic, now_ms: int) -> CapabilityToken | None:
        """A live token under which ``sub`` follows ``topic``: that channel, or its space's
        ``*``; for a ``*`` topic (space-wide), any channel of the space. None if none is
        held, or every one that would cover it has expired (the sweep may not have ended
        it yet)."""
        mine = self.by_conn.get(sub)
        if not mine:
            return None
        host, space, chan = topic
        if chan == ALL:
            entries = [e for t, e in mine.items() if t[0] == host and t[1] == space]
        else:
            entries = [e for t in (topic, (host, space, ALL)) if (e := mine.get(t)) is not None]
        return next((e.token for e in entries if e.token.exp > now_ms), None)

    def in_space(self, key: SpaceKey) -> set[S]:
        """Every subscriber of any topic of the space (each once)."""
        found: set[S] = set()
        for topic in self.by_space.get(key, ()):
            found.update(self.by_topic[topic])
        return found

    def drop(self, sub: S) -> list[Topic]:
        """Forget every subscription of a closed connection; returns the emptied topics."""
        return self.remove(sub, list(self.by_conn.get(sub, ())))[1]

    def due(self, now_ms: int) -> bool:
        """Whether ``expired(now_ms)`` may find something. One comparison, so a fan-out can
        afford to ask before every event (tombstones may make it a false alarm, once)."""
        return bool(self._expiry) and self._expiry[0][0] <= now_ms

    def expired(self, now_ms: int) -> list[tuple[S, Topic]]:
        """(subscriber, topic) pairs whose token expired, still subscribed. They leave the
        heap: the caller ends each of them."""
        found: list[tuple[S, Topic]] = []
        while self._expiry and self._expiry[0][0] <= now_ms:
            entry = heapq.heappop(self._expiry)[2]
            if entry.sub is not None:
                found.append((entry.sub, entry.topic))
        return found

    def of_host(self, host_id: str) -> list[tuple[S, Topic, CapabilityToken]]:
        """Every (subscriber, topic, token) on ``host_id``'s topics."""
        return [
            (sub, topic, token)
            for topic in self.by_host.get(host_id, ())
            for sub, token in self.by_topic[topic].items()
        ]
