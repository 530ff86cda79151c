"""The table (terminal and Markdown) and the chart."""

from __future__ import annotations

from pathlib import Path

from benchmarks.connections import Curve
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


def chart(rows: list[Row], curves: dict[str, Curve], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    fan = [r for r in rows if r.section == "Relay fan-out"]
    labels = [r.what.replace(" subscribers, ", "\n") for r in fan]
    x = range(len(fan))
    axes[0].bar([i - 0.2 for i in x], [r.hearth for r in fan], 0.4, label="Hearth")
    axes[0].bar([i + 0.2 for i in x], [r.baseline for r in fan], 0.4, label="bare app")
    axes[0].set_xticks(list(x), labels, fontsize=7)
    axes[0].set_ylabel("deliveries / s")
    axes[0].set_title("Fan-out (one channel)")
    axes[0].legend()

    lat = [r for r in rows if r.section == "Latency under load"]
    names = [r.what.split(" (")[0] for r in lat]
    y = range(len(lat))
    axes[1].barh([i - 0.2 for i in y], [r.hearth for r in lat], 0.4, label="host + relay")
    axes[1].barh([i + 0.2 for i in y], [r.baseline for r in lat], 0.4, label="bare app")
    axes[1].set_yticks(list(y), names, fontsize=7)
    axes[1].set_xscale("log")
    axes[1].set_xlabel("publish-to-deliver latency, ms (log)")
    axes[1].set_title("Latency under open-loop load")
    axes[1].legend()

    for name, curve in curves.items():
        axes[2].plot([n for n, _ in curve.points], [kib / 1024 for _, kib in curve.points],
                     marker="o", label=f"{name} ({curve.kib_per_connection:.1f} KiB/conn)")
    axes[2].set_xlabel("idle connections")
    axes[2].set_ylabel("VmRSS, MiB")
    axes[2].set_title("Server memory")
    axes[2].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
