"""Browser crypto: web/crypto in Debian's Chromium (Playwright), against raw WebCrypto.

A static server on 127.0.0.1 serves web/ (with COOP/COEP headers, so the page is
cross-origin isolated and ``performance.now()`` has its finest resolution); the page
imports web/crypto's modules as the app does. Measured in the page, one message at a
time (each awaited, as a chat client shows them):

- *encrypt*: ``envelope.seal`` (sender-session ratchet step with HKDF, AES-256-GCM,
  Ed25519 signature) of a 200-byte message;
- *decrypt*: ``envelope.parse`` + ``envelope.open`` (signature verify, ratchet, replay
  check, AES-256-GCM) of those envelopes;
- *open a channel*: ``key_share.open`` of the sender's share (signature verify + HPKE
  open), then parse + open of 200 envelopes of that session, in order.

Baseline, in the same page and run: ``crypto.subtle.encrypt``/``decrypt`` AES-256-GCM of
the same plaintext with an already imported key and an AAD of the same length, the
primitive floor. One warm-up pass, then ``RUNS`` passes; the median pass counts.
"""

from __future__ import annotations

from typing import Any

from benchmarks.results import Row
from hearth.browser import WEB, chromium, serve_files

ISOLATED = {"Cross-Origin-Opener-Policy": "same-origin",
            "Cross-Origin-Embedder-Policy": "require-corp"}
"""Cross-origin isolation, so that performance.now() is precise in the page."""
PAGE = b"<!doctype html><meta charset=utf-8><title>hearth crypto bench</title>"
MESSAGES = 200
PLAINTEXT_BYTES = 200
RUNS = 9
SECTION = "Browser crypto"

_JS = """async (args) => {
  const load = (name) => import(`/crypto/${name}.js`);
  const [ed25519, x25519, prekeys, sessions, envelope, keyShare] = await Promise.all(
    ['ed25519', 'x25519', 'prekeys', 'sender_session', 'envelope', 'key_share'].map(load));
  const n = args.messages;
  const chan = { host: 'host-bench', space: 'space-bench', chan: 'chan-bench' };
  const place = (i) => ({ ...chan, msgId: `m-${String(i).padStart(10, '0')}` });
  const body = crypto.getRandomValues(new Uint8Array(args.plaintext));
  const sender = await ed25519.generateKeyPair();
  const reader = await ed25519.generateKeyPair();
  const preKeyPair = await x25519.generateKeyPair();
  const prekey = await prekeys.makePrekey(reader, prekeys.Kind.SIGNED, 1, Date.now(),
    preKeyPair.privateKey);
  const aesKey = await crypto.subtle.importKey('raw', crypto.getRandomValues(
    new Uint8Array(32)), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  const aad = new Uint8Array(61 + 4 + 10 + 11 + 10 + 12);
  const time = async (fn) => { const t = performance.now(); await fn();
    return performance.now() - t; };
  const pass = async () => {
    const session = sessions.OutboundSession.create(Date.now());
    const share = await keyShare.seal(sender, reader.publicKey, prekey, chan,
      await session.export());
    const sealed = [];
    const enc = await time(async () => {
      for (let i = 0; i < n; i++) {
        sealed.push(await envelope.seal(sender, session, place(i), body, Date.now()));
      }
    });
    const { key } = await keyShare.open(share, reader.publicKey, chan,
      () => preKeyPair.privateKey);
    const inbound = sessions.InboundSession.fromKey(key);
    const dec = await time(async () => {
      for (let i = 0; i < n; i++) {
        await envelope.open(envelope.parse(sealed[i]), place(i), inbound);
      }
    });
    const openChannel = await time(async () => {
      const got = await keyShare.open(share, reader.publicKey, chan,
        () => preKeyPair.privateKey);
      const fresh = sessions.InboundSession.fromKey(got.key);
      for (let i = 0; i < n; i++) {
        await envelope.open(envelope.parse(sealed[i]), place(i), fresh);
      }
    });
    const raw = [];
    const rawEnc = await time(async () => {
      for (let i = 0; i < n; i++) {
        const iv = crypto.getRandomValues(new Uint8Array(12));
        raw.push([iv, new Uint8Array(await crypto.subtle.encrypt(
          { name: 'AES-GCM', iv, additionalData: aad }, aesKey, body))]);
      }
    });
    const rawDec = await time(async () => {
      for (const [iv, ct] of raw) {
        await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad }, aesKey, ct);
      }
    });
    return { enc, dec, openChannel, rawEnc, rawDec, envelopeBytes: sealed[0].length,
             shareBytes: share.length };
  };
  await pass();  // warm-up: module JIT, WebCrypto key caches
  const passes = [];
  for (let r = 0; r < args.runs; r++) passes.push(await pass());
  return { passes, isolated: globalThis.crossOriginIsolated, agent: navigator.userAgent };
}"""


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def run_page() -> dict[str, Any]:
    with serve_files(WEB, pages={"/bench.html": PAGE}, headers=ISOLATED) as url, \
            chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/bench.html")
        result: dict[str, Any] = page.evaluate(
            _JS, {"messages": MESSAGES, "plaintext": PLAINTEXT_BYTES, "runs": RUNS})
        if errors:
            raise RuntimeError(f"errors in the benchmark page: {errors}")
        result["version"] = browser.version
        return result


def measure() -> list[Row]:
    got = run_page()
    passes: list[dict[str, float]] = got["passes"]

    def med(key: str) -> float:
        return _median([p[key] for p in passes])

    def spread(key: str, scale: float) -> str:
        values = [p[key] * scale for p in passes]
        return f"{RUNS} passes {min(values):,.1f}-{max(values):,.1f}"

    us = 1000 / MESSAGES
    where = (f"Chromium {got['version']}"
             + ("" if got["isolated"] else ", not cross-origin isolated (coarse timer)"))
    first = passes[0]
    return [
        Row(SECTION, f"encrypt one {PLAINTEXT_BYTES}-byte message (web/crypto envelope.seal)",
            med("enc") * us, med("rawEnc") * us, "µs", "raw WebCrypto AES-256-GCM encrypt",
            better="lower",
            note=(f"ratchet step (2 HKDF) + AES-256-GCM + Ed25519 sign, awaited one by one, "
                  f"{MESSAGES} per pass; {spread('enc', us)} µs; "
                  f"{int(first['envelopeBytes'])}-byte envelope; {where}")),
        Row(SECTION, "decrypt one message (envelope.parse + envelope.open)",
            med("dec") * us, med("rawDec") * us, "µs", "raw WebCrypto AES-256-GCM decrypt",
            better="lower",
            note=(f"Ed25519 verify + ratchet step + replay check + AES-256-GCM; "
                  f"{spread('dec', us)} µs")),
        Row(SECTION, f"open a channel with {MESSAGES} messages from one sender",
            med("openChannel"), med("rawDec"), "ms",
            f"{MESSAGES} raw WebCrypto AES-256-GCM decrypts", better="lower",
            note=(f"key_share.open ({int(first['shareBytes'])}-byte share: Ed25519 verify + "
                  f"HPKE open) then {MESSAGES} envelopes opened in order; "
                  f"{spread('openChannel', 1)} ms")),
    ]
