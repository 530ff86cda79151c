"""The WebSocket shell shared by ``/ws/client`` and ``/ws/host``: one reader, one writer.

The reader hands every frame to the hub; the writer is the only code that sends on the
socket, draining the connection's outbox. Only the writer ever waits for a slow peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket

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
                await hub.receive(conn, text)
            else:
                hub.receive_binary(conn)
    except Exception:
        log.exception("event=internal_error conn=%s", conn)
        conn.outbox.close(_INTERNAL_ERROR, "internal error", flush=False)


async def _write(ws: WebSocket, outbox: Outbox, close_timeout: float) -> None:
    """Send queued frames in order, then the requested close (bounded by close_timeout)."""
    try:
        while (text := await outbox.next()) is not None:
            await ws.send_text(text)
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


async def serve_connection(ws: WebSocket, hub: Hub, kind: Kind) -> None:
    await ws.accept()
    peer = f"{ws.client.host}:{ws.client.port}" if ws.client else "unknown"
    conn = hub.open(kind, peer)
    writer = asyncio.create_task(_write(ws, conn.outbox, hub.settings.close_timeout))
    conn.outbox.on_abort = writer.cancel
    reader = asyncio.create_task(_read(ws, hub, conn))
    try:
        done, _ = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        if reader in done and conn.outbox.closing:
            await writer  # flushes what is queued, then closes; bounded by close_timeout
    finally:
        for task in (reader, writer):
            task.cancel()
        await asyncio.gather(reader, writer, return_exceptions=True)
        await hub.closed(conn)


async def client_endpoint(ws: WebSocket) -> None:
    await serve_connection(ws, ws.app.state.hub, Kind.CLIENT)


async def host_endpoint(ws: WebSocket) -> None:
    await serve_connection(ws, ws.app.state.hub, Kind.HOST)
