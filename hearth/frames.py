"""The relay's wire frames: JSON text messages, one object each, tagged by ``t``.

Two endpoints, two vocabularies. ``/ws/client`` accepts CLIENT_INBOUND types only and
``/ws/host`` HOST_INBOUND types only; a frame type that exists in the protocol but
belongs to the other side is refused with ``forbidden_frame``, anything else with
``unknown_frame``. Decoding is strict: unknown fields, wrong types and oversize values
are refused with ``bad_frame`` and a message naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import orjson

from hearth.errors import ErrorCode, ProtocolError
from hearth.fields import HostId, Id, Key, Sig, b64_field
from hearth.keys import CERT_SIZE
from hearth.limits import MAX_BODY, MAX_EPHEMERAL_BODY, MAX_ID, MAX_SUB_CHANNELS, MAX_TOKEN

Nonce = Annotated[str, b64_field(32)]
Body = Annotated[str, msgspec.Meta(min_length=2, max_length=MAX_BODY)]
Cert = Annotated[str, b64_field(CERT_SIZE)]
Chan = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID,
                                   pattern=r"^(\*|[A-Za-z0-9_-]+)$")]
"""A channel id, or ``*``: every channel of the space (alone in its list)."""
Channels = Annotated[list[Chan], msgspec.Meta(min_length=1, max_length=MAX_SUB_CHANNELS)]
Text = Annotated[str, msgspec.Meta(max_length=500)]


class Frame(msgspec.Struct, tag_field="t", forbid_unknown_fields=True):
    """Base of every frame."""


# ---- both endpoints -------------------------------------------------------------

class Challenge(Frame, tag="challenge"):
    """relay -> either: sign this nonce to authenticate."""
    nonce: Nonce


class Ping(Frame, tag="ping"):
    """either -> relay: keep-alive; answered with ``pong``."""
    n: int = 0


class Pong(Frame, tag="pong"):
    n: int = 0


class Error(Frame, tag="error"):
    """relay -> either: a refusal. ``ref`` names the request id or frame type refused."""
    code: str
    msg: Text
    ref: str | None = None


# ---- client endpoint ------------------------------------------------------------

class Hello(Frame, tag="hello"):
    """client -> relay: device certificate and a device signature over the challenge."""
    cert: Cert
    sig: Sig


class Welcome(Frame, tag="welcome"):
    """relay -> client: authenticated; ``conn`` is this connection's opaque address."""
    conn: Id
    acct: Key
    dev: Key


class ClientRequest(Frame, tag="req"):
    """client -> relay: a device-signed request for ``host``; ``id`` only correlates errors."""
    host: HostId
    id: Id
    body: Body
    sig: Sig


class ClientResponse(Frame, tag="resp"):
    """relay -> client: a host-signed response, passed through untouched."""
    host: HostId
    body: str
    sig: Sig


class Subscribe(Frame, tag="sub"):
    """client -> relay: follow ``chans`` of the token's space, as the token allows."""
    token: Annotated[str, msgspec.Meta(max_length=MAX_TOKEN)]
    chans: Channels


class Subscribed(Frame, tag="subbed"):
    host: HostId
    space: Id
    chans: list[str]
    exp: int


class Unsubscribe(Frame, tag="unsub"):
    """client -> relay: stop following ``chans`` of ``space`` on ``host``."""
    host: HostId
    space: Id
    chans: Channels


class Unsubscribed(Frame, tag="unsubbed"):
    """relay -> client: these subscriptions ended (``reason``: left, expired, revoked)."""
    host: HostId
    space: Id
    chans: list[str]
    reason: str


class Event(Frame, tag="event"):
    """relay -> client: a host-signed event on a channel topic, passed through untouched."""
    host: HostId
    space: Id
    chan: Id
    body: str
    sig: Sig


class Ephemeral(Frame, tag="eph"):
    """client -> relay -> the topic's other subscribers: a device-signed presence or typing
    body (hearth/ephemeral.py). Never stored and never sent to the host; ``chan`` is
    ``*`` for presence (the whole space). The same shape travels both ways."""
    host: HostId
    space: Id
    chan: Chan
    body: Annotated[str, msgspec.Meta(min_length=2, max_length=MAX_EPHEMERAL_BODY)]
    sig: Sig


class HostStatus(Frame, tag="host_status"):
    """relay -> client: a host this connection talked to went offline or came back."""
    host: HostId
    online: bool


# ---- host endpoint --------------------------------------------------------------

class HostHello(Frame, tag="host_hello"):
    """host -> relay: host public key and its signature over the challenge."""
    pk: Key
    sig: Sig


class HostWelcome(Frame, tag="host_welcome"):
    host: HostId


class ForwardedRequest(Frame, tag="fwd"):
    """relay -> host: a client's request; ``from`` is the opaque reply address only."""
    from_: Id = msgspec.field(name="from")
    body: str = ""
    sig: str = ""


