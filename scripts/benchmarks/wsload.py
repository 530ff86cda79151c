"""A lean WebSocket client for load generation.

websockets' own sans-I/O protocol over a bare asyncio transport: no task, queue or
future per message, so one generator process can feed or drain hundreds of
connections without becoming what is measured. Setup frames arrive through
``recv()``; once ``on_text`` is set, every text frame goes straight to it together
with the arrival time (``time.monotonic_ns``, one reading per socket read).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from hearth.limits import MAX_HOST_FRAME

TextHandler = Callable[[bytes, int], None]
"""Called with (frame payload, arrival time in monotonic ns)."""


class Link(asyncio.Protocol):
    """One client WebSocket connection."""

    def __init__(self, url: str) -> None:
        self.ws = ClientProtocol(parse_uri(url), max_size=MAX_HOST_FRAME + 4096)
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.inbox: asyncio.Queue[bytes] = asyncio.Queue()
        self.on_text: TextHandler | None = None
        self._transport: asyncio.Transport | None = None

    # ---- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, hence the cast.
        self._transport = cast(asyncio.Transport, transport)
        self.ws.send_request(self.ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.ws.receive_data(data)
        now = time.monotonic_ns()
        for event in self.ws.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    data = bytes(event.data)
                    if self.on_text is not None:
                        self.on_text(data, now)
                    else:
                        self.inbox.put_nowait(data)
            elif isinstance(event, Response) and not self.opened.done():
                if self.ws.handshake_exc is not None:
                    self.opened.set_exception(self.ws.handshake_exc)
                else:
                    self.opened.set_result(None)
        self._flush()

    def eof_received(self) -> bool | None:
        self.ws.receive_eof()
        self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    # ---- use -----------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.ws.state is State.OPEN and not self.closed.done()

    def send_text(self, text: str) -> None:
        self.ws.send_text(text.encode("utf-8"))
        self._flush()

    async def recv(self, wait_s: float = 15.0) -> bytes:
        return await asyncio.wait_for(self.inbox.get(), wait_s)

    def close(self) -> None:
        if self.ws.state is State.OPEN:
            self.ws.send_close(1000)
            self._flush()
        if self._transport is not None:
            self._transport.close()

    def _flush(self) -> None:
        assert self._transport is not None
        for chunk in self.ws.data_to_send():
            if chunk:
                self._transport.write(chunk)
            elif self._transport.can_write_eof():
                self._transport.write_eof()


async def open_link(url: str) -> Link:
    """Connect and finish the WebSocket handshake (no compression: none is offered)."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None, url
    loop = asyncio.get_running_loop()
    _, link = await loop.create_connection(lambda: Link(url), parts.hostname, parts.port)
    try:
        await asyncio.wait_for(link.opened, 15)
    except BaseException:
        link.close()
        raise
    return link
