"""Every error code Hearth puts on the wire, and the exception that carries one."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Error codes shared by relay frames and host responses (docs/protocol.md lists each)."""

    # Frame-level (relay) errors.
    BAD_FRAME = "bad_frame"
    UNKNOWN_FRAME = "unknown_frame"
    FORBIDDEN_FRAME = "forbidden_frame"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTH_FAILED = "auth_failed"
    HOST_OFFLINE = "host_offline"
    BAD_TOKEN = "bad_token"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_REVOKED = "token_revoked"
    TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
    # Request-level (host) errors.
    BAD_REQUEST = "bad_request"
    BAD_SIGNATURE = "bad_signature"
    WRONG_HOST = "wrong_host"
    STALE_REQUEST = "stale_request"
    REPLAY = "replay"
    UNKNOWN_DEVICE = "unknown_device"
    DEVICE_REVOKED = "device_revoked"
    BAD_CERTIFICATE = "bad_certificate"
    UNKNOWN_OP = "unknown_op"
    NOT_FOUND = "not_found"
    NOT_MEMBER = "not_member"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    INVITE_INVALID = "invite_invalid"
    INVITE_EXPIRED = "invite_expired"
    INVITE_USED_UP = "invite_used_up"
    INVITE_REVOKED = "invite_revoked"
    MAILBOX_FULL = "mailbox_full"
    INTERNAL = "internal"
    # End-to-end crypto errors (hearth/crypto and web/crypto raise them; same strings).
    DECRYPT_FAILED = "decrypt_failed"
    BAD_KEY = "bad_key"
    LOW_ORDER_KEY = "low_order_key"
    # End-to-end protocol refusals (hearth/crypto/{envelope,key_share,sender_session,
    # backup,linking,prekeys}.py; the JS port raises the same strings).
    BAD_ENVELOPE = "bad_envelope"
    INDEX_TOO_OLD = "index_too_old"
    INDEX_TOO_FAR = "index_too_far"
    WRONG_RECIPIENT = "wrong_recipient"
    UNKNOWN_PREKEY = "unknown_prekey"
    WRONG_SECRET = "wrong_secret"
    LINK_MISMATCH = "link_mismatch"
    # Rich-messaging content refusals (hearth/content.py, web/chat/content.js).
    BAD_CONTENT = "bad_content"
    NOT_AUTHOR = "not_author"


class ProtocolError(Exception):
    """A refusal with a wire code and a human-readable message that quotes the bad value."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
