"""Signed bodies carried through the relay: requests, responses and channel events.

Each body is a compact JSON object whose exact UTF-8 bytes are signed (requests by
the device, responses and events by the host) and carried as a JSON *string* in the
``body`` field of a frame. The receiver verifies the signature over those bytes and
only then parses them, so no canonical JSON is ever needed.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, TypeVar

import msgspec
import orjson
from nacl.signing import SigningKey

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.fields import HostId, Id, Key, Seq, Sig, b64_field, b64_upto
from hearth.keys import DeviceKeys, now_ms, public_key_from_host_id
from hearth.limits import (
    KEY_FETCH_SESSIONS,
    KEY_SHARES_PER_PUT,
    MAX_BACKUP_BLOB,
    MAX_BODY,
    MAX_CHANNEL_TTL_S,
    MAX_ENVELOPE,
    MAX_KEY_SHARE,
    MAX_LINK_MESSAGE,
    MAX_MAILBOX_PAYLOAD,
    MAX_NAME,
    MAX_TOKEN_CHANNELS,
    PREKEY_CLAIM_MAX,
    PREKEYS_PER_PUT,
)
from hearth.signing import SIGNATURE_SIZE, Context, sign, verify

Nonce = Annotated[str, b64_field(16)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME)]
Role = Annotated[str, msgspec.Meta(pattern=r"^(owner|admin|member)$")]
# base64url of at most MAX_ENVELOPE bytes
Envelope = Annotated[
    str, b64_upto(MAX_ENVELOPE)
]


class Body(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every signed body."""


class RequestBody(Body):
    """Device-signed: ``dev`` asks ``host`` to perform ``op`` with arguments ``a``.

    ``n`` is a fresh 16-byte nonce (replays are refused) and ``ts`` the device's clock
    in ms (requests older or newer than the host's clock by REQUEST_MAX_SKEW_MS are
    refused), so a captured request cannot be used again, or on another host.
    """

    v: int
    host: HostId
    dev: Key
    n: Nonce
    ts: int
    op: Annotated[str, msgspec.Meta(max_length=40)]
    a: dict[str, Any]


class ErrorInfo(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    msg: str


class ResponseBody(Body):
    """Host-signed answer to request ``re`` from device ``dev``."""

    v: int
    host: HostId
    dev: Key
    re: Nonce
    ok: bool
    r: dict[str, Any] | None = None
    err: ErrorInfo | None = None


class EventBody(Body):
    """Host-signed channel event (docs/protocol.md §6, §13.2).

    ``k`` is the event kind: ``msg`` (message ``id`` stored as ``seq``; ``env`` is its
    opaque envelope, ``re`` the message it annotates or ``""``, ``exp`` when the host
    erases it in ms or ``0``), ``del`` (``info.ids`` were erased; ``acct`` who deleted
    them, ``""`` for an expiry), ``rcpt`` (``info.marks``: markers that moved),
    ``chan`` (``info.channel``: the channel's new settings) or ``mem`` (on the space's
    own topic, ``chan`` = ``space``: ``info.acct`` joined, left or changed role;
    ``info.role`` is its role now, None once gone).
    """

    v: int
    host: HostId
    space: Id
    chan: Id
    k: str
    seq: Seq = 0
    id: str = ""
    acct: str = ""
    dev: str = ""
    ts: int = 0
    env: str = ""
    info: dict[str, Any] | None = None
    re: str = ""
    exp: int = 0


B = TypeVar("B", bound=Body)


def dump_body(body: Body) -> str:
    """The body's JSON text; its UTF-8 bytes are what gets signed."""
    return orjson.dumps(msgspec.to_builtins(body)).decode("utf-8")


def body_bytes(text: str) -> bytes:
    """UTF-8 bytes of a received body; lone surrogates cannot have been signed."""
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError(ErrorCode.BAD_FRAME, "body is not valid UTF-8 text") from None
    if len(raw) > MAX_BODY:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"body is {len(raw)} bytes, max {MAX_BODY}")
    return raw


def load_body(raw: bytes, kind: type[B]) -> B:
    """Parse signed body bytes strictly into ``kind``."""
    try:
        return msgspec.convert(orjson.loads(raw), kind, strict=True)
    except (orjson.JSONDecodeError, msgspec.ValidationError) as exc:
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"body: {exc}") from None


# ---- operation arguments (the ``a`` of a request, validated per op) ----------------

