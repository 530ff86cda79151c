"""The Hearth host: the community owner's node, the authority over its spaces.

It stores ciphertext and membership in SQLite and dials out to a relay; every request
it acts on is signed by a registered device (never trusted because the relay says so).
"""

from __future__ import annotations
