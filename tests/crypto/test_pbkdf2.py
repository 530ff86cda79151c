"""hearth.crypto.pbkdf2 against Wycheproof and the shared Hearth vectors."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.crypto import pbkdf2
from tests.crypto._vectors import assert_known_flags, h, load, wycheproof, wycheproof_ids

WP = "pbkdf2_hmacsha256_test.json"
SHARED = load("hearth_primitives.json")["pbkdf2"]


def test_wycheproof_flags_are_all_handled() -> None:
    flags = ["Rfc7914", "Printable", "Pseudorandom", "Ascii", "Utf8", "NonUtf8"]
    assert_known_flags(WP, dict.fromkeys(flags, "must match: passwords are bytes"))


@pytest.mark.parametrize(("group", "case"), list(wycheproof(WP)), ids=wycheproof_ids(WP))
def test_wycheproof(group: dict[str, Any], case: dict[str, Any]) -> None:
    assert case["result"] == "valid"
    dk = pbkdf2.pbkdf2_sha256(
        h(case["password"]), h(case["salt"]), iterations=case["iterationCount"],
        length=case["dkLen"],
    )
    assert dk.hex() == case["dk"]


@pytest.mark.parametrize("case", SHARED, ids=[str(c["iterations"]) for c in SHARED])
def test_shared_vectors(case: dict[str, Any]) -> None:
    password = case["password_utf8"].encode("utf-8")
    assert password.hex() == case["password"]
    if case["iterations"] == pbkdf2.PASSPHRASE_ITERATIONS:
        dk = pbkdf2.pbkdf2_sha256(password, h(case["salt"]))  # the default is 600,000
    else:
        dk = pbkdf2.pbkdf2_sha256(
            password, h(case["salt"]), iterations=case["iterations"], length=case["length"]
        )
    assert dk.hex() == case["dk"]


def test_default_is_600k() -> None:
    assert pbkdf2.PASSPHRASE_ITERATIONS == 600_000


@pytest.mark.parametrize(("iterations", "length"), [(0, 32), (1, 0)])
def test_refuses_nonsense(iterations: int, length: int) -> None:
    with pytest.raises(ValueError):
        pbkdf2.pbkdf2_sha256(b"pw", b"salt", iterations=iterations, length=length)