class Args(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every op's arguments."""


class HelloArgs(Args):
    cert: Annotated[str, msgspec.Meta(min_length=226, max_length=226)]
    name: Name | None = None


class ClaimArgs(Args):
    """Redeem an owner claim: ``pk`` names it, ``proof`` is hearth.invite_link.prove_invite."""
    pk: Key
    proof: Sig


class Empty(Args):
    pass


class SpaceArgs(Args):
    space: Id


class NameArgs(Args):
    name: Name


class SpaceNameArgs(Args):
    space: Id
    name: Name


class ChannelArgs(Args):
    space: Id
    chan: Id


class ChannelNameArgs(Args):
    space: Id
    chan: Id
    name: Name


class MemberArgs(Args):
    space: Id
    acct: Key


class MemberRoleArgs(Args):
    space: Id
    acct: Key
    role: Role


class KeyInviteArgs(Args):
    space: Id
    acct: Key
    role: Role = "member"


class LinkInviteArgs(Args):
    """``pk`` is the public half of the secret the creator put in the link."""
    space: Id
    pk: Key
    ttl_s: Annotated[int, msgspec.Meta(ge=60, le=30 * 24 * 3600)] = 7 * 24 * 3600
    uses: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1
    role: Role = "member"


class InviteArgs(Args):
    space: Id
    invite: Id


class RedeemArgs(Args):
    """Redeem a link invite: ``pk`` names it, ``proof`` is hearth.invite_link.prove_invite."""
    pk: Key
    proof: Sig


class TokenArgs(Args):
    space: Id
    chans: Annotated[list[str], msgspec.Meta(min_length=1, max_length=MAX_TOKEN_CHANNELS)] = (
        msgspec.field(default_factory=lambda: ["*"])
    )


class PublishArgs(Args):
    """``sess``: the envelope's sender session id (base64url), so history can return the
    key shares that open the page; opaque to the host. ``re``: the message this one
    annotates (an edit or a reaction; §13.2)."""
    space: Id
    chan: Id
    id: Id
    env: Envelope
    sess: Id | None = None
    re: Id | None = None


class MessageArgs(Args):
    space: Id
    chan: Id
    id: Id


class ChannelTtlArgs(Args):
    """``ttl_s``: 0 (messages do not disappear) or seconds until the host erases them."""
    space: Id
    chan: Id
    ttl_s: Annotated[int, msgspec.Meta(ge=0, le=MAX_CHANNEL_TTL_S)]


class ChannelMarkArgs(Args):
    """Move the caller's markers forward (at least one of them; the host checks)."""
    space: Id
    chan: Id
    read: Seq | None = None
    delivered: Seq | None = None


class AccountSettingsArgs(Args):
    """Change the given settings (none: just read them)."""
    receipts: bool | None = None


class HistoryArgs(Args):
    space: Id
    chan: Id
    before: Seq | None = None
    after: Seq | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50


class AccountArgs(Args):
    acct: Key


class DeviceArgs(Args):
    dev: Key


class MailboxPutArgs(Args):
    dev: Key
    payload: Annotated[str, b64_upto(MAX_MAILBOX_PAYLOAD)]


class MailboxFetchArgs(Args):
    after: Seq = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 100


class MailboxAckArgs(Args):
    ids: Annotated[list[Seq], msgspec.Meta(min_length=1, max_length=200)]


class BackupPutArgs(Args):
    blob: Annotated[str, b64_upto(MAX_BACKUP_BLOB)]
    version: Annotated[int, msgspec.Meta(ge=1)]


PrekeyText = Annotated[str, b64_upto(128)]
ShareText = Annotated[
    str, b64_upto(MAX_KEY_SHARE)
]
LinkText = Annotated[
    str, b64_upto(MAX_LINK_MESSAGE)
]


class PrekeyPutArgs(Args):
    """Upload this device's prekeys (hearth/crypto/prekeys.py); ``signed`` replaces the
    signed prekey; ``reset`` first drops every one-time prekey still held (a device that
    lost its private halves). With nothing to upload it just reports the counts."""
    reset: bool = False
    signed: PrekeyText | None = None
    one_time: Annotated[list[PrekeyText], msgspec.Meta(max_length=PREKEYS_PER_PUT)] = (
        msgspec.field(default_factory=list)
    )


class PrekeyClaimArgs(Args):
    devs: Annotated[list[Key], msgspec.Meta(min_length=1, max_length=PREKEY_CLAIM_MAX)]


class KeysPutArgs(Args):
    """Key shares of sender session ``sess`` in a channel: recipient device -> its share."""
    space: Id
    chan: Id
    sess: Id
    shares: Annotated[dict[Key, ShareText],
                      msgspec.Meta(min_length=1, max_length=KEY_SHARES_PER_PUT)]


class KeysFetchArgs(Args):
    space: Id
    chan: Id
    sess: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=KEY_FETCH_SESSIONS)]


class LinkPostArgs(Args):
    link: Id
    msg: LinkText


class LinkReadArgs(Args):
    link: Id
    after: Seq = 0


