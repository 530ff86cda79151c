"""hearth.crypto.linking: the codes agree only without a man in the middle."""

from __future__ import annotations

from hearth.crypto import linking, x25519
from hearth.crypto.recovery import Recovery
from hearth.errors import ErrorCode
from tests.crypto._e2e import HOST, refused

SEED = bytes(range(32))


def test_honest_exchange_transfers_the_account() -> None:
    new, old = linking.NewDeviceLink(HOST, "abc"), linking.ExistingDeviceLink(HOST, "abc")
    m3 = new.on_reveal(old.on_commit(new.commit_message()))
    old.on_key(m3)
    assert old.code == new.code and len(old.code) == 8 and old.code.isdigit()
    recovery = Recovery.generate()
    m5 = old.transfer(True, new.confirm(f"{old.code[:4]} {old.code[4:]}"), SEED, recovery)
    assert new.on_secrets(m5) == (SEED, recovery)


def test_a_man_in_the_middle_gets_two_different_codes_and_nothing_secret() -> None:
    new, old = linking.NewDeviceLink(HOST, "abc"), linking.ExistingDeviceLink(HOST, "abc")
    to_old = linking.NewDeviceLink(HOST, "abc")    # the MITM, posing as the new device
    to_new = linking.ExistingDeviceLink(HOST, "abc")  # ...and as the existing one
    old.on_key(to_old.on_reveal(old.on_commit(to_old.commit_message())))
    to_new.on_key(new.on_reveal(to_new.on_commit(new.commit_message())))
    assert old.code == to_old.code and new.code == to_new.code
    assert old.code != new.code
    message = refused(ErrorCode.LINK_MISMATCH, new.confirm, old.code)
    assert "someone is in the middle" in message
    # The existing device's user never saw the new device accept: nothing is sent.
    refused(ErrorCode.LINK_MISMATCH, old.transfer, False, to_old.confirm(old.code), SEED,
            Recovery.generate())


def test_a_substituted_key_breaks_the_commitment() -> None:
    new, old = linking.NewDeviceLink(HOST, "abc"), linking.ExistingDeviceLink(HOST, "abc")
    old.on_commit(new.commit_message())
    substitute = b"\x03" + x25519.public_key(x25519.generate())
    assert "does not match its commitment" in refused(ErrorCode.LINK_MISMATCH, old.on_key,
                                                      substitute)


def test_answer_to_another_commitment_and_forged_confirmation() -> None:
    new, old = linking.NewDeviceLink(HOST, "abc"), linking.ExistingDeviceLink(HOST, "abc")
    racer = linking.NewDeviceLink(HOST, "abc")
    m2 = old.on_commit(racer.commit_message())
    assert "someone else used this link code" in refused(ErrorCode.LINK_MISMATCH,
                                                         new.on_reveal, m2)
    old.on_key(racer.on_reveal(m2))
    assert "confirmation does not match" in refused(
        ErrorCode.LINK_MISMATCH, old.transfer, True, b"\x04" + bytes(32), SEED,
        Recovery.generate())
    assert refused(ErrorCode.BAD_ENVELOPE, new.on_reveal, b"\x03" + bytes(64)) == (
        "link message 2: expected message type 2, got 3")


def test_only_ascii_digits_count_in_a_typed_code() -> None:
    new, old = linking.NewDeviceLink(HOST, "abc"), linking.ExistingDeviceLink(HOST, "abc")
    old.on_key(new.on_reveal(old.on_commit(new.commit_message())))
    # Superscript or full-width digits are not the digits shown: the code does not match.
    lookalike = old.code[:7] + chr(0xFF10 + int(old.code[7]))
    refused(ErrorCode.LINK_MISMATCH, new.confirm, lookalike)
    assert new.confirm(f" {old.code[:4]}-{old.code[4:]} ")
