"""Every size and count limit of the protocol, in one place (docs/protocol.md quotes them)."""

from __future__ import annotations

from hearth.ratelimit import RateLimit

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
MAX_CHANNEL_TTL_S = 365 * 24 * 3600
"""Longest disappearing-message timer of a channel (``channel.ttl``)."""
DEL_EVENT_IDS = 500
"""Message ids one ``del`` event names at most (more are split over several events)."""
EXPIRY_BATCH = 500
"""Expired messages the host erases per tick (their annotations go with them)."""
UNREAD_CAP = 1000
"""``space.unread`` counts at most this many per channel (meaning "this many or more")."""
RECEIPT_INTERVAL_MS = 1000
"""At most one ``rcpt`` event per channel in this time (markers are coalesced)."""
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
MAX_EPHEMERAL_BODY = 512
"""Largest presence or typing body (UTF-8 bytes); real ones are about 330."""
EPHEMERAL_MAX_AGE_MS = 30_000
"""Receivers drop a presence or typing body whose ``ts`` is further than this from their
clock, either way: a replayed or delayed one says nothing true about now."""

# A host is one authenticated party serving a whole community: the relay's limits on a
# host connection guard against a runaway host, not normal bursts (a group commit can
# acknowledge and publish thousands of messages at once). The host paces itself below
# them (host/node.py), so nothing it sends is refused.
HOST_FRAME_RATES: dict[str, RateLimit] = {
    "host_hello": RateLimit(1, 3),
    "resp_to": RateLimit(10_000, 20_000),
    "pub": RateLimit(10_000, 20_000),
    "revoke": RateLimit(50, 500),
    "ping": RateLimit(1, 5),
}
"""Frames per second / burst the relay accepts from one host connection, by type."""
HOST_ID_RATE = RateLimit(20_000, 40_000)
"""All frames of all connections of one host id, together."""
