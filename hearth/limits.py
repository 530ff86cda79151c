"""Every size and count limit of the protocol, in one place (docs/protocol.md quotes them)."""

from __future__ import annotations

MAX_CLIENT_FRAME = 128 * 1024
"""Largest frame (bytes of UTF-8 text) a browser may send to the relay."""
MAX_HOST_FRAME = 1024 * 1024
"""Largest frame a host may send to the relay (history pages are the big ones)."""
MAX_BODY = 120 * 1024
"""Largest signed request body (UTF-8 bytes)."""
MAX_ENVELOPE = 64 * 1024
"""Largest opaque message envelope, in bytes after base64url decoding."""
MAX_MAILBOX_PAYLOAD = 16 * 1024
MAX_BACKUP_BLOB = 512 * 1024
"""Key-backup blob cap (bytes): its base64url fits a host frame with room to spare."""
MAX_TOKEN_CHANNELS = 64
"""Channels one capability token may name (``["*"]`` covers them all)."""
MAX_TOKEN = 8192
"""Longest token: enough for MAX_TOKEN_CHANNELS ids of MAX_ID characters."""
MAX_NAME = 100
"""Longest space or channel name, in characters."""
MAX_ID = 64
MAX_SUB_CHANNELS = 256
"""Channels named in one ``sub`` frame."""
MAX_SUBSCRIPTIONS = 1024
"""Topics one browser connection may be subscribed to at once."""
HISTORY_PAGE_MAX = 200
HISTORY_PAGE_BYTES = 768 * 1024
"""A history page stops growing once its envelopes reach this many bytes."""
REQUEST_MAX_SKEW_MS = 120_000
"""A request's timestamp may differ from the host's clock by at most this much."""
TOKEN_LIFETIME_MS = 10 * 60 * 1000
TOKEN_MAX_LIFETIME_MS = 60 * 60 * 1000
MAILBOX_TTL_MS = 14 * 24 * 3600 * 1000
MAILBOX_MAX_ITEMS = 1000
"""Unacknowledged mailbox items one device may hold; more is refused (rate_limited)."""
PREKEYS_PER_PUT = 100
"""One-time prekeys one ``prekey.put`` may upload."""
PREKEYS_MAX_ONE_TIME = 200
"""Unclaimed one-time prekeys the host keeps per device; clients refill below PREKEYS_LOW."""
PREKEYS_LOW = 20
PREKEY_CLAIM_MAX = 256
"""Devices one ``prekey.claim`` may name."""
KEY_SHARES_PER_PUT = 200
"""Key shares one ``keys.put`` may carry (each ~375 characters of JSON)."""
KEY_FETCH_SESSIONS = 100
MAX_KEY_SHARE = 512
LINK_TTL_MS = 10 * 60 * 1000
"""A link slot (device linking) lives this long."""
LINK_MAX_POSTS = 8
MAX_LINK_MESSAGE = 512
