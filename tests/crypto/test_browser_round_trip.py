"""hearth.crypto (Python) and web/crypto (JS in Debian's Chromium) talk to each other.

A tiny static server on 127.0.0.1 serves web/; the page imports web/crypto's modules as
the app would. Bob's device lives in the browser (WebCrypto keys made there,
non-extractable), Alice's in Python. Each side publishes a signed prekey, receives a key
share sealed to it by the other language, and decrypts the other's channel messages;
then a key backup, an identity backup and a device link cross the language boundary.
Bytes travel as hex strings through page.evaluate.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from nacl.signing import SigningKey
from playwright.sync_api import Browser, Page

from hearth.browser import serve_files
from hearth.crypto import backup, envelope, identity_backup, key_share, linking, x25519
from hearth.crypto.prekeys import Kind, Prekey, make_prekey
from hearth.crypto.recovery import Recovery
from hearth.crypto.sender_session import InboundSession, OutboundSession
from hearth.errors import ErrorCode, ProtocolError
from tests.browser import WEB, chromium
from tests.crypto._e2e import HOST

SPACE, CHAN = "space-rt", "chan-rt"
PAGE = b"<!doctype html><meta charset=utf-8><title>hearth crypto round trip</title>"


@pytest.fixture(scope="module")
def web_url() -> Iterator[str]:
    with serve_files(WEB, pages={"/round-trip.html": PAGE}) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Browser, web_url: str) -> Iterator[Page]:
    context = browser.new_context()
    errors: list[str] = []
    p = context.new_page()
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.goto(f"{web_url}/round-trip.html")
    # Load every module once, as the app would, and keep them on window.rt.
    p.evaluate("""async () => {
      const load = (name) => import(`/crypto/${name}.js`);
      const names = ['bytes', 'ed25519', 'x25519', 'prekeys', 'sender_session', 'envelope',
        'key_share', 'recovery', 'backup', 'identity_backup', 'linking'];
      window.rt = { state: {} };
      for (const name of names) window.rt[name] = await load(name);
    }""")
    yield p
    context.close()
    assert errors == [], "uncaught errors in the page"


def _place(msg_id: str) -> envelope.Place:
    return envelope.Place(HOST, SPACE, CHAN, msg_id)


def _code(fn: Any, *args: Any) -> str:
    try:
        fn(*args)
    except ProtocolError as e:
        return str(e.code)
    return "accepted"


# JS run in the page: `rt` is window.rt; `hex`/`bin` convert. Every refusal comes back as
# its HearthError code, so the test compares codes across languages.
_JS_PRELUDE = """
  const rt = window.rt;
  const hex = rt.bytes.toHex;
  const bin = rt.bytes.fromHex;
  const place = (msgId) => ({ host: args.host, space: args.space, chan: args.chan, msgId });
  const code = async (promise) => {
    try { await promise; return 'accepted'; } catch (e) {
      if (e.name !== 'HearthError') throw e;
      return e.code;
    }
  };
