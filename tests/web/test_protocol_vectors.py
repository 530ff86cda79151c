"""web/protocol produces the same bytes as the Python core, under node and in Chromium.

The Python core (hearth/) makes fixed-input vectors -- certificate bytes, the hello
signing input, request bodies and their signatures, host ids, invite proofs, host-signed
responses and events, presence and typing bodies -- and the JS twin must reproduce or
accept each one exactly.
Ed25519 is deterministic, so equal signatures mean equal signed bytes.
"""

from __future__ import annotations

import json
import mimetypes
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from nacl.signing import SigningKey
from playwright.sync_api import Browser, Route

from hearth.auth import client_hello
from hearth.b64 import b64e
from hearth.ephemeral import sign_ephemeral
from hearth.frames import Challenge
from hearth.invite_link import InviteLink, invite_public_key, prove_invite
from hearth.keys import DeviceKeys, certify_device, host_id_from_public_key
from hearth.rpc import EventBody, RequestBody, ResponseBody, dump_body, sign_host_body
from hearth.signing import Context, sign, signing_input
from tests.web.conftest import ROOT, WEB

HERE = Path(__file__).resolve().parent


def seed(n: int) -> bytes:
    return bytes((n * 7 + i) % 256 for i in range(32))


def make_vectors() -> dict[str, Any]:
    account = SigningKey(seed(1))
    device = SigningKey(seed(2))
    x25519 = X25519PrivateKey.from_private_bytes(seed(3))
    issued_at = 1_730_000_000_123
    cert = certify_device(account, device, x25519, issued_at_ms=issued_at)
    keys = DeviceKeys(device, x25519, cert)
    nonce = seed(4)
    hello = client_hello(keys, Challenge(nonce=b64e(nonce)))
    host_keys = [SigningKey(seed(5)), SigningKey(seed(6))]
    host_id = host_id_from_public_key(bytes(host_keys[0].verify_key))
    typo = host_id[:10] + ("a" if host_id[10] != "a" else "b") + host_id[11:]

    requests = []
    cases: list[tuple[str, dict[str, Any]]] = [
        ("space.create", {"name": "Café <b>club</b> & \"friends\" 🔥"}),
        ("channel.rename", {"space": "s1", "chan": "c-2", "name": "tab\there\u001f\u2028end"}),
        ("history", {"space": "s1", "chan": "c1", "before": 51, "limit": 50}),
        ("space.list", {}),
        ("token", {"space": "s1", "chans": ["*"]}),
    ]
    for i, (op, args) in enumerate(cases):
        body = RequestBody(v=1, host=host_id, dev=b64e(bytes(device.verify_key)),
                           n=b64e(seed(10 + i)[:16]), ts=1_730_000_000_000 + i, op=op, a=args)
        text = dump_body(body)
        raw = text.encode("utf-8")
        requests.append({
            "host": host_id, "op": op, "args": args, "n": body.n, "ts": body.ts, "text": text,
            "signing_input_hex": signing_input(Context.REQUEST, raw).hex(),
            "sig": b64e(sign(device, Context.REQUEST, raw)),
        })

    invites = []
    for i, kind in enumerate(("join", "claim")):
        secret = b64e(seed(20 + i))
        invites.append({
            "secret": secret, "host": host_id, "device": b64e(bytes(device.verify_key)),
            "pk": invite_public_key(secret),
            "proof": prove_invite(secret, host_id, bytes(device.verify_key)),
            "kind": kind, "link": str(InviteLink("http://127.0.0.1:8470", host_id, secret, kind)),
        })

    dev = b64e(bytes(device.verify_key))
    response = ResponseBody(v=1, host=host_id, dev=dev, re=requests[0]["n"], ok=True,
                            r={"space": {"id": "s1", "name": "Café <b>club</b>", "role": "owner",
                                         "channels": []}})
    event = EventBody(v=1, host=host_id, space="s1", chan="c1", k="msg", seq=7, id="m1",
                      acct=b64e(bytes(account.verify_key)), dev=dev, ts=1_730_000_000_999,
                      env=b64e(b"opaque envelope"))
    bodies = []
    for kind, body in (("response", response), ("event", event)):
        text, sig = sign_host_body(host_keys[0], body)
        bodies.append({"kind": kind, "host": host_id, "text": text, "sig": sig})

    ephemerals = []
    for i, (chan, kind, state) in enumerate((("*", "presence", "away"),
                                             ("c-1", "typing", "typing"))):
        frame = sign_ephemeral(keys, host_id, "s1", chan, kind, state, ts=1_730_000_001_000 + i)
        ephemerals.append({"host": host_id, "space": "s1", "chan": chan, "k": kind,
                           "state": state, "ts": 1_730_000_001_000 + i, "body": frame.body,
                           "sig": frame.sig})

    return {
        "identity": {
            "account_seed": b64e(seed(1)), "device_seed": b64e(seed(2)),
            "device_x25519_private": b64e(seed(3)), "issued_at": issued_at,
            "account": b64e(bytes(account.verify_key)), "device": dev,
            "device_x25519": b64e(cert.device_x25519),
        },
        "certificate_hex": cert.to_bytes().hex(),
        "hello": {
            "nonce": b64e(nonce), "cert": hello.cert, "sig": hello.sig,
            "signing_input_hex": signing_input(Context.CLIENT_AUTH, nonce + cert.to_bytes()).hex(),
        },
        "requests": requests,
        "host_ids": [{"public_key": b64e(bytes(k.verify_key)),
                      "host_id": host_id_from_public_key(bytes(k.verify_key))}
                     for k in host_keys],
        "bad_host_ids": [typo, host_id.upper(), host_id[:-1], host_id + "a"],
        "invites": invites,
        "host_bodies": bodies,
        "ephemerals": ephemerals,
    }