OPS: dict[str, type[Args]] = {
    "hello": HelloArgs,
    "host.claim": ClaimArgs,
    "space.create": NameArgs,
    "space.list": Empty,
    "space.rename": SpaceNameArgs,
    "space.delete": SpaceArgs,
    "space.leave": SpaceArgs,
    "channel.create": SpaceNameArgs,
    "channel.list": SpaceArgs,
    "channel.rename": ChannelNameArgs,
    "channel.delete": ChannelArgs,
    "member.list": SpaceArgs,
    "member.remove": MemberArgs,
    "member.role": MemberRoleArgs,
    "invite.key": KeyInviteArgs,
    "invite.link": LinkInviteArgs,
    "invite.list": SpaceArgs,
    "invite.revoke": InviteArgs,
    "invite.accept": SpaceArgs,
    "invite.redeem": RedeemArgs,
    "token": TokenArgs,
    "publish": PublishArgs,
    "history": HistoryArgs,
    "message.delete": MessageArgs,
    "channel.ttl": ChannelTtlArgs,
    "channel.mark": ChannelMarkArgs,
    "channel.receipts": ChannelArgs,
    "space.unread": SpaceArgs,
    "account.settings": AccountSettingsArgs,
    "device.list": AccountArgs,
    "device.revoke": DeviceArgs,
    "mailbox.put": MailboxPutArgs,
    "mailbox.fetch": MailboxFetchArgs,
    "mailbox.ack": MailboxAckArgs,
    "backup.put": BackupPutArgs,
    "backup.get": Empty,
    "prekey.put": PrekeyPutArgs,
    "prekey.claim": PrekeyClaimArgs,
    "keys.put": KeysPutArgs,
    "keys.fetch": KeysFetchArgs,
    "space.devices": SpaceArgs,
    "link.open": Empty,
    "link.post": LinkPostArgs,
    "link.read": LinkReadArgs,
}
"""Every request op and the arguments it takes (docs/protocol.md describes each)."""


def parse_args(op: str, args: dict[str, Any]) -> Args:
    """Validate ``args`` for ``op``; unknown_op or bad_request naming the field."""
    kind = OPS.get(op)
    if kind is None:
        raise ProtocolError(ErrorCode.UNKNOWN_OP, f"unknown op {op[:40]!r}")
    try:
        return msgspec.convert(args, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"{op}: {exc}") from None


# ---- signing and opening bodies --------------------------------------------------

def sign_request(
    device: DeviceKeys, host_id: str, op: str, args: dict[str, Any], *, ts: int | None = None
) -> tuple[RequestBody, str, str]:
    """A device-signed request: (body, body text, signature as base64url)."""
    body = RequestBody(
        v=1, host=host_id, dev=b64e(device.public_key), n=b64e(secrets.token_bytes(16)),
        ts=now_ms() if ts is None else ts, op=op, a=args,
    )
    text = dump_body(body)
    return body, text, b64e(sign(device.signing, Context.REQUEST, text.encode("utf-8")))


def open_request(text: str, signature: str) -> RequestBody:
    """Verify a request by the device key it names (whose certificate the host checks)."""
    raw = body_bytes(text)
    body = load_body(raw, RequestBody)
    try:
        device_key = b64d(body.dev, field="dev", size=32)
        sig = b64d(signature, field="sig", size=SIGNATURE_SIZE)
    except ProtocolError as exc:
        raise ProtocolError(ErrorCode.BAD_SIGNATURE, exc.message) from None
    verify(device_key, Context.REQUEST, raw, sig)
    return body


_HOST_CONTEXTS: dict[type[Body], Context] = {
    ResponseBody: Context.RESPONSE,
    EventBody: Context.EVENT,
}


def sign_host_body(host_key: SigningKey, body: ResponseBody | EventBody) -> tuple[str, str]:
    """A host-signed response or event: (body text, signature as base64url)."""
    text = dump_body(body)
    return text, b64e(sign(host_key, _HOST_CONTEXTS[type(body)], text.encode("utf-8")))


def open_host_body(host_id: str, text: str, signature: str, kind: type[B]) -> B:
    """Verify a response or event against the key inside ``host_id``, then parse it."""
    raw = text.encode("utf-8", errors="replace")
    context = _HOST_CONTEXTS[kind]
    try:
        sig = b64d(signature, field="sig", size=SIGNATURE_SIZE)
        host_key = public_key_from_host_id(host_id)
    except ProtocolError as exc:
        raise ProtocolError(ErrorCode.BAD_SIGNATURE, exc.message) from None
    verify(host_key, context, raw, sig)
    body = load_body(raw, kind)
    if getattr(body, "host", None) != host_id:
        raise ProtocolError(ErrorCode.BAD_SIGNATURE, "signed body names a different host")
    return body
