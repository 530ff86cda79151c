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


# ---- tests/vectors/hearth_e2e.json: the end-to-end formats (docs/security.md) -------

E2E_OUT = OUT.parent / "hearth_e2e.json"
E2E_HOST = "7n7ajzh3xjt6mbqzpsqxwrdgdz7ln2fd3uyxkp7qd5mwdyxzw3ga5eaq"
E2E_SPACE, E2E_CHAN = "space-one", "chan-general"


def _seed_key(name: str) -> Any:
    return ed25519.signing_key_from_seed(det(f"e2e/{name}/seed", 32))


def e2e_ratchet() -> dict[str, Any]:
    from hearth.crypto.sender_session import (
        SessionKey,
        message_keys,
        next_chain_key,
        ratchet_to,
    )

    chain = det("e2e/ratchet/c0", 32)
    steps = []
    for index in range(4):
        keys = message_keys(chain)
        steps.append({"index": index, "chain_key": chain.hex(), "message_key": keys.key.hex(),
                      "nonce": keys.nonce.hex()})
        chain = next_chain_key(chain)
    key = SessionKey(det("e2e/ratchet/sid", 16), 7, det("e2e/ratchet/c7", 32))
    return {"steps": steps, "session_key": {"session_id": key.session_id.hex(), "index": 7,
                                            "chain_key": key.chain_key.hex(),
                                            "bytes": key.to_bytes().hex()},
            "ratchet_to": {"index": 12, "bytes": ratchet_to(key, 12).to_bytes().hex()},
            "reject": [{"why": why, "bytes": raw.hex(),
                        "error": refusal(SessionKey.from_bytes, raw)}
                       for why, raw in (("version 2", b"\x02" + key.to_bytes()[1:]),
                                        ("truncated", key.to_bytes()[:-1]),
                                        ("one byte too long", key.to_bytes() + b"\x00"))]}


def e2e_prekeys() -> list[dict[str, Any]]:
    from hearth.crypto.prekeys import Kind, make_prekey

    device = _seed_key("device-bob")
    cases = []
    for kind, key_id in ((Kind.SIGNED, 1), (Kind.ONE_TIME, 2), (Kind.ONE_TIME, 4294967295)):
        private = x25519.private_key_from_bytes(det(f"e2e/prekey/{kind}/{key_id}", 32))
        prekey = make_prekey(device, kind, key_id, 1_700_000_000_000 + key_id, private)
        cases.append({"device_seed": det("e2e/device-bob/seed", 32).hex(),
                      "device": ed25519.public_key(device).hex(), "kind": int(kind),
                      "key_id": key_id, "private": x25519.private_key_bytes(private).hex(),
                      "created_at": prekey.created_at, "bytes": prekey.to_bytes().hex()})
    return cases


def e2e_prekey_rejects() -> list[dict[str, Any]]:
    """Refusals of Prekey.from_bytes: forged, moved to another device, malformed."""
    from hearth.crypto.prekeys import Prekey

    good = bytes.fromhex(e2e_prekeys()[1]["bytes"])
    bob, alice = (ed25519.public_key(_seed_key(who)) for who in ("device-bob", "device-alice"))
    bad = [
        ("claimed for another device", good, alice),
        ("flipped public key bit", good[:10] + bytes([good[10] ^ 1]) + good[11:], bob),
        ("flipped key id bit", good[:5] + bytes([good[5] ^ 1]) + good[6:], bob),
        ("flipped signature bit", good[:-1] + bytes([good[-1] ^ 1]), bob),
        ("kind 3", good[:1] + b"\x03" + good[2:], bob),
        ("version 2", b"\x02" + good[1:], bob),
        ("truncated", good[:-1], bob),
        ("one byte too long", good + b"\x00", bob),
    ]
    return [{"why": why, "bytes": raw.hex(), "device": device.hex(),
             "error": refusal(Prekey.from_bytes, raw, device)} for why, raw, device in bad]


