"""The single ``hearth`` command: ``hearth up``, ``hearth relay`` and ``hearth host …``.

Every option that configures a running service is layered (hearth.config): flag, then
``HEARTH_*`` environment variable, then the ``--config`` TOML file, then the default.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import click

from hearth.config import config_option, effective, setting
from hearth.logs import LEVELS, setup_logging
from relay.options import relay_options

DEFAULT_PORT = 8470
DEFAULT_DATA = Path(".hearth")

print_config_option = click.option(
    "--print-config", is_flag=True,
    help="Print the effective configuration (TOML, with where each value came from) "
         "and exit.",
)


def run_async(main: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine on uvloop, exiting quietly on Ctrl+C."""
    import uvloop

    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(main)


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set ``stop``: the caller shuts down gracefully."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


class HearthGroup(click.Group):
    """The top-level group; ``--config`` needs the finished command tree, so it is
    attached after every subcommand is registered (see the end of this module)."""


@click.group(cls=HearthGroup)
@setting(None, "--log-level", default="info", show_default=True, type=click.Choice(LEVELS),
         help="Least severe log level printed to stderr (one logfmt line per event).")
def main(log_level: str) -> None:
    """Hearth: self-hosted, end-to-end-encrypted community chat.

    Configuration: every option below and in the subcommands can also be set by its
    HEARTH_* environment variable or in the --config TOML file, in that order of
    precedence (docs/operations.md has the full table).
    """
    setup_logging(log_level)


@main.command()
@setting("up", "--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535),
         help="Relay HTTP/WebSocket port.")
@setting("up", "--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@setting("up", "--data", default=DEFAULT_DATA, show_default=True,
         type=click.Path(path_type=Path, file_okay=False),
         help="Host data directory (created if missing).")
@print_config_option
@click.pass_context
def up(ctx: click.Context, port: int, bind: str, data: Path, print_config: bool) -> None:
    """Run a relay and a host together: a working Hearth on this machine."""
    if print_config:
        click.echo("\n".join(effective(ctx)))
        return
    from hearth.invite_link import InviteLink
    from host.config import create_owner_claim, has_owner, host_id_of, init_host, is_initialised
    from host.errors import HostConfigError

    try:
        if not is_initialised(data):
            init_host(data)
        host_id = host_id_of(data)
        secret = None if has_owner(data) else create_owner_claim(data)
    except HostConfigError as exc:
        raise click.ClickException(str(exc)) from None
    base = f"http://{bind}:{port}"
    click.echo("Hearth is running.")
    click.echo(f"  Open:        {base}/")
    click.echo(f"  Host id:     {host_id}")
    click.echo(f"  Data:        {data.resolve()}")
    if secret is not None:
        link = InviteLink(base, host_id, secret, "claim")
        click.echo(f"  Owner link:  {link}")
        click.echo("               (single use, 7 days: whoever redeems it owns this host)")
        click.echo(_NEXT_STEPS.format(link=link))
    else:
        click.echo("  This host has an owner; 'hearth host owner-invite' makes another link.")
    click.echo("Press Ctrl+C to stop.")
    run_async(_up(bind, port, data))


_NEXT_STEPS = """
What next:
  1. Open the owner link in your browser: pick a name, and you own this host. Create a
     space, then "Invite" makes a link for each person you want in (the link alone joins).
  2. Or from Python (README.md, "Using it from Python"):
       from hearth.invite_link import InviteLink
       link = InviteLink.parse("{link}")
       # Client(Identity.generate(), link.relay_ws_url), then in async code:
       # api = client.host(link.host_id); await api.hello("me"); await api.claim(link.secret)
  3. Administer the host: hearth host status --data DIR (and 'hearth host --help').
  4. Run it for real, behind Caddy and systemd: docs/operations.md."""


async def _up(bind: str, port: int, data: Path) -> None:
    from host.node import run_node
    from relay.server import build_server
    from relay.settings import RelaySettings

    stop = asyncio.Event()
    stop_on_signals(stop)
    server = build_server(RelaySettings(host=bind, port=port), handle_signals=False)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            await serving
            raise click.ClickException(f"the relay could not start on {bind}:{port}")
        await asyncio.sleep(0.02)
    node = asyncio.create_task(run_node(data, f"ws://127.0.0.1:{port}", stop=stop))
    await asyncio.wait({node, serving}, return_when=asyncio.FIRST_COMPLETED)
    # The host leaves first (its clients learn it is offline), then the relay drains.
    stop.set()
    await node
    server.should_exit = True
    await serving


@main.command()
@relay_options
@print_config_option
@click.pass_context
def relay(ctx: click.Context, /, print_config: bool, **options: Any) -> None:
    """Run the stateless relay.

    On SIGTERM or SIGINT it stops accepting, closes every connection with 1001
    (going away) after flushing what was queued for it, and exits within
    --shutdown-grace plus --close-timeout seconds.
    """
    from relay.options import settings_from_options
    from relay.server import serve

    try:
        settings = settings_from_options(options)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if print_config:
        click.echo("\n".join(effective(ctx)))
        return
    try:
        run_async(serve(settings))
    except ValueError as exc:  # e.g. an unsupported --bus URL, found when the app is built
        raise click.UsageError(str(exc)) from None


def _register() -> None:
    from hearth.cli_host import host

    main.add_command(host)
    config_option(main)(main)


_register()
