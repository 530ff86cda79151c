"""Relay fan-out, latency under load and the relay profile: one Rig, three targets.

Fan-out: for 10, 100 and 1,000 subscribers of one channel, closed-loop bursts
(WINDOW publishes in flight) through (a) the real host and relay, (b) the relay alone
(a stand-in host replaying signed events) and (c) the bare app, alternating
REPEATS times; the best run of each counts. Latency under load: open-loop runs at
25/50/90 % of the best end-to-end publish rate at LATENCY_SUBSCRIBERS subscribers,
through the host and relay and through the bare app at the same rate, then once more
through the host and relay with the real sender-key crypto (benchmarks.crypto_latency).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import crypto_latency
from benchmarks.profile import Hotspot, hotspots, start_recording
from benchmarks.results import Row
from benchmarks.rig import VIAS, Rig, Run

__all__ = ["FanoutResults", "Rig", "measure"]

SUBSCRIBER_STEPS = (10, 100, 1000)
LATENCY_SUBSCRIBERS = 100
LOAD_FRACTIONS = (0.25, 0.50, 0.90)
WINDOW = 32
BURST_S = 2.0
PACED_S = 3.0
REPEATS = 2
MAX_MESSAGES = 200_000
PROFILE_S = 4.0


@dataclass
class FanoutResults:
    rows: list[Row] = field(default_factory=list)
    runs: dict[tuple[str, int], Run] = field(default_factory=dict)
    latency: dict[tuple[str, float], Run] = field(default_factory=dict)
    crypto_rows: list[Row] = field(default_factory=list)
    profile_samples: float = 0.0
    """Seconds of on-CPU samples."""
    profile: list[Hotspot] = field(default_factory=list)
    profile_run: Run | None = None
    profile_file: Path | None = None


def _burst(rig: Rig, via: str) -> Run:
    rig.run("burst", via=via, count=50, window=WINDOW, max_s=0.3)  # warm-up
    return rig.run("burst", via=via, count=MAX_MESSAGES, window=WINDOW, max_s=BURST_S)


def _saturated(run: Run, via: str) -> str:
    """Which side ran out of CPU: the busiest process group (1.0 = one full core)."""
    server = VIAS[via]
    parts = {server: run.busy[server], "generators": run.busy["generators"]}
    if via == "host":
        parts["host"] = run.busy["host"]
    side, busy = max(parts.items(), key=lambda kv: kv[1])
    shown = ", ".join(f"{k} {v:.0%}" for k, v in parts.items())
    verdict = side if busy >= 0.85 else "none (latency-bound)"
    return f"CPU {shown}; saturated: {verdict}"


def measure(rig: Rig, out: Path) -> FanoutResults:
    res = FanoutResults()
    for target in SUBSCRIBER_STEPS:
        rig.add_subscribers(target - rig.subscribers)
        for _ in range(REPEATS):
            for via in ("bare", "direct", "host"):
                run = _burst(rig, via)
                old = res.runs.get((via, target))
                if old is None or run.deliveries_per_s > old.deliveries_per_s:
                    res.runs[(via, target)] = run
        if target == LATENCY_SUBSCRIBERS:
            _latency(rig, res)
        if target == SUBSCRIBER_STEPS[-1]:
            _profile(rig, res, out)
    _fanout_rows(res)
    res.rows += res.crypto_rows
    return res


def _fanout_rows(res: FanoutResults) -> None:
    for target in SUBSCRIBER_STEPS:
        bare = res.runs[("bare", target)]
        for via, label in (("direct", "relay alone"), ("host", "host + relay")):
            run = res.runs[(via, target)]
            p50, p99 = run.latency_ms(50, 99)
            b50, b99 = bare.latency_ms(50, 99)
            res.rows.append(Row(
                "Relay fan-out", f"{target} subscribers, {label}", run.deliveries_per_s,
                bare.deliveries_per_s, "deliveries/s", "bare app",
                target=">= 0.8 of bare" if via == "direct" else "",
                note=(f"p50/p99 {p50:.1f}/{p99:.1f} ms (bare {b50:.1f}/{b99:.1f}); "
                      f"{run.published_per_s:,.0f} msg/s; {_saturated(run, via)}; "
                      f"bare: {_saturated(bare, 'bare')}"
                      + (f"; {run.lost} lost, {run.closed} closed" if run.lost or run.closed
                         else "")),
                extra={"p50": p50, "p99": p99, "bare_p50": b50, "bare_p99": b99},
            ))


def _latency(rig: Rig, res: FanoutResults) -> None:
    top = res.runs[("host", LATENCY_SUBSCRIBERS)].published_per_s
    # Warm-up: the first paced run after the bursts met one-off stalls (cold caches,
    # garbage from the bursts) that later runs at any rate did not; none is measured.
    for via in ("host", "bare"):
        rig.run("paced", via=via, rate=top * LOAD_FRACTIONS[0], count=int(top * 0.25), max_s=1.0)
    for fraction in LOAD_FRACTIONS:
        rate = max(1.0, top * fraction)
        for via in ("host", "bare"):
            res.latency[(via, fraction)] = rig.run(
                "paced", via=via, rate=rate, count=int(rate * PACED_S) + 1, max_s=PACED_S)
        crypto = rig.run("paced", via="host", rate=rate, count=int(rate * PACED_S) + 1,
                         max_s=PACED_S, decrypting=crypto_latency.DECRYPTING)
        res.latency[("crypto", fraction)] = crypto
        run, bare = res.latency[("host", fraction)], res.latency[("bare", fraction)]
        res.crypto_rows += crypto_latency.rows(fraction, rate, crypto, run, bare)
        points = (50, 99, 99.9)
        mine, base = run.latency_ms(*points), bare.latency_ms(*points)
        for q, value, floor in zip(points, mine, base, strict=True):
            res.rows.append(Row(
                "Latency under load",
                f"p{q:g} at {fraction:.0%} of max ({rate:,.0f} msg/s, "
                f"{LATENCY_SUBSCRIBERS} subscribers)",
                value, floor, "ms", "bare app, same rate", better="lower",
                target="< 20 ms" if (q, fraction) == (99, 0.50) else "",
                note=(f"{run.deliveries:,} deliveries" + (" OVERLOADED" if run.overloaded else "")
                      + (f", {run.lost} lost" if run.lost else "")),
            ))


def _profile(rig: Rig, res: FanoutResults, out: Path) -> None:
    """py-spy on the relay during one more relay-alone burst at the largest fan-out."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / "relay-fanout.speedscope.json"
    spy = start_recording(rig.servers["relay"].pid, target, PROFILE_S + 1)
    run = rig.run("burst", via="direct", count=MAX_MESSAGES, window=WINDOW, max_s=PROFILE_S)
    _, err = spy.communicate(timeout=60)
    if spy.returncode != 0 or not target.exists():
        raise RuntimeError(f"py-spy failed ({spy.returncode}): {err.decode(errors='replace')}")
    res.profile_samples, res.profile = hotspots(target)
    res.profile_run = run
    res.profile_file = target
