"""hearth.crypto.hpke against RFC 9180's vectors and the shared Hearth vectors."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.crypto import hpke, x25519
from hearth.errors import ErrorCode, ProtocolError
from tests.crypto._vectors import h, load

RFC = load("rfc9180_hpke_x25519_sha256_aes256gcm.json")["vectors"]
SHARED = load("hearth_primitives.json")["hpke"]


def check_case(case: dict[str, Any], *, check_secrets: bool = True) -> None:
    """Derive every key, rebuild both contexts, and reproduce every output of ``case``."""
    assert (case.get("kem_id", 0x20), case.get("kdf_id", 1), case.get("aead_id", 2)) == (
        hpke.KEM_ID, hpke.KDF_ID, hpke.AEAD_ID
    )
    mode, info = case["mode"], h(case["info"])
    sk_r = hpke.derive_key_pair(h(case["ikmR"]))
    sk_e = hpke.derive_key_pair(h(case["ikmE"]))
    assert x25519.private_key_bytes(sk_r).hex() == case["skRm"]
    assert x25519.public_key(sk_r).hex() == case["pkRm"]
    assert x25519.private_key_bytes(sk_e).hex() == case["skEm"]
    pk_r = h(case["pkRm"])
    if mode == hpke.MODE_BASE:
        shared, enc = hpke.encap(pk_r, ephemeral=sk_e)
        assert hpke.decap(enc, sk_r).hex() == case["shared_secret"]
        enc2, sender = hpke.setup_base_s(pk_r, info, ephemeral=sk_e)
        recipient = hpke.setup_base_r(enc, sk_r, info)
    else:
        assert mode == hpke.MODE_AUTH
        sk_s = hpke.derive_key_pair(h(case["ikmS"]))
        assert x25519.private_key_bytes(sk_s).hex() == case["skSm"]
        assert x25519.public_key(sk_s).hex() == case["pkSm"]
        pk_s = h(case["pkSm"])
        shared, enc = hpke.auth_encap(pk_r, sk_s, ephemeral=sk_e)
        assert hpke.auth_decap(enc, sk_r, pk_s).hex() == case["shared_secret"]
        enc2, sender = hpke.setup_auth_s(pk_r, info, sk_s, ephemeral=sk_e)
        recipient = hpke.setup_auth_r(enc, sk_r, info, pk_s)
    assert enc.hex() == enc2.hex() == case["enc"]
    assert shared.hex() == case["shared_secret"]
    if check_secrets:
        for ctx in (sender, recipient):
            assert ctx.keys.key.hex() == case["key"]
            assert ctx.keys.base_nonce.hex() == case["base_nonce"]
            assert ctx.keys.exporter_secret.hex() == case["exporter_secret"]
    for seq, e in enumerate(case["encryptions"]):
        if "nonce" in e:
            assert sender._nonce().hex() == e["nonce"]
        assert sender.seal(h(e["aad"]), h(e["pt"])).hex() == e["ct"]
        assert recipient.open(h(e["aad"]), h(e["ct"])).hex() == e["pt"]
        assert sender.seq == recipient.seq == seq + 1
    for x in case["exports"]:
        for ctx in (sender, recipient):
            assert ctx.export(h(x["exporter_context"]), x["L"]).hex() == x["exported_value"]


@pytest.mark.parametrize("case", RFC, ids=[f"mode{c['mode']}" for c in RFC])
def test_rfc9180(case: dict[str, Any]) -> None:
    assert len(case["encryptions"]) == 257 and len(case["exports"]) == 3
    check_case(case)


def test_rfc9180_key_schedule_context_and_secret() -> None:
    # Intermediate values the RFC also lists: recomputed from the labelled primitives.
    for case in RFC:
        psk_id_hash = hpke.labeled_extract(hpke.HPKE_SUITE_ID, b"", b"psk_id_hash", b"")
        info_hash = hpke.labeled_extract(hpke.HPKE_SUITE_ID, b"", b"info_hash", h(case["info"]))
        context = bytes([case["mode"]]) + psk_id_hash + info_hash
        assert context.hex() == case["key_schedule_context"]
        secret = hpke.labeled_extract(hpke.HPKE_SUITE_ID, h(case["shared_secret"]), b"secret", b"")
        assert secret.hex() == case["secret"]


@pytest.mark.parametrize("case", SHARED["seal"], ids=[f"mode{c['mode']}" for c in SHARED["seal"]])
def test_shared_seal(case: dict[str, Any]) -> None:
    assert h(case["info"]).decode() == load("hearth_primitives.json")["labels"][case["info_label"]]
    check_case(case)


@pytest.mark.parametrize("case", SHARED["reject"], ids=[c["why"] for c in SHARED["reject"]])
def test_shared_reject(case: dict[str, Any]) -> None:
    sk_r = x25519.private_key_from_bytes(h(case["skRm"]))
    args = (h(case["enc"]), sk_r, h(case["info"]), h(case["aad"]), h(case["ct"]))
    with pytest.raises(ProtocolError) as info:
        if case["mode"] == hpke.MODE_AUTH:
            hpke.open_auth(*args, h(case["pkSm"]))
        else:
            hpke.open_base(*args)
    assert info.value.code == case["error"]


def test_failed_open_does_not_advance_the_sequence() -> None:
    sk_r = hpke.generate_key_pair()
    enc, sender = hpke.setup_base_s(x25519.public_key(sk_r), b"info")
    recipient = hpke.setup_base_r(enc, sk_r, b"info")
    first, second = sender.seal(b"a", b"one"), sender.seal(b"a", b"two")
    with pytest.raises(ProtocolError) as info:
        recipient.open(b"a", second)  # out of order: wrong nonce
    assert info.value.code is ErrorCode.DECRYPT_FAILED
    assert recipient.seq == 0
    assert recipient.open(b"a", first) == b"one"
    assert recipient.open(b"a", second) == b"two"


def test_single_shot_round_trips_and_fresh_ephemerals() -> None:
    sk_r, sk_s = hpke.generate_key_pair(), hpke.generate_key_pair()
    pk_r, pk_s = x25519.public_key(sk_r), x25519.public_key(sk_s)
    enc1, ct1 = hpke.seal_base(pk_r, b"i", b"aad", b"hello")
    enc2, ct2 = hpke.seal_base(pk_r, b"i", b"aad", b"hello")
    assert enc1 != enc2 and ct1 != ct2
    assert hpke.open_base(enc1, sk_r, b"i", b"aad", ct1) == b"hello"
    enc, ct = hpke.seal_auth(pk_r, b"i", b"aad", b"hi", sk_s)
    assert hpke.open_auth(enc, sk_r, b"i", b"aad", ct, pk_s) == b"hi"
    with pytest.raises(ProtocolError) as info:
        hpke.open_auth(enc, sk_r, b"i", b"aad", ct, pk_r)  # wrong sender
    assert info.value.code is ErrorCode.DECRYPT_FAILED


def test_sequence_limit() -> None:
    sk_r = hpke.generate_key_pair()
    _, sender = hpke.setup_base_s(x25519.public_key(sk_r), b"")
    sender.seq = (1 << 96) - 2
    sender.seal(b"", b"last")
    with pytest.raises(OverflowError):
        sender.seal(b"", b"one too many")


def test_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        hpke.derive_key_pair(bytes(31))
    with pytest.raises(ValueError, match="modes base"):
        hpke.key_schedule(1, bytes(32), b"")
    _, sender = hpke.setup_base_s(x25519.public_key(hpke.generate_key_pair()), b"")
    with pytest.raises(ValueError, match="8160"):
        sender.export(b"", 8161)
