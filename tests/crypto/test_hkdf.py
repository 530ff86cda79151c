"""hearth.crypto.hkdf against RFC 5869, Wycheproof and the shared Hearth vectors."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.crypto import hkdf
from tests.crypto._vectors import assert_known_flags, h, load, wycheproof, wycheproof_ids

RFC = load("rfc5869_hkdf_sha256.json")["vectors"]
WP = "hkdf_sha256_test.json"
SHARED = load("hearth_primitives.json")["hkdf"]


@pytest.mark.parametrize("case", RFC, ids=[c["name"] for c in RFC])
def test_rfc5869(case: dict[str, Any]) -> None:
    ikm, salt, info = h(case["ikm"]), h(case["salt"]), h(case["info"])
    prk = hkdf.extract(salt, ikm)
    assert prk.hex() == case["prk"]
    assert hkdf.expand(prk, info, case["length"]).hex() == case["okm"]
    assert hkdf.hkdf(ikm, salt=salt, info=info, length=case["length"]).hex() == case["okm"]


def test_wycheproof_flags_are_all_handled() -> None:
    assert_known_flags(
        WP,
        {
            "Normal": "must match",
            "EmptySalt": "must match (empty salt = 32 zero bytes)",
            "MaximalOutputSize": "must match at 8160 bytes",
            "OutputCollision": "must match",
            "SizeTooLarge": "must be refused with ValueError",
        },
    )


@pytest.mark.parametrize(("group", "case"), list(wycheproof(WP)), ids=wycheproof_ids(WP))
def test_wycheproof(group: dict[str, Any], case: dict[str, Any]) -> None:
    ikm, salt, info, size = h(case["ikm"]), h(case["salt"]), h(case["info"]), case["size"]
    if case["result"] == "valid":
        assert hkdf.hkdf(ikm, salt=salt, info=info, length=size).hex() == case["okm"]
        assert hkdf.expand(hkdf.extract(salt, ikm), info, size).hex() == case["okm"]
    else:
        assert case["result"] == "invalid" and "SizeTooLarge" in case["flags"]
        with pytest.raises(ValueError, match="8160"):
            hkdf.hkdf(ikm, salt=salt, info=info, length=size)
        with pytest.raises(ValueError, match="8160"):
            hkdf.expand(hkdf.extract(salt, ikm), info, size)


@pytest.mark.parametrize("case", SHARED, ids=[f"{c['label']}-{c['length']}" for c in SHARED])
def test_shared_vectors(case: dict[str, Any]) -> None:
    ikm, salt, info = h(case["ikm"]), h(case["salt"]), h(case["info"])
    assert hkdf.extract(salt, ikm).hex() == case["prk"]
    assert hkdf.hkdf(ikm, salt=salt, info=info, length=case["length"]).hex() == case["okm"]


@pytest.mark.parametrize("length", [0, -1, 8161])
def test_refuses_impossible_lengths(length: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.8160"):
        hkdf.hkdf(b"k" * 32, salt=b"", info=b"", length=length)


def test_expand_refuses_a_short_prk() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        hkdf.expand(b"short", b"", 32)