def e2e_envelopes() -> dict[str, Any]:
    from hearth.crypto import envelope
    from hearth.crypto.sender_session import InboundSession, OutboundSession

    device = _seed_key("device-alice")
    sid, c0 = det("e2e/envelope/sid", 16), det("e2e/envelope/c0", 32)
    session = OutboundSession.create(0, session_id=sid, chain_key=c0)
    seal = []
    for n, size in enumerate((0, 11, 300)):
        place = envelope.Place(E2E_HOST, E2E_SPACE, E2E_CHAN, f"msg-{n}")
        plaintext, sent_at = det(f"e2e/envelope/pt/{n}", size), 1_700_000_000_000 + n
        env = envelope.seal(device, session, place, plaintext, sent_at)
        seal.append({"msg_id": place.msg_id, "sent_at": sent_at, "plaintext": plaintext.hex(),
                     "aad": (env[:envelope.HEADER_SIZE] + place.to_bytes()).hex(),
                     "envelope": env.hex()})
    base = bytes.fromhex(seal[1]["envelope"])

    def flip(data: bytes, at: int) -> bytes:
        return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]

    bad = [
        ("flipped ciphertext bit", flip(base, envelope.HEADER_SIZE + 2), {}),
        ("flipped tag bit", flip(base, len(base) - 65), {}),
        ("flipped signature bit", flip(base, len(base) - 1), {}),
        ("flipped index (header)", flip(base, 52), {}),
        ("flipped sent_at (header)", flip(base, 60), {}),
        ("other sender in header", base[:1] + ed25519.public_key(_seed_key("device-bob"))
         + base[33:], {}),
        ("other host", base, {"host": E2E_HOST[:-1] + "b"}),
        ("other space", base, {"space": "space-two"}),
        ("other channel", base, {"chan": "chan-random"}),
        ("other message id", base, {"msg_id": "msg-9"}),
        ("truncated", base[:envelope.OVERHEAD - 1], {}),
        ("version 2", b"\x02" + base[1:], {}),
    ]
    reject = []
    for why, env, moved in bad:
        place = {"host": E2E_HOST, "space": E2E_SPACE, "chan": E2E_CHAN, "msg_id": "msg-1"} | moved
        inbound = InboundSession(sid, 0, c0)

        def attempt(env: bytes = env, place: dict[str, str] = place,
                    inbound: InboundSession = inbound) -> None:
            envelope.open(envelope.parse(env), envelope.Place(**place), inbound)

        reject.append({"why": why, "envelope": env.hex(), "place": place,
                       "error": refusal(attempt)})
    return {"device_seed": det("e2e/device-alice/seed", 32).hex(),
            "device": ed25519.public_key(device).hex(), "host": E2E_HOST, "space": E2E_SPACE,
            "chan": E2E_CHAN, "session_id": sid.hex(), "chain_key": c0.hex(), "seal": seal,
            "reject": reject, "session_reject": e2e_session_rejects(device, sid, c0, seal)}


