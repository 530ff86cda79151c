"""The relay's operator-facing options: one per RelaySettings field worth exposing.

Invariant: every entry names an existing RelaySettings field and takes its default
from ``RelaySettings()``, so ``hearth relay --help`` always shows the real defaults;
``settings_from_options`` is the only way the CLI builds a RelaySettings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

import click

from hearth.config import setting
from relay.settings import RelaySettings, with_rates

F = TypeVar("F", bound=Callable[..., Any])

SECTION = "relay"


@dataclass(frozen=True, slots=True)
class RelayOption:
    flag: str
    field: str
    type: click.ParamType[Any, Any]
    help: str
    negatable: bool = False

    @property
    def name(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


_SECONDS = click.FloatRange(min=0.01)
_OPTIONAL_SECONDS = click.FloatRange(min=0)

OPTIONS: tuple[RelayOption, ...] = (
    RelayOption("--bind", "host", click.STRING,
                "Address to listen on. Keep loopback and put Caddy in front for anything "
                "public."),
    RelayOption("--port", "port", click.IntRange(0, 65535), "HTTP/WebSocket port."),
    RelayOption("--proxy-headers", "proxy_headers", click.BOOL,
                "Take the client address from X-Forwarded-For (and the scheme from "
                "X-Forwarded-Proto) when the peer is in --forwarded-allow-ips. Turn on "
                "behind Caddy, so logs and per-address limits see real client IPs.",
                negatable=True),
    RelayOption("--forwarded-allow-ips", "forwarded_allow_ips", click.STRING,
                "Comma-separated proxy addresses whose X-Forwarded-* headers are trusted."),
    RelayOption("--bus", "bus_url", click.STRING,
                "Share routing with every relay on this Redis (redis://HOST:PORT[/DB]); "
                "unset, this relay is alone (in-process bus)."),
    RelayOption("--web-dir", "web_dir", click.Path(path_type=Path, file_okay=False),
                "Static files of the web client (default: the repository's web/)."),
    RelayOption("--access-log", "access_log", click.BOOL,
                "Log every HTTP request (uvicorn's access log).", negatable=True),
    RelayOption("--auth-timeout", "auth_timeout", _SECONDS,
                "Seconds a new connection has to authenticate (then close 4002)."),
    RelayOption("--idle-timeout", "idle_timeout", _SECONDS,
                "Seconds without any frame before a connection is closed (4003)."),
    RelayOption("--ws-ping-interval", "ws_ping_interval", _OPTIONAL_SECONDS,
                "Seconds between protocol-level WebSocket pings (0: none)."),
    RelayOption("--ws-ping-timeout", "ws_ping_timeout", _OPTIONAL_SECONDS,
                "Seconds to wait for a pong before dropping the peer (0: forever)."),
    RelayOption("--close-timeout", "close_timeout", _SECONDS,
                "Seconds a close handshake may wait behind a peer that does not read."),
    RelayOption("--shutdown-grace", "shutdown_grace", _SECONDS,
                "On SIGTERM, seconds connections get to receive their 1001 close before "
                "the process exits anyway."),
    RelayOption("--sweep-interval", "sweep_interval", _SECONDS,
                "Seconds between sweeps for auth/idle timeouts and expired subscriptions."),
    RelayOption("--max-client-frame", "max_client_frame", click.IntRange(min=1024),
                "Largest frame a client may send, in bytes (refused with too_large)."),
    RelayOption("--max-host-frame", "max_host_frame", click.IntRange(min=1024),
                "Largest frame on any connection, in bytes (bigger closes it with 1009)."),
    RelayOption("--max-subscriptions", "max_subscriptions", click.IntRange(min=1),
                "Channel subscriptions per client connection."),
    RelayOption("--max-watched-hosts", "max_watched_hosts", click.IntRange(min=1),
                "Hosts per client connection that get host_status notices."),
    RelayOption("--token-cache-size", "token_cache_size", click.IntRange(min=1),
                "Verified capability tokens remembered (each is verified once)."),
    RelayOption("--send-buffer", "send_buffer", click.IntRange(min=4096),
                "Kernel send buffer per connection in bytes (default: Linux autotuning). "
                "Smaller makes a stalled reader reach its send queue limit sooner."),
    RelayOption("--client-queue", "client_queue_frames", click.IntRange(min=8),
                "Frames a client connection may have waiting to be sent before it is "
                "closed as a slow consumer (4008)."),
    RelayOption("--client-queue-bytes", "client_queue_chars", click.IntRange(min=65536),
                "Bytes a client connection may have waiting to be sent (then 4008)."),
    RelayOption("--host-queue", "host_queue_frames", click.IntRange(min=8),
                "Frames a host connection may have waiting to be sent (then 4008)."),
    RelayOption("--host-queue-bytes", "host_queue_chars", click.IntRange(min=65536),
                "Bytes a host connection may have waiting to be sent (then 4008)."),
)

_FIELDS = {f.name for f in fields(RelaySettings)}
assert all(o.field in _FIELDS for o in OPTIONS), "an option names no RelaySettings field"


def relay_options(command: F) -> F:
    """Decorate ``command`` with every relay option (plus ``--rate``), defaults from
    RelaySettings()."""
    command = setting(
        SECTION, "--rate", multiple=True, metavar="NAME=RATE[/BURST]",
        help="Override a rate limit (frames per second, burst defaults to twice the rate): "
             "a client frame type ('hello', 'req', 'sub', 'unsub', 'ping'), "
             "'host.<type>', 'account' (all connections of one account), 'host_id' or "
             "'flood' (refused frames before closing 4029). Repeatable.",
    )(command)
    defaults = RelaySettings()
    for option in reversed(OPTIONS):
        default = getattr(defaults, option.field)
        if option.field.startswith("ws_ping") and default is None:
            default = 0.0
        command = setting(
            SECTION, option.flag, negatable=option.negatable, type=option.type,
            default=default, show_default=default is not None, help=option.help,
            is_flag=option.negatable or None,
        )(command)
    return command


def settings_from_options(values: Mapping[str, Any]) -> RelaySettings:
    """RelaySettings from the parsed options (by option name); ValueError naming the
    bad value."""
    changes: dict[str, Any] = {}
    for option in OPTIONS:
        value = values.get(option.name)
        if option.field.startswith("ws_ping") and value == 0:
            changes[option.field] = None  # 0 means off, which RelaySettings spells None
        elif value is not None:
            changes[option.field] = value
    settings = replace(RelaySettings(), **changes)
    return with_rates(settings, list(values.get("rate") or ()))
