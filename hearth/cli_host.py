"""``hearth host …``: create, run and administer a host from its own machine.

Every subcommand takes ``--data`` (``HEARTH_HOST_DATA``, ``[host] data``). Admin
commands work whether or not the node runs: reads never change the database, and
changes reach a running node through the database (see host.admin).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from hearth.cli import DEFAULT_DATA, print_config_option, run_async, stop_on_signals
from hearth.config import effective, setting

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

data_option = setting("host", "--data", default=DEFAULT_DATA, show_default=True,
                      type=click.Path(path_type=Path, file_okay=False),
                      help="Host data directory (host.key, hearth.sqlite3, node.json).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def _admin(call: Callable[[], T]) -> T:
    """Run an admin function, turning its HostConfigError into a clean exit 1."""
    from host.errors import HostConfigError

    try:
        return call()
    except HostConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _admin_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return _admin(lambda: asyncio.run(make()))


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ms / 1000))


def _table(rows: Iterable[Iterable[object]], header: Iterable[str]) -> None:
    cells = [list(header), *([str(c) for c in row] for row in rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _echo_json(value: object) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


@click.group()
def host() -> None:
    """Create, run and administer a host (the community's own node)."""


@host.command("init")
@data_option
@click.option("--exist-ok", is_flag=True,
              help="An already initialised directory is fine (its host id is printed); "
                   "for service managers that run init before every start.")
def host_init(data: Path, exist_ok: bool) -> None:
    """Create the host key and database; prints the host id."""
    from host.config import host_id_of, init_host, is_initialised

    if exist_ok and is_initialised(data):
        click.echo(_admin(lambda: host_id_of(data)))
        return
    host_id = _admin(lambda: init_host(data))
    click.echo(f"initialised {data}; host id:", err=True)
    click.echo(host_id)


@host.command("id")
@data_option
def host_id_cmd(data: Path) -> None:
    """Print the host id of an initialised data directory."""
    from host.config import host_id_of

    click.echo(_admin(lambda: host_id_of(data)))


@host.command("owner-invite")
@data_option
@setting("host", "--public-url", metavar="URL",
         help="The relay's public address (https://chat.example.org). Given, the full "
              "owner link is printed; otherwise only its secret.")
def host_owner_invite(data: Path, public_url: str | None) -> None:
    """Make a single-use owner link (7 days): whoever redeems it becomes a host owner.

    This is how the owner gets in the first time. Only the link's public half is
    stored; the secret is printed once, here. 'hearth host invites' lists open
    links and 'hearth host revoke-invite' ends one.
    """
    from hearth.invite_link import InviteLink
    from host.config import create_owner_claim, host_id_of

    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{public_url!r} must start with https:// (or http://)",
                                 param_hint="--public-url")
    secret = _admin(lambda: create_owner_claim(data))
    if public_url is None:
        click.echo(secret)
    else:
        click.echo(InviteLink(public_url.rstrip("/"), host_id_of(data), secret, "claim"))


@host.command("run")
@data_option
@setting("host", "--relay", required=True, metavar="URL",
         help="Relay WebSocket base URL, e.g. wss://chat.example.org (or ws://127.0.0.1:8470); "
              "several comma-separated relays of one deployment are tried in turn.")
@setting("host", "--shutdown-grace", type=click.FloatRange(min=0.1), default=10.0,
         show_default=True,
         help="On SIGTERM, seconds the request in hand gets to finish before the node "
              "closes its relay connection (1001) and exits.")
@setting("host", "--admin-poll", type=click.FloatRange(min=0.05), default=1.0,
         show_default=True,
         help="Seconds between the node's looks for changes made by admin commands "
              "(e.g. a removed member's revocation, sent on to the relay).")
@setting("host", "--relay-rate", multiple=True, metavar="NAME=RATE[/BURST]",
         help="The relay's limit on a host frame type (resp_to, pub, revoke, ...) or on all "
              "of them together (host_id), where the relay was started with other than its "
              "defaults; the node paces itself below it. Repeatable.")
