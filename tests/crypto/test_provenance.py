"""The RFC vector subsets under tests/vectors are verbatim copies of cryptography-vectors.

Skipped when the ``cryptography-vectors`` dev dependency is not installed; the vector files
themselves are committed, so every other test runs without it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.crypto._vectors import load

cryptography_vectors = pytest.importorskip("cryptography_vectors")
ROOT = Path(cryptography_vectors.__file__).resolve().parent


def test_hpke_subset_is_verbatim() -> None:
    upstream = json.loads((ROOT / "HPKE" / "test-vectors.json").read_text())
    wanted = [
        e for e in upstream
        if (e["kem_id"], e["kdf_id"], e["aead_id"]) == (0x20, 1, 2) and e["mode"] in (0, 2)
    ]
    assert load("rfc9180_hpke_x25519_sha256_aes256gcm.json")["vectors"] == wanted


def test_ed25519_subset_is_verbatim() -> None:
    lines = (ROOT / "asymmetric" / "Ed25519" / "sign.input").read_text().splitlines()
    ours = load("rfc8032_ed25519.json")["vectors"]
    for line, case in zip(lines[:3], ours[:3], strict=True):
        sk, pk, msg, sm, _ = line.split(":")
        assert (sk[:64], pk, msg, sm[:128]) == (
            case["secret_key"], case["public_key"], case["message"], case["signature"]
        )
    assert ours[3]["message"] == hashlib.sha512(b"abc").hexdigest()


def test_x25519_and_hkdf_subsets_are_verbatim() -> None:
    rfc7748 = (ROOT / "asymmetric" / "X25519" / "rfc7748.txt").read_text()
    for case in load("rfc7748_x25519.json")["scalar_mult"]:
        block = (
            f"INPUT_SCALAR = {case['scalar']}\n"
            f"INPUT_U = {case['u']}\n"
            f"OUTPUT_U = {case['output']}"
        )
        assert block in rfc7748
    rfc5869 = (ROOT / "KDF" / "rfc-5869-HKDF-SHA256.txt").read_text()
    for case in load("rfc5869_hkdf_sha256.json")["vectors"]:
        for field in ("ikm", "prk", "okm"):
            assert case[field] in rfc5869
