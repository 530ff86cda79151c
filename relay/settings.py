"""Every tunable of the relay, in one frozen dataclass with safe defaults."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from hearth.frames import CLIENT_TAGS, HOST_TAGS
from hearth.limits import (
    HOST_FRAME_RATES,
    HOST_ID_RATE,
    MAX_CLIENT_FRAME,
    MAX_HOST_FRAME,
    MAX_SUBSCRIPTIONS,
)
from hearth.ratelimit import RateLimit, parse_rate

__all__ = ["RateLimit", "RelaySettings"]


def _client_rates() -> dict[str, RateLimit]:
    return {
        "hello": RateLimit(1, 3),
        "req": RateLimit(20, 60),
        "sub": RateLimit(10, 100),
        "unsub": RateLimit(10, 100),
        # Presence goes out on subscribe, every 30 s and on tab visibility changes, once
        # per followed space; typing at most every 3 s. The burst lets a client in 20
        # spaces announce itself at once; the rate refuses typing floods.
        "eph": RateLimit(2, 20),
        "ping": RateLimit(1, 5),
    }


def _host_rates() -> dict[str, RateLimit]:
    return dict(HOST_FRAME_RATES)


def default_web_dir() -> Path:
    """The repository's top-level ``web/`` directory (next to the ``relay`` package)."""
    return Path(__file__).resolve().parent.parent / "web"


@dataclass(frozen=True, slots=True)
class RelaySettings:
    """Configuration of one relay process. Times are seconds, sizes are characters of
    JSON text (equal to bytes for the ASCII frames Hearth sends)."""

    host: str = "127.0.0.1"
    """Bind address; loopback unless the operator opts in (a reverse proxy fronts it)."""
    port: int = 8470
    proxy_headers: bool = False
    """Trust X-Forwarded-For/Proto from ``forwarded_allow_ips`` (set when behind Caddy)."""
    forwarded_allow_ips: str = "127.0.0.1,::1"
    web_dir: Path | None = None
    """Static files of the web client; None means the repository's ``web/``."""
    access_log: bool = False
    bus_url: str | None = None
    """None: this relay is alone (in-process bus); ``redis://…``: shared with every relay
    on that Redis (relay.bus.bus_from_url)."""

    auth_timeout: float = 10.0
    """A connection must authenticate within this long after connecting."""
    idle_timeout: float = 120.0
    """A connection that sends no frame for this long is closed (clients ping every 30 s)."""
    ws_ping_interval: float | None = 20.0
    """Protocol-level WebSocket pings sent by uvicorn (catches dead TCP peers)."""
    ws_ping_timeout: float | None = 20.0
    close_timeout: float = 5.0
    """How long a close frame may wait behind a peer that does not read."""
    shutdown_grace: float = 5.0
    """On shutdown, how long connections get to receive their GOING_AWAY close."""
    sweep_interval: float = 1.0
    """Period of the sweep that ends expired subscriptions and idle connections."""

    max_client_frame: int = MAX_CLIENT_FRAME
    max_host_frame: int = MAX_HOST_FRAME
    """Also uvicorn's ws_max_size: a larger frame on either endpoint closes it with 1009."""
    max_subscriptions: int = MAX_SUBSCRIPTIONS
    max_watched_hosts: int = 64
    """Hosts per connection that get ``host_status`` notices (those it sent requests to)."""
    token_cache_size: int = 100_000

    send_buffer: int | None = None
    """Kernel send buffer (SO_SNDBUF, bytes) of every accepted connection; None keeps
    Linux's autotuning (up to ~4 MiB each). Smaller buffers make a stalled reader hit
    its send queue, and so be closed as a slow consumer, sooner."""
    client_queue_frames: int = 1024
    client_queue_chars: int = 8 * 1024 * 1024
    host_queue_frames: int = 8192
    host_queue_chars: int = 64 * 1024 * 1024

    client_rates: dict[str, RateLimit] = field(default_factory=_client_rates)
    """Per connection, per inbound frame type."""
    host_rates: dict[str, RateLimit] = field(default_factory=_host_rates)
    account_rate: RateLimit = RateLimit(50, 200)
    """All frames of all connections of one account, together."""
    host_id_rate: RateLimit = HOST_ID_RATE
    """All frames of all connections of one host id, together."""
    flood: RateLimit = RateLimit(2, 30)
    """Refused frames a connection may send; beyond it, it is closed FLOODING."""

    def __post_init__(self) -> None:
        for name, rates, tags in (
            ("client_rates", self.client_rates, CLIENT_TAGS),
            ("host_rates", self.host_rates, HOST_TAGS),
        ):
            missing = sorted(tags - rates.keys())
            if missing:
                raise ValueError(f"{name} has no rate limit for frame types {missing}")
        if self.max_client_frame > self.max_host_frame:
            raise ValueError(
                f"max_client_frame {self.max_client_frame} exceeds max_host_frame "
                f"{self.max_host_frame} (the transport-level cap)"
            )

    @property
    def static_dir(self) -> Path:
        return self.web_dir if self.web_dir is not None else default_web_dir()


def with_rates(settings: RelaySettings, specs: list[str]) -> RelaySettings:
    """Override rate limits by name: a client frame type (``req``), ``host.<type>``,
    ``account``, ``host_id`` or ``flood``."""
    client, host = dict(settings.client_rates), dict(settings.host_rates)
    singles: dict[str, RateLimit] = {}
    for spec in specs:
        name, limit = parse_rate(spec)
        if name in client:
            client[name] = limit
        elif name.startswith("host.") and name[5:] in host:
            host[name[5:]] = limit
        elif name in ("account", "host_id", "flood"):
            singles[name if name == "flood" else f"{name}_rate"] = limit
        else:
            known = sorted([*client, *(f"host.{t}" for t in host), "account", "host_id", "flood"])
            raise ValueError(f"unknown rate limit {name!r}; known: {', '.join(known)}")
    return replace(
        settings, client_rates=client, host_rates=host,
        account_rate=singles.get("account_rate", settings.account_rate),
        host_id_rate=singles.get("host_id_rate", settings.host_id_rate),
        flood=singles.get("flood", settings.flood),
    )
