"""The client's store of contacts' account keys: trust on first use, verified marks,
and a loud "key changed" when a contact's account key is not the one remembered.

Stored as a JSON file (mode 0600) when given a path. Invariant: a verified mark belongs
to one exact key; a changed key clears it and is reported, never silently accepted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import orjson

from hearth.b64 import b64d, b64e


class KeyStatus(Enum):
    NEW = "new"
    SAME = "same"
    CHANGED = "changed"


@dataclass(slots=True)
class Contact:
    account: bytes
    verified: bool = False
    previous: bytes | None = None


class TrustStore:
    """contact handle (how the user knows them) -> the account key trusted for it."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.contacts: dict[str, Contact] = {}
        if path is not None and path.exists():
            for handle, entry in orjson.loads(path.read_bytes()).items():
                previous = entry.get("previous")
                self.contacts[handle] = Contact(
                    b64d(entry["account"], field="account", size=32), bool(entry["verified"]),
                    None if previous is None else b64d(previous, field="previous", size=32))

    def observe(self, handle: str, account: bytes) -> KeyStatus:
        """Record ``account`` for ``handle``: NEW (trusted on first use), SAME, or CHANGED
        (the verified mark is cleared and the old key kept in ``previous``)."""
        known = self.contacts.get(handle)
        if known is None:
            self.contacts[handle] = Contact(account)
            status = KeyStatus.NEW
        elif known.account == account:
            return KeyStatus.SAME
        else:
            self.contacts[handle] = Contact(account, verified=False, previous=known.account)
            status = KeyStatus.CHANGED
        self._save()
        return status

    def mark_verified(self, handle: str, account: bytes) -> None:
        """After comparing safety numbers: only the key that was compared is marked."""
        known = self.contacts.get(handle)
        if known is None or known.account != account:
            raise ValueError(
                f"cannot verify {handle!r}: the key compared ({account.hex()}) is not the one "
                "on record; observe() it first"
            )
        known.verified = True
        self._save()

    def is_verified(self, handle: str, account: bytes) -> bool:
        known = self.contacts.get(handle)
        return known is not None and known.verified and known.account == account

    def _save(self) -> None:
        if self.path is None:
            return
        data = orjson.dumps({
            handle: {"account": b64e(c.account), "verified": c.verified,
                     "previous": None if c.previous is None else b64e(c.previous)}
            for handle, c in self.contacts.items()
        })
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle_file:
            handle_file.write(data)
