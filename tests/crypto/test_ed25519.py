"""hearth.crypto.ed25519 against RFC 8032, Wycheproof and the shared Hearth vectors."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.crypto import ed25519
from hearth.errors import ErrorCode, ProtocolError
from tests.crypto._vectors import assert_known_flags, h, load, wycheproof, wycheproof_ids

RFC = load("rfc8032_ed25519.json")["vectors"]
WP = "ed25519_test.json"
SHARED = load("hearth_primitives.json")["ed25519"]


def refused(public: bytes, message: bytes, signature: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        ed25519.verify(public, message, signature)
    assert info.value.code is ErrorCode.BAD_SIGNATURE


@pytest.mark.parametrize("case", RFC, ids=[c["name"] for c in RFC])
def test_rfc8032(case: dict[str, Any]) -> None:
    key = ed25519.signing_key_from_seed(h(case["secret_key"]))
    assert ed25519.public_key(key).hex() == case["public_key"]
    assert ed25519.sign(key, h(case["message"])).hex() == case["signature"]
    ed25519.verify(h(case["public_key"]), h(case["message"]), h(case["signature"]))
    refused(h(case["public_key"]), h(case["message"]) + b"!", h(case["signature"]))


def test_wycheproof_flags_are_all_handled() -> None:
    refuse = "must be refused with bad_signature"
    assert_known_flags(
        WP,
        {
            "Valid": "must verify",
            "Ktv": "must verify",
            "TinkOverflow": "must verify",
            "InvalidSignature": refuse,
            "TruncatedSignature": refuse,
            "SignatureWithGarbage": refuse,
            "CompressedSignature": refuse,
            "InvalidEncoding": refuse,
            "SignatureMalleability": refuse + " (S >= L)",
            "InvalidKtv": refuse,
        },
    )


@pytest.mark.parametrize(("group", "case"), list(wycheproof(WP)), ids=wycheproof_ids(WP))
def test_wycheproof(group: dict[str, Any], case: dict[str, Any]) -> None:
    public, msg, sig = h(group["publicKey"]["pk"]), h(case["msg"]), h(case["sig"])
    if case["result"] == "valid":
        ed25519.verify(public, msg, sig)
    else:
        assert case["result"] == "invalid"
        refused(public, msg, sig)


@pytest.mark.parametrize("case", SHARED["sign"])
def test_shared_sign(case: dict[str, Any]) -> None:
    key = ed25519.signing_key_from_seed(h(case["seed"]))
    assert ed25519.public_key(key).hex() == case["public_key"]
    assert ed25519.sign(key, h(case["message"])).hex() == case["signature"]
    ed25519.verify(h(case["public_key"]), h(case["message"]), h(case["signature"]))


@pytest.mark.parametrize("case", SHARED["reject"], ids=[c["why"] for c in SHARED["reject"]])
def test_shared_reject(case: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as info:
        ed25519.verify(h(case["public_key"]), h(case["message"]), h(case["signature"]))
    assert info.value.code == case["error"] == ErrorCode.BAD_SIGNATURE


def test_generated_key_round_trip() -> None:
    key = ed25519.generate()
    ed25519.verify(ed25519.public_key(key), b"m", ed25519.sign(key, b"m"))
    refused(ed25519.public_key(key)[:31], b"m", ed25519.sign(key, b"m"))


def test_seed_size_is_checked() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        ed25519.signing_key_from_seed(bytes(31))
