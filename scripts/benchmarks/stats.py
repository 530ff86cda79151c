"""Percentiles of latency samples (nanoseconds in, milliseconds out)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def merge(chunks: Iterable[bytes]) -> np.ndarray:
    """Samples packed by array('q').tobytes() in several processes, as one int64 array."""
    parts = [np.frombuffer(chunk, dtype=np.int64) for chunk in chunks if chunk]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def percentiles_ms(samples: np.ndarray, qs: Iterable[float]) -> list[float]:
    """The ``qs`` percentiles (0-100) of ``samples`` in ms; NaN when there are none."""
    points = list(qs)
    if samples.size == 0:
        return [float("nan")] * len(points)
    return [float(v) / 1e6 for v in np.percentile(samples, points)]