@pytest.fixture(scope="module")
def vectors_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vectors") / "protocol_vectors.json"
    path.write_text(json.dumps(make_vectors(), ensure_ascii=False), encoding="utf-8")
    return path


def test_vectors_cover_what_they_claim() -> None:
    """The vectors themselves: a certificate is 169 bytes, a host id 56 characters."""
    v = make_vectors()
    assert len(bytes.fromhex(v["certificate_hex"])) == 169
    assert all(len(h["host_id"]) == 56 for h in v["host_ids"])
    assert any(not r["text"].isascii() for r in v["requests"])


def test_node_matches_the_python_core(vectors_file: Path) -> None:
    node = shutil.which("node")
    assert node is not None, "node is not installed (Node >= 20 is needed for WebCrypto Ed25519)"
    done = subprocess.run([node, str(HERE / "run_protocol_vectors.mjs"), str(vectors_file)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all vectors match" in done.stdout


ORIGIN = "http://127.0.0.1:9"
"""Never contacted: Playwright answers every request from files (127.0.0.1 makes the
page a secure context, which WebCrypto needs)."""


def serve_files(route: Route) -> None:
    path = route.request.url.removeprefix(ORIGIN).split("?")[0]
    roots = {"/web/": WEB, "/tests/web/": HERE}
    for prefix, root in roots.items():
        if path.startswith(prefix):
            file = (root / path.removeprefix(prefix)).resolve()
            if file.is_relative_to(root) and file.is_file():
                kind = mimetypes.guess_type(file.name)[0] or "text/plain"
                if file.suffix in (".js", ".mjs"):
                    kind = "text/javascript"
                route.fulfill(body=file.read_bytes(), content_type=kind)
                return
    if path == "/":
        route.fulfill(body="<!doctype html><title>vectors</title>", content_type="text/html")
        return
    route.fulfill(status=404, body="not found")


def test_chromium_matches_the_python_core(browser: Browser, vectors_file: Path) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.route(f"{ORIGIN}/**", serve_files)
        page.goto(f"{ORIGIN}/")
        failures = page.evaluate(
            """async ([vectors, origin]) => {
                const check = `${origin}/tests/web/protocol_vectors_check.mjs`;
                const { checkVectors } = await import(check);
                return checkVectors(vectors, `${origin}/web/`);
            }""",
            [json.loads(vectors_file.read_text(encoding="utf-8")), ORIGIN],
        )
        assert failures == []
    finally:
        context.close()
