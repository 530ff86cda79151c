"""The WebSocket shell shared by ``/ws/client`` and ``/ws/host``: one reader, one writer.

The reader hands every frame to the hub (relay.inbound); the writer is the only code
that sends on the socket, draining the connection's outbox. Only the writer ever waits
for a slow peer.

Invariants: the reader runs in the ASGI task itself and the writer in one more task (an
idle connection holds one task besides the server's, not two); whichever of them ends
first ends the other, and the hub forgets the connection only after both have ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from relay import inbound
from relay.connection import Connection, Kind
from relay.hub import Hub
from relay.outbox import Outbox

log = logging.getLogger("hearth.relay")

_INTERNAL_ERROR = 1011
"""RFC 6455: the server hit an unexpected condition (a bug; logged with its traceback)."""


async def _read(ws: WebSocket, hub: Hub, conn: Connection) -> None:
    """Feed frames to the hub until the peer disconnects or a close is requested."""
    try:
        while not conn.outbox.closing:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is not None:
                await inbound.receive(hub, conn, text)
            else:
                inbound.receive_binary(hub, conn)
    except Exception:
        log.exception("event=internal_error conn=%s", conn)
        conn.outbox.close(_INTERNAL_ERROR, "internal error", flush=False)


async def _write(ws: WebSocket, send: Send, outbox: Outbox, close_timeout: float) -> None:
    """Send queued frames in order, then the requested close (bounded by close_timeout).

    Frames go straight to the server's ASGI ``send``: Starlette's ``WebSocket.send``
    re-checks its state machine on every frame (with its wrappers, ~8 % of relay CPU in a
    fan-out), and accept and close, which change that state, still go through ``ws``.
    Each ``send`` returns without yielding while the transport is writable, so a whole
    burst goes out in one task step; it only suspends once the peer stops reading.
    """
    try:
        while True:
            while (text := outbox.pop()) is not None:
                await send({"type": "websocket.send", "text": text})
            if outbox.closing:
                break
            await outbox.wait()
    except asyncio.CancelledError:
        if not outbox.aborted:
            raise
        # Aborted (slow consumer, replaced): the queue is gone, go straight to the close.
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
    except Exception:
        return  # the peer is gone; there is nobody to send a close to
    assert outbox.close_code is not None
    with contextlib.suppress(Exception):
        async with asyncio.timeout(close_timeout):
            await ws.close(outbox.close_code, outbox.close_reason)


async def serve_connection(ws: WebSocket, send: Send, hub: Hub, kind: Kind) -> None:
    """Run one connection to its end: ``ws`` wraps the ASGI ``send`` given too."""
    await ws.accept()
    peer = f"{ws.client.host}:{ws.client.port}" if ws.client else "unknown"
    conn = hub.open(kind, peer)
    me = asyncio.current_task()
    assert me is not None
    writer = asyncio.create_task(_write(ws, send, conn.outbox, hub.settings.close_timeout))
    conn.outbox.on_abort = writer.cancel
    reading = True
    interrupted = False

    def writer_done(_: asyncio.Task[None]) -> None:
        # The writer closed the connection (or found the peer gone): stop reading, as a
        # peer that neither reads nor sends would otherwise hold the reader forever.
        nonlocal interrupted
        if reading:
            interrupted = True
            me.cancel()

    writer.add_done_callback(writer_done)
    try:
        try:
            await _read(ws, hub, conn)
        except asyncio.CancelledError:
            # Only our own cancel (writer_done) is absorbed; anyone else's propagates.
            if not interrupted or me.uncancel() > 0:
                raise
        finally:
            reading = False
        if conn.outbox.closing:
            await writer  # flushes what is queued, then closes; bounded by close_timeout
    finally:
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
        await hub.closed(conn)


class _Endpoint:
    """The raw ASGI app of one WebSocket route (not a Starlette endpoint function, so
    that the writer gets the server's ``send`` itself)."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ws = WebSocket(scope, receive, send)
        await serve_connection(ws, send, ws.app.state.hub, self.kind)


client_endpoint = _Endpoint(Kind.CLIENT)
host_endpoint = _Endpoint(Kind.HOST)
