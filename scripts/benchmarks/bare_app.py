"""The stack's own ceiling: a bare Starlette WebSocket fan-out app, served by uvicorn with
exactly the relay's server configuration (the Config that relay.server.build_server
makes; only the ASGI app is swapped).

``/sub``  says ``ready`` once registered, then receives every published frame.
``/pub``  each text frame is sent to every subscriber in turn, then ``ack`` goes back.
``/idle`` says ``ready`` and holds the connection (the connection-memory baseline).

Run: ``python -m benchmarks.bare_app --port N``; ready once GET /health/ready is 200.
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from relay.server import build_server
from relay.settings import RelaySettings

_subscribers: set[WebSocket] = set()


async def _hold(ws: WebSocket) -> None:
    while (await ws.receive())["type"] != "websocket.disconnect":
        pass


async def sub_endpoint(ws: WebSocket) -> None:
    await ws.accept()
    _subscribers.add(ws)
    try:
        await ws.send_text("ready")
        await _hold(ws)
    finally:
        _subscribers.discard(ws)


async def idle_endpoint(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_text("ready")
    await _hold(ws)


async def pub_endpoint(ws: WebSocket) -> None:
    await ws.accept()
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            continue
        for sub in list(_subscribers):
            try:
                await sub.send_text(text)
            except Exception:
                _subscribers.discard(sub)
        await ws.send_text("ack")


async def ready(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ready")


def create_app() -> Starlette:
    return Starlette(routes=[
        WebSocketRoute("/sub", sub_endpoint),
        WebSocketRoute("/pub", pub_endpoint),
        WebSocketRoute("/idle", idle_endpoint),
        Route("/health/ready", ready),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port: int = parser.parse_args().port
    config = build_server(RelaySettings(port=port)).config
    config.app = create_app()
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