def e2e_session_rejects(device: Any, sid: bytes, c0: bytes,
                        seal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Refusals that need a validly signed envelope: each case opens ``envelopes`` in order
    with one inbound session made from ``session_key``; all but the last open."""
    from hearth.crypto import envelope
    from hearth.crypto.sender_session import (
        InboundSession,
        OutboundSession,
        SessionKey,
        ratchet_to,
    )

    start = SessionKey(sid, 0, c0)
    # The sender reuses index 1 for another message id (a broken or malicious sender):
    # the receiver must not open a second message under one index.
    again = OutboundSession(sid, 1, ratchet_to(start, 1).chain_key, 0)
    place = envelope.Place(E2E_HOST, E2E_SPACE, E2E_CHAN, "msg-1-again")
    reused = envelope.seal(device, again, place, b"second message, same index", 1_700_000_000_009)
    far = OutboundSession(sid, 10_001, ratchet_to(start, 10_001).chain_key, 0)
    far_place = envelope.Place(E2E_HOST, E2E_SPACE, E2E_CHAN, "msg-far")
    far_env = envelope.seal(device, far, far_place, b"far ahead", 1_700_000_000_010)
    cases = [
        ("index reused under another message id", start,
         [("msg-1", bytes.fromhex(seal[1]["envelope"])), ("msg-1-again", reused)]),
        ("index before the earliest held (sent before you joined)", ratchet_to(start, 2),
         [("msg-1", bytes.fromhex(seal[1]["envelope"]))]),
        ("index more than 10,000 steps ahead", start, [("msg-far", far_env)]),
    ]
    out = []
    for why, key, envelopes in cases:
        inbound = InboundSession.from_key(key)
        for msg_id, env in envelopes[:-1]:
            envelope.open(envelope.parse(env), envelope.Place(E2E_HOST, E2E_SPACE, E2E_CHAN,
                                                               msg_id), inbound)
        last_id, last = envelopes[-1]
        last_place = envelope.Place(E2E_HOST, E2E_SPACE, E2E_CHAN, last_id)
        out.append({"why": why, "session_key": key.to_bytes().hex(),
                    "envelopes": [{"msg_id": m, "envelope": e.hex()} for m, e in envelopes],
                    "error": refusal(envelope.open, envelope.parse(last), last_place,
                                     inbound)})
    return out


def e2e_key_share() -> dict[str, Any]:
    from hearth.crypto import key_share
    from hearth.crypto.prekeys import Kind, make_prekey
    from hearth.crypto.sender_session import SessionKey

    sender, recipient = _seed_key("device-alice"), _seed_key("device-bob")
    cases = []
    for kind in (Kind.ONE_TIME, Kind.SIGNED):
        private = x25519.private_key_from_bytes(det(f"e2e/share/prekey/{kind}", 32))
        prekey = make_prekey(recipient, kind, 5, 1_700_000_000_000, private)
        ephemeral = x25519.private_key_from_bytes(det(f"e2e/share/eph/{kind}", 32))
        key = SessionKey(det("e2e/share/sid", 16), 3, det("e2e/share/ck", 32))
        place = key_share.ChannelPlace(E2E_HOST, E2E_SPACE, E2E_CHAN)
        share = key_share.seal(sender, ed25519.public_key(recipient), prekey, place, key,
                               ephemeral=ephemeral)
        cases.append({"kind": int(kind), "prekey_id": 5,
                      "prekey_private": x25519.private_key_bytes(private).hex(),
                      "prekey": prekey.to_bytes().hex(),
                      "ephemeral": x25519.private_key_bytes(ephemeral).hex(),
                      "session_key": key.to_bytes().hex(),
                      "aad": (share[:key_share.HEADER_SIZE] + place.to_bytes()).hex(),
                      "share": share.hex()})
    return {"sender_seed": det("e2e/device-alice/seed", 32).hex(),
            "sender": ed25519.public_key(sender).hex(),
            "recipient_seed": det("e2e/device-bob/seed", 32).hex(),
            "recipient": ed25519.public_key(recipient).hex(), "host": E2E_HOST,
            "space": E2E_SPACE, "chan": E2E_CHAN, "cases": cases,
            "reject": e2e_key_share_rejects(cases[0])}


def e2e_key_share_rejects(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Refusals of key_share.open, in the order it checks. ``held`` is the private prekey
    the recipient holds for the share's (kind, id), or null for none."""
    from hearth.crypto import key_share

    alice = ed25519.public_key(_seed_key("device-alice"))
    bob = ed25519.public_key(_seed_key("device-bob"))
    good, held = bytes.fromhex(case["share"]), case["prekey_private"]
    other_held = det("e2e/share/prekey/other", 32).hex()

    def flip(at: int) -> bytes:
        return good[:at] + bytes([good[at] ^ 1]) + good[at + 1:]

    place = {"host": E2E_HOST, "space": E2E_SPACE, "chan": E2E_CHAN}
    bad: list[tuple[str, bytes, bytes, dict[str, str], str | None]] = [
        ("opened by another device", good, alice, place, held),
        ("recipient in header swapped", good[:38] + alice + good[70:], alice, place, held),
        ("sender in header swapped", good[:6] + bob + good[38:], bob, place, held),
        ("flipped prekey id (header)", flip(5), bob, place, held),
        ("flipped enc bit", flip(key_share.HEADER_SIZE + 1), bob, place, held),
        ("flipped ciphertext bit", flip(key_share.HEADER_SIZE + 40), bob, place, held),
        ("flipped signature bit", flip(len(good) - 1), bob, place, held),
        ("other host", good, bob, place | {"host": E2E_HOST[:-1] + "b"}, held),
        ("other space", good, bob, place | {"space": "space-two"}, held),
        ("other channel", good, bob, place | {"chan": "chan-random"}, held),
        ("prekey not held (one-time prekey already used)", good, bob, place, None),
        ("another private key held under that prekey id", good, bob, place, other_held),
        ("kind 3", good[:1] + b"\x03" + good[2:], bob, place, held),
        ("version 2", b"\x02" + good[1:], bob, place, held),
        ("truncated", good[:-1], bob, place, held),
        ("one byte too long", good + b"\x00", bob, place, held),
    ]
    out = []
    for why, raw, me, where, private in bad:
        key = None if private is None else x25519.private_key_from_bytes(bytes.fromhex(private))
        out.append({"why": why, "share": raw.hex(), "me": me.hex(), "place": where,
                    "held": private,
                    "error": refusal(key_share.open, raw, me,
                                     key_share.ChannelPlace(**where),
                                     lambda kind, key_id, key=key: key)})
    return out


def e2e_backups() -> dict[str, Any]:
    from hearth.crypto import backup, identity_backup
    from hearth.crypto.recovery import Recovery
    from hearth.crypto.sender_session import SessionKey

    account = ed25519.public_key(_seed_key("account-alice"))
    sessions = [backup.BackedUpSession(E2E_HOST, E2E_SPACE, E2E_CHAN,
                                       ed25519.public_key(_seed_key(f"device-{who}")),
                                       SessionKey(det(f"e2e/backup/sid/{who}", 16), n,
                                                  det(f"e2e/backup/ck/{who}", 32)))
                for n, who in enumerate(("alice", "bob"))]
    generated = Recovery.generate(secret=det("e2e/recovery/generated", 32))
    passphrase = Recovery.from_passphrase("pässwörd ✓", salt=det("e2e/recovery/salt", 16),
                                          iterations=1000)
    keys = []
    for recovery in (generated, passphrase):
        blob = backup.seal(recovery, account, sessions,
                           nonce=det(f"e2e/backup/nonce/{recovery.kind}", 12))
        keys.append({"recovery": recovery.to_bytes().hex(),
                     "backup_key": backup.backup_key(recovery).hex(), "blob": blob.hex()})
    seed = det("e2e/account-alice/seed", 32)
    identity = identity_backup.seal("correct horse ✓", seed, passphrase, iterations=1000,
                                    salt=det("e2e/identity/salt", 16),
                                    nonce=det("e2e/identity/nonce", 12))
    return {
        "account": account.hex(),
        "sessions": [s.to_bytes().hex() for s in sessions],
        "recovery_key": {"secret": generated.secret.hex(), "text": generated.key_text()},
        "passphrase_recovery": {"passphrase": "pässwörd ✓",
                                "passphrase_nfkc_utf8": "pässwörd ✓".encode().hex(),
                                "salt": passphrase.salt.hex(), "iterations": 1000,
                                "secret": passphrase.secret.hex()},
        "key_backups": keys,
        "wrong_secret": refusal(backup.open, bytes.fromhex(keys[0]["blob"]),
                                Recovery.generate(secret=bytes(32)), account),
        "identity_backup": {"passphrase": "correct horse ✓", "account_seed": seed.hex(),
                            "recovery": passphrase.to_bytes().hex(), "iterations": 1000,
                            "file_key": identity_backup.file_key(
                                "correct horse ✓", det("e2e/identity/salt", 16), 1000).hex(),
                            "file": identity.hex(),
                            "wrong_passphrase": refusal(identity_backup.open, identity,
                                                        "correct horse")},
        "key_text_parse": e2e_key_text_parse(generated),
        "reject": e2e_backup_rejects(account, keys, passphrase),
        "identity_reject": e2e_identity_rejects(identity),
    }


def e2e_key_text_parse(generated: Any) -> list[dict[str, Any]]:
    """Recovery key texts as typed: accepted spellings give the secret, typos bad_key."""
    from hearth.crypto.recovery import parse_key_text

    text = generated.key_text()
    compact = text.replace(" ", "")
    last = "abcdefghijklmnopqrstuvwxyz234567".index(compact[-1])
    assert last & 7 == 0, "the last character must have its 3 spare bits clear"
    texts = [
        ("as shown", text),
        ("upper case, dashes, tabs and a newline", "-".join(text.upper().split(" ")[:7])
         + "\t" + "\n".join(text.split(" ")[7:])),
        ("no spaces", compact),
        # b32decode ignores the 3 spare bits of the last character, so this spells the
        # same 34 bytes; both implementations must accept it.
        ("spare bits of the last character set",
         compact[:-1] + "abcdefghijklmnopqrstuvwxyz234567"[last | 5]),
        ("one character changed", ("b" if compact[0] != "b" else "c") + compact[1:]),
        ("one character missing", compact[1:]),
        ("one character too many", compact + "a"),
        ("not base32 (digit 1)", "1" + compact[1:]),
        ("not base32 (non-ASCII)", "\u00e9" + compact[1:]),
        ("padding character", compact[:-1] + "="),
        ("carriage return is not ignored", compact + "\r"),
    ]
    out = []
    for why, typed in texts:
        try:
            out.append({"why": why, "text": typed, "secret": parse_key_text(typed).hex(),
                        "error": None})
        except ProtocolError as e:
            out.append({"why": why, "text": typed, "secret": None, "error": str(e.code)})
    return out


def e2e_backup_rejects(account: bytes, keys: list[dict[str, Any]],
                       passphrase: Any) -> list[dict[str, Any]]:
    """Refusals of backup.open: a wrong secret or account, an altered or malformed blob."""
    from hearth.crypto import backup
    from hearth.crypto.recovery import Recovery

    generated = Recovery.from_bytes(bytes.fromhex(keys[0]["recovery"]))
    gen_blob, pass_blob = (bytes.fromhex(k["blob"]) for k in keys)
    wrong_pass = Recovery.from_passphrase("pässwörd ✗", salt=passphrase.salt, iterations=1000)
    other_account = ed25519.public_key(_seed_key("account-bob"))

    def flip(blob: bytes, at: int) -> bytes:
        return blob[:at] + bytes([blob[at] ^ 1]) + blob[at + 1:]

    bad = [
        ("wrong recovery key", gen_blob, Recovery.generate(secret=bytes(32)), account),
        ("wrong passphrase", pass_blob, wrong_pass, account),
        ("generated key for a passphrase backup", pass_blob, generated, account),
        ("passphrase secret for a generated-key backup", gen_blob, passphrase, account),
        ("another account's key", gen_blob, generated, other_account),
        ("flipped ciphertext bit", flip(gen_blob, backup.HEADER_SIZE + 3), generated, account),
        ("flipped nonce bit", flip(gen_blob, 25), generated, account),
        ("flipped salt bit", flip(pass_blob, 8), passphrase, account),
        ("flipped iteration count", flip(pass_blob, 5), passphrase, account),
        ("recovery kind 2", gen_blob[:1] + b"\x02" + gen_blob[2:], generated, account),
        ("version 2", b"\x02" + gen_blob[1:], generated, account),
        ("header only", gen_blob[:backup.HEADER_SIZE], generated, account),
        ("shorter than a header", gen_blob[:20], generated, account),
    ]
    return [{"why": why, "blob": blob.hex(), "recovery": recovery.to_bytes().hex(),
             "account": acct.hex(), "error": refusal(backup.open, blob, recovery, acct)}
            for why, blob, recovery, acct in bad]


def e2e_identity_rejects(identity: bytes) -> list[dict[str, Any]]:
    """identity_backup.open on altered files and other passphrases (``error`` null: opens)."""
    from hearth.crypto import identity_backup

    def flip(at: int) -> bytes:
        return identity[:at] + bytes([identity[at] ^ 1]) + identity[at + 1:]

    cases = [
        ("NFKC-equivalent passphrase (fullwidth letters) opens", identity,
         "\uff43\uff4f\uff52\uff52\uff45\uff43\uff54 horse ✓"),
        ("wrong passphrase", identity, "correct horse"),
        ("passphrase in another case", identity, "Correct horse ✓"),
        ("flipped ciphertext bit", flip(identity_backup.HEADER_SIZE + 1), "correct horse ✓"),
        ("flipped tag bit", flip(len(identity) - 1), "correct horse ✓"),
        ("flipped salt bit", flip(6), "correct horse ✓"),
        ("flipped nonce bit", flip(22), "correct horse ✓"),
        ("iterations 1001", flip(4), "correct horse ✓"),
        ("iterations 0", identity[:1] + bytes(4) + identity[5:], "correct horse ✓"),
        ("version 2", b"\x02" + identity[1:], "correct horse ✓"),
        ("shorter than a header", identity[:30], "correct horse ✓"),
    ]
    out = []
    for why, data, typed in cases:
        try:
            identity_backup.open(data, typed)
            error = None
        except ProtocolError as e:
            error = str(e.code)
        out.append({"why": why, "file": data.hex(), "passphrase": typed, "error": error})
    return out


def e2e_linking() -> dict[str, Any]:
    from hearth.crypto import linking
    from hearth.crypto.recovery import Recovery

    link = "abcdefghij"
    e_key = x25519.private_key_from_bytes(det("e2e/link/E", 32))
    n_key = x25519.private_key_from_bytes(det("e2e/link/N", 32))
    new = linking.NewDeviceLink(E2E_HOST, link, key=n_key)
    old = linking.ExistingDeviceLink(E2E_HOST, link, key=e_key)
    m1 = new.commit_message()
    m2 = old.on_commit(m1)
    m3 = new.on_reveal(m2)
    old.on_key(m3)
    assert old.code == new.code
    m4 = new.confirm(old.code)
    seed, recovery = det("e2e/account-alice/seed", 32), Recovery.generate(secret=det("e2e/r", 32))
    ephemeral = x25519.private_key_from_bytes(det("e2e/link/eph", 32))
    m5 = old.transfer(True, m4, seed, recovery, ephemeral=ephemeral)
    assert new.on_secrets(m5) == (seed, recovery)
    pk_e, pk_n = x25519.public_key(e_key), x25519.public_key(n_key)
    transcript = linking.transcript(E2E_HOST, link, m1[1:], pk_e, pk_n)
    return {"host": E2E_HOST, "link": link, "E_private": x25519.private_key_bytes(e_key).hex(),
            "N_private": x25519.private_key_bytes(n_key).hex(), "m1": m1.hex(), "m2": m2.hex(),
            "m3": m3.hex(), "transcript": transcript.hex(), "code": old.code,
            "confirm_key": linking.code_and_confirm_key(
                x25519.shared_secret(e_key, pk_n), transcript)[1].hex(),
            "m4": m4.hex(), "account_seed": seed.hex(), "recovery": recovery.to_bytes().hex(),
            "ephemeral": x25519.private_key_bytes(ephemeral).hex(), "m5": m5.hex(),
            "typed_codes": e2e_typed_codes(n_key, m2, old.code),
            "reject": e2e_link_rejects(e_key, n_key, m1, m2, m3, m4, m5, seed, recovery)}


def e2e_typed_codes(n_key: Any, m2: bytes, code: str) -> list[dict[str, Any]]:
    """What the new device does with codes as the user types them (``m4`` null: refused)."""
    from hearth.crypto import linking

    typed = [code, f"{code[:4]} {code[4:]}", f"{code[:4]}-{code[4:]}\n",
             code[:-1] + str((int(code[-1]) + 1) % 10), code[:-1], code + "0",
             code[:4] + "\u00b2" + code[4:]]
    out = []
    for text in typed:
        new = linking.NewDeviceLink(E2E_HOST, "abcdefghij", key=n_key)
        new.commit_message()
        new.on_reveal(m2)
        try:
            out.append({"typed": text, "m4": new.confirm(text).hex(), "error": None})
        except ProtocolError as e:
            out.append({"typed": text, "m4": None, "error": str(e.code)})
    return out


def e2e_link_rejects(e_key: Any, n_key: Any, m1: bytes, m2: bytes, m3: bytes, m4: bytes,
                     m5: bytes, seed: bytes, recovery: Any) -> list[dict[str, Any]]:
    """Each refusal of the linking exchange: ``step`` is the call that refuses ``message``
    after every earlier step ran with the genuine messages (m1..m4 above)."""
    from hearth.crypto import linking

    mallory = x25519.public_key(x25519.private_key_from_bytes(det("e2e/link/mallory", 32)))
    other_commit = linking.commitment(mallory)

    def flip(data: bytes, at: int) -> bytes:
        return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]

    def run(step: str, message: bytes, confirmed: bool) -> str:
        new = linking.NewDeviceLink(E2E_HOST, "abcdefghij", key=n_key)
        old = linking.ExistingDeviceLink(E2E_HOST, "abcdefghij", key=e_key)
        new.commit_message()
        if step == "on_commit":
            return refusal(old.on_commit, message)
        old.on_commit(m1)
        if step == "on_reveal":
            return refusal(new.on_reveal, message)
        new.on_reveal(m2)
        if step == "on_key":
            return refusal(old.on_key, message)
        old.on_key(m3)
        if step == "transfer":
            return refusal(old.transfer, confirmed, message, seed, recovery)
        assert step == "on_secrets"
        return refusal(new.on_secrets, message)

    bad = [
        ("M1 of the wrong type", "on_commit", b"\x03" + m1[1:], True),
        ("M1 truncated", "on_commit", m1[:-1], True),
        ("M2 answers another device's commitment", "on_reveal",
         b"\x02" + other_commit + m2[33:], True),
        ("M2 one byte too long", "on_reveal", m2 + b"\x00", True),
        ("M3 key does not match the commitment", "on_key", b"\x03" + mallory, True),
        ("M3 of the wrong type", "on_key", b"\x04" + m3[1:], True),
        ("M4 flipped", "transfer", flip(m4, 5), True),
        ("M4 truncated", "transfer", m4[:-1], True),
        ("user did not confirm", "transfer", m4, False),
        ("M5 flipped ciphertext bit", "on_secrets", flip(m5, 40), True),
        ("M5 flipped enc bit", "on_secrets", flip(m5, 3), True),
        ("M5 of the wrong type", "on_secrets", b"\x04" + m5[1:], True),
    ]
    return [{"why": why, "step": step, "message": message.hex(), "confirmed": confirmed,
             "error": run(step, message, confirmed)} for why, step, message, confirmed in bad]


