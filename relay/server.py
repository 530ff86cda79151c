"""Running the relay under uvicorn, with a graceful GOING_AWAY shutdown.

Invariant: on SIGTERM/SIGINT the relay stops accepting (new sockets and new WebSocket
sessions), flushes what each connection has queued, closes it with 1001, and exits
with status 0 within ``shutdown_grace`` + ``close_timeout`` seconds; a second SIGINT
forces the exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import signal
import socket
import threading
from collections.abc import Iterator

import uvicorn

from hearth.frames import CloseCode
from relay.app import create_app
from relay.bus import Bus
from relay.hub import Hub
from relay.settings import RelaySettings

log = logging.getLogger("hearth.relay")


class RelayServer(uvicorn.Server):
    """uvicorn.Server that first closes every WebSocket with GOING_AWAY (uvicorn itself
    would close them with 1012) and marks the relay not ready while it drains.

    With ``handle_signals`` it owns SIGINT/SIGTERM through the event loop and, unlike
    uvicorn, does not re-raise them afterwards, so a graceful stop exits 0; without,
    the embedding program (``hearth up``) decides when to set ``should_exit``.
    """

    def __init__(self, config: uvicorn.Config, hub: Hub, *, handle_signals: bool = True) -> None:
        super().__init__(config)
        self.hub = hub
        self.handle_signals = handle_signals

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for sig in signals:
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            yield
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)

    def _on_signal(self, sig: int) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True
        log.info("event=signal signal=%s", signal.Signals(sig).name)

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        settings = self.hub.settings
        if sockets is None and settings.send_buffer is not None:
            sockets = [listening_socket(settings.host, settings.port, settings.send_buffer)]
        await super().serve(sockets)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in getattr(self, "servers", []):
            server.close()  # stop accepting first, so nobody joins while we drain
        log.info("event=shutdown_started connections=%d", len(self.hub.conns))
        await self.hub.drain(CloseCode.GOING_AWAY, "relay is shutting down",
                             self.hub.settings.shutdown_grace)
        await super().shutdown(sockets)
        log.info("event=relay_stopped")


def listening_socket(host: str, port: int, send_buffer: int) -> socket.socket:
    """A bound socket whose accepted connections inherit SO_SNDBUF = ``send_buffer``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind((host, port))
    return sock


def build_server(
    settings: RelaySettings | None = None, *, bus: Bus | None = None,
    handle_signals: bool = True,
) -> RelayServer:
    """A ready-to-run server: ``await server.serve()`` (or ``serve(sockets=[...])``)."""
    settings = settings or RelaySettings()
    app = create_app(settings, bus=bus)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=settings.max_host_frame,
        ws_ping_interval=settings.ws_ping_interval,
        ws_ping_timeout=settings.ws_ping_timeout,
        lifespan="on",
        proxy_headers=settings.proxy_headers,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        access_log=settings.access_log,
        timeout_graceful_shutdown=max(1, int(settings.shutdown_grace) + 1),
        log_config=None,
    )
    return RelayServer(config, app.state.hub, handle_signals=handle_signals)


async def serve(settings: RelaySettings | None = None, *, bus: Bus | None = None) -> None:
    """Run a relay until SIGINT/SIGTERM. Note: ``loop`` only applies to ``server.run()``;
    here the caller's event loop is used (install uvloop before calling, e.g. via
    ``run``)."""
    await build_server(settings, bus=bus).serve()


def run(settings: RelaySettings | None = None) -> None:
    """Blocking entry point for the CLI: sets up uvloop (when available) and serves."""
    build_server(settings).run()
