"""One row of the benchmark table: a Hearth measurement beside its same-run baseline."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Row:
    section: str
    what: str
    hearth: float
    baseline: float
    unit: str
    baseline_name: str
    better: str = "higher"
    """'higher' or 'lower': which direction is good (the ratio is always hearth/baseline)."""
    target: str = ""
    """The issue's target for this row, if any, and whether it is met."""
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        if self.baseline == 0 or math.isnan(self.baseline) or math.isnan(self.hearth):
            return float("nan")
        return self.hearth / self.baseline


def fmt(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if 0 < abs(value) < 0.01:
        return f"{value:.2g}"
    return f"{value:.2f}"
