"""hearth.crypto.aead (AES-256-GCM) against Wycheproof and the shared Hearth vectors."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.crypto import aead
from hearth.errors import ErrorCode, ProtocolError
from tests.crypto._vectors import assert_known_flags, h, load, wycheproof, wycheproof_ids

WP = "aes_gcm_test.json"
SHARED = load("hearth_primitives.json")["aead"]


def test_wycheproof_file_holds_only_our_parameters() -> None:
    groups = load(f"wycheproof/{WP}")["testGroups"]
    assert {(g["keySize"], g["ivSize"], g["tagSize"]) for g in groups} == {(256, 96, 128)}
    assert_known_flags(
        WP,
        {
            "Ktv": "must match",
            "Pseudorandom": "must match",
            "SpecialCase": "must match",
            "ModifiedTag": "must be refused with decrypt_failed",
        },
    )


@pytest.mark.parametrize(("group", "case"), list(wycheproof(WP)), ids=wycheproof_ids(WP))
def test_wycheproof(group: dict[str, Any], case: dict[str, Any]) -> None:
    key, iv, aad, msg = h(case["key"]), h(case["iv"]), h(case["aad"]), h(case["msg"])
    sealed = h(case["ct"]) + h(case["tag"])
    if case["result"] == "valid":
        assert aead.seal(key, iv, msg, aad) == sealed
        assert aead.open(key, iv, sealed, aad) == msg
    else:
        assert case["result"] == "invalid"
        with pytest.raises(ProtocolError) as info:
            aead.open(key, iv, sealed, aad)
        assert info.value.code is ErrorCode.DECRYPT_FAILED


@pytest.mark.parametrize("case", SHARED["seal"])
def test_shared_seal(case: dict[str, Any]) -> None:
    key, nonce, aad, pt = h(case["key"]), h(case["nonce"]), h(case["aad"]), h(case["plaintext"])
    assert aead.seal(key, nonce, pt, aad).hex() == case["ciphertext"]
    assert aead.open(key, nonce, h(case["ciphertext"]), aad) == pt


@pytest.mark.parametrize("case", SHARED["reject"], ids=[c["why"] for c in SHARED["reject"]])
def test_shared_reject(case: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as info:
        aead.open(h(case["key"]), h(case["nonce"]), h(case["ciphertext"]), h(case["aad"]))
    assert info.value.code == case["error"] == ErrorCode.DECRYPT_FAILED


@pytest.mark.parametrize(("key", "nonce"), [(31, 12), (33, 12), (16, 12), (32, 11), (32, 16)])
def test_wrong_key_or_nonce_size_is_a_caller_bug(key: int, nonce: int) -> None:
    with pytest.raises(ValueError, match="bytes"):
        aead.seal(bytes(key), bytes(nonce), b"", b"")
    with pytest.raises(ValueError, match="bytes"):
        aead.open(bytes(key), bytes(nonce), bytes(16), b"")
