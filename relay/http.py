"""Plain HTTP endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import orjson
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from relay.connection import Kind
from relay.hub import Hub


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def live(request: Request) -> Response:
    """200 while the process serves HTTP at all."""
    return _json({"status": "live"})


async def ready(request: Request) -> Response:
    """200 while the relay accepts connections and its bus works; 503 otherwise."""
    hub: Hub = request.app.state.hub
    kinds = [c.kind for c in hub.conns.values()]
    body = {
        "ready": hub.ready(),
        "accepting": hub.accepting,
        "bus": "ok" if hub.bus.healthy() else "down",
        "connections": {k.value: kinds.count(k) for k in Kind},
        "hosts_online": len(hub.hosts),
    }
    error = hub.bus.last_error()
    if error is not None:
        body["bus_error"] = error
    return _json(body, 200 if body["ready"] else 503)


async def metrics(request: Request) -> Response:
    """Prometheus text format; names and labels are listed in docs/operations.md."""
    hub: Hub = request.app.state.hub
    hub.metrics.accepting.set(1 if hub.accepting else 0)  # state, read at scrape time
    return Response(hub.metrics.render(), media_type=CONTENT_TYPE_LATEST)