@print_config_option
@click.pass_context
def host_run(ctx: click.Context, /, data: Path, relay: str, shutdown_grace: float,
             admin_poll: float, relay_rate: tuple[str, ...], print_config: bool) -> None:
    """Connect to the relay and serve the community until stopped.

    Migrates an older database first (keeping a copy, as 'hearth host upgrade' does).
    Refuses to start while another node serves the same data directory.
    """
    if print_config:
        click.echo("\n".join(effective(ctx)))
        return
    import logging

    from host.backup import upgrade
    from host.node import relay_endpoints, relay_limits, run_node

    _admin(lambda: relay_endpoints(relay))
    _admin(lambda: relay_limits(relay_rate))
    before, after, kept = _admin(lambda: upgrade(data))
    if kept is not None:
        logging.getLogger("hearth.host").info(
            "event=schema_upgraded from=%d to=%d copy=%s", before, after, kept)

    async def serve() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        await run_node(data, relay, stop=stop, shutdown_grace=shutdown_grace,
                       admin_poll=admin_poll, relay_rates=relay_rate)

    _admin(lambda: run_async(serve()))


@host.command("status")
@data_option
@json_option
def host_status_cmd(data: Path, as_json: bool) -> None:
    """Is the node running, which relay is it connected to, and what does it hold."""
    from host.admin import host_status

    status = _admin(lambda: host_status(data))
    if as_json:
        _echo_json(status.as_json())
        return
    node = status.node
    if node is None:
        state = "never run"
    elif node.running:
        state = f"{node.state} to {node.relay} since {_when(node.since)} (pid {node.pid})"
        if node.detail:
            state += f"; last disconnect: {node.detail}"
    else:
        state = f"not running (last: {node.state} at {_when(node.since)})"
    c = status.counts
    click.echo(f"host id:   {status.host_id}")
    click.echo(f"data:      {status.data_dir}")
    click.echo(f"node:      {state}")
    schema = f"{status.schema}" + ("" if status.schema_current else
                                   " (older: run 'hearth host upgrade')")
    click.echo(f"schema:    {schema}")
    click.echo(f"storage:   {status.storage_bytes} bytes")
    click.echo(f"spaces:    {c['spaces']} ({c['channels']} channels, {c['messages']} messages)")
    click.echo(f"members:   {c['members']} accounts in {c['memberships']} memberships; "
               f"{c['devices']} active devices")
    click.echo(f"owners:    {c['owners']}; open owner links: {c['open_owner_links']}; "
               f"open invites: {c['open_invites']}")
    if status.retired_host_ids:
        click.echo(f"former ids: {', '.join(status.retired_host_ids)}")


@host.command("members")
@data_option
@click.option("--space", help="Only this space (its id).")
@json_option
def host_members(data: Path, space: str | None, as_json: bool) -> None:
    """List the members of every space (or one)."""
    from host.admin import list_members

    members = _admin(lambda: list_members(data, space))
    if as_json:
        _echo_json(members)
        return
    _table(([m["space"], m["space_name"], m["acct"], m["name"] or "-", m["role"],
             _when(m["joined_at"])] for m in members),
           ["SPACE", "NAME", "ACCOUNT", "USER", "ROLE", "JOINED"])


