"""The single ``hearth`` command: ``hearth up``, ``hearth relay`` and ``hearth host …``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

DEFAULT_PORT = 8470
DEFAULT_DATA = Path(".hearth")


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine on uvloop, exiting quietly on Ctrl+C."""
    import uvloop

    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(main)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


@click.group()
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]),
              help="Least severe log level printed to stderr.")
def main(log_level: str) -> None:
    """Hearth: self-hosted, end-to-end-encrypted community chat."""
    _setup_logging(log_level)


@main.command()
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Relay HTTP/WebSocket port.")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--data", default=DEFAULT_DATA, show_default=True,
              type=click.Path(path_type=Path), help="Host data directory (created if missing).")
def up(port: int, bind: str, data: Path) -> None:
    """Run a relay and a host together: a working Hearth on this machine."""
    from host.config import create_owner_claim, has_owner, host_id_of, init_host, is_initialised

    if not is_initialised(data):
        init_host(data)
    host_id = host_id_of(data)
    base = f"http://{bind}:{port}"
    click.echo("Hearth is running.")
    click.echo(f"  Open:        {base}/")
    click.echo(f"  Host id:     {host_id}")
    click.echo(f"  Data:        {data.resolve()}")
    if not has_owner(data):
        secret = create_owner_claim(data)
        click.echo(f"  Owner link:  {base}/#/claim/{host_id}/{secret}")
        click.echo("               (open it first: it makes you this host's owner; single use)")
    click.echo("Press Ctrl+C to stop.")
    _run(_up(bind, port, data))


async def _up(bind: str, port: int, data: Path) -> None:
    from host.node import run_node
    from relay.server import build_server
    from relay.settings import RelaySettings

    stop = asyncio.Event()
    _stop_on_signals(stop)
    server = build_server(RelaySettings(host=bind, port=port))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            await serving
            raise click.ClickException(f"the relay could not start on {bind}:{port}")
        await asyncio.sleep(0.02)
    node = asyncio.create_task(run_node(data, f"ws://127.0.0.1:{port}", stop=stop))
    await stop.wait()
    await node
    server.should_exit = True
    await serving


@main.command()
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="HTTP/WebSocket port.")
@click.option("--bind", default="127.0.0.1", show_default=True,
              help="Address to listen on (put Caddy in front for anything public).")
@click.option("--rate", "rates", multiple=True, metavar="NAME=RATE[/BURST]",
              help="Override a rate limit (frames/s): a client frame type such as 'req', "
                   "'host.<type>', 'account', 'host_id' or 'flood'. Repeatable.")
@click.option("--client-queue", type=click.IntRange(min=8), default=None, metavar="FRAMES",
              help="Frames a browser connection may have waiting to be sent before it is "
                   "closed as a slow consumer (default 1024).")
@click.option("--send-buffer", type=click.IntRange(min=4096), default=None, metavar="BYTES",
              help="Kernel send buffer per connection (default: Linux autotuning).")
def relay(port: int, bind: str, rates: tuple[str, ...], client_queue: int | None,
          send_buffer: int | None) -> None:
    """Run the stateless relay."""
    from relay.server import serve
    from relay.settings import RelaySettings, with_rates

    base = RelaySettings(host=bind, port=port, send_buffer=send_buffer)
    if client_queue is not None:
        base = replace(base, client_queue_frames=client_queue)
    try:
        settings = with_rates(base, list(rates))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--rate") from None
    _run(serve(settings))


@main.group()
def host() -> None:
    """Run and administer a host (the community's own node)."""


data_option = click.option("--data", default=DEFAULT_DATA, show_default=True,
                           type=click.Path(path_type=Path), help="Host data directory.")


@host.command("init")
@data_option
def host_init(data: Path) -> None:
    """Create the host key and database; prints the host id."""
    from host.config import init_host
    from host.errors import HostConfigError

    try:
        host_id = init_host(data)
    except HostConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"initialised {data}; host id:", err=True)
    click.echo(host_id)


@host.command("id")
@data_option
def host_id_cmd(data: Path) -> None:
    """Print the host id of an initialised data directory."""
    from host.config import host_id_of
    from host.errors import HostConfigError

    try:
        click.echo(host_id_of(data))
    except HostConfigError as exc:
        raise click.ClickException(str(exc)) from None


@host.command("owner-invite")
@data_option
def host_owner_invite(data: Path) -> None:
    """Print a single-use secret that makes whoever redeems it (op host.claim) an owner."""
    from host.config import create_owner_claim
    from host.errors import HostConfigError

    try:
        click.echo(create_owner_claim(data))
    except HostConfigError as exc:
        raise click.ClickException(str(exc)) from None


@host.command("run")
@data_option
@click.option("--relay", "relay_url", required=True,
              help="Relay WebSocket base URL, e.g. ws://127.0.0.1:8470 or wss://relay.example.")
def host_run(data: Path, relay_url: str) -> None:
    """Connect to the relay and serve the community until stopped."""
    from host.config import host_id_of
    from host.errors import HostConfigError
    from host.node import run_node

    try:
        host_id_of(data)
    except HostConfigError as exc:
        raise click.ClickException(str(exc)) from None

    async def serve() -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        await run_node(data, relay_url, stop=stop)

    _run(serve())
