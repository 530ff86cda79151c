"""Run every benchmark, print the table, write docs/benchmarks.md and docs/benchmarks.png.

Only the block between the GENERATED markers of docs/benchmarks.md is rewritten; the
prose around it (method, proposals) is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import (
    browser,
    connections,
    crypto_latency,
    envelopes,
    fanout,
    scaleout,
    store,
)
from benchmarks.connections import Curve
from benchmarks.envelopes import Point
from benchmarks.fanout import FanoutResults
from benchmarks.profile import by_package
from benchmarks.report import chart, markdown_table, text_table
from benchmarks.results import Row
from benchmarks.worker import raise_file_limit

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "benchmarks.md"
PNG = ROOT / "docs" / "benchmarks.png"
START = "<!-- GENERATED: scripts/bench rewrites everything down to the end marker -->"
END = "<!-- END GENERATED -->"
SECTIONS = ("store", "fanout", "scaleout", "connections", "envelopes", "browser")


def machine() -> list[str]:
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "hearth",
                            "relay", "host"], capture_output=True, text=True,
                           check=False).stdout.strip()
    import hearth

    with open("/proc/loadavg", encoding="ascii") as f:
        load = " ".join(f.read().split()[:3])
    return [
        f"- nproc: {os.cpu_count()}; CPU: {model}; load average at the end: {load} "
        "(anything above ~1 means other work shared the cores during the run)",
        f"- code under test: {Path(hearth.__file__).resolve().parents[1]}",
        f"- Python {platform.python_version()} on {platform.system()} {platform.release()}",
        f"- code: commit {commit or '?'}"
        + (" with uncommitted changes under hearth/, relay/, host/" if dirty else ""),
        f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
    ]


def profile_lines(res: FanoutResults) -> list[str]:
    run = res.profile_run
    if run is None or not res.profile:
        return []
    relay_cpu_s = run.busy["relay"] * run.seconds
    per_delivery_us = relay_cpu_s / max(1, run.deliveries) * 1e6
    lines = [
        f"py-spy ({res.profile_samples:.1f} s of on-CPU samples) on the relay during a "
        f"relay-alone burst to {run.subscribers} subscribers: "
        f"{run.deliveries_per_s:,.0f} deliveries/s, relay "
        f"CPU {run.busy['relay']:.0%}, so **{per_delivery_us:.1f} µs of relay CPU per "
        f"delivered event**. Self time by function (µs per delivered event = share x that):",
        "",
        "| function | where | self | incl. | self µs/delivery |",
        "|---|---|---|---|---|",
    ]
    for spot in sorted(res.profile, key=lambda s: -s.self_share)[:25]:
        lines.append(f"| `{spot.function}` | {spot.where} | {spot.self_share:.1%} | "
                     f"{spot.total_share:.1%} | {spot.self_share * per_delivery_us:.2f} |")
    packages = by_package(res.profile)
    lines += ["", "Self time by package: " + ", ".join(
        f"{name} {share:.0%} ({share * per_delivery_us:.1f} µs)"
        for name, share in packages.items() if share >= 0.005)]
    ours = [s for s in res.profile
            if s.where.startswith(("relay/", "hearth/")) and s.total_share >= 0.01]
    lines += ["", "Inclusive time of Hearth's own functions (relay/, hearth/):", "",
              "| function | where | incl. | incl. µs/delivery |", "|---|---|---|---|"]
    for spot in sorted(ours, key=lambda s: -s.total_share)[:20]:
        lines.append(f"| `{spot.function}` | {spot.where} | {spot.total_share:.1%} | "
                     f"{spot.total_share * per_delivery_us:.2f} |")
    return lines


def write_doc(rows: list[Row], res: FanoutResults | None, timings: dict[str, float],
              argv: list[str]) -> None:
    block = [
        START, "",
        f"Measured by `scripts/bench{' ' + ' '.join(argv) if argv else ''}` "
        f"in {sum(timings.values()):.0f} s "
        f"({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())}).", "",
        *machine(), "",
        markdown_table(rows), "",
        "![benchmarks](benchmarks.png)", "",
    ]
    if res is not None:
        block += ["### Relay profile (generated)", "", *profile_lines(res), ""]
    block.append(END)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    DOC.write_text(head + "\n".join(block) + tail, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--only", action="append", choices=SECTIONS,
                        help="run only this section (repeatable); the default is all")
    parser.add_argument("--no-write", action="store_true",
                        help="print the table but leave docs/ alone")
    args = parser.parse_args()
    only = args.only or list(SECTIONS)
    raise_file_limit()
    tmp = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    rows: list[Row] = []
    curves: dict[str, Curve] = {}
    res: FanoutResults | None = None
    timings: dict[str, float] = {}
    points: list[Point] = []
    try:
        if "store" in only:
            started = time.monotonic()
            rows += asyncio.run(store.publish_rows(tmp))
            rows += asyncio.run(store.batched_publish_rows(tmp))
            rows += asyncio.run(store.history_rows(tmp))
            timings["store"] = time.monotonic() - started
            print(f"store: {timings['store']:.0f} s", file=sys.stderr, flush=True)
        if "fanout" in only:
            started = time.monotonic()
            rig = fanout.Rig(tmp)
            try:
                res = fanout.measure(rig, tmp / "profile")
            finally:
                rig.close()
            rows += res.rows
            timings["fanout"] = time.monotonic() - started
            print(f"fanout: {timings['fanout']:.0f} s", file=sys.stderr, flush=True)
        if "scaleout" in only:
            started = time.monotonic()
            rows += scaleout.measure(tmp)
            timings["scaleout"] = time.monotonic() - started
            print(f"scaleout: {timings['scaleout']:.0f} s", file=sys.stderr, flush=True)
        if "connections" in only:
            started = time.monotonic()
            conn_rows, curves = connections.measure(tmp)
            rows += conn_rows
            timings["connections"] = time.monotonic() - started
            print(f"connections: {timings['connections']:.0f} s", file=sys.stderr, flush=True)
        if "envelopes" in only:
            started = time.monotonic()
            env_rows, points = envelopes.measure()
            rows += env_rows
            timings["envelopes"] = time.monotonic() - started
            print(f"envelopes: {timings['envelopes']:.0f} s", file=sys.stderr, flush=True)
        if "browser" in only:
            started = time.monotonic()
            rows += browser.measure()
            timings["browser"] = time.monotonic() - started
            print(f"browser: {timings['browser']:.0f} s", file=sys.stderr, flush=True)
        order = {"Relay fan-out": 0, "Latency under load": 1, crypto_latency.SECTION: 2,
                 scaleout.SECTION: 3, "Connections": 4, "Host store": 5, envelopes.SECTION: 6,
                 browser.SECTION: 7}
        rows.sort(key=lambda r: order.get(r.section, 9))
        print(text_table(rows))
        if res is not None:
            print("\n".join(profile_lines(res)))
        if not args.no_write and set(only) == set(SECTIONS):
            write_doc(rows, res, timings, sys.argv[1:])
            chart(rows, curves, points, PNG)
            print(f"wrote {DOC.relative_to(ROOT)} and {PNG.relative_to(ROOT)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
