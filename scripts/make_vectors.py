"""Write tests/vectors/hearth_primitives.json: Hearth's wrapper outputs, for both languages.

Run once (``.venv/bin/python scripts/make_vectors.py``) and commit the result; pytest
(tests/crypto/) and node (tests/js/) both load the file and must reproduce every output
byte for byte. Every input is derived from a fixed name, so rerunning writes the same file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from hearth.b64 import b64d, b64e
from hearth.crypto import aead, ed25519, hkdf, hpke, mac, pbkdf2, x25519
from hearth.crypto.labels import Label
from hearth.errors import ErrorCode, ProtocolError

OUT = Path(__file__).resolve().parent.parent / "tests" / "vectors" / "hearth_primitives.json"


def det(name: str, size: int) -> bytes:
    """``size`` deterministic bytes named ``name`` (SHA-256 in counter mode)."""
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"hearth test vector/{name}/{counter}".encode()).digest()
        counter += 1
    return out[:size]


def refusal(fn: Any, *args: Any) -> str:
    try:
        fn(*args)
    except ProtocolError as e:
        return str(e.code)
    raise AssertionError(f"{fn.__name__}{args!r} was accepted")


def base64url() -> dict[str, Any]:
    encode = [
        {"bytes": det(f"b64/{n}", n).hex(), "text": b64e(det(f"b64/{n}", n))} for n in range(7)
    ]
    encode.append({"bytes": "fbff", "text": "-_8"})
    # Each of these is refused by hearth.b64.b64d: padding, the standard alphabet,
    # non-zero spare bits, an impossible length, a stray character.
    reject = ["AA==", "AA=", "+_8", "-/8", "-_9", "A", "AAAAA", "AA AA", "AA\n", "é"]
    for text in reject:
        assert refusal(b64d, text) == ErrorCode.BAD_FRAME, text
    return {"encode": encode, "reject": reject}


def hkdf_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for label in Label:
        if not label.name.startswith("HKDF_"):
            continue
        ikm, salt = det(f"hkdf/{label.name}/ikm", 32), det(f"hkdf/{label.name}/salt", 32)
        for length in (32, 44, 64):
            cases.append(
                {
                    "label": label.name,
                    "ikm": ikm.hex(),
                    "salt": salt.hex(),
                    "info": label.value.hex(),
                    "length": length,
                    "prk": hkdf.extract(salt, ikm).hex(),
                    "okm": hkdf.hkdf(ikm, salt=salt, info=label.value, length=length).hex(),
                }
            )
    ikm = det("hkdf/empty-salt", 32)
    cases.append(
        {
            "label": None,
            "ikm": ikm.hex(),
            "salt": "",
            "info": "",
            "length": 32,
            "prk": hkdf.extract(b"", ikm).hex(),
            "okm": hkdf.hkdf(ikm, salt=b"", info=b"", length=32).hex(),
        }
    )
    return cases


def hmac_cases() -> list[dict[str, Any]]:
    cases = []
    for key_size, msg_size in ((32, 0), (32, 1), (32, 100), (0, 5), (100, 33)):
        key, msg = det(f"hmac/{key_size}/key", key_size), det(f"hmac/{msg_size}/msg", msg_size)
        tag = mac.hmac_sha256(key, msg)
        cases.append({"key": key.hex(), "message": msg.hex(), "tag": tag.hex()})
    return cases


def pbkdf2_cases() -> list[dict[str, Any]]:
    cases = []
    for password, iterations, length in (
        ("correct horse battery staple", 1000, 32),
        ("pässwörd ✓ 🔑", 1000, 64),
        ("", 1, 32),
        ("default iterations", pbkdf2.PASSPHRASE_ITERATIONS, 32),
    ):
        salt = det(f"pbkdf2/{password}/salt", 16)
        dk = pbkdf2.pbkdf2_sha256(password.encode(), salt, iterations=iterations, length=length)
        cases.append(
            {
                "password_utf8": password,
                "password": password.encode().hex(),
                "salt": salt.hex(),
                "iterations": iterations,
                "length": length,
                "dk": dk.hex(),
            }
        )
    return cases


def aead_cases() -> dict[str, Any]:
    seal = []
    for n, (pt_size, aad_size) in enumerate(((0, 0), (1, 0), (16, 13), (100, 64), (0, 32))):
        key, nonce = det(f"aead/{n}/key", 32), det(f"aead/{n}/nonce", 12)
        pt, aad = det(f"aead/{n}/pt", pt_size), det(f"aead/{n}/aad", aad_size)
        ct = aead.seal(key, nonce, pt, aad)
        assert aead.open(key, nonce, ct, aad) == pt
        seal.append(
            {"key": key.hex(), "nonce": nonce.hex(), "aad": aad.hex(), "plaintext": pt.hex(),
             "ciphertext": ct.hex()}
        )
    base = seal[2]
    key, nonce, aad = (bytes.fromhex(base[k]) for k in ("key", "nonce", "aad"))
    ct = bytes.fromhex(base["ciphertext"])
    flipped_ct = bytes([ct[0] ^ 1]) + ct[1:]
    flipped_tag = ct[:-1] + bytes([ct[-1] ^ 0x80])
    bad = [
        ("flipped ciphertext bit", key, nonce, aad, flipped_ct),
        ("flipped tag bit", key, nonce, aad, flipped_tag),
        ("truncated tag", key, nonce, aad, ct[:-1]),
        ("shorter than a tag", key, nonce, aad, ct[:15]),
        ("other AAD", key, nonce, aad + b"\x00", ct),
        ("other nonce", key, bytes([nonce[0] ^ 1]) + nonce[1:], aad, ct),
        ("other key", det("aead/other-key", 32), nonce, aad, ct),
    ]
    reject = [
        {"why": why, "key": k.hex(), "nonce": n.hex(), "aad": a.hex(), "ciphertext": c.hex(),
         "error": refusal(aead.open, k, n, c, a)}
        for why, k, n, a, c in bad
    ]
    return {"seal": seal, "reject": reject}


def ed25519_cases() -> dict[str, Any]:
    sign = []
    for n, size in enumerate((0, 1, 64, 1000)):
        seed, msg = det(f"ed25519/{n}/seed", 32), det(f"ed25519/{n}/msg", size)
        key = ed25519.signing_key_from_seed(seed)
        sign.append(
            {"seed": seed.hex(), "public_key": ed25519.public_key(key).hex(), "message": msg.hex(),
             "signature": ed25519.sign(key, msg).hex()}
        )
    first = sign[2]
    pk, msg, sig = (bytes.fromhex(first[k]) for k in ("public_key", "message", "signature"))
    bad = [
        ("other message", pk, msg + b"\x00", sig),
        ("flipped R bit", pk, msg, bytes([sig[0] ^ 1]) + sig[1:]),
        ("flipped S bit", pk, msg, sig[:40] + bytes([sig[40] ^ 1]) + sig[41:]),
        ("other key", bytes.fromhex(sign[0]["public_key"]), msg, sig),
        ("truncated signature", pk, msg, sig[:63]),
    ]
    reject = [
        {"why": why, "public_key": p.hex(), "message": m.hex(), "signature": s.hex(),
         "error": refusal(ed25519.verify, p, m, s)}
        for why, p, m, s in bad
    ]
    return {"sign": sign, "reject": reject}


def x25519_cases() -> dict[str, Any]:
    agree = []
    for n in range(3):
        a = x25519.private_key_from_bytes(det(f"x25519/{n}/a", 32))
        b = x25519.private_key_from_bytes(det(f"x25519/{n}/b", 32))
        shared = x25519.shared_secret(a, x25519.public_key(b))
        assert shared == x25519.shared_secret(b, x25519.public_key(a))
        agree.append(
            {"private_a": x25519.private_key_bytes(a).hex(), "public_a": x25519.public_key(a).hex(),
             "private_b": x25519.private_key_bytes(b).hex(), "public_b": x25519.public_key(b).hex(),
             "shared": shared.hex()}
        )
    p = 2**255 - 19
    low_order = [0, 1, p - 1, p, p + 1,
                 325606250916557431795983626356110631294008115727848805560023387167927233504,
                 39382357235489614581723060781553021112529911719440698176882885853963445705823]
    me = x25519.private_key_from_bytes(det("x25519/low-order", 32))
    reject = [
        {"private": x25519.private_key_bytes(me).hex(), "public": u.to_bytes(32, "little").hex(),
         "error": refusal(x25519.shared_secret, me, u.to_bytes(32, "little"))}
        for u in low_order
    ]
    reject.append({"private": x25519.private_key_bytes(me).hex(), "public": "09" * 31,
                   "error": refusal(x25519.shared_secret, me, bytes([9] * 31))})
    return {"agree": agree, "reject": reject}


def hpke_cases() -> dict[str, Any]:
    cases = []
    modes = ((hpke.MODE_BASE, Label.HPKE_KEY_SHARE), (hpke.MODE_AUTH, Label.HPKE_DEVICE_LINK))
    for mode, label in modes:
        ikm_r, ikm_e, ikm_s = (det(f"hpke/{mode}/{who}", 32) for who in ("ikmR", "ikmE", "ikmS"))
        sk_r, sk_e, sk_s = (hpke.derive_key_pair(i) for i in (ikm_r, ikm_e, ikm_s))
        pk_r, pk_s = x25519.public_key(sk_r), x25519.public_key(sk_s)
        info = label.value
        if mode == hpke.MODE_BASE:
            shared, enc = hpke.encap(pk_r, ephemeral=sk_e)
            enc2, ctx = hpke.setup_base_s(pk_r, info, ephemeral=sk_e)
        else:
            shared, enc = hpke.auth_encap(pk_r, sk_s, ephemeral=sk_e)
            enc2, ctx = hpke.setup_auth_s(pk_r, info, sk_s, ephemeral=sk_e)
        assert enc2 == enc
        encryptions = []
        for n, (pt_size, aad_size) in enumerate(((32, 0), (0, 16), (200, 5))):
            pt, aad = det(f"hpke/{mode}/pt/{n}", pt_size), det(f"hpke/{mode}/aad/{n}", aad_size)
            encryptions.append({"aad": aad.hex(), "pt": pt.hex(), "ct": ctx.seal(aad, pt).hex()})
        exports = [
            {"exporter_context": c.hex(), "L": size, "exported_value": ctx.export(c, size).hex()}
            for c, size in ((b"", 32), (b"hearth/v1/test-export", 16), (b"\x00", 64))
        ]
        case: dict[str, Any] = {
            "mode": mode,
            "info_label": label.name,
            "info": info.hex(),
            "ikmR": ikm_r.hex(),
            "ikmE": ikm_e.hex(),
            "skRm": x25519.private_key_bytes(sk_r).hex(),
            "pkRm": pk_r.hex(),
            "skEm": x25519.private_key_bytes(sk_e).hex(),
            "enc": enc.hex(),
            "shared_secret": shared.hex(),
            "key": ctx.keys.key.hex(),
            "base_nonce": ctx.keys.base_nonce.hex(),
            "exporter_secret": ctx.keys.exporter_secret.hex(),
            "encryptions": encryptions,
            "exports": exports,
        }
        if mode == hpke.MODE_AUTH:
            case |= {"ikmS": ikm_s.hex(), "skSm": x25519.private_key_bytes(sk_s).hex(),
                     "pkSm": pk_s.hex()}
        cases.append(case)

    base, auth = cases
    sk_r_base = hpke.derive_key_pair(bytes.fromhex(base["ikmR"]))
    sk_r_auth = hpke.derive_key_pair(bytes.fromhex(auth["ikmR"]))
    enc_b, ct_b = bytes.fromhex(base["enc"]), bytes.fromhex(base["encryptions"][0]["ct"])
    enc_a, ct_a = bytes.fromhex(auth["enc"]), bytes.fromhex(auth["encryptions"][0]["ct"])
    info_b, info_a = bytes.fromhex(base["info"]), bytes.fromhex(auth["info"])
    pk_s = bytes.fromhex(auth["pkSm"])
    stranger = x25519.public_key(hpke.derive_key_pair(det("hpke/stranger", 32)))
    flipped = bytes([ct_b[0] ^ 1]) + ct_b[1:]
    bad: list[tuple[str, int, bytes, bytes, bytes, bytes, bytes | None]] = [
        ("flipped ciphertext bit", 0, enc_b, info_b, b"", flipped, None),
        ("other info", 0, enc_b, info_a, b"", ct_b, None),
        ("other AAD", 0, enc_b, info_b, b"x", ct_b, None),
        ("other enc", 0, enc_a, info_b, b"", ct_b, None),
        ("low-order enc", 0, bytes(32), info_b, b"", ct_b, None),
        ("short enc", 0, enc_b[:31], info_b, b"", ct_b, None),
        ("auth: other sender key", 2, enc_a, info_a, b"", ct_a, stranger),
        ("auth: opened as base", 0, enc_a, info_a, b"", ct_a, None),
    ]
    reject = []
    for why, mode, enc, info, aad, ct, sender in bad:
        sk_r = sk_r_base if enc is not enc_a else sk_r_auth
        if mode == hpke.MODE_AUTH:
            assert sender is not None
            error = refusal(hpke.open_auth, enc, sk_r, info, aad, ct, sender)
        else:
            error = refusal(hpke.open_base, enc, sk_r, info, aad, ct)
        reject.append(
            {"why": why, "mode": mode, "skRm": x25519.private_key_bytes(sk_r).hex(),
             "enc": enc.hex(), "info": info.hex(), "aad": aad.hex(), "ct": ct.hex(),
             "pkSm": sender.hex() if sender else None, "error": error}
        )
    assert {r["error"] for r in reject} == {
        ErrorCode.DECRYPT_FAILED, ErrorCode.LOW_ORDER_KEY, ErrorCode.BAD_KEY
    }
    return {"seal": cases, "reject": reject}


def build() -> dict[str, Any]:
    return {
        "about": "Hearth's crypto wrappers on fixed inputs; made by scripts/make_vectors.py. "
        "Bytes are lowercase hex. tests/crypto (Python) and tests/js (WebCrypto) must "
        "reproduce every output and every refusal (with its error code).",
        "labels": {label.name: label.value.decode("ascii") for label in Label},
        "base64url": base64url(),
        "hkdf": hkdf_cases(),
        "hmac": hmac_cases(),
        "pbkdf2": pbkdf2_cases(),
        "aead": aead_cases(),
        "ed25519": ed25519_cases(),
        "x25519": x25519_cases(),
        "hpke": hpke_cases(),
    }


def main() -> None:
    OUT.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
