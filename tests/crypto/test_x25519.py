"""hearth.crypto.x25519 against RFC 7748, Wycheproof and the shared Hearth vectors."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.crypto import x25519
from hearth.errors import ErrorCode, ProtocolError
from tests.crypto._vectors import assert_known_flags, h, load, wycheproof, wycheproof_ids

RFC = load("rfc7748_x25519.json")
WP = "x25519_test.json"
SHARED = load("hearth_primitives.json")["x25519"]
ZERO = "00" * 32


def low_order(private: bytes, public: bytes) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        x25519.shared_secret(x25519.private_key_from_bytes(private), public)
    assert info.value.code is ErrorCode.LOW_ORDER_KEY
    return info.value


@pytest.mark.parametrize("case", RFC["scalar_mult"], ids=[c["name"] for c in RFC["scalar_mult"]])
def test_rfc7748_scalar_mult(case: dict[str, Any]) -> None:
    key = x25519.private_key_from_bytes(h(case["scalar"]))
    assert x25519.shared_secret(key, h(case["u"])).hex() == case["output"]


@pytest.mark.parametrize("case", RFC["iterated"], ids=[c["name"] for c in RFC["iterated"]])
def test_rfc7748_iterated(case: dict[str, Any]) -> None:
    k = u = bytes([9]) + bytes(31)
    for _ in range(case["iterations"]):
        k, u = x25519.shared_secret(x25519.private_key_from_bytes(k), u), k
    assert k.hex() == case["output"]


DH = RFC["diffie_hellman"]


@pytest.mark.parametrize("case", DH, ids=[c["name"] for c in DH])
def test_rfc7748_diffie_hellman(case: dict[str, Any]) -> None:
    alice = x25519.private_key_from_bytes(h(case["alice_private"]))
    bob = x25519.private_key_from_bytes(h(case["bob_private"]))
    assert x25519.public_key(alice).hex() == case["alice_public"]
    assert x25519.public_key(bob).hex() == case["bob_public"]
    assert x25519.shared_secret(alice, h(case["bob_public"])).hex() == case["shared"]
    assert x25519.shared_secret(bob, h(case["alice_public"])).hex() == case["shared"]


def test_wycheproof_flags_are_all_handled() -> None:
    match = "must match the expected shared secret"
    assert_known_flags(
        WP,
        {
            "Normal": match,
            "Ktv": match,
            "Twist": match + " (public keys on the twist are not refused by X25519)",
            "SpecialPublicKey": match,
            "SmallPublicKey": match,
            "NonCanonicalPublic": match + " (u >= p is reduced, as RFC 7748 says)",
            "EdgeCaseShared": match,
            "EdgeCaseMultiplication": match,
            "EdgeCasePrivateKey": match + " (the scalar is clamped)",
            "LowOrderPublic": "must be refused with low_order_key (all-zero shared secret)",
            "ZeroSharedSecret": "must be refused with low_order_key",
        },
    )


@pytest.mark.parametrize(("group", "case"), list(wycheproof(WP)), ids=wycheproof_ids(WP))
def test_wycheproof(group: dict[str, Any], case: dict[str, Any]) -> None:
    assert group["curve"] == "curve25519"
    assert case["result"] in ("valid", "acceptable")  # the file has no "invalid" case
    if case["shared"] == ZERO:
        # "acceptable" to compute, but our wrapper must refuse: RFC 7748 section 6.1.
        low_order(h(case["private"]), h(case["public"]))
    else:
        key = x25519.private_key_from_bytes(h(case["private"]))
        assert x25519.shared_secret(key, h(case["public"])).hex() == case["shared"]


@pytest.mark.parametrize("case", SHARED["agree"])
def test_shared_agree(case: dict[str, Any]) -> None:
    a = x25519.private_key_from_bytes(h(case["private_a"]))
    b = x25519.private_key_from_bytes(h(case["private_b"]))
    assert x25519.public_key(a).hex() == case["public_a"]
    assert x25519.public_key(b).hex() == case["public_b"]
    assert x25519.shared_secret(a, h(case["public_b"])).hex() == case["shared"]
    assert x25519.shared_secret(b, h(case["public_a"])).hex() == case["shared"]


@pytest.mark.parametrize("case", SHARED["reject"], ids=[c["public"][:8] for c in SHARED["reject"]])
def test_shared_reject(case: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as info:
        x25519.shared_secret(x25519.private_key_from_bytes(h(case["private"])), h(case["public"]))
    assert info.value.code == case["error"]


def test_generated_keys_agree() -> None:
    a, b = x25519.generate(), x25519.generate()
    shared = x25519.shared_secret(a, x25519.public_key(b))
    assert shared == x25519.shared_secret(b, x25519.public_key(a))
    assert len(shared) == 32 and shared != bytes(32)


@pytest.mark.parametrize("size", [0, 31, 33])
def test_wrong_public_key_size_is_bad_key(size: int) -> None:
    with pytest.raises(ProtocolError) as info:
        x25519.shared_secret(x25519.generate(), bytes([9]) * size)
    assert info.value.code is ErrorCode.BAD_KEY
