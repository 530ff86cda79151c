"""A system under load: the server processes plus the generator processes around them.

The real relay and host (``hearth relay``, ``hearth host run``) and the bare app
(benchmarks.bare_app) run side by side, driven by the same generators: one publisher
process and SUBSCRIBER_PROCESSES subscriber processes, so both targets are measured
by identical code, alternately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from benchlib.proc_stat import CpuWindow
from benchlib.procs import BareApp, Host, Process, Relay, start_bare_app, start_host, start_relay

from benchmarks.stats import merge, percentiles_ms
from benchmarks.worker import Worker

SUBSCRIBER_PROCESSES = 2
LOAD_RATES = (
    "--rate", "req=100000/100000", "--rate", "account=100000/100000",
    "--rate", "host.pub=100000/100000", "--rate", "host.resp_to=100000/100000",
    "--rate", "host_id=200000/200000", "--rate", "host.ping=100000/100000",
)
"""Relay rate limits raised for the load generator: one publisher device sends far more
than the per-connection and per-account defaults (20 req/s, 50 frames/s), and the host
publishes far more than its defaults allow."""
HOST_PACE = (
    "--relay-rate", "pub=100000/100000", "--relay-rate", "resp_to=100000/100000",
    "--relay-rate", "host_id=200000/200000",
)
"""The same raised host limits, told to the host so that it paces itself to them."""
JOIN_WAIT_S = 120.0
RUN_WAIT_S = 60.0


@dataclass
class Run:
    """One publishing run and what the subscribers saw."""

    subscribers: int
    published: int
    acked: int
    errors: int
    deliveries: int
    seconds: float
    busy: dict[str, float]
    closed: int
    samples: np.ndarray = field(repr=False)
    sent: np.ndarray = field(repr=False)
    """The send stamp of each sample: samples with one stamp belong to one message."""
    overloaded: bool = False
    decrypting: int = 0
    """Subscribers that verified and decrypted (0: opaque envelopes, every one stamped)."""
    failures: int = 0
    """Events a decrypting subscriber could not verify or decrypt."""

    @property
    def deliveries_per_s(self) -> float:
        return self.deliveries / self.seconds if self.seconds > 0 else 0.0

    @property
    def published_per_s(self) -> float:
        return self.acked / self.seconds if self.seconds > 0 else 0.0

    def latency_ms(self, *qs: float) -> list[float]:
        return percentiles_ms(self.samples, qs)

    def last_per_message_ms(self, *qs: float) -> list[float]:
        """Percentiles of each message's latency to the last subscriber that recorded it."""
        if self.samples.size == 0:
            return percentiles_ms(self.samples, qs)
        _, which = np.unique(self.sent, return_inverse=True)
        last = np.zeros(int(which.max()) + 1, dtype=np.int64)
        np.maximum.at(last, which, self.samples)
        return percentiles_ms(last, qs)

    @property
    def lost(self) -> int:
        return self.acked * self.subscribers - self.deliveries


VIAS = {"host": "relay", "direct": "relay", "bare": "bare"}
"""Each way of publishing (benchmarks.publisher) and the server process it loads."""


class Rig:
    """The real relay and host and the bare app, side by side, with one set of generators:
    every subscriber process holds the same number of Hearth and bare subscribers, so runs
    against each target can alternate (and so share whatever the machine is doing)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.publisher = Worker("publisher")
        self.groups = [Worker("subscribers") for _ in range(SUBSCRIBER_PROCESSES)]
        self.subscribers = 0
        self.servers: dict[str, Process] = {}
        self.relay: Relay = start_relay(tmp, *LOAD_RATES)
        self.servers["relay"] = self.relay.process
        self.host: Host = start_host(tmp, self.relay, *HOST_PACE)
        self.servers["host"] = self.host.process
        self.bare: BareApp = start_bare_app(tmp)
        self.servers["bare"] = self.bare.process
        made = self.publisher.call("setup_hearth", JOIN_WAIT_S, relay_url=self.relay.ws_url,
                                   host_id=self.host.host_id, claim=self.host.owner_claim())
        self.space, self.chan, self.secret = made["space"], made["chan"], made["secret"]
        self.direct_seed = self.publisher.call("setup_direct", JOIN_WAIT_S,
                                               relay_url=self.relay.ws_url)
        self.publisher.call("setup_bare", JOIN_WAIT_S, url=self.bare.ws_url)

    def _shares(self, count: int) -> list[int]:
        n = len(self.groups)
        return [count // n + (1 if i < count % n else 0) for i in range(n)]

    def add_subscribers(self, count: int) -> None:
        """``count`` more subscribers of each target, spread over the subscriber processes."""
        for group, share in zip(self.groups, self._shares(count), strict=True):
            group.send("join_bare", url=self.bare.ws_url, count=share)
        for group in self.groups:
            group.result(JOIN_WAIT_S)
        for group, share in zip(self.groups, self._shares(count), strict=True):
            group.send("join_hearth", relay_url=self.relay.ws_url, host_id=self.host.host_id,
                       space=self.space, chan=self.chan, secret=self.secret,
                       direct_seed=self.direct_seed, count=share)
        for group in self.groups:
            group.result(JOIN_WAIT_S)
        self.subscribers += count

    def cpu_window(self) -> CpuWindow:
        pids = {name: [p.pid] for name, p in self.servers.items()}
        pids["generators"] = [w.pid for w in (self.publisher, *self.groups)]
        return CpuWindow(pids)

    def run(self, method: str, *, decrypting: int = 0, **kwargs: Any) -> Run:
        """Arm the subscribers, run ``publisher.<method>(**kwargs)``, collect deliveries.

        ``decrypting`` > 0: the publisher seals with a fresh real sender session whose key
        goes to that many Hearth subscribers (spread over the processes) before the run;
        they decrypt every event, the others only count them."""
        key = self.publisher.call("sender_key", 10, on=True) if decrypting else ""
        for group, share in zip(self.groups, self._shares(decrypting), strict=True):
            group.call("arm", 10, sender_key=key, decrypting=share)
        window = self.cpu_window()
        window.start()
        pub = self.publisher.call(method, RUN_WAIT_S, **kwargs)
        if decrypting:
            self.publisher.call("sender_key", 10, on=False)
        for group, mine in zip(self.groups, self._shares(self.subscribers), strict=True):
            group.send("collect", expected=pub["acked"] * mine, wait_s=15.0)
        seen = [group.result(RUN_WAIT_S) for group in self.groups]
        busy = window.stop()
        last = max([s["last_ns"] for s in seen] + [pub["last_ns"]])
        deliveries = sum(s["count"] for s in seen)
        end = last if deliveries else pub["last_ns"]
        return Run(
            subscribers=self.subscribers, published=pub["sent"], acked=pub["acked"],
            errors=pub["errors"], deliveries=deliveries,
            seconds=(end - pub["first_ns"]) / 1e9, busy=busy,
            closed=sum(s["closed"] for s in seen),
            samples=merge(s["samples"] for s in seen), sent=merge(s["sent"] for s in seen),
            overloaded=bool(pub.get("overloaded", False)), decrypting=decrypting,
            failures=sum(s["failures"] for s in seen),
        )

    def close(self) -> None:
        for worker in (self.publisher, *self.groups):
            worker.close()
        for process in self.servers.values():
            process.stop()
