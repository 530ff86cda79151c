"""The relay's routing and authorisation core.

It takes decoded frames from connections and pushes encoded frames into connection
outboxes; it never touches a socket and never awaits a peer, so a slow peer can only
hurt itself. Every route goes through the bus (see relay.bus), so this same code runs
unchanged when several relays share one.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from functools import partial

import orjson

from hearth.auth import new_challenge, verify_client_hello, verify_host_hello
from hearth.b64 import b64e
from hearth.ephemeral import check_route, parse_body
from hearth.errors import ErrorCode, ProtocolError
from hearth.frames import (
    ClientRequest,
    ClientResponse,
    CloseCode,
    Ephemeral,
    Error,
    Event,
    ForwardedRequest,
    Frame,
    Hello,
    HostHello,
    HostResponse,
    HostStatus,
    HostWelcome,
    Ping,
    Pong,
    Publish,
    Revoke,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
    Welcome,
    decode_client_frame,
    decode_host_frame,
    encode_frame,
)
from hearth.keys import now_ms
from hearth.ratelimit import TokenBucket
from hearth.token import ALL_CHANNELS, READ
from relay.bus import (
    CTL_ALL,
    Bus,
    conn_subject,
    ctl_subject,
    eph_subject,
    ephemeral_data,
    host_subject,
    parse_ephemeral_data,
    topic_subject,
)
from relay.connection import Connection, Kind
from relay.control import HostDown, HostUp, RevokeGrant, decode_control, encode_control
from relay.identity_limits import IdentityLimiter
from relay.labelled import Children
from relay.metrics import RelayMetrics
from relay.outbox import Outbox
from relay.ratelimit import FrameLimiter
from relay.revocations import Revocations, revocation
from relay.settings import RelaySettings
from relay.subscriptions import Subscriptions, Topic
from relay.tokens import TokenCache

log = logging.getLogger("hearth.relay")

_MAX_ERROR_TEXT = 500
"""Error.msg is capped at 500 characters by the frame schema."""
_MAX_CLOSE_REASON = 120
"""A close reason must fit a control frame (123 bytes)."""


def _frame_type(text: str) -> str | None:
    """Best-effort ``t`` of a frame that failed to decode (used as the error's ``ref``)."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    tag = obj.get("t") if isinstance(obj, dict) else None
    return tag[:40] if isinstance(tag, str) else None


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
        self._sharing: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._frames_in = Children(metrics.frames_in)
        self._frames_out = Children(metrics.frames_out)

    # ---- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        await self.bus.start()
        await self.bus.subscribe(CTL_ALL, self._on_control)
        interval = self.bus.share_interval()
        if interval is not None:
            self._sharing = asyncio.create_task(self._share_usage_forever(interval))
        self.accepting = True

    async def drain(self, code: int, reason: str, grace: float) -> None:
        """Stop accepting, ask every connection to close with ``code``, wait up to ``grace``."""
        self.accepting = False
        for conn in list(self.conns.values()):
            self._close(conn, code, reason, flush=True)
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
        self.bus.unsubscribe(CTL_ALL, self._on_control)
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
            self._close(conn, CloseCode.GOING_AWAY, "relay is shutting down", flush=False)
        else:
            self._send(conn, challenge)
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
            self._unsubscribe_topics(self.subs.drop(conn))
            for host_id in conn.watched or ():
                watchers = self.watchers.get(host_id)
                if watchers is not None:
                    watchers.discard(conn)
                    if not watchers:
                        del self.watchers[host_id]
            if conn.handler is not None:
                self.bus.unsubscribe(conn_subject(conn.id), conn.handler)
        elif conn.identity is not None:
            host_id = conn.identity
            mine = self.hosts.get(host_id, {})
            mine.pop(conn.id, None)
            if not mine:
                self.hosts.pop(host_id, None)
            self.metrics.hosts_online.set(len(self.hosts))
            if conn.handler is not None:
                self.bus.unsubscribe(host_subject(host_id), conn.handler)
            if await self.bus.mark_offline(host_id, conn.id):
                await self.bus.publish(ctl_subject(host_id), encode_control(HostDown(by=conn.id)))
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
                self._close(
                    conn, CloseCode.AUTH_TIMEOUT,
                    f"not authenticated within {s.auth_timeout:g} s", flush=True,
                )
            elif now - conn.last_seen >= s.idle_timeout:
                self._close(
                    conn, CloseCode.IDLE_TIMEOUT, f"no frame for {s.idle_timeout:g} s",
                    flush=True,
                )
        self._end_subscriptions(self.subs.expired(wall), "expired")
        self.tokens.prune(wall)
        self.revocations.prune(wall)
        self.identity_limits.prune(now)

    async def _share_usage_forever(self, interval: float) -> None:
        """Per-identity limits across relays: trade local usage for shared levels."""
        while True:
            await asyncio.sleep(interval)
            try:
                usage = self.identity_limits.take_usage()
                if usage:
                    self.identity_limits.adopt(await self.bus.share_usage(usage), self.clock())
            except Exception:
                log.exception("event=share_usage_failed")

    # ---- inbound -------------------------------------------------------------------

    async def receive(self, conn: Connection, text: str) -> None:
        """Handle one text frame from ``conn``."""
        now = self.clock()
        conn.last_seen = now
        if conn.outbox.closing:
            return
        client = conn.kind is Kind.CLIENT
        # len(text) <= bytes <= 4 * len(text): encode only when the size is in doubt.
        if client and len(text) * 4 > self.settings.max_client_frame:
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > self.settings.max_client_frame:
                self._frames_in(conn.kind, "invalid").inc()
                self._refuse(
                    conn, ErrorCode.TOO_LARGE,
                    f"frame is {size} bytes, max {self.settings.max_client_frame}",
                    _frame_type(text),
                )
                return
        try:
            frame: Frame = decode_client_frame(text) if client else decode_host_frame(text)
        except ProtocolError as exc:
            self._frames_in(conn.kind, "invalid").inc()
            self._refuse(conn, exc.code, exc.message, _frame_type(text))
            return
        tag = str(frame.__struct_config__.tag)
        self._frames_in(conn.kind, tag).inc()
        if not conn.authenticated:
            if isinstance(frame, Hello | HostHello):
                await self._authenticate(conn, frame)
            else:
                hello = "hello" if client else "host_hello"
                self._refuse(
                    conn, ErrorCode.NOT_AUTHENTICATED,
                    f"send {hello!r} before {tag!r}: this connection is not authenticated", tag,
                )
            return
        if not self._within_rate(conn, tag, now):
            return
        if isinstance(frame, Ping):
            self._send(conn, Pong(n=frame.n))
        elif isinstance(frame, Hello | HostHello):
            self._refuse(conn, ErrorCode.BAD_FRAME, "this connection is already authenticated", tag)
        elif isinstance(frame, ClientRequest):
            await self._route_request(conn, frame)
        elif isinstance(frame, Subscribe):
            await self._subscribe(conn, frame)
        elif isinstance(frame, Unsubscribe):
            self._unsubscribe(conn, frame)
        elif isinstance(frame, Ephemeral):
            await self._ephemeral(conn, frame)
        elif isinstance(frame, HostResponse):
            await self.bus.publish(
                conn_subject(frame.to),
                encode_frame(ClientResponse(host=self._host_of(conn), body=frame.body,
                                            sig=frame.sig)),
            )
        elif isinstance(frame, Publish):
            # The topic's host is the authenticated host id, never a field of the frame:
            # a host can only ever publish into its own channels.
            host_id = self._host_of(conn)
            event = Event(host=host_id, space=frame.space, chan=frame.chan, body=frame.body,
                          sig=frame.sig)
            await self.bus.publish(
                topic_subject(host_id, frame.space, frame.chan), encode_frame(event)
            )
        elif isinstance(frame, Revoke):
            await self._revoke(conn, frame)

    def receive_binary(self, conn: Connection) -> None:
        conn.last_seen = self.clock()
        if conn.outbox.closing:
            return
        self._frames_in(conn.kind, "invalid").inc()
        self._refuse(conn, ErrorCode.BAD_FRAME, "binary frames are not accepted: send JSON text",
                     None)

    def _within_rate(self, conn: Connection, tag: str, now: float) -> bool:
        assert conn.identity is not None
        if not conn.limiter.allow(tag, now):
            limit = conn.limiter.limit(tag)
            self._refuse(
                conn, ErrorCode.RATE_LIMITED,
                f"too many {tag!r} frames on this connection: limit {limit.rate:g}/s, "
                f"burst {limit.burst:g}", tag,
            )
            return False
        client = conn.kind is Kind.CLIENT
        identity_limit = self.settings.account_rate if client else self.settings.host_id_rate
        if not self.identity_limits.allow(conn.identity, identity_limit, now):
            whose = "this account's connections" if client else "this host's connections"
            self._refuse(
                conn, ErrorCode.RATE_LIMITED,
                f"too many frames from {whose}: limit {identity_limit.rate:g}/s, "
                f"burst {identity_limit.burst:g}", tag,
            )
            return False
        return True

    async def _authenticate(self, conn: Connection, hello: Hello | HostHello) -> None:
        challenge, conn.challenge = conn.challenge, None  # one attempt, then it is garbage
        assert challenge is not None
        try:
            if isinstance(hello, Hello):
                cert = verify_client_hello(challenge, hello)
            else:
                host_id = verify_host_hello(challenge, hello)
        except ProtocolError as exc:
            log.info("event=auth_failed conn=%s peer=%s msg=%r", conn, conn.peer, exc.message)
            self._refuse(conn, ErrorCode.AUTH_FAILED, exc.message, None, flood=False)
            self._close(conn, CloseCode.AUTH_FAILED, "authentication failed", flush=True)
            return
        if isinstance(hello, Hello):
            conn.identity = b64e(cert.account)
            conn.device = b64e(cert.device)
            conn.handler = partial(self._deliver, conn)
            await self.bus.subscribe(conn_subject(conn.id), conn.handler)
            self._send(conn, Welcome(conn=conn.id, acct=conn.identity, dev=conn.device))
            log.info("event=authenticated conn=%s", conn)
            return
        conn.identity = host_id
        self.hosts.setdefault(host_id, {})[conn.id] = conn
        self.metrics.hosts_online.set(len(self.hosts))
        conn.handler = partial(self._deliver, conn)
        await self.bus.subscribe(host_subject(host_id), conn.handler)
        await self.bus.mark_online(host_id, conn.id)
        self._send(conn, HostWelcome(host=host_id))
        log.info("event=authenticated conn=%s host=%s", conn, host_id)
        # Every relay (this one included) closes any older connection of this host.
        await self.bus.publish(ctl_subject(host_id), encode_control(HostUp(by=conn.id)))

    @staticmethod
    def _host_of(conn: Connection) -> str:
        assert conn.identity is not None and conn.kind is Kind.HOST
        return conn.identity

    async def _route_request(self, conn: Connection, req: ClientRequest) -> None:
        if not await self.bus.is_online(req.host):
            # Not the client's fault: reported, but not counted towards flooding.
            self._refuse(
                conn, ErrorCode.HOST_OFFLINE, f"host {req.host} is not connected to the relay",
                req.id, flood=False,
            )
            return
        watched = conn.watched
        if watched is None:
            watched = conn.watched = set()
        if req.host not in watched and len(watched) < self.settings.max_watched_hosts:
            watched.add(req.host)
            self.watchers.setdefault(req.host, set()).add(conn)
        fwd = ForwardedRequest(from_=conn.id, body=req.body, sig=req.sig)
        await self.bus.publish(host_subject(req.host), encode_frame(fwd))

    async def _subscribe(self, conn: Connection, sub: Subscribe) -> None:
        wall = self.wall_ms()
        try:
            _check_wildcard(sub.chans)
            token = self.tokens.get(sub.token, wall)
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
            rev = self.revocations.find(token, wall)
            if rev is not None:
                raise ProtocolError(
                    ErrorCode.TOKEN_REVOKED,
                    f"token {token.jti} (issued {token.iat}) was revoked by its host for "
                    f"tokens issued at or before {rev.before}",
                )
            topics = [(token.host, token.space, c) for c in dict.fromkeys(sub.chans)]
            new = sum(1 for t in topics if not self.subs.held(conn, t))
            have = self.subs.count(conn)
            if have + new > self.settings.max_subscriptions:
                raise ProtocolError(
                    ErrorCode.TOO_MANY_SUBSCRIPTIONS,
                    f"{have} subscriptions + {new} new exceeds the limit of "
                    f"{self.settings.max_subscriptions} per connection",
                )
        except ProtocolError as exc:
            self._refuse(conn, exc.code, exc.message, "sub")
            return
        new_space = (token.host, token.space) not in self.subs.by_space
        for topic in self.subs.add(conn, topics, token):
            await self.bus.subscribe(topic_subject(*topic), self._topic_handler(topic))
        if new_space:
            await self.bus.subscribe(eph_subject(token.host, token.space), self._on_ephemeral)
        self.metrics.subscriptions.set(len(self.subs.by_topic))
        self._send(
            conn, Subscribed(host=token.host, space=token.space, chans=[t[2] for t in topics],
                             exp=token.exp),
        )

    def _unsubscribe(self, conn: Connection, unsub: Unsubscribe) -> None:
        try:
            _check_wildcard(unsub.chans)
        except ProtocolError as exc:
            self._refuse(conn, exc.code, exc.message, "unsub")
            return
        topics = [(unsub.host, unsub.space, c) for c in dict.fromkeys(unsub.chans)]
        _, emptied = self.subs.remove(conn, topics)
        self._unsubscribe_topics(emptied)
        self._send(conn, Unsubscribed(host=unsub.host, space=unsub.space,
                                      chans=[t[2] for t in topics], reason="left"))

    async def _ephemeral(self, conn: Connection, frame: Ephemeral) -> None:
        """Presence and typing: accepted only from a connection that follows the frame's
        route (the channel, its space's ``*``, or for space-wide presence any channel of
        the space) under a live token, which the relay only ever accepts for the
        connection's own device; and only naming that device and account. Fanned out to
        the route's other subscribers on every relay; never sent to a host, never stored.
        The relay does not verify the device signature (no per-frame crypto here):
        receivers do, against the space's roster."""
        topic = (frame.host, frame.space, frame.chan)
        try:
            if self.subs.covering(conn, topic, self.wall_ms()) is None:
                where = (f"space {frame.space!r}" if frame.chan == ALL_CHANNELS
                         else f"channel {frame.chan!r} of space {frame.space!r}")
                raise ProtocolError(
                    ErrorCode.FORBIDDEN,
                    f"'eph' to {where} on host {frame.host} needs a live subscription "
                    "covering it on this connection: subscribe first",
                )
            body = parse_body(frame.body)
            check_route(body, frame)
            if body.dev != conn.device or body.acct != conn.identity:
                raise ProtocolError(
                    ErrorCode.FORBIDDEN,
                    f"eph body names device {body.dev} of account {body.acct}, but this "
                    f"connection is device {conn.device} of account {conn.identity}",
                )
        except ProtocolError as exc:
            self._refuse(conn, exc.code, exc.message, "eph")
            return
        await self.bus.publish(eph_subject(frame.host, frame.space),
                               ephemeral_data(conn.id, frame.chan, encode_frame(frame)))

    async def _revoke(self, conn: Connection, frame: Revoke) -> None:
        if (frame.acct is None) == (frame.dev is None):
            self._refuse(
                conn, ErrorCode.BAD_FRAME,
                "revoke must name exactly one of 'acct' or 'dev', got "
                f"{'both' if frame.acct else 'neither'}", "revoke",
            )
            return
        host_id = self._host_of(conn)
        grant = RevokeGrant(before=frame.before, acct=frame.acct, dev=frame.dev, space=frame.space)
        # Retained for as long as a covered token can live, so that relays which start (or
        # reconnect to the bus) later still refuse those tokens.
        wall = self.wall_ms()
        until = revocation(host_id, acct=frame.acct, dev=frame.dev, space=frame.space,
                           before=frame.before, now_ms=wall).until_ms
        await self.bus.publish_retained(
            ctl_subject(host_id), encode_control(grant),
            key=f"revoke.{frame.acct or '-'}.{frame.dev or '-'}.{frame.space or '-'}",
            rank=frame.before, ttl_ms=until - wall,
        )

    # ---- bus handlers (synchronous: they only queue frames) --------------------------

    def _deliver(self, conn: Connection, subject: str, data: str) -> None:
        """``conn.<id>`` / ``host.<id>``: wire text for one connection."""
        self._push(conn, data, "resp" if conn.kind is Kind.CLIENT else "fwd")

    def _topic_handler(self, topic: Topic) -> Callable[[str, str], None]:
        return self._on_space_topic if topic[2] == ALL_CHANNELS else self._on_topic

    def _on_topic(self, subject: str, data: str) -> None:
        """``topic.<host>.<space>.<chan>``: one encoded event for every local subscriber."""
        _, host_id, space, chan = subject.split(".")
        self._fan_out((host_id, space, chan), data, skip=None)

    def _on_space_topic(self, subject: str, data: str) -> None:
        """The same event, seen through a ``topic.<host>.<space>.*`` pattern: for the
        subscribers of every channel, except those also following this channel by name
        (``_on_topic`` already reached them)."""
        _, host_id, space, chan = subject.split(".")
        self._fan_out((host_id, space, ALL_CHANNELS), data, skip=(host_id, space, chan))

    def _fan_out(self, topic: Topic, data: str, skip: Topic | None) -> None:
        """Queue ``data`` for every subscriber of ``topic`` (not those of ``skip``).

        Nothing here is per subscriber but the push: the sweep ends expired subscriptions
        every second, and between sweeps one comparison with the earliest expiry tells
        whether some token may have expired since; if so, those subscriptions end first
        (with their ``unsubbed``), so an expired token never receives an event."""
        wall = self.wall_ms()
        if self.subs.due(wall):
            self._end_subscriptions(self.subs.expired(wall), "expired")
        subscribers = self.subs.by_topic.get(topic)
        if not subscribers:
            return
        started = time.perf_counter()
        skipped = self.subs.by_topic.get(skip) if skip is not None else None
        queued = 0
        # _push never changes the subscriber table (see _close), so iterating it is safe.
        for conn in subscribers:
            if skipped is not None and conn in skipped:
                continue
            queued += self._queue(conn, data)
        self._frames_out(Kind.CLIENT, "event").inc(queued)
        self.metrics.fanout_seconds.observe(time.perf_counter() - started)

    def _on_ephemeral(self, subject: str, data: str) -> None:
        """``eph.<host>.<space>``: presence (chan ``*``) for every local subscriber of any
        channel of the space; typing for the subscribers of its channel and of the
        space's ``*``; never for the sender's own connection."""
        _, host_id, space = subject.split(".")
        sender, chan, wire = parse_ephemeral_data(data)
        wall = self.wall_ms()
        if self.subs.due(wall):
            self._end_subscriptions(self.subs.expired(wall), "expired")
        if chan == ALL_CHANNELS:
            targets = self.subs.in_space((host_id, space))
        else:
            targets = set(self.subs.by_topic.get((host_id, space, chan), ()))
            targets.update(self.subs.by_topic.get((host_id, space, ALL_CHANNELS), ()))
        queued = sum(self._queue(conn, wire) for conn in targets if conn.id != sender)
        self._frames_out(Kind.CLIENT, "eph").inc(queued)

    def _on_control(self, subject: str, data: str) -> None:
        """``ctl.<host>``: host replaced / gone, or a revocation; seen by every relay."""
        host_id = subject.split(".", 1)[1]
        message = decode_control(data)
        if isinstance(message, HostUp):
            for conn in list(self.hosts.get(host_id, {}).values()):
                if conn.id != message.by:
                    log.info("event=host_replaced conn=%s host=%s", conn, host_id)
                    self._close(conn, CloseCode.REPLACED,
                                "host authenticated on a newer connection", flush=False)
            self._notify_status(host_id, online=True)
        elif isinstance(message, HostDown):
            self._notify_status(host_id, online=False)
        else:
            wall = self.wall_ms()
            rev = revocation(host_id, acct=message.acct, dev=message.dev, space=message.space,
                             before=message.before, now_ms=wall)
            self.revocations.add(rev)
            hit = [(c, t) for c, t, token in self.subs.of_host(host_id) if rev.covers(token)]
            log.info("event=revoke host=%s subscriptions=%d", host_id, len(hit))
            self._end_subscriptions(hit, "revoked")

    def _notify_status(self, host_id: str, *, online: bool) -> None:
        told = set(self.watchers.get(host_id, ()))
        told.update(c for c, _, _ in self.subs.of_host(host_id))
        if not told:
            return
        text = encode_frame(HostStatus(host=host_id, online=online))
        for conn in told:
            self._push(conn, text, "host_status")

    # ---- outbound ------------------------------------------------------------------

    def _send(self, conn: Connection, frame: Frame) -> None:
        self._push(conn, encode_frame(frame), str(frame.__struct_config__.tag))

    def _push(self, conn: Connection, text: str, frame_type: str) -> None:
        if self._queue(conn, text):
            self._frames_out(conn.kind, frame_type).inc()

    def _queue(self, conn: Connection, text: str) -> bool:
        """Queue ``text`` for ``conn``; on overflow close it SLOW_CONSUMER and return
        False (counting frames out is the caller's: a fan-out counts once)."""
        if conn.outbox.push(text):
            return True
        box = conn.outbox
        log.warning(
            "event=slow_consumer conn=%s queued_frames=%d queued_chars=%d",
            conn, len(box), box.chars,
        )
        self.metrics.slow_consumers.labels(conn.kind).inc()
        self._close(
            conn, CloseCode.SLOW_CONSUMER,
            f"send queue full ({len(box)} frames, {box.chars} chars): not reading fast enough",
            flush=False,
        )
        return False

    def _refuse(
        self, conn: Connection, code: ErrorCode, message: str, ref: str | None,
        *, flood: bool = True,
    ) -> None:
        """Answer a refused frame with an ``error``; a peer that keeps sending refused
        frames faster than settings.flood allows is closed FLOODING."""
        self.metrics.refusals.labels(conn.kind, code.value).inc()
        log.info("event=refused conn=%s code=%s ref=%s", conn, code.value, ref)
        self._send(conn, Error(code=code.value, msg=message[:_MAX_ERROR_TEXT], ref=ref))
        if flood and not conn.flood.take(self.clock()):
            limit = self.settings.flood
            log.warning("event=flooding conn=%s", conn)
            self._close(
                conn, CloseCode.FLOODING,
                f"too many refused frames (limit {limit.rate:g}/s, burst {limit.burst:g})",
                flush=True,
            )

    def _close(self, conn: Connection, code: int, reason: str, *, flush: bool) -> None:
        """Ask the connection's writer to close. Routing state is only dropped in
        ``closed`` (this may run in the middle of a fan-out over the subscriber table);
        until then the closing outbox silently drops what is pushed to it."""
        if conn.outbox.close(code, reason[:_MAX_CLOSE_REASON], flush=flush):
            self.metrics.closes.labels(conn.kind, str(code)).inc()
            if code not in (CloseCode.NORMAL, CloseCode.GOING_AWAY):
                log.info("event=close conn=%s code=%d reason=%r", conn, code, reason)

    def _end_subscriptions(self, pairs: Iterable[tuple[Connection, Topic]], reason: str) -> None:
        """End these subscriptions and tell each connection, one frame per (host, space)."""
        grouped: dict[tuple[Connection, str, str], list[Topic]] = {}
        for conn, topic in pairs:
            grouped.setdefault((conn, topic[0], topic[1]), []).append(topic)
        for (conn, host_id, space), topics in grouped.items():
            removed, emptied = self.subs.remove(conn, topics)
            self._unsubscribe_topics(emptied)
            if removed:
                self._send(conn, Unsubscribed(host=host_id, space=space,
                                              chans=[t[2] for t in removed], reason=reason))

    def _unsubscribe_topics(self, topics: Iterable[Topic]) -> None:
        spaces: set[tuple[str, str]] = set()
        for topic in topics:
            self.bus.unsubscribe(topic_subject(*topic), self._topic_handler(topic))
            spaces.add((topic[0], topic[1]))
        for host_id, space in spaces - self.subs.by_space.keys():
            self.bus.unsubscribe(eph_subject(host_id, space), self._on_ephemeral)
        self.metrics.subscriptions.set(len(self.subs.by_topic))


def _check_wildcard(chans: list[str]) -> None:
    """``*`` (every channel of the space) stands alone in a channel list."""
    if ALL_CHANNELS in chans and len(chans) > 1:
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"'*' must be the only channel in the list, got {chans[:8]}"
        )
