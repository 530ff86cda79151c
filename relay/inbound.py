"""Everything a peer says to the relay: each frame, decoded, checked and dispatched.

``receive`` is the one entry point for a text frame (relay.endpoint calls it for every
frame, in order): it bounds the size, decodes, lets only the ``hello`` through before
authentication, applies the rate limits (the connection's per frame type, then its
identity's across relays), and hands the frame to the module that handles its type.

Invariants: every frame is counted in ``frames_in`` (as ``invalid`` if it does not
decode); every refused frame is answered with exactly one ``error`` (relay.outbound); a
connection that is closing is not listened to; no frame of an unauthenticated connection
is acted on but its ``hello``; a client's frame is never decoded if it is larger than
settings.max_client_frame; which host a host frame speaks for is never a frame field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from hearth.errors import ErrorCode, ProtocolError
from hearth.frames import (
    ClientRequest,
    Ephemeral,
    Frame,
    Hello,
    HostHello,
    HostResponse,
    Ping,
    Pong,
    Publish,
    Revoke,
    Subscribe,
    Unsubscribe,
    decode_client_frame,
    decode_host_frame,
)
from relay import ephemeral, handshake, hosts, routing, topics
from relay.connection import Connection, Kind

if TYPE_CHECKING:
    from relay.hub import Hub


async def receive(hub: Hub, conn: Connection, text: str) -> None:
    """Handle one text frame from ``conn``."""
    now = hub.clock()
    conn.last_seen = now
    if conn.outbox.closing:
        return
    client = conn.kind is Kind.CLIENT
    # len(text) <= bytes <= 4 * len(text): encode only when the size is in doubt.
    if client and len(text) * 4 > hub.settings.max_client_frame:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > hub.settings.max_client_frame:
            hub.frames_in(conn.kind, "invalid").inc()
            hub.out.refuse(
                conn, ErrorCode.TOO_LARGE,
                f"frame is {size} bytes, max {hub.settings.max_client_frame}",
                _frame_type(text),
            )
            return
    try:
        frame: Frame = decode_client_frame(text) if client else decode_host_frame(text)
    except ProtocolError as exc:
        hub.frames_in(conn.kind, "invalid").inc()
        hub.out.refuse(conn, exc.code, exc.message, _frame_type(text))
        return
    tag = str(frame.__struct_config__.tag)
    hub.frames_in(conn.kind, tag).inc()
    if not conn.authenticated:
        if isinstance(frame, Hello | HostHello):
            await handshake.authenticate(hub, conn, frame)
        else:
            hello = "hello" if client else "host_hello"
            hub.out.refuse(
                conn, ErrorCode.NOT_AUTHENTICATED,
                f"send {hello!r} before {tag!r}: this connection is not authenticated", tag,
            )
        return
    if not _within_rate(hub, conn, tag, now):
        return
    if isinstance(frame, Ping):
        hub.out.send(conn, Pong(n=frame.n))
    elif isinstance(frame, Hello | HostHello):
        hub.out.refuse(
            conn, ErrorCode.BAD_FRAME, "this connection is already authenticated", tag
        )
    elif isinstance(frame, ClientRequest):
        await routing.forward_request(hub, conn, frame)
    elif isinstance(frame, Subscribe):
        await topics.subscribe(hub, conn, frame)
    elif isinstance(frame, Unsubscribe):
        topics.unsubscribe(hub, conn, frame)
    elif isinstance(frame, Ephemeral):
        await ephemeral.publish(hub, conn, frame)
    elif isinstance(frame, HostResponse):
        await routing.respond(hub, conn, frame)
    elif isinstance(frame, Publish):
        await topics.publish(hub, conn, frame)
    elif isinstance(frame, Revoke):
        await hosts.revoke(hub, conn, frame)


def receive_binary(hub: Hub, conn: Connection) -> None:
    """Handle one binary frame from ``conn``: never accepted."""
    conn.last_seen = hub.clock()
    if conn.outbox.closing:
        return
    hub.frames_in(conn.kind, "invalid").inc()
    hub.out.refuse(
        conn, ErrorCode.BAD_FRAME, "binary frames are not accepted: send JSON text", None
    )


def _within_rate(hub: Hub, conn: Connection, tag: str, now: float) -> bool:
    """Spend one frame of the connection's limit for ``tag`` and one of its
    identity's (account or host, across relays); refuse the frame if either is out."""
    assert conn.identity is not None
    if not conn.limiter.allow(tag, now):
        limit = conn.limiter.limit(tag)
        hub.out.refuse(
            conn, ErrorCode.RATE_LIMITED,
            f"too many {tag!r} frames on this connection: limit {limit.rate:g}/s, "
            f"burst {limit.burst:g}", tag,
        )
        return False
    client = conn.kind is Kind.CLIENT
    identity_limit = hub.settings.account_rate if client else hub.settings.host_id_rate
    if not hub.identity_limits.allow(conn.identity, identity_limit, now):
        whose = "this account's connections" if client else "this host's connections"
        hub.out.refuse(
            conn, ErrorCode.RATE_LIMITED,
            f"too many frames from {whose}: limit {identity_limit.rate:g}/s, "
            f"burst {identity_limit.burst:g}", tag,
        )
        return False
    return True


def _frame_type(text: str) -> str | None:
    """Best-effort ``t`` of a frame that failed to decode (used as the error's ``ref``)."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    tag = obj.get("t") if isinstance(obj, dict) else None
    return tag[:40] if isinstance(tag, str) else None
