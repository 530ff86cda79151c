"""Who a channel's messages are encrypted to, as the client verified it (``space.devices``).

Invariant: a device counts only if its certificate verifies under the account key it is
listed for and names that device; anything else the host lists is kept in
``uncertified`` (a host that adds a device to an existing user is detected, never
trusted). Revoked devices are kept, with the time of revocation, to judge old messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hearth.b64 import b64d
from hearth.errors import ProtocolError
from hearth.keys import DeviceCertificate


@dataclass(frozen=True, slots=True)
class Device:
    dev: bytes
    acct: bytes
    x25519: bytes
    created_at: int
    revoked_at: int | None


@dataclass(frozen=True, slots=True)
class Uncertified:
    """A device the host listed that its account never certified, and why."""

    acct: str
    dev: str
    why: str


@dataclass(slots=True)
class Roster:
    """One space's current members, departed accounts and every certified device."""

    space: str
    fetched_at: int
    members: dict[bytes, int] = field(default_factory=dict)
    """account -> joined_at"""
    departed: dict[bytes, int] = field(default_factory=dict)
    """account -> left_at"""
    devices: dict[bytes, Device] = field(default_factory=dict)
    uncertified: list[Uncertified] = field(default_factory=list)

    def recipients(self) -> set[bytes]:
        """Every unrevoked certified device of a current member."""
        return {d.dev for d in self.devices.values()
                if d.revoked_at is None and d.acct in self.members}


def _device(acct: bytes, entry: dict[str, Any]) -> Device:
    cert = DeviceCertificate.decode(str(entry["cert"]))
    if cert.account != acct:
        raise ValueError(f"its certificate is signed by account {cert.account.hex()}")
    if cert.device != b64d(str(entry["dev"]), field="dev", size=32):
        raise ValueError(f"its certificate is for device {cert.device.hex()}")
    revoked = entry.get("revoked_at")
    return Device(cert.device, acct, cert.device_x25519, int(entry["created_at"]),
                  None if revoked is None else int(revoked))


def verify_roster(space: str, listing: dict[str, Any], now_ms: int) -> Roster:
    """Check every certificate in a ``space.devices`` answer."""
    roster = Roster(space, now_ms)
    groups = [(m, True) for m in listing["members"]] + [(d, False) for d in listing["departed"]]
    for entry, current in groups:
        acct = b64d(str(entry["acct"]), field="acct", size=32)
        if current:
            roster.members[acct] = int(entry["joined_at"])
        else:
            roster.departed[acct] = int(entry["left_at"])
        for device in entry["devices"]:
            try:
                checked = _device(acct, device)
            except (ProtocolError, ValueError) as exc:
                roster.uncertified.append(Uncertified(str(entry["acct"]), str(device["dev"]),
                                                      str(exc)))
                continue
            roster.devices[checked.dev] = checked
    return roster
