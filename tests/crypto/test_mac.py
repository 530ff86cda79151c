"""hearth.crypto.mac (HMAC-SHA256) against Wycheproof and the shared Hearth vectors."""

from __future__ import annotations

import hmac
from typing import Any

import pytest

from hearth.crypto import mac
from hearth.errors import ErrorCode, ProtocolError
from tests.crypto._vectors import assert_known_flags, h, load, wycheproof, wycheproof_ids

WP = "hmac_sha256_test.json"
SHARED = load("hearth_primitives.json")["hmac"]


def test_wycheproof_flags_are_all_handled() -> None:
    assert_known_flags(
        WP,
        {
            "Pseudorandom": "tag (or its truncation, tagSize 128) must match",
            "ModifiedTag": "tag must differ; full-size ones must be refused by hmac_sha256_verify",
        },
    )


@pytest.mark.parametrize(("group", "case"), list(wycheproof(WP)), ids=wycheproof_ids(WP))
def test_wycheproof(group: dict[str, Any], case: dict[str, Any]) -> None:
    key, msg, tag = h(case["key"]), h(case["msg"]), h(case["tag"])
    assert len(tag) * 8 == group["tagSize"]
    ours = mac.hmac_sha256(key, msg)[: len(tag)]
    if case["result"] == "valid":
        assert ours == tag
        if len(tag) == mac.TAG_SIZE:
            mac.hmac_sha256_verify(key, msg, tag)
    else:
        assert case["result"] == "invalid"
        assert not hmac.compare_digest(ours, tag)
        with pytest.raises(ProtocolError) as info:
            mac.hmac_sha256_verify(key, msg, tag)
        assert info.value.code is ErrorCode.BAD_SIGNATURE


@pytest.mark.parametrize("case", SHARED)
def test_shared_vectors(case: dict[str, Any]) -> None:
    key, msg = h(case["key"]), h(case["message"])
    assert mac.hmac_sha256(key, msg).hex() == case["tag"]
    mac.hmac_sha256_verify(key, msg, h(case["tag"]))


def test_verify_refuses_truncated_tags() -> None:
    tag = mac.hmac_sha256(b"k", b"m")
    with pytest.raises(ProtocolError) as info:
        mac.hmac_sha256_verify(b"k", b"m", tag[:16])
    assert info.value.code is ErrorCode.BAD_SIGNATURE
