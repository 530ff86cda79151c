"""Requests and responses: ``req`` → ``fwd`` to a host, ``resp_to`` → ``resp`` to a client.

The relay routes signed bodies untouched and never parses them (protocol §6). A request
goes to the bus subject ``host.<host>`` (whichever relay serves the host), a response to
``conn.<id>`` (whichever relay holds that client connection); ``Outbound.deliver`` queues
either for its connection at the other end.

Invariants: a request's reply address is the sending connection's id, never a frame
field, and a response's ``host`` is the answering connection's authenticated host id;
``hub.watchers[h]`` holds exactly the open client connections that sent host ``h`` a
request (at most settings.max_watched_hosts hosts per connection), mirrored by each
connection's ``watched``, so that ``host_status`` reaches them (relay.hosts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hearth.errors import ErrorCode
from hearth.frames import (
    ClientRequest,
    ClientResponse,
    ForwardedRequest,
    HostResponse,
    encode_frame,
)
from relay.bus import conn_subject, host_subject
from relay.connection import Connection, host_of

if TYPE_CHECKING:
    from relay.hub import Hub


async def forward_request(hub: Hub, conn: Connection, req: ClientRequest) -> None:
    """A client's ``req``: to its host as ``fwd``, if the host is connected to any relay."""
    if not await hub.bus.is_online(req.host):
        # Not the client's fault: reported, but not counted towards flooding.
        hub.out.refuse(
            conn, ErrorCode.HOST_OFFLINE, f"host {req.host} is not connected to the relay",
            req.id, flood=False,
        )
        return
    watched = conn.watched
    if watched is None:
        watched = conn.watched = set()
    if req.host not in watched and len(watched) < hub.settings.max_watched_hosts:
        watched.add(req.host)
        hub.watchers.setdefault(req.host, set()).add(conn)
    fwd = ForwardedRequest(from_=conn.id, body=req.body, sig=req.sig)
    await hub.bus.publish(host_subject(req.host), encode_frame(fwd))


async def respond(hub: Hub, conn: Connection, frame: HostResponse) -> None:
    """A host's ``resp_to``: to the client connection it names, as ``resp`` (dropped if
    that connection is gone)."""
    await hub.bus.publish(
        conn_subject(frame.to),
        encode_frame(ClientResponse(host=host_of(conn), body=frame.body, sig=frame.sig)),
    )


def unwatch(hub: Hub, conn: Connection) -> None:
    """A closed client connection no longer watches any host."""
    for host_id in conn.watched or ():
        watchers = hub.watchers.get(host_id)
        if watchers is not None:
            watchers.discard(conn)
            if not watchers:
                del hub.watchers[host_id]
