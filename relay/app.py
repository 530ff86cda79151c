"""The relay's ASGI application: routes, static web client, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from hearth.frames import CloseCode
from relay import http
from relay.bus import Bus, bus_from_url
from relay.endpoint import client_endpoint, host_endpoint
from relay.hub import Hub
from relay.metrics import RelayMetrics
from relay.settings import RelaySettings

log = logging.getLogger("hearth.relay")


async def _sweep_forever(hub: Hub) -> None:
    while True:
        await asyncio.sleep(hub.settings.sweep_interval)
        try:
            hub.sweep()
        except Exception:
            log.exception("event=sweep_failed")


def create_app(settings: RelaySettings | None = None, *, bus: Bus | None = None) -> Starlette:
    """A relay app; ``app.state.hub`` is its Hub. ``bus`` defaults to the one
    ``settings.bus_url`` names (in-process when None)."""
    settings = settings or RelaySettings()
    hub = Hub(settings, bus if bus is not None else bus_from_url(settings.bus_url),
              RelayMetrics())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        sweeper = asyncio.create_task(_sweep_forever(hub))
        log.info("event=relay_started web_dir=%s", settings.static_dir)
        try:
            yield
        finally:
            # Normally RelayServer drained already; this covers other ASGI servers.
            await hub.drain(CloseCode.GOING_AWAY, "relay is shutting down",
                            settings.shutdown_grace)
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
            await hub.stop()

    routes: list[BaseRoute] = [
        WebSocketRoute("/ws/client", client_endpoint),
        WebSocketRoute("/ws/host", host_endpoint),
        Route("/health/live", http.live),
        Route("/health/ready", http.ready),
        Route("/metrics", http.metrics),
    ]
    web = settings.static_dir
    if (web / "index.html").is_file():
        routes.append(Mount("/", app=StaticFiles(directory=web, html=True), name="web"))
    else:
        log.warning("event=no_web_client web_dir=%s", web)
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.hub = hub
    return app
