"""Host-local failures an operator sees (as opposed to wire errors sent to clients)."""

from __future__ import annotations


class HostConfigError(Exception):
    """A refusal the CLI prints as is: a missing, unsafe or already initialised data
    dir, a malformed key, or a database newer than this code."""
