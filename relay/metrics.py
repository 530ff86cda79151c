"""Prometheus metrics of one relay (own registry, so several relays can share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class RelayMetrics:
    """Label values come from fixed vocabularies only (kinds, frame tags, error codes)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge(
            "hearth_relay_connections", "Open WebSocket connections.", ["kind"], registry=r
        )
        self.frames_in = Counter(
            "hearth_relay_frames_in", "Frames received, by frame type ('invalid' if undecodable).",
            ["kind", "type"], registry=r,
        )
        self.frames_out = Counter(
            "hearth_relay_frames_out", "Frames queued for sending, by frame type.",
            ["kind", "type"], registry=r,
        )
        self.refusals = Counter(
            "hearth_relay_refusals", "Frames refused with an error frame, by code.",
            ["kind", "code"], registry=r,
        )
        self.closes = Counter(
            "hearth_relay_closes", "Connections the relay closed, by close code.",
            ["kind", "code"], registry=r,
        )
        self.slow_consumers = Counter(
            "hearth_relay_slow_consumer_closes", "Connections closed because their send queue "
            "overflowed.", ["kind"], registry=r,
        )
        self.queue_drops = Counter(
            "hearth_relay_queue_drops", "Frames dropped because their connection was closing.",
            ["kind"], registry=r,
        )
        self.fanout_seconds = Histogram(
            "hearth_relay_fanout_seconds", "Time to queue one event for every local subscriber.",
            registry=r,
            buckets=(1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5),
        )
        self.hosts_online = Gauge(
            "hearth_relay_hosts_online", "Hosts authenticated on this relay.", registry=r
        )
        self.token_verifications = Counter(
            "hearth_relay_token_verifications", "Capability tokens verified cryptographically "
            "(cache misses).", registry=r,
        )
        self.subscriptions = Gauge(
            "hearth_relay_subscriptions", "Topics with at least one local subscriber.",
            registry=r,
        )

        self.accepting = Gauge(
            "hearth_relay_accepting", "1 while the relay accepts connections; 0 while it "
            "starts or drains for shutdown.", registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
