"""hearth.crypto.{recovery,backup,identity_backup}: one recovery secret, wrong ones refused."""

from __future__ import annotations

import pytest

from hearth.crypto import backup, identity_backup
from hearth.crypto.recovery import Recovery
from hearth.crypto.sender_session import OutboundSession
from hearth.errors import ErrorCode
from tests.crypto._e2e import HOST, refused

ACCOUNT = bytes(range(32))
SESSIONS = [backup.BackedUpSession(HOST, "s", "c", bytes(32), OutboundSession.create(0).export())]


def test_key_backup_round_trip_generated_and_passphrase() -> None:
    for recovery in (Recovery.generate(),
                     Recovery.from_passphrase("pass phrase", iterations=1000)):
        blob = backup.seal(recovery, ACCOUNT, SESSIONS)
        assert backup.open(blob, recovery, ACCOUNT) == SESSIONS
        assert backup.recovery_params(blob) == (recovery.kind, recovery.iterations,
                                                recovery.salt)


def test_wrong_passphrase_wrong_key_other_account_or_tampering() -> None:
    recovery = Recovery.from_passphrase("right", iterations=1000)
    blob = backup.seal(recovery, ACCOUNT, SESSIONS)
    wrong = Recovery.from_passphrase("wrong", salt=recovery.salt, iterations=1000)
    assert refused(ErrorCode.WRONG_SECRET, backup.open, blob, wrong, ACCOUNT) == (
        "the passphrase or recovery key does not open this key backup (or the backup was "
        "altered)")
    refused(ErrorCode.WRONG_SECRET, backup.open, blob, recovery, bytes(32))
    refused(ErrorCode.WRONG_SECRET, backup.open, blob[:-1] + bytes([blob[-1] ^ 1]), recovery,
            ACCOUNT)
    assert "locked by a passphrase recovery secret" in refused(
        ErrorCode.WRONG_SECRET, backup.open, blob, Recovery.generate(), ACCOUNT)


def test_recovery_key_text_round_trip_and_typos() -> None:
    recovery = Recovery.generate()
    text = recovery.key_text()
    assert len(text.replace(" ", "")) == 55
    assert Recovery.from_key_text(text.upper().replace(" ", "-")) == recovery
    typo = ("b" if text[0] != "b" else "c") + text[1:]
    assert "has a typo" in refused(ErrorCode.BAD_KEY, Recovery.from_key_text, typo)
    assert "has 54 characters, not 55" in refused(ErrorCode.BAD_KEY, Recovery.from_key_text,
                                                  text[:-1])


def test_passphrases_are_nfkc_normalised() -> None:
    salt = bytes(16)
    composed = Recovery.from_passphrase("caf\u00e9", salt=salt, iterations=10)
    decomposed = Recovery.from_passphrase("cafe\u0301", salt=salt, iterations=10)
    assert composed == decomposed


def test_identity_backup_round_trip_and_wrong_passphrase() -> None:
    recovery = Recovery.generate()
    data = identity_backup.seal("long passphrase", bytes(32), recovery, iterations=1000)
    assert identity_backup.open(data, "long passphrase") == (bytes(32), recovery)
    assert refused(ErrorCode.WRONG_SECRET, identity_backup.open, data, "long passphras") == (
        "the passphrase does not open this identity backup (or the file was altered)")
    assert refused(ErrorCode.BAD_ENVELOPE, identity_backup.open, b"\x02" + data[1:], "x") == (
        "identity backup: version 2 is not 1")
    with pytest.raises(ValueError, match="31"):
        identity_backup.seal("p", bytes(31), recovery, iterations=1)


def test_a_file_asking_for_too_many_iterations_is_refused_before_any_work() -> None:
    recovery = Recovery.generate()
    data = identity_backup.seal("pass", bytes(32), recovery, iterations=1)
    hostile = data[:1] + (2**32 - 1).to_bytes(4, "big") + data[5:]
    assert "outside 1..10000000" in refused(ErrorCode.BAD_ENVELOPE, identity_backup.open,
                                            hostile, "pass")
    blob = backup.seal(Recovery.from_passphrase("pass", iterations=1), bytes(32), [])
    hostile_blob = blob[:2] + (2**32 - 1).to_bytes(4, "big") + blob[6:]
    assert "exceeds 10000000" in refused(ErrorCode.BAD_ENVELOPE, backup.recovery_params,
                                         hostile_blob)
