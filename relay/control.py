"""Control messages relays exchange about a host on ``ctl.<host>`` (never sent to peers)."""

from __future__ import annotations

import msgspec

from hearth.fields import Id, Key


class Control(msgspec.Struct, tag_field="k", forbid_unknown_fields=True):
    """Base of every control message."""


class HostUp(Control, tag="up"):
    """The host authenticated on connection ``by``: any other connection of it is replaced."""

    by: str


class HostDown(Control, tag="down"):
    """Connection ``by``, which served the host, is gone and nobody replaced it."""

    by: str


class RevokeGrant(Control, tag="revoke"):
    """The host revoked ``acct`` (or device ``dev``) in ``space`` (None: every space) for
    tokens issued at or before ``before`` (ms)."""

    before: int
    acct: Key | None = None
    dev: Key | None = None
    space: Id | None = None


ControlMessage = HostUp | HostDown | RevokeGrant
_decoder = msgspec.json.Decoder(ControlMessage)
_encoder = msgspec.json.Encoder()


def encode_control(message: Control) -> str:
    return _encoder.encode(message).decode("utf-8")


def decode_control(data: str) -> HostUp | HostDown | RevokeGrant:
    message: HostUp | HostDown | RevokeGrant = _decoder.decode(data)
    return message
