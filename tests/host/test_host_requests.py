"""The request pipeline refuses forged, misdirected, stale, replayed and unknown requests."""

from __future__ import annotations

import orjson
from nacl.signing import SigningKey

from hearth.b64 import b64e
from hearth.keys import certify_device, new_device
from hearth.limits import REQUEST_MAX_SKEW_MS
from hearth.rpc import sign_request
from hearth.signing import Context, sign
from tests.host.support import Community, Host, User


async def _code(host: Host, text: str, sig: str) -> str:
    response = await host.raw(text, sig)
    assert not response.ok and response.err is not None
    return response.err.code


async def test_signature_by_another_device_is_refused(community: Community) -> None:
    host, mallory = community.host, User("mallory")
    await host.join(mallory)
    _, text, _ = sign_request(community.owner.device, host.host_id, "space.delete",
                              {"space": community.space}, ts=host.clock())
    forged = b64e(sign(mallory.device.signing, Context.REQUEST, text.encode()))
    assert await _code(host, text, forged) == "bad_signature"
    assert len((await host.ok(community.owner, "space.list"))["spaces"]) == 1


async def test_body_tampered_after_signing_is_refused(community: Community) -> None:
    host = community.host
    _, text, sig = sign_request(community.owner.device, host.host_id, "space.rename",
                                {"space": community.space, "name": "pwned"}, ts=host.clock())
    response = await host.raw(text.replace("pwned", "owned"), sig)
    assert response.err is not None and response.err.code == "bad_signature"
    # The refusal is still addressed to the (claimed) requester and nonce.
    assert (response.dev, response.re) == (community.owner.dev, orjson.loads(text)["n"])


async def test_dev_field_rewritten_to_another_device_is_refused(community: Community) -> None:
    host, mallory = community.host, User("mallory")
    await host.join(mallory)
    _, text, sig = sign_request(mallory.device, host.host_id, "space.delete",
                                {"space": community.space}, ts=host.clock())
    rewritten = text.replace(mallory.dev, community.owner.dev)
    assert rewritten != text
    assert await _code(host, rewritten, sig) == "bad_signature"


async def test_wrong_host_is_refused(community: Community) -> None:
    host = community.host
    other = SigningKey.generate()
    from hearth.keys import host_id_from_public_key
    other_id = host_id_from_public_key(bytes(other.verify_key))
    _, text, sig = sign_request(community.owner.device, other_id, "space.list", {},
                                ts=host.clock())
    assert await _code(host, text, sig) == "wrong_host"


async def test_stale_and_future_requests_are_refused(community: Community) -> None:
    host, owner = community.host, community.owner
    for skew in (-REQUEST_MAX_SKEW_MS - 1, REQUEST_MAX_SKEW_MS + 1):
        _, text, sig = sign_request(owner.device, host.host_id, "space.list", {},
                                    ts=host.clock() + skew)
        assert await _code(host, text, sig) == "stale_request"
    _, text, sig = sign_request(owner.device, host.host_id, "space.list", {},
                                ts=host.clock() + REQUEST_MAX_SKEW_MS)
    assert (await host.raw(text, sig)).ok


async def test_requests_signed_before_the_host_started_are_refused(community: Community) -> None:
    host, owner = community.host, community.owner
    _, text, sig = sign_request(owner.device, host.host_id, "space.list", {},
                                ts=host.clock() - 10_000)
    assert await _code(host, text, sig) == "stale_request"


async def test_replayed_nonce_is_refused_and_acted_on_once(community: Community) -> None:
    host, owner = community.host, community.owner
    _, text, sig = sign_request(owner.device, host.host_id, "channel.create",
                                {"space": community.space, "name": "once"}, ts=host.clock())
    assert (await host.raw(text, sig)).ok
    host.clock.advance(REQUEST_MAX_SKEW_MS)  # still inside the window
    assert await _code(host, text, sig) == "replay"
    names = [c["name"] for c in (await host.ok(owner, "channel.list",
                                               space=community.space))["channels"]]
    assert names.count("once") == 1


async def test_replay_cache_forgets_only_what_the_skew_check_refuses(host: Host) -> None:
    from host.replay import ReplayCache

    cache = ReplayCache(100)
    assert cache.add("d", "n", ts=1000, now=1000)
    assert not cache.add("d", "n", ts=1000, now=1100)
    assert cache.add("d", "other", ts=1200, now=1200)
    assert len(cache) == 1  # (d, n) expired at 1100 < 1200


async def test_unknown_and_revoked_devices_and_bad_certificates(community: Community) -> None:
    host = community.host
    stranger = User("stranger")
    assert await host.err(stranger, "space.list") == "unknown_device"
    # A certificate for another device than the signer.
    other = new_device(stranger.account_key)
    assert await host.err(stranger, "hello", cert=other.certificate.encode()) == \
        "bad_certificate"
    # A certificate whose account signature does not verify.
    cert = bytearray(stranger.device.certificate.to_bytes())
    cert[-1] ^= 1
    assert await host.err(stranger, "hello", cert=b64e(bytes(cert))) == "bad_certificate"
    # A certificate claiming someone else's account with the attacker's signature.
    fake = certify_device(stranger.account_key, stranger.device.signing, stranger.device.x25519)
    stolen = fake.to_bytes()[:1] + bytes(community.owner.account_key.verify_key) + \
        fake.to_bytes()[33:]
    assert await host.err(stranger, "hello", cert=b64e(stolen)) == "bad_certificate"
    # Registration works; a revoked device stays out, even with hello.
    await host.join(stranger)
    await host.ok(stranger, "device.revoke", dev=stranger.dev)
    assert await host.err(stranger, "space.list") == "device_revoked"
    assert await host.err(stranger, "hello", cert=stranger.device.certificate.encode()) == \
        "device_revoked"


async def test_a_device_key_cannot_move_to_another_account(host: Host) -> None:
    alice, mallory = User("alice"), User("mallory")
    await host.join(alice)
    # Mallory's account certifies alice's device key (mallory would need alice's device
    # key to sign the request; this checks the host keeps the first binding anyway).
    moved = certify_device(mallory.account_key, alice.device.signing, alice.device.x25519)
    assert await host.err(alice, "hello", cert=moved.encode()) == "bad_certificate"


async def test_the_account_comes_from_the_certificate_not_the_request(
    community: Community,
) -> None:
    host = community.host
    # A second device of the owner's account acts as the owner.
    second = new_device(community.owner.account_key)
    await host.ok(community.owner, "hello", device=second, cert=second.certificate.encode())
    assert (await host.ok(community.owner, "space.list", device=second))["spaces"][0]["role"] \
        == "owner"


async def test_unknown_op_and_bad_arguments(community: Community) -> None:
    host, owner = community.host, community.owner
    assert await host.err(owner, "space.explode", space=community.space) == "unknown_op"
    assert await host.err(owner, "space.rename", space=community.space) == "bad_request"
    assert await host.err(owner, "space.rename", space=community.space, name="x",
                          extra=1) == "bad_request"
    assert await host.err(owner, "member.remove", space=community.space,
                          acct="A" * 43) != "internal"


async def test_garbage_bodies_get_an_error_not_a_crash(host: Host) -> None:
    for text in ("not json", "[]", '{"v":1}', '{"dev":"x","n":5}'):
        response, outbound = await host.service.handle(text, "A" * 86)
        assert response.err is not None and response.err.code == "bad_request"
        assert outbound == []
        # With no requester to address, nothing is sent back at all.
        assert await host.service.respond("conn", text, "A" * 86) == []
