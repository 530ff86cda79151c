"""Channel topics: ``sub`` / ``unsub`` from clients, ``pub`` from hosts, and the fan-out
of each event to the local subscribers (protocol §5, §7).

A host publishes on ``topic.<host>.<space>.<chan>``; every relay with a local subscriber
of the topic, or of its space's ``*`` (the pattern ``topic.<host>.<space>.*``), receives
the encoded event once and queues that same text for each of them.

Invariants: a subscription is only ever accepted for a live, unrevoked token naming the
connection's own device and account and allowing the channels, within
settings.max_subscriptions per connection; a topic has a bus handler exactly while
``hub.subs`` has a local subscriber for it, and a space's ``eph.<host>.<space>`` subject
(relay.ephemeral) exactly while ``hub.subs.by_space`` has it; no event reaches a
subscriber whose token has expired, also between sweeps; every subscription that ends for
any reason but the connection closing is told with one ``unsubbed`` per (host, space).

Hot path: ``fan_out`` does nothing per subscriber but one membership test (for ``*``
subscribers) and the push; counting and timing are once per event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from hearth.errors import ErrorCode, ProtocolError
from hearth.frames import (
    Event,
    Publish,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
    encode_frame,
)
from hearth.token import ALL_CHANNELS, READ
from relay.bus import eph_subject, topic_subject
from relay.connection import Connection, Kind, host_of
from relay.subscriptions import Topic

if TYPE_CHECKING:
    from relay.hub import Hub


async def subscribe(hub: Hub, conn: Connection, sub: Subscribe) -> None:
    """A client's ``sub``: all of its channels, or none (refused with the first reason)."""
    wall = hub.wall_ms()
    try:
        _check_wildcard(sub.chans)
        token = hub.tokens.get(sub.token, wall)
        if token.sub != conn.device:
            raise ProtocolError(
                ErrorCode.BAD_TOKEN,
                f"token {token.jti} is for device {token.sub}, not this connection's "
                f"device {conn.device}",
            )
        if token.acct != conn.identity:
            raise ProtocolError(
                ErrorCode.BAD_TOKEN,
                f"token {token.jti} is for account {token.acct}, not this connection's "
                f"account {conn.identity}",
            )
        if READ not in token.scopes:
            raise ProtocolError(
                ErrorCode.BAD_TOKEN,
                f"token {token.jti} has scopes {token.scopes}, which lack {READ!r}",
            )
        denied = [c for c in sub.chans if not token.allows_channel(c)]
        if denied:
            raise ProtocolError(
                ErrorCode.BAD_TOKEN,
                f"token {token.jti} does not allow channel(s) {denied[:8]} of space "
                f"{token.space!r}",
            )
        rev = hub.revocations.find(token, wall)
        if rev is not None:
            raise ProtocolError(
                ErrorCode.TOKEN_REVOKED,
                f"token {token.jti} (issued {token.iat}) was revoked by its host for "
                f"tokens issued at or before {rev.before}",
            )
        topics = [(token.host, token.space, c) for c in dict.fromkeys(sub.chans)]
        new = sum(1 for t in topics if not hub.subs.held(conn, t))
        have = hub.subs.count(conn)
        if have + new > hub.settings.max_subscriptions:
            raise ProtocolError(
                ErrorCode.TOO_MANY_SUBSCRIPTIONS,
                f"{have} subscriptions + {new} new exceeds the limit of "
                f"{hub.settings.max_subscriptions} per connection",
            )
    except ProtocolError as exc:
        hub.out.refuse(conn, exc.code, exc.message, "sub")
        return
    new_space = (token.host, token.space) not in hub.subs.by_space
    for topic in hub.subs.add(conn, topics, token):
        await hub.bus.subscribe(topic_subject(*topic), _handler(hub, topic))
    if new_space:
        await hub.bus.subscribe(eph_subject(token.host, token.space), hub.on_ephemeral)
    hub.metrics.subscriptions.set(len(hub.subs.by_topic))
    hub.out.send(
        conn, Subscribed(host=token.host, space=token.space, chans=[t[2] for t in topics],
                         exp=token.exp),
    )


def unsubscribe(hub: Hub, conn: Connection, unsub: Unsubscribe) -> None:
    """A client's ``unsub``: answered ``unsubbed`` (reason ``left``) even for channels it
    did not follow."""
    try:
        _check_wildcard(unsub.chans)
    except ProtocolError as exc:
        hub.out.refuse(conn, exc.code, exc.message, "unsub")
        return
    topics = [(unsub.host, unsub.space, c) for c in dict.fromkeys(unsub.chans)]
    _, emptied = hub.subs.remove(conn, topics)
    unsubscribe_topics(hub, emptied)
    hub.out.send(conn, Unsubscribed(host=unsub.host, space=unsub.space,
                                    chans=[t[2] for t in topics], reason="left"))


