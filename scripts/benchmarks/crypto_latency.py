"""Rows of latency under load with the real sender-key crypto (runs made by fanout).

At each load point the publisher seals every message with a real sender session
(benchmarks.sender_key) and DECRYPTING of the subscribers, spread over the generator
processes, verify and decrypt every event; a sample is used because decrypting in all
of them (~140 µs of Python per event) would need more than the machine's cores. Each
row is a percentile over every decrypt (publish to that recipient's decrypt done);
baseline: the bare app at the same rate, as for the opaque latency rows.
"""

from __future__ import annotations

from benchmarks.results import Row
from benchmarks.rig import Run

SECTION = "Latency, real crypto"
DECRYPTING = 10
POINTS = (50.0, 99.0, 99.9)


def rows(fraction: float, rate: float, crypto: Run, opaque: Run, bare: Run) -> list[Row]:
    mine, base = crypto.latency_ms(*POINTS), bare.latency_ms(*POINTS)
    plain, last = opaque.latency_ms(*POINTS), crypto.last_per_message_ms(*POINTS)
    busy = crypto.busy
    cpu = (f"CPU generators {busy['generators']:.0%}, relay {busy['relay']:.0%}, "
           f"host {busy['host']:.0%}")
    out = []
    for q, value, floor, opaque_ms, last_ms in zip(POINTS, mine, base, plain, last,
                                                   strict=True):
        out.append(Row(
            SECTION,
            f"p{q:g} at {fraction:.0%} of max ({rate:,.0f} msg/s, {crypto.subscribers} "
            f"subscribers, {crypto.decrypting} decrypting)",
            value, floor, "ms", "bare app, same rate", better="lower",
            target="< 20 ms" if (q, fraction) == (99.0, 0.50) else "",
            note=(f"opaque envelopes, same rate: {opaque_ms:.1f} ms; last of the "
                  f"{crypto.decrypting} per message: {last_ms:.1f} ms; "
                  f"{crypto.samples.size:,} decrypts, {crypto.deliveries:,} deliveries; {cpu}"
                  + (" OVERLOADED" if crypto.overloaded else "")
                  + (f"; {crypto.failures} failed to decrypt" if crypto.failures else "")
                  + (f"; {crypto.lost} lost" if crypto.lost else "")),
        ))
    return out
