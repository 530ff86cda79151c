"""Hosts: which ones this relay serves, and what every relay tells the others about them.

A host announces itself on the bus subject ``ctl.<host>`` (relay.control): ``up`` when it
authenticates on some relay, ``down`` when its last connection is gone, ``revoke`` when it
revokes an account's or device's tokens. Every relay, the sending one included, acts on
each announcement in ``on_control``.

Invariants: ``hub.hosts[h]`` holds exactly the authenticated, not yet forgotten
connections of host ``h`` on this relay (normally one; the newest wins everywhere, as an
``up`` closes every other one, 4009); the bus knows a host as online from its ``up`` until
its owning connection departs; the host id is always the authenticated connection's, never
a frame field, so a host only ever speaks for itself. Control handling is idempotent
(retained revocations may be replayed).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from hearth.errors import ErrorCode
from hearth.frames import CloseCode, HostStatus, HostWelcome, Revoke, encode_frame
from relay.bus import ctl_subject, host_subject
from relay.connection import Connection, host_of
from relay.control import HostDown, HostUp, RevokeGrant, decode_control, encode_control
from relay.revocations import revocation
from relay.topics import end_subscriptions

if TYPE_CHECKING:
    from relay.hub import Hub

log = logging.getLogger("hearth.relay")


async def arrive(hub: Hub, conn: Connection, host_id: str) -> None:
    """``conn`` proved it is ``host_id``: serve the host from it, and have every relay
    (this one included) close any older connection of the host."""
    conn.identity = host_id
    hub.hosts.setdefault(host_id, {})[conn.id] = conn
    hub.metrics.hosts_online.set(len(hub.hosts))
    conn.handler = partial(hub.out.deliver, conn)
    await hub.bus.subscribe(host_subject(host_id), conn.handler)
    await hub.bus.mark_online(host_id, conn.id)
    hub.out.send(conn, HostWelcome(host=host_id))
    log.info("event=authenticated conn=%s host=%s", conn, host_id)
    await hub.bus.publish(ctl_subject(host_id), encode_control(HostUp(by=conn.id)))


async def depart(hub: Hub, conn: Connection) -> None:
    """A host connection's socket is gone: forget it; if nobody replaced it, tell every
    relay the host is down."""
    assert conn.identity is not None
    host_id = conn.identity
    mine = hub.hosts.get(host_id, {})
    mine.pop(conn.id, None)
    if not mine:
        hub.hosts.pop(host_id, None)
    hub.metrics.hosts_online.set(len(hub.hosts))
    if conn.handler is not None:
        hub.bus.unsubscribe(host_subject(host_id), conn.handler)
    if await hub.bus.mark_offline(host_id, conn.id):
        await hub.bus.publish(ctl_subject(host_id), encode_control(HostDown(by=conn.id)))


async def revoke(hub: Hub, conn: Connection, frame: Revoke) -> None:
    """The host's ``revoke`` frame: announced (retained) to every relay, present and
    future, which then ends the covered subscriptions and refuses the covered tokens."""
    if (frame.acct is None) == (frame.dev is None):
        hub.out.refuse(
            conn, ErrorCode.BAD_FRAME,
            "revoke must name exactly one of 'acct' or 'dev', got "
            f"{'both' if frame.acct else 'neither'}", "revoke",
        )
        return
    host_id = host_of(conn)
    grant = RevokeGrant(before=frame.before, acct=frame.acct, dev=frame.dev, space=frame.space)
    # Retained for as long as a covered token can live, so that relays which start (or
    # reconnect to the bus) later still refuse those tokens.
    wall = hub.wall_ms()
    until = revocation(host_id, acct=frame.acct, dev=frame.dev, space=frame.space,
                       before=frame.before, now_ms=wall).until_ms
    await hub.bus.publish_retained(
        ctl_subject(host_id), encode_control(grant),
        key=f"revoke.{frame.acct or '-'}.{frame.dev or '-'}.{frame.space or '-'}",
        rank=frame.before, ttl_ms=until - wall,
    )


def on_control(hub: Hub, subject: str, data: str) -> None:
    """Bus handler of ``ctl.*``: host replaced / gone, or a revocation; seen by every relay."""
    host_id = subject.split(".", 1)[1]
    message = decode_control(data)
    if isinstance(message, HostUp):
        for conn in list(hub.hosts.get(host_id, {}).values()):
            if conn.id != message.by:
                log.info("event=host_replaced conn=%s host=%s", conn, host_id)
                hub.out.close(conn, CloseCode.REPLACED,
                              "host authenticated on a newer connection", flush=False)
        _notify_status(hub, host_id, online=True)
    elif isinstance(message, HostDown):
        _notify_status(hub, host_id, online=False)
    else:
        wall = hub.wall_ms()
        rev = revocation(host_id, acct=message.acct, dev=message.dev, space=message.space,
                         before=message.before, now_ms=wall)
        hub.revocations.add(rev)
        hit = [(c, t) for c, t, token in hub.subs.of_host(host_id) if rev.covers(token)]
        log.info("event=revoke host=%s subscriptions=%d", host_id, len(hit))
        end_subscriptions(hub, hit, "revoked")


def _notify_status(hub: Hub, host_id: str, *, online: bool) -> None:
    """``host_status`` for every local client that sent the host requests or follows its
    topics, each once."""
    told = set(hub.watchers.get(host_id, ()))
    told.update(c for c, _, _ in hub.subs.of_host(host_id))
    if not told:
        return
    text = encode_frame(HostStatus(host=host_id, online=online))
    for conn in told:
        hub.out.push(conn, text, "host_status")
