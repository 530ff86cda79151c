"""Presence and typing at the relay: ``eph`` frames, checked and fanned out (protocol §12).

An accepted update goes to the bus subject ``eph.<host>.<space>`` (relay.bus
``ephemeral_data``: the sending connection, the channel and the frame's wire text), which
every relay with local followers of the space subscribes to (relay.topics keeps that
subscription), and each relay queues the text untouched for its local followers.

Invariants: an update is accepted only from a connection that follows its route (the
channel or its space's ``*``; for space-wide presence, any channel of the space) under a
live token, which the relay only ever accepts for the connection's own device, and only
naming that device and account; it is never sent to a host, never stored, never echoed to
the sending connection. The relay does not verify the device signature (no per-frame
crypto here): receivers do, against the space's roster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hearth.ephemeral import check_route, parse_body
from hearth.errors import ErrorCode, ProtocolError
from hearth.frames import Ephemeral, encode_frame
from hearth.token import ALL_CHANNELS
from relay.bus import eph_subject, ephemeral_data, parse_ephemeral_data
from relay.connection import Connection, Kind
from relay.topics import end_subscriptions

if TYPE_CHECKING:
    from relay.hub import Hub


async def publish(hub: Hub, conn: Connection, frame: Ephemeral) -> None:
    """A client's ``eph``: checked in the order of protocol §12, then published."""
    topic = (frame.host, frame.space, frame.chan)
    try:
        if hub.subs.covering(conn, topic, hub.wall_ms()) is None:
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
        hub.out.refuse(conn, exc.code, exc.message, "eph")
        return
    await hub.bus.publish(eph_subject(frame.host, frame.space),
                          ephemeral_data(conn.id, frame.chan, encode_frame(frame)))


def on_ephemeral(hub: Hub, subject: str, data: str) -> None:
    """Bus handler of ``eph.<host>.<space>``: presence (chan ``*``) for every local
    subscriber of any channel of the space; typing for the subscribers of its channel and
    of the space's ``*``; never for the sender's own connection."""
    _, host_id, space = subject.split(".")
    sender, chan, wire = parse_ephemeral_data(data)
    subs = hub.subs
    wall = hub.wall_ms()
    if subs.due(wall):
        end_subscriptions(hub, subs.expired(wall), "expired")
    if chan == ALL_CHANNELS:
        targets = subs.in_space((host_id, space))
    else:
        targets = set(subs.by_topic.get((host_id, space, chan), ()))
        targets.update(subs.by_topic.get((host_id, space, ALL_CHANNELS), ()))
    out = hub.out
    queue = out.queue
    queued = sum(queue(conn, wire) for conn in targets if conn.id != sender)
    out.frames_out(Kind.CLIENT, "eph").inc(queued)