def e2e_safety() -> list[dict[str, Any]]:
    from hearth.crypto import safety

    cases = []
    for a, b in (("account-alice", "account-bob"), ("account-bob", "account-carol")):
        ka, kb = ed25519.public_key(_seed_key(a)), ed25519.public_key(_seed_key(b))
        cases.append({"a": ka.hex(), "b": kb.hex(), "half_a": safety.half(ka),
                      "half_b": safety.half(kb), "number": safety.safety_number(ka, kb),
                      "qr": safety.qr_payload(ka, kb).hex()})
    return cases


def build_e2e() -> dict[str, Any]:
    return {
        "about": "Hearth's end-to-end formats (docs/security.md) on fixed inputs; made by "
        "scripts/make_vectors.py. Bytes are lowercase hex. Both the Python and the JS "
        "suites must reproduce every output and every refusal code.",
        "ratchet": e2e_ratchet(),
        "prekeys": e2e_prekeys(),
        "prekey_reject": e2e_prekey_rejects(),
        "envelope": e2e_envelopes(),
        "key_share": e2e_key_share(),
        "backup": e2e_backups(),
        "linking": e2e_linking(),
        "safety": e2e_safety(),
    }


def main() -> None:
    OUT.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
    E2E_OUT.write_text(json.dumps(build_e2e(), indent=1, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    print(f"wrote {E2E_OUT}")


if __name__ == "__main__":
    main()
