"""Hearth's shared core: wire frames, keys, signatures and tokens (no I/O here)."""

from __future__ import annotations

__version__ = "0.1.0"
PROTOCOL_VERSION = 1
