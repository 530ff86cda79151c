"""Hearth's stateless public relay: authenticates hosts and devices, routes ciphertext.

Thin Starlette/uvicorn shells (``endpoint``, ``http``, ``app``, ``server``) around a
routing core (``hub`` and the modules it lists) that never touches a socket: it pushes
encoded frames into bounded per-connection outboxes and talks to other relays only
through a ``Bus``.
"""

from __future__ import annotations
