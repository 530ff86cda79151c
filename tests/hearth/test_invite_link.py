"""Invite links and invite proofs: what crosses the relay can't be redeemed by anyone else."""

from __future__ import annotations

import pytest
from nacl.signing import SigningKey

from hearth.b64 import b64d
from hearth.errors import ErrorCode, ProtocolError
from hearth.invite_link import (
    InviteLink,
    invite_public_key,
    new_invite_secret,
    prove_invite,
    verify_invite_proof,
)
from hearth.keys import host_id_from_public_key

HOST = host_id_from_public_key(bytes(SigningKey.generate().verify_key))
OTHER_HOST = host_id_from_public_key(bytes(SigningKey.generate().verify_key))
DEVICE, OTHER_DEVICE = bytes(range(32)), bytes(range(1, 33))


def test_a_proof_verifies_for_its_device_and_host_only() -> None:
    secret = new_invite_secret()
    pk = b64d(invite_public_key(secret))
    proof = prove_invite(secret, HOST, DEVICE)
    verify_invite_proof(pk, HOST, DEVICE, proof)
    for host, device in ((HOST, OTHER_DEVICE), (OTHER_HOST, DEVICE)):
        with pytest.raises(ProtocolError) as refused:
            verify_invite_proof(pk, host, device, proof)
        assert refused.value.code is ErrorCode.INVITE_INVALID
    wrong = prove_invite(new_invite_secret(), HOST, DEVICE)
    with pytest.raises(ProtocolError) as refused:
        verify_invite_proof(pk, HOST, DEVICE, wrong)
    assert refused.value.code is ErrorCode.INVITE_INVALID


def test_public_key_does_not_contain_the_secret() -> None:
    secret = new_invite_secret()
    assert invite_public_key(secret) != secret
    assert len(b64d(secret)) == len(b64d(invite_public_key(secret))) == 32


def test_link_round_trip_and_ws_url() -> None:
    secret = new_invite_secret()
    link = InviteLink("https://chat.example", HOST, secret)
    assert str(link) == f"https://chat.example/#/join/{HOST}/{secret}"
    assert InviteLink.parse(str(link)) == link
    assert link.relay_ws_url == "wss://chat.example"
    assert InviteLink("http://127.0.0.1:8470", HOST, secret).relay_ws_url == "ws://127.0.0.1:8470"
    claim = InviteLink.parse(f"http://127.0.0.1:8470/#/claim/{HOST}/{secret}")
    assert (claim.kind, claim.host_id, claim.secret) == ("claim", HOST, secret)


@pytest.mark.parametrize("text", [
    "https://chat.example/",
    f"https://chat.example/#/join/{HOST}",
    f"ftp://chat.example/#/join/{HOST}/" + "A" * 43,
    "https://chat.example/#/join/" + "a" * 56 + "/" + "A" * 43,
    f"https://chat.example/#/join/{HOST}/not-a-secret",
    f"https://chat.example/#/steal/{HOST}/" + "A" * 43,
])
def test_malformed_links_are_refused(text: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        InviteLink.parse(text)
    assert refused.value.code is ErrorCode.INVITE_INVALID
