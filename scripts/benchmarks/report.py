"""The table (terminal and Markdown) and the chart."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from benchmarks.connections import Curve
from benchmarks.crypto_latency import DECRYPTING, SECTION
from benchmarks.envelopes import ROTATE_MESSAGES, Point
from benchmarks.results import Row, fmt

HEADER = ("section", "measurement", "Hearth", "baseline", "unit", "ratio", "baseline is")


def _cells(row: Row) -> tuple[str, ...]:
    return (row.section, row.what, fmt(row.hearth), fmt(row.baseline), row.unit,
            fmt(row.ratio), row.baseline_name)


def text_table(rows: list[Row]) -> str:
    cells = [HEADER, *(_cells(r) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) for cell in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    head = (*HEADER, "target", "notes")
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        out.append("| " + " | ".join((*_cells(row), row.target, row.note)) + " |")
    return "\n".join(out)


def chart(rows: list[Row], curves: dict[str, Curve], points: list[Point], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(2, 3, figsize=(16, 9.6))
    axes = list(grid[0]) + list(grid[1])
    fan = [r for r in rows if r.section == "Relay fan-out"]
    labels = [r.what.replace(" subscribers, ", "\n") for r in fan]
    x = range(len(fan))
    axes[0].bar([i - 0.2 for i in x], [r.hearth for r in fan], 0.4, label="Hearth")
    axes[0].bar([i + 0.2 for i in x], [r.baseline for r in fan], 0.4, label="bare app")
    axes[0].set_xticks(list(x), labels, fontsize=7)
    axes[0].set_ylabel("deliveries / s")
    axes[0].set_title("Fan-out (one channel)")
    axes[0].legend()

    _latency_panel(axes[1], rows)

    for name, curve in curves.items():
        axes[2].plot([n for n, _ in curve.points], [kib / 1024 for _, kib in curve.points],
                     marker="o", label=f"{name} ({curve.kib_per_connection:.1f} KiB/conn)")
    axes[2].set_xlabel("idle connections")
    axes[2].set_ylabel("VmRSS, MiB")
    axes[2].set_title("Server memory")
    axes[2].legend()
    _envelope_panels(axes[3], axes[4], points)
    _browser_panel(axes[5], [r for r in rows if r.section == "Browser crypto"])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _latency_panel(ax: Any, rows: list[Row]) -> None:
    """Per load point and percentile: opaque envelopes, real crypto, and the bare app."""
    def key(row: Row) -> str:
        return row.what.split(" (")[0]

    lat = [r for r in rows if r.section == "Latency under load"]
    crypto = {key(r): r.hearth for r in rows if r.section == SECTION}
    y = range(len(lat))
    ax.barh([i - 0.27 for i in y], [r.hearth for r in lat], 0.27,
            label="host + relay, opaque envelopes")
    if crypto:
        ax.barh(list(y), [crypto.get(key(r), float("nan")) for r in lat], 0.27,
                label=f"host + relay, real crypto ({DECRYPTING} decrypting)")
    ax.barh([i + 0.27 for i in y], [r.baseline for r in lat], 0.27, label="bare app")
    ax.set_yticks(list(y), [key(r) for r in lat], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("publish-to-deliver (real crypto: to decrypted) latency, ms (log)")
    ax.set_title("Latency under open-loop load")
    ax.legend(fontsize=7)


def _envelope_panels(size_ax: Any, cpu_ax: Any, points: list[Point]) -> None:
    members = [p.members for p in points]
    series = (
        ("Hearth, per message", [p.hearth_bytes for p in points], [p.hearth_us for p in points]),
        (f"Hearth, key shares every {ROTATE_MESSAGES} amortised",
         [p.hearth_amortised_bytes for p in points], [p.hearth_amortised_us for p in points]),
        ("per-recipient wrapped key", [p.baseline_bytes for p in points],
         [p.baseline_us for p in points]),
    )
    for label, size, cpu in series:
        size_ax.plot(members, size, marker="o", label=label)
        cpu_ax.plot(members, cpu, marker="o", label=label)
    for ax, ylabel, title in ((size_ax, "bytes per message", "Envelope size vs members"),
                              (cpu_ax, "sender CPU, µs per message", "Sender CPU vs members")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("members (one device each)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=7)


def _browser_panel(ax: Any, rows: list[Row]) -> None:
    labels = [f"{textwrap.fill(r.what.split(' (')[0], 22)}\n({r.unit})" for r in rows]
    x = range(len(rows))
    ax.bar([i - 0.2 for i in x], [r.hearth for r in rows], 0.4, label="web/crypto")
    ax.bar([i + 0.2 for i in x], [r.baseline for r in rows], 0.4,
           label="raw WebCrypto AES-256-GCM")
    ax.set_xticks(list(x), labels, fontsize=7)
    ax.set_yscale("log")
    ax.set_title("Browser crypto (Chromium, one at a time)")
    ax.legend(fontsize=7)
