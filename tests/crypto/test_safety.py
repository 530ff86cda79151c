"""hearth.crypto.safety: symmetric, 60 digits, and tied to the account keys only."""

from __future__ import annotations

from nacl.signing import SigningKey

from hearth.crypto import safety
from hearth.errors import ErrorCode
from tests.crypto._e2e import refused


def keys() -> tuple[bytes, bytes]:
    return bytes(SigningKey.generate().verify_key), bytes(SigningKey.generate().verify_key)


def test_same_on_both_sides_and_sixty_digits() -> None:
    a, b = keys()
    number = safety.safety_number(a, b)
    assert number == safety.safety_number(b, a) and len(number) == 60 and number.isdigit()
    assert len(safety.grouped(number).split()) == 12
    assert safety.qr_payload(a, b) == safety.qr_payload(b, a)
    safety.verify_qr(safety.qr_payload(b, a), a, b)


def test_a_changed_account_key_changes_number_and_qr() -> None:
    a, b = keys()
    c = bytes(SigningKey.generate().verify_key)
    assert safety.safety_number(a, b) != safety.safety_number(a, c)
    message = refused(ErrorCode.BAD_KEY, safety.verify_qr, safety.qr_payload(a, c), a, b)
    assert "do not trust this contact's key" in message
