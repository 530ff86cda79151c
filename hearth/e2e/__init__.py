"""End-to-end encryption over :class:`hearth.client.Client` (docs/security.md, section E2E).

The byte formats live in ``hearth/crypto/``; this package holds the client's state and
the async flows: who to encrypt to (roster.py), which keys to trust (trust.py), the
device's sessions and prekeys (keystore.py), sending and reading (secure.py),
device linking (link_flow.py), and rich messaging: what a channel shows
(conversation.py) and what a member does in it (messaging.py). Every failure to read
a message carries a plain-words reason (reasons.py).
"""

from __future__ import annotations
