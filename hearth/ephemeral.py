"""Presence and typing: device-signed, relayed live to a space's subscribers, never stored.

Body (exact JSON bytes, signed by the sending device under Context.EPHEMERAL, carried as
the ``body`` string of an ``eph`` frame; docs/protocol.md section 12)::

    {"v":1,"host":<host id>,"space":<id>,"chan":<id>|"*","k":"presence"|"typing",
     "state":<state>,"dev":<device key>,"acct":<account key>,"ts":<ms>}

Invariants of an accepted body: ``presence`` is space-wide (``chan`` is ``*``) with state
``online``, ``away`` or ``offline``; ``typing`` names one channel with state ``typing``
or ``stopped``; the signature verifies under ``dev``; host, space and channel equal the
frame's route; ``ts`` is within EPHEMERAL_MAX_AGE_MS of the receiver's clock. Whether
``dev`` is a certified device of a current member of ``acct`` needs the space's roster
(:func:`check_sender`); the relay has already checked that the sender holds a live
subscription in that space under a token for ``dev`` and that ``dev``/``acct`` are the
connection's own.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
import orjson

from hearth.b64 import b64d, b64e
from hearth.e2e.roster import Roster
from hearth.errors import ErrorCode, ProtocolError
from hearth.fields import HostId, Id, Key
from hearth.frames import Chan, Ephemeral
from hearth.keys import DeviceKeys, now_ms
from hearth.limits import EPHEMERAL_MAX_AGE_MS, MAX_EPHEMERAL_BODY
from hearth.signing import SIGNATURE_SIZE, Context, sign, verify
from hearth.token import ALL_CHANNELS

Kind = Literal["presence", "typing"]
STATES: dict[str, frozenset[str]] = {
    "presence": frozenset({"online", "away", "offline"}),
    "typing": frozenset({"typing", "stopped"}),
}
"""The states each kind may carry."""

# Timing every client follows (web/chat/presence.js uses the same numbers).
PRESENCE_HEARTBEAT_MS = 30_000
"""A following client repeats its presence this often (and on every subscribe)."""
PRESENCE_OFFLINE_AFTER_MS = 75_000
"""No presence for this long: shown offline (two heartbeats missed, plus slack)."""
TYPING_EVERY_MS = 3_000
"""While someone types, ``typing`` is sent at most this often."""
TYPING_SHOWN_MS = 6_000
"""A ``typing`` is shown this long unless renewed, or ended by ``stopped``."""


class EphemeralBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A presence or typing update, as signed (field order is the wire order)."""

    v: int
    host: HostId
    space: Id
    chan: Chan
    k: Kind
    state: Annotated[str, msgspec.Meta(max_length=16)]
    dev: Key
    acct: Key
    ts: int


def _check_shape(body: EphemeralBody) -> None:
    """Version, and each kind's channel and states; bad_frame quoting the bad value."""
    if body.v != 1:
        raise ProtocolError(ErrorCode.BAD_FRAME, f"eph body: version {body.v} is not 1")
    if body.state not in STATES[body.k]:
        raise ProtocolError(
            ErrorCode.BAD_FRAME,
            f"eph body: state {body.state!r} is not one of {sorted(STATES[body.k])} for "
            f"{body.k!r}",
        )
    space_wide = body.chan == ALL_CHANNELS
    if space_wide != (body.k == "presence"):
        want = "'*' (presence is space-wide)" if body.k == "presence" else "one channel id"
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"eph body: {body.k!r} needs chan {want}, got {body.chan!r}"
        )


def parse_body(text: str) -> EphemeralBody:
    """Parse (without verifying the signature) and check the shape; bad_frame naming the
    field. The relay uses this to check route and sender; receivers call open_ephemeral."""
    raw = text.encode("utf-8", errors="replace")
    if len(raw) > MAX_EPHEMERAL_BODY:
        raise ProtocolError(
            ErrorCode.TOO_LARGE, f"eph body is {len(raw)} bytes, max {MAX_EPHEMERAL_BODY}"
        )
    try:
        body = msgspec.convert(orjson.loads(raw), EphemeralBody, strict=True)
    except (orjson.JSONDecodeError, msgspec.ValidationError) as exc:
        raise ProtocolError(ErrorCode.BAD_FRAME, f"eph body: {exc}") from None
    _check_shape(body)
    return body


def check_route(body: EphemeralBody, frame: Ephemeral) -> None:
    """The signed host, space and channel must be the frame's route (bad_frame otherwise):
    a body cannot be carried into another host's, space's or channel's topic."""
    for name, signed, routed in (("host", body.host, frame.host), ("space", body.space,
                                 frame.space), ("chan", body.chan, frame.chan)):
        if signed != routed:
            raise ProtocolError(
                ErrorCode.BAD_FRAME,
                f"eph body names {name} {signed!r} but the frame is routed to {routed!r}",
            )


def sign_ephemeral(device: DeviceKeys, host: str, space: str, chan: str, kind: Kind,
                   state: str, *, ts: int | None = None) -> Ephemeral:
    """The ``eph`` frame carrying this device's signed update (shape-checked first)."""
    body = EphemeralBody(v=1, host=host, space=space, chan=chan, k=kind, state=state,
                         dev=b64e(device.public_key), acct=b64e(device.account),
                         ts=now_ms() if ts is None else ts)
    _check_shape(body)
    text = orjson.dumps(msgspec.to_builtins(body)).decode("utf-8")
    sig = sign(device.signing, Context.EPHEMERAL, text.encode("utf-8"))
    return Ephemeral(host=host, space=space, chan=chan, body=text, sig=b64e(sig))


def open_ephemeral(frame: Ephemeral, now: int) -> EphemeralBody:
    """Verify the device signature over the exact body bytes, then shape, route and
    freshness. Raises ProtocolError: bad_signature, bad_frame, or stale_request."""
    body = parse_body(frame.body)
    try:
        device_key = b64d(body.dev, field="dev", size=32)
        sig = b64d(frame.sig, field="sig", size=SIGNATURE_SIZE)
    except ProtocolError as exc:
        raise ProtocolError(ErrorCode.BAD_SIGNATURE, exc.message) from None
    verify(device_key, Context.EPHEMERAL, frame.body.encode("utf-8"), sig)
    check_route(body, frame)
    if abs(now - body.ts) > EPHEMERAL_MAX_AGE_MS:
        raise ProtocolError(
            ErrorCode.STALE_REQUEST,
            f"eph body ts {body.ts} is {now - body.ts} ms from this clock, max "
            f"{EPHEMERAL_MAX_AGE_MS}",
        )
    return body


def check_sender(body: EphemeralBody, roster: Roster) -> None:
    """``dev`` must be an unrevoked device certified by ``acct``, a current member of the
    roster's space: unknown_device, device_revoked or not_member otherwise."""
    dev = b64d(body.dev, field="dev", size=32)
    device = roster.devices.get(dev)
    if device is None or b64e(device.acct) != body.acct:
        raise ProtocolError(
            ErrorCode.UNKNOWN_DEVICE,
            f"device {body.dev} is not certified by account {body.acct} in space "
            f"{roster.space!r}",
        )
    if device.revoked_at is not None:
        raise ProtocolError(ErrorCode.DEVICE_REVOKED,
                            f"device {body.dev} was revoked at {device.revoked_at}")
    if device.acct not in roster.members:
        raise ProtocolError(ErrorCode.NOT_MEMBER,
                            f"account {body.acct} is not a member of space {roster.space!r}")