"""


def run_js(page: Page, body: str, **args: Any) -> Any:
    args = {"host": HOST, "space": SPACE, "chan": CHAN} | args
    return page.evaluate(f"async (args) => {{ {_JS_PRELUDE} {body} }}", args)


def test_python_encrypts_browser_decrypts(page: Page) -> None:
    # Bob's device and one-time prekey are made in the browser and never leave it.
    bob = run_js(page, """
      const device = await rt.ed25519.generateKeyPair();
      const prekeyPair = await rt.x25519.generateKeyPair();
      const prekey = await rt.prekeys.makePrekey(device, rt.prekeys.Kind.ONE_TIME, 41,
        Date.now(), prekeyPair.privateKey);
      rt.state.bob = { device, prekeys: new Map([['2/41', prekeyPair.privateKey]]) };
      return { device: hex(device.publicKey), prekey: hex(prekey.toBytes()),
               extractable: [device.privateKey.extractable, prekeyPair.privateKey.extractable] };
    """)
    assert bob["extractable"] == [False, False]
    bob_device = bytes.fromhex(bob["device"])
    prekey = Prekey.from_bytes(bytes.fromhex(bob["prekey"]), bob_device)  # JS signature checks
    assert (prekey.kind, prekey.key_id) == (Kind.ONE_TIME, 41)

    alice = SigningKey.generate()
    session = OutboundSession.create(1_700_000_000_000)
    share = key_share.seal(alice, bob_device, prekey, key_share.ChannelPlace(HOST, SPACE, CHAN),
                           session.export())
    texts = ["hello from Python", "", "ünïcödé ✓ " * 50]
    sealed = [envelope.seal(alice, session, _place(f"py-{n}"), t.encode(), 1_700_000_000_000 + n)
              for n, t in enumerate(texts)]

    got = run_js(page, """
      const bob = rt.state.bob;
      const { share, key } = await rt.key_share.open(bin(args.share), bob.device.publicKey,
        { host: args.host, space: args.space, chan: args.chan },
        (kind, id) => bob.prekeys.get(`${kind}/${id}`));
      bob.prekeys.delete(`${share.kind}/${share.prekeyId}`);  // one-time: used up
      const inbound = rt.sender_session.InboundSession.fromKey(key);
      const texts = [];
      for (const [n, raw] of args.envelopes.entries()) {
        const env = rt.envelope.parse(bin(raw));
        const plaintext = await rt.envelope.open(env, place(`py-${n}`), inbound);
        texts.push(new TextDecoder().decode(plaintext));
      }
      const first = rt.envelope.parse(bin(args.envelopes[0]));
      return {
        sender: hex(share.sender), texts,
        sharedAgain: await code(rt.key_share.open(bin(args.share), bob.device.publicKey,
          { host: args.host, space: args.space, chan: args.chan },
          (kind, id) => bob.prekeys.get(`${kind}/${id}`))),
        otherChannel: await code(rt.envelope.open(first,
          { ...place('py-0'), chan: 'chan-other' }, inbound)),
        otherId: await code(rt.envelope.open(first, place('py-9'), inbound)),
      };
    """, share=share.hex(), envelopes=[e.hex() for e in sealed])
    assert got["sender"] == bytes(alice.verify_key).hex()
    assert got["texts"] == texts
    assert got["sharedAgain"] == ErrorCode.UNKNOWN_PREKEY
    assert got["otherChannel"] == got["otherId"] == ErrorCode.BAD_SIGNATURE


def test_browser_encrypts_python_decrypts(page: Page) -> None:
    alice = SigningKey.generate()
    alice_device = bytes(alice.verify_key)
    prekey_private = x25519.generate()
    prekey = make_prekey(alice, Kind.SIGNED, 7, 1_700_000_000_000, prekey_private)
    texts = ["hello from the browser", "ünïcödé ✓", "x" * 5000]

    sent = run_js(page, """
      const prekey = await rt.prekeys.Prekey.fromBytes(bin(args.prekey), bin(args.alice));
      const device = await rt.ed25519.generateKeyPair();
      const session = rt.sender_session.OutboundSession.create(Date.now());
      const share = await rt.key_share.seal(device, bin(args.alice), prekey,
        { host: args.host, space: args.space, chan: args.chan }, await session.export());
      const envelopes = await Promise.all(args.texts.map((t, n) => rt.envelope.seal(device,
        session, place(`js-${n}`), new TextEncoder().encode(t), 1_700_000_000_000 + n)));
      const forged = await code(rt.prekeys.Prekey.fromBytes(bin(args.prekey),
        device.publicKey));
      return { device: hex(device.publicKey), share: hex(share), forged,
               envelopes: envelopes.map(hex) };
    """, prekey=prekey.to_bytes().hex(), alice=alice_device.hex(), texts=texts)
    assert sent["forged"] == ErrorCode.BAD_SIGNATURE

    share, key = key_share.open(bytes.fromhex(sent["share"]), alice_device,
                                key_share.ChannelPlace(HOST, SPACE, CHAN),
                                lambda kind, key_id: prekey_private
                                if (kind, key_id) == (Kind.SIGNED, 7) else None)
    assert share.sender.hex() == sent["device"]
    assert key.index == 0
    inbound = InboundSession.from_key(key)
    opened = []
    for n, raw in enumerate(sent["envelopes"]):
        parsed = envelope.parse(bytes.fromhex(raw))
        assert parsed.header.sender.hex() == sent["device"]
        assert parsed.header.index == n  # concurrent seals in the browser took distinct indices
        opened.append(envelope.open(parsed, _place(f"js-{n}"), inbound).decode())
    assert opened == texts
    tampered = bytearray.fromhex(sent["envelopes"][0])
    tampered[envelope.HEADER_SIZE] ^= 1
    assert _code(envelope.open, envelope.parse(bytes(tampered)), _place("js-0"),
                 inbound) == ErrorCode.BAD_SIGNATURE
    assert _code(key_share.open, bytes.fromhex(sent["share"]), alice_device,
                 key_share.ChannelPlace(HOST, SPACE, "chan-other"),
                 lambda kind, key_id: prekey_private) == ErrorCode.BAD_SIGNATURE


def test_backups_cross_both_ways(page: Page) -> None:
    account = bytes(SigningKey.generate().verify_key)
    recovery = Recovery.from_passphrase("tëst passphrase", iterations=1000)
    seed = secrets.token_bytes(32)
    # The browser seals a key backup and an identity backup; Python opens both.
    made = run_js(page, """
      const recovery = await rt.recovery.Recovery.fromPassphrase('tëst passphrase',
        { salt: bin(args.salt), iterations: 1000 });
      const key = rt.sender_session.SessionKey.fromBytes(bin(args.sessionKey));
      const session = new rt.backup.BackedUpSession(args.host, args.space, args.chan,
        new Uint8Array(32).fill(9), key);
      const blob = await rt.backup.seal(recovery, bin(args.account), [session]);
      const file = await rt.identity_backup.seal('ﬁle passphrase', bin(args.seed), recovery,
        { iterations: 1000 });
      return { blob: hex(blob), file: hex(file), secret: hex(recovery.secret) };
    """, salt=recovery.salt.hex(), account=account.hex(), seed=seed.hex(),
        sessionKey=OutboundSession.create(0).export().to_bytes().hex())
    assert made["secret"] == recovery.secret.hex()
    (restored,) = backup.open(bytes.fromhex(made["blob"]), recovery, account)
    assert (restored.host, restored.space, restored.chan) == (HOST, SPACE, CHAN)
    # NFKC: the browser's "ﬁ" ligature is Python's "fi".
    got_seed, got_recovery = identity_backup.open(bytes.fromhex(made["file"]), "file passphrase")
    assert (got_seed, got_recovery) == (seed, recovery)

    # Python seals; the browser opens, and refuses the wrong passphrase.
    blob = backup.seal(recovery, account, [restored])
    file = identity_backup.seal("file passphrase", seed, recovery, iterations=1000)
    opened = run_js(page, """
      const recovery = rt.recovery.Recovery.fromBytes(bin(args.recovery));
      const sessions = await rt.backup.open(bin(args.blob), recovery, bin(args.account));
      const wrong = await rt.recovery.Recovery.fromPassphrase('test passphrase',
        { salt: recovery.salt, iterations: 1000 });
      const identity = await rt.identity_backup.open(bin(args.file), 'file passphrase');
      return { sessions: sessions.map((s) => hex(s.toBytes())),
               seed: hex(identity.accountSeed),
               wrongBackup: await code(rt.backup.open(bin(args.blob), wrong, bin(args.account))),
               wrongFile: await code(rt.identity_backup.open(bin(args.file), 'file passphrasE')) };
    """, recovery=recovery.to_bytes().hex(), blob=blob.hex(), account=account.hex(),
        file=file.hex())
    assert opened["sessions"] == [restored.to_bytes().hex()]
    assert opened["seed"] == seed.hex()
    assert opened["wrongBackup"] == opened["wrongFile"] == ErrorCode.WRONG_SECRET


def test_link_a_browser_device_from_a_python_device(page: Page) -> None:
    link = "rt-link-01"
    existing = linking.ExistingDeviceLink(HOST, link)
    m1 = run_js(page, """
      rt.state.link = await rt.linking.NewDeviceLink.create(args.host, args.link);
      return hex(await rt.state.link.commitMessage());
    """, link=link)
    m2 = existing.on_commit(bytes.fromhex(m1))
    m3 = run_js(page, "return hex(await rt.state.link.onReveal(bin(args.m2)));", m2=m2.hex())
    existing.on_key(bytes.fromhex(m3))
    browser_code = run_js(page, "return rt.state.link.code;")
    assert browser_code == existing.code
    # The user types the Python device's code into the browser, with a typo first.
    typo = existing.code[:-1] + str((int(existing.code[-1]) + 1) % 10)
    m4 = run_js(page, """
      const typo = await (async () => {
        try { await rt.state.link.confirm(args.typo); return 'accepted'; }
        catch (e) { return e.code; }
      })();
      return { typo, m4: hex(await rt.state.link.confirm(args.code)) };
    """, code=f"{existing.code[:4]} {existing.code[4:]}", typo=typo)
    assert m4["typo"] == ErrorCode.LINK_MISMATCH
    seed, recovery = secrets.token_bytes(32), Recovery.generate()
    m5 = existing.transfer(True, bytes.fromhex(m4["m4"]), seed, recovery)
    got = run_js(page, """
      const { accountSeed, recovery } = await rt.state.link.onSecrets(bin(args.m5));
      const account = await rt.ed25519.importSeed(accountSeed);
      return { seed: hex(accountSeed), recovery: hex(recovery.toBytes()),
               extractable: account.privateKey.extractable };
    """, m5=m5.hex())
    assert (got["seed"], got["recovery"]) == (seed.hex(), recovery.to_bytes().hex())
    assert got["extractable"] is False
