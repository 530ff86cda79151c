"""Why a message cannot be shown, in plain words: never an unexplained "unable to decrypt".

Invariant: every failure the E2E layer reports is one of these reasons, with the exact
sentence a user sees; ``retry`` says whether the client asks again by itself.
"""

from __future__ import annotations

from enum import Enum

from hearth.errors import ErrorCode, ProtocolError


class Reason(Enum):
    """(sentence shown to the user, whether the client retries by itself)."""

    BEFORE_JOIN = ("sent before you joined", False)
    BEFORE_DEVICE = ("sent before this device was added — restore your key backup", False)
    NOT_SHARED_YET = ("the sender's device has not shared its key yet — retrying", True)
    DEVICE_REMOVED = ("this device was removed", False)
    SENDER_DEVICE_REMOVED = ("sent from a device that had been removed", False)
    SENDER_REMOVED = ("sent after the sender was removed from the space", False)
    UNCERTIFIED_DEVICE = (
        "sent from a device the sender's account never approved — the host may be "
        "tampering", False)
    TAMPERED = ("the message was altered, or is not from its sender", False)
    REPLAY = ("a repeat of an earlier message, ignored", False)
    BAD_KEY_SHARED = ("the sender's device shared a key that does not open it", False)
    BAD_CONTENT = ("the message is not in a form Hearth can show", False)
    NOT_AUTHOR = ("an edit by someone other than the author, ignored", False)

    @property
    def text(self) -> str:
        return self.value[0]

    @property
    def retry(self) -> bool:
        return self.value[1]


class E2EError(Exception):
    """A message (or key) this device cannot use, with its reason and the detail."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.text} ({detail})")
        self.reason = reason
        self.detail = detail


_BY_CODE: dict[ErrorCode, Reason] = {
    ErrorCode.BAD_SIGNATURE: Reason.TAMPERED,
    ErrorCode.BAD_ENVELOPE: Reason.TAMPERED,
    ErrorCode.REPLAY: Reason.REPLAY,
    ErrorCode.INDEX_TOO_OLD: Reason.BEFORE_JOIN,
    ErrorCode.INDEX_TOO_FAR: Reason.TAMPERED,
    ErrorCode.DECRYPT_FAILED: Reason.BAD_KEY_SHARED,
    ErrorCode.BAD_CONTENT: Reason.BAD_CONTENT,
    ErrorCode.NOT_AUTHOR: Reason.NOT_AUTHOR,
}


def reason_for(exc: ProtocolError) -> E2EError:
    """The plain-words form of a crypto refusal."""
    return E2EError(_BY_CODE.get(exc.code, Reason.TAMPERED), f"{exc.code}: {exc.message}")