class HostResponse(Frame, tag="resp_to"):
    """host -> relay: deliver this host-signed response to connection ``to``."""
    to: Id
    body: Annotated[str, msgspec.Meta(min_length=2)]
    sig: Sig


class Publish(Frame, tag="pub"):
    """host -> relay: fan this host-signed event out to the channel's subscribers."""
    space: Id
    chan: Id
    body: Annotated[str, msgspec.Meta(min_length=2)]
    sig: Sig


class Revoke(Frame, tag="revoke"):
    """host -> relay: end subscriptions of an account (or one device) and refuse its
    tokens issued at or before ``before`` (ms); ``space`` limits it to one space."""
    before: int
    acct: Key | None = None
    dev: Key | None = None
    space: Id | None = None


ClientInbound = Hello | ClientRequest | Subscribe | Unsubscribe | Ephemeral | Ping
HostInbound = HostHello | HostResponse | Publish | Revoke | Ping

_ALL: tuple[type[Frame], ...] = (
    Challenge, Ping, Pong, Error, Hello, Welcome, ClientRequest, ClientResponse, Subscribe,
    Subscribed, Unsubscribe, Unsubscribed, Event, Ephemeral, HostStatus, HostHello, HostWelcome,
    ForwardedRequest, HostResponse, Publish, Revoke,
)
ALL_TAGS = frozenset(str(f.__struct_config__.tag) for f in _ALL)
CLIENT_TAGS = frozenset(str(f.__struct_config__.tag) for f in ClientInbound.__args__)
HOST_TAGS = frozenset(str(f.__struct_config__.tag) for f in HostInbound.__args__)
HOST_ONLY_TAGS = HOST_TAGS - CLIENT_TAGS


def _decode(raw: str | bytes, union: Any, allowed: frozenset[str], side: str) -> Any:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(ErrorCode.BAD_FRAME, f"frame is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"frame must be a JSON object, got {type(obj).__name__}"
        )
    tag = obj.get("t")
    if not isinstance(tag, str):
        raise ProtocolError(ErrorCode.BAD_FRAME, "frame has no string field 't' naming its type")
    if tag not in allowed:
        if tag in ALL_TAGS:
            raise ProtocolError(
                ErrorCode.FORBIDDEN_FRAME, f"frame type {tag!r} is not accepted from a {side}"
            )
        raise ProtocolError(ErrorCode.UNKNOWN_FRAME, f"unknown frame type {str(tag)[:40]!r}")
    try:
        return msgspec.convert(obj, union, strict=True)
    except msgspec.ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_FRAME, f"{tag}: {exc}") from None


def decode_client_frame(
    raw: str | bytes,
) -> Hello | ClientRequest | Subscribe | Unsubscribe | Ephemeral | Ping:
    """Parse and validate a frame received on the client endpoint."""
    frame: Hello | ClientRequest | Subscribe | Unsubscribe | Ephemeral | Ping = _decode(
        raw, ClientInbound, CLIENT_TAGS, "client"
    )
    return frame


def decode_host_frame(raw: str | bytes) -> HostHello | HostResponse | Publish | Revoke | Ping:
    """Parse and validate a frame received on the host endpoint."""
    frame: HostHello | HostResponse | Publish | Revoke | Ping = _decode(
        raw, HostInbound, HOST_TAGS, "host"
    )
    return frame


def decode_frame(raw: str | bytes, kind: type[Frame] | Any) -> Any:
    """Parse a frame sent by the relay (used by clients and hosts)."""
    try:
        return msgspec.convert(orjson.loads(raw), kind, strict=True)
    except (orjson.JSONDecodeError, msgspec.ValidationError) as exc:
        raise ProtocolError(ErrorCode.BAD_FRAME, f"bad frame from relay: {exc}") from None


def encode_frame(frame: Frame) -> str:
    """Serialise a frame to its JSON text."""
    return orjson.dumps(msgspec.to_builtins(frame)).decode("utf-8")


RelayToClient = (
    Challenge | Welcome | ClientResponse | Subscribed | Unsubscribed | Event | Ephemeral
    | HostStatus | Error | Pong
)
RelayToHost = Challenge | HostWelcome | ForwardedRequest | Error | Pong


class CloseCode:
    """WebSocket close codes the relay uses; each close also carries a reason text."""

    NORMAL = 1000
    GOING_AWAY = 1001
    """The relay is shutting down."""
    MESSAGE_TOO_BIG = 1009
    AUTH_FAILED = 4001
    AUTH_TIMEOUT = 4002
    IDLE_TIMEOUT = 4003
    SLOW_CONSUMER = 4008
    """The connection's bounded send queue overflowed; nobody else is affected."""
    REPLACED = 4009
    """The same host authenticated on a newer connection."""
    FLOODING = 4029
    """Too many refused frames in a row (rate limit exceeded persistently)."""