async def publish(hub: Hub, conn: Connection, frame: Publish) -> None:
    """A host's ``pub``: one ``event`` on the topic, encoded once for every relay."""
    # The topic's host is the authenticated host id, never a field of the frame:
    # a host can only ever publish into its own channels.
    host_id = host_of(conn)
    event = Event(host=host_id, space=frame.space, chan=frame.chan, body=frame.body,
                  sig=frame.sig)
    await hub.bus.publish(topic_subject(host_id, frame.space, frame.chan), encode_frame(event))


# ---- bus handlers (synchronous: they only queue frames) ------------------------------


def on_topic(hub: Hub, subject: str, data: str) -> None:
    """``topic.<host>.<space>.<chan>``: one encoded event for every local subscriber."""
    _, host_id, space, chan = subject.split(".")
    fan_out(hub, (host_id, space, chan), data, skip=None)


def on_space_topic(hub: Hub, subject: str, data: str) -> None:
    """The same event, seen through a ``topic.<host>.<space>.*`` pattern: for the
    subscribers of every channel, except those also following this channel by name
    (``on_topic`` already reached them)."""
    _, host_id, space, chan = subject.split(".")
    fan_out(hub, (host_id, space, ALL_CHANNELS), data, skip=(host_id, space, chan))


def fan_out(hub: Hub, topic: Topic, data: str, skip: Topic | None) -> None:
    """Queue ``data`` for every subscriber of ``topic`` (not those of ``skip``).

    Nothing here is per subscriber but the push: the sweep ends expired subscriptions
    every second, and between sweeps one comparison with the earliest expiry tells
    whether some token may have expired since; if so, those subscriptions end first
    (with their ``unsubbed``), so an expired token never receives an event."""
    subs = hub.subs
    wall = hub.wall_ms()
    if subs.due(wall):
        end_subscriptions(hub, subs.expired(wall), "expired")
    subscribers = subs.by_topic.get(topic)
    if not subscribers:
        return
    started = time.perf_counter()
    skipped = subs.by_topic.get(skip) if skip is not None else None
    out = hub.out
    queue = out.queue
    queued = 0
    # queue never changes the subscriber table (see Outbound.close), so iterating is safe.
    for conn in subscribers:
        if skipped is not None and conn in skipped:
            continue
        queued += queue(conn, data)
    out.frames_out(Kind.CLIENT, "event").inc(queued)
    hub.metrics.fanout_seconds.observe(time.perf_counter() - started)


# ---- ending subscriptions --------------------------------------------------------------


def end_subscriptions(
    hub: Hub, pairs: Iterable[tuple[Connection, Topic]], reason: str
) -> None:
    """End these subscriptions and tell each connection, one frame per (host, space)."""
    grouped: dict[tuple[Connection, str, str], list[Topic]] = {}
    for conn, topic in pairs:
        grouped.setdefault((conn, topic[0], topic[1]), []).append(topic)
    for (conn, host_id, space), topics in grouped.items():
        removed, emptied = hub.subs.remove(conn, topics)
        unsubscribe_topics(hub, emptied)
        if removed:
            hub.out.send(conn, Unsubscribed(host=host_id, space=space,
                                            chans=[t[2] for t in removed], reason=reason))


def unsubscribe_topics(hub: Hub, topics: Iterable[Topic]) -> None:
    """Drop the bus handlers of topics (and spaces) left with no local subscriber."""
    spaces: set[tuple[str, str]] = set()
    for topic in topics:
        hub.bus.unsubscribe(topic_subject(*topic), _handler(hub, topic))
        spaces.add((topic[0], topic[1]))
    for host_id, space in spaces - hub.subs.by_space.keys():
        hub.bus.unsubscribe(eph_subject(host_id, space), hub.on_ephemeral)
    hub.metrics.subscriptions.set(len(hub.subs.by_topic))


def _handler(hub: Hub, topic: Topic) -> Callable[[str, str], None]:
    """The hub's bus handler for ``topic`` (the same object on subscribe and unsubscribe)."""
    return hub.on_space_topic if topic[2] == ALL_CHANNELS else hub.on_topic


def _check_wildcard(chans: list[str]) -> None:
    """``*`` (every channel of the space) stands alone in a channel list."""
    if ALL_CHANNELS in chans and len(chans) > 1:
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"'*' must be the only channel in the list, got {chans[:8]}"
        )
