"""Authentication: a connection proves who it is by signing its challenge (protocol §4).

``Hub.open`` queues the challenge; the peer's first frame must be its ``hello`` (client)
or ``host_hello`` (host), which ``authenticate`` verifies here.

Invariants: a challenge is used for one attempt only (it is dropped before verifying);
``conn.identity`` is set only after the proof verified, and never changes afterwards; a
connection's bus handler is subscribed before its welcome is queued, so nothing sent to
it after the welcome is lost; a failed proof is answered ``auth_failed`` and closed 4001
(not counted as flooding: the connection ends anyway).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from hearth.auth import verify_client_hello, verify_host_hello
from hearth.b64 import b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.frames import CloseCode, Hello, HostHello, Welcome
from relay import hosts
from relay.bus import conn_subject
from relay.connection import Connection

if TYPE_CHECKING:
    from relay.hub import Hub

log = logging.getLogger("hearth.relay")


async def authenticate(hub: Hub, conn: Connection, hello: Hello | HostHello) -> None:
    """Verify ``hello`` against ``conn``'s challenge; on success register the connection
    (a client by its ``conn.<id>`` subject, a host through ``hosts.arrive``) and welcome it."""
    challenge, conn.challenge = conn.challenge, None  # one attempt, then it is garbage
    assert challenge is not None
    try:
        if isinstance(hello, Hello):
            cert = verify_client_hello(challenge, hello)
        else:
            host_id = verify_host_hello(challenge, hello)
    except ProtocolError as exc:
        log.info("event=auth_failed conn=%s peer=%s msg=%r", conn, conn.peer, exc.message)
        hub.out.refuse(conn, ErrorCode.AUTH_FAILED, exc.message, None, flood=False)
        hub.out.close(conn, CloseCode.AUTH_FAILED, "authentication failed", flush=True)
        return
    if isinstance(hello, Hello):
        conn.identity = b64e(cert.account)
        conn.device = b64e(cert.device)
        conn.handler = partial(hub.out.deliver, conn)
        await hub.bus.subscribe(conn_subject(conn.id), conn.handler)
        hub.out.send(conn, Welcome(conn=conn.id, acct=conn.identity, dev=conn.device))
        log.info("event=authenticated conn=%s", conn)
        return
    await hosts.arrive(hub, conn, host_id)