class KeyArguments(click.Command):
    """A command whose arguments are base64url keys or ids, which may start with '-':
    one mistaken for an option is refused with how to pass it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given_args = list(args)  # the parser consumes its list
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            given = next((a for a in given_args if a.startswith(exc.option_name)),
                         exc.option_name)
            raise click.UsageError(
                f"{given!r} is not an option; if it is an account or id that starts with "
                f"'-', put '--' before the arguments: hearth host {self.name} --data DIR -- "
                + " ".join(p.human_readable_name for p in self.params
                           if isinstance(p, click.Argument)), ctx) from None


@host.command("remove-member", cls=KeyArguments)
@data_option
@click.argument("space")
@click.argument("account")
def host_remove_member(data: Path, space: str, account: str) -> None:
    """Remove ACCOUNT (base64url key, see 'members') from SPACE.

    Its subscriptions are revoked: a running node tells the relay within
    --admin-poll seconds; a stopped one does when it next connects.
    """
    from host.admin import remove_member

    role = _admin_async(lambda: remove_member(data, space, account))
    click.echo(f"removed {account} ({role}) from space {space}")


@host.command("invites")
@data_option
@click.option("--space", help="Only this space's invites (owner links have no space).")
@click.option("--all", "include_closed", is_flag=True,
              help="Include used, expired and revoked ones.")
@json_option
def host_invites(data: Path, space: str | None, include_closed: bool, as_json: bool) -> None:
    """List invite links, key invites and owner links (never their secrets)."""
    from host.admin import list_invites

    invites = _admin(lambda: list_invites(data, space, include_closed))
    if as_json:
        _echo_json(invites)
        return
    _table(([i["id"], i["kind"], i["space"] or "-", i["role"], f"{i['uses']}/{i['max_uses']}",
             _when(i["expires_at"]), "open" if i["open"] else "closed"] for i in invites),
           ["ID", "KIND", "SPACE", "ROLE", "USES", "EXPIRES", "STATE"])


@host.command("revoke-invite", cls=KeyArguments)
@data_option
@click.argument("invite_id", metavar="ID")
def host_revoke_invite(data: Path, invite_id: str) -> None:
    """Revoke an invite or owner link by its ID (see 'invites')."""
    from host.admin import revoke_invite

    what = _admin_async(lambda: revoke_invite(data, invite_id))
    click.echo(f"revoked {what} {invite_id}")


@host.command("rotate-key")
@data_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def host_rotate_key(data: Path, yes: bool) -> None:
    """Replace the host key, and with it the host id (the node must be stopped)."""
    from host.key_rotation import CONSEQUENCES, rotate_host_key

    click.echo(CONSEQUENCES)
    if not yes:
        click.confirm("Rotate the host key now?", abort=True)
    done = _admin(lambda: rotate_host_key(data))
    click.echo(f"old host id: {done.old_host_id}")
    click.echo(f"new host id: {done.new_host_id}")
    click.echo(f"old key kept at {done.retired_key}")


@host.command("backup")
@data_option
@click.argument("target", type=click.Path(path_type=Path, dir_okay=False))
def host_backup(data: Path, target: Path) -> None:
    """Write a consistent copy of the database to TARGET, even while the node runs.

    The host key is not in it: keep a copy of DATA/host.key somewhere safe too (it
    is the host's identity; whoever has it can act as this host).
    """
    from host.backup import backup

    copy = _admin(lambda: backup(data, target))
    click.echo(f"backed up schema {copy.schema}, {copy.size} bytes, to {copy.path}")
    click.echo("the host key is not in the backup: keep a copy of host.key as well", err=True)


@host.command("restore")
@data_option
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True,
              help="Replace an existing database (it is kept as "
                   "hearth.sqlite3.before-restore-<ms>).")
def host_restore(data: Path, source: Path, force: bool) -> None:
    """Make SOURCE (a backup) the host's database; the node must be stopped.

    DATA must already hold the host's key (copy host.key there first, mode 600).
    An older backup is migrated to the current schema.
    """
    from host.backup import restore

    copy, aside = _admin(lambda: restore(data, source, force=force))
    if aside is not None:
        click.echo(f"previous database kept at {aside}")
    click.echo(f"restored {source} into {copy.path} (schema {copy.schema})")


@host.command("upgrade")
@data_option
def host_upgrade(data: Path) -> None:
    """Migrate the database to this Hearth's schema in place, keeping a copy first.

    'hearth host run' does the same on start; the node must be stopped.
    """
    from host.backup import upgrade

    before, after, kept = _admin(lambda: upgrade(data))
    if kept is None:
        click.echo(f"schema {before} is current; nothing to do")
    else:
        click.echo(f"upgraded schema {before} -> {after}; the old database is kept at {kept}")
