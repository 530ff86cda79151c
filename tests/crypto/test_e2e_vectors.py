"""tests/vectors/hearth_e2e.json, reproduced byte for byte from its inputs (the JS port
loads the same file), and the file itself is what scripts/make_vectors.py writes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from hearth.crypto import (
    backup,
    ed25519,
    envelope,
    identity_backup,
    key_share,
    linking,
    safety,
    x25519,
)
from hearth.crypto.prekeys import Kind, Prekey, make_prekey
from hearth.crypto.recovery import Recovery
from hearth.crypto.sender_session import (
    InboundSession,
    OutboundSession,
    SessionKey,
    message_keys,
    next_chain_key,
)
from hearth.errors import ProtocolError
from tests.crypto._vectors import h, load

V = load("hearth_e2e.json")
ROOT = Path(__file__).resolve().parent.parent.parent


def test_file_is_what_make_vectors_writes() -> None:
    spec = importlib.util.spec_from_file_location("make_vectors", ROOT / "scripts/make_vectors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert json.loads(json.dumps(module.build_e2e(), ensure_ascii=False)) == V


def test_ratchet_steps_and_session_key_bytes() -> None:
    chain = h(V["ratchet"]["steps"][0]["chain_key"])
    for step in V["ratchet"]["steps"]:
        assert chain.hex() == step["chain_key"]
        keys = message_keys(chain)
        assert (keys.key.hex(), keys.nonce.hex()) == (step["message_key"], step["nonce"])
        chain = next_chain_key(chain)
    sk = V["ratchet"]["session_key"]
    key = SessionKey(h(sk["session_id"]), sk["index"], h(sk["chain_key"]))
    assert key.to_bytes().hex() == sk["bytes"]
    assert SessionKey.from_bytes(h(sk["bytes"])) == key


@pytest.mark.parametrize("case", V["prekeys"], ids=lambda c: f"kind{c['kind']}-{c['key_id']}")
def test_prekeys(case: dict[str, Any]) -> None:
    device = ed25519.signing_key_from_seed(h(case["device_seed"]))
    prekey = make_prekey(device, Kind(case["kind"]), case["key_id"], case["created_at"],
                         x25519.private_key_from_bytes(h(case["private"])))
    assert prekey.to_bytes().hex() == case["bytes"]
    assert Prekey.from_bytes(h(case["bytes"]), h(case["device"])) == prekey


def _place(v: dict[str, Any], msg_id: str) -> envelope.Place:
    return envelope.Place(v["host"], v["space"], v["chan"], msg_id)


def test_envelopes_seal_and_open() -> None:
    v = V["envelope"]
    device = ed25519.signing_key_from_seed(h(v["device_seed"]))
    session = OutboundSession.create(0, session_id=h(v["session_id"]), chain_key=h(v["chain_key"]))
    inbound = InboundSession(h(v["session_id"]), 0, h(v["chain_key"]))
    for case in v["seal"]:
        place = _place(v, case["msg_id"])
        sealed = envelope.seal(device, session, place, h(case["plaintext"]), case["sent_at"])
        assert sealed.hex() == case["envelope"]
        assert (sealed[: envelope.HEADER_SIZE] + place.to_bytes()).hex() == case["aad"]
        assert envelope.open(envelope.parse(sealed), place, inbound) == h(case["plaintext"])


@pytest.mark.parametrize("case", V["envelope"]["reject"], ids=lambda c: c["why"])
def test_envelope_refusals(case: dict[str, Any]) -> None:
    v = V["envelope"]
    inbound = InboundSession(h(v["session_id"]), 0, h(v["chain_key"]))
    with pytest.raises(ProtocolError) as refused:
        envelope.open(envelope.parse(h(case["envelope"])), envelope.Place(**case["place"]),
                      inbound)
    assert refused.value.code == case["error"]


@pytest.mark.parametrize("case", V["key_share"]["cases"], ids=lambda c: f"kind{c['kind']}")
def test_key_shares(case: dict[str, Any]) -> None:
    v = V["key_share"]
    sender = ed25519.signing_key_from_seed(h(v["sender_seed"]))
    prekey = Prekey.from_bytes(h(case["prekey"]), h(v["recipient"]))
    place = key_share.ChannelPlace(v["host"], v["space"], v["chan"])
    key = SessionKey.from_bytes(h(case["session_key"]))
    sealed = key_share.seal(sender, h(v["recipient"]), prekey, place, key,
                            ephemeral=x25519.private_key_from_bytes(h(case["ephemeral"])))
    assert sealed.hex() == case["share"]
    assert (sealed[: key_share.HEADER_SIZE] + place.to_bytes()).hex() == case["aad"]
    private = x25519.private_key_from_bytes(h(case["prekey_private"]))
    share, opened = key_share.open(sealed, h(v["recipient"]), place,
                                   lambda kind, key_id: private)
    assert (share.kind, share.prekey_id, opened) == (Kind(case["kind"]), case["prekey_id"], key)


def test_backups_and_recovery() -> None:
    v = V["backup"]
    assert Recovery.generate(secret=h(v["recovery_key"]["secret"])).key_text() == (
        v["recovery_key"]["text"])
    p = v["passphrase_recovery"]
    derived = Recovery.from_passphrase(p["passphrase"], salt=h(p["salt"]),
                                       iterations=p["iterations"])
    assert derived.secret.hex() == p["secret"]
    account = h(v["account"])
    for case in v["key_backups"]:
        recovery = Recovery.from_bytes(h(case["recovery"]))
        assert backup.backup_key(recovery).hex() == case["backup_key"]
        sessions = backup.open(h(case["blob"]), recovery, account)
        assert [s.to_bytes().hex() for s in sessions] == v["sessions"]
        resealed = backup.seal(recovery, account, sessions, nonce=h(case["blob"])[22:34])
        assert resealed.hex() == case["blob"]
    i = v["identity_backup"]
    seed, recovery = identity_backup.open(h(i["file"]), i["passphrase"])
    assert (seed.hex(), recovery.to_bytes().hex()) == (i["account_seed"], i["recovery"])
    header = h(i["file"])[: identity_backup.HEADER_SIZE]
    assert identity_backup.file_key(i["passphrase"], header[5:21], i["iterations"]).hex() == (
        i["file_key"])
    assert identity_backup.seal(i["passphrase"], seed, recovery, iterations=i["iterations"],
                                salt=header[5:21], nonce=header[21:33]).hex() == i["file"]


def test_linking_exchange() -> None:
    v = V["linking"]
    new = linking.NewDeviceLink(v["host"], v["link"],
                                key=x25519.private_key_from_bytes(h(v["N_private"])))
    old = linking.ExistingDeviceLink(v["host"], v["link"],
                                     key=x25519.private_key_from_bytes(h(v["E_private"])))
    assert new.commit_message().hex() == v["m1"]
    assert old.on_commit(h(v["m1"])).hex() == v["m2"]
    assert new.on_reveal(h(v["m2"])).hex() == v["m3"]
    old.on_key(h(v["m3"]))
    assert old.code == new.code == v["code"]
    assert new.confirm(v["code"]).hex() == v["m4"]
    m5 = old.transfer(True, h(v["m4"]), h(v["account_seed"]),
                      Recovery.from_bytes(h(v["recovery"])),
                      ephemeral=x25519.private_key_from_bytes(h(v["ephemeral"])))
    assert m5.hex() == v["m5"]
    seed, recovery = new.on_secrets(m5)
    assert (seed.hex(), recovery.to_bytes().hex()) == (v["account_seed"], v["recovery"])


@pytest.mark.parametrize("case", V["safety"], ids=lambda c: c["a"][:8])
def test_safety_numbers(case: dict[str, Any]) -> None:
    a, b = h(case["a"]), h(case["b"])
    assert (safety.half(a), safety.half(b)) == (case["half_a"], case["half_b"])
    assert safety.safety_number(a, b) == safety.safety_number(b, a) == case["number"]
    assert safety.qr_payload(b, a).hex() == case["qr"]
