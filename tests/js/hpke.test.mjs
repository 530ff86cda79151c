import assert from 'node:assert/strict';
import test from 'node:test';

import { toHex, utf8 } from '../../web/crypto/bytes.js';
import * as hpke from '../../web/crypto/hpke.js';
import { importPrivateKey, publicKeyOf } from '../../web/crypto/x25519.js';
import { Label } from '../../web/crypto/labels.js';
import { h, load, refusal } from './_vectors.mjs';

const RFC = load('rfc9180_hpke_x25519_sha256_aes256gcm.json').vectors;
const SHARED = load('hearth_primitives.json').hpke;

/** Derive every key, rebuild both contexts, reproduce every output of ``c``. */
async function checkCase(c) {
  assert.deepEqual([c.kem_id ?? 0x20, c.kdf_id ?? 1, c.aead_id ?? 2],
    [hpke.KEM_ID, hpke.KDF_ID, hpke.AEAD_ID]);
  const info = h(c.info);
  assert.equal(toHex(await hpke.deriveScalar(h(c.ikmR))), c.skRm);
  assert.equal(toHex(await hpke.deriveScalar(h(c.ikmE))), c.skEm);
  const r = await hpke.deriveKeyPair(h(c.ikmR));
  const e = await hpke.deriveKeyPair(h(c.ikmE));
  assert.equal(r.privateKey.extractable, false);
  assert.equal(toHex(r.publicKey), c.pkRm);
  const pkR = h(c.pkRm);
  let shared;
  let sender;
  let recipient;
  if (c.mode === hpke.MODE_BASE) {
    shared = await hpke.encap(pkR, { ephemeral: e });
    assert.equal(toHex(await hpke.decap(shared.enc, r.privateKey)), c.shared_secret);
    sender = await hpke.setupBaseS(pkR, info, { ephemeral: e });
    recipient = await hpke.setupBaseR(shared.enc, r.privateKey, info);
  } else {
    assert.equal(c.mode, hpke.MODE_AUTH);
    assert.equal(toHex(await hpke.deriveScalar(h(c.ikmS))), c.skSm);
    const s = await hpke.deriveKeyPair(h(c.ikmS));
    assert.equal(toHex(s.publicKey), c.pkSm);
    shared = await hpke.authEncap(pkR, s.privateKey, { ephemeral: e });
    assert.equal(toHex(await hpke.authDecap(shared.enc, r.privateKey, h(c.pkSm))), c.shared_secret);
    sender = await hpke.setupAuthS(pkR, info, s.privateKey, { ephemeral: e });
    recipient = await hpke.setupAuthR(shared.enc, r.privateKey, info, h(c.pkSm));
  }
  assert.equal(toHex(shared.enc), c.enc);
  assert.equal(toHex(sender.enc), c.enc);
  assert.equal(toHex(shared.sharedSecret), c.shared_secret);
  const keys = await hpke.keySchedule(c.mode, shared.sharedSecret, info);
  assert.equal(toHex(keys.key), c.key);
  assert.equal(toHex(keys.baseNonce), c.base_nonce);
  assert.equal(toHex(keys.exporterSecret), c.exporter_secret);
  let seq = 0n;
  for (const x of c.encryptions) {
    assert.equal(toHex(await sender.context.seal(h(x.aad), h(x.pt))), x.ct);
    assert.equal(toHex(await recipient.open(h(x.aad), h(x.ct))), x.pt);
    seq += 1n;
    assert.equal(sender.context.seq, seq);
    assert.equal(recipient.seq, seq);
  }
  for (const x of c.exports) {
    for (const ctx of [sender.context, recipient]) {
      assert.equal(toHex(await ctx.export(h(x.exporter_context), x.L)), x.exported_value);
    }
  }
  return c.encryptions.length + c.exports.length;
}

test('RFC 9180 vectors: modes base and auth, X25519 / HKDF-SHA256 / AES-256-GCM', async (t) => {
  for (const c of RFC) {
    assert.equal(c.encryptions.length, 257);
    const n = await checkCase(c);
    t.diagnostic(`mode ${c.mode}: checked keys, enc, secrets, ${n} encryptions and exports`);
  }
});

test('RFC 9180 key_schedule_context and secret, from the labelled primitives', async () => {
  for (const c of RFC) {
    const E = new Uint8Array(0);
    const pskIdHash = await hpke.labeledExtract(hpke.HPKE_SUITE_ID, E, 'psk_id_hash', E);
    const infoHash = await hpke.labeledExtract(hpke.HPKE_SUITE_ID, E, 'info_hash', h(c.info));
    assert.equal(toHex(Uint8Array.of(c.mode)) + toHex(pskIdHash) + toHex(infoHash),
      c.key_schedule_context);
    const secret = await hpke.labeledExtract(hpke.HPKE_SUITE_ID, h(c.shared_secret), 'secret', E);
    assert.equal(toHex(secret), c.secret);
  }
});

test('shared Hearth vectors: seal', async (t) => {
  for (const c of SHARED.seal) {
    assert.equal(toHex(utf8(Label[c.info_label])), c.info);
    const n = await checkCase(c);
    t.diagnostic(`mode ${c.mode}: checked ${n} encryptions and exports`);
  }
});

test('shared Hearth vectors: every refusal with its code', async (t) => {
  for (const c of SHARED.reject) {
    const skR = await importPrivateKey(h(c.skRm));
    const args = [h(c.enc), skR, h(c.info), h(c.aad), h(c.ct)];
    const code = c.mode === hpke.MODE_AUTH
      ? await refusal(hpke.openAuth(...args, h(c.pkSm)))
      : await refusal(hpke.openBase(...args));
    assert.equal(code, c.error, c.why);
  }
  t.diagnostic(`checked ${SHARED.reject.length} vectors`);
});

test('a failed open does not advance the sequence; concurrent seals keep order', async () => {
  const r = await hpke.generateKeyPair();
  const info = utf8('info');
  const { enc, context: sender } = await hpke.setupBaseS(r.publicKey, info);
  const recipient = await hpke.setupBaseR(enc, r.privateKey, info);
  const aad = utf8('a');
  const [first, second] = await Promise.all([sender.seal(aad, utf8('one')),
    sender.seal(aad, utf8('two'))]);
  assert.equal(await refusal(recipient.open(aad, second)), 'decrypt_failed');
  assert.equal(recipient.seq, 0n);
  const [one, two] = await Promise.all([recipient.open(aad, first), recipient.open(aad, second)]);
  assert.deepEqual([one, two], [utf8('one'), utf8('two')]);
});

test('single-shot round trips, fresh ephemerals, wrong sender refused', async () => {
  const r = await hpke.generateKeyPair();
  const s = await hpke.generateKeyPair();
  const [info, aad, pt] = [utf8('i'), utf8('aad'), utf8('hello')];
  const a = await hpke.sealBase(r.publicKey, info, aad, pt);
  const b = await hpke.sealBase(r.publicKey, info, aad, pt);
  assert.notDeepEqual(a.enc, b.enc);
  assert.deepEqual(await hpke.openBase(a.enc, r.privateKey, info, aad, a.ciphertext), pt);
  const x = await hpke.sealAuth(r.publicKey, info, aad, pt, s.privateKey);
  assert.deepEqual(await hpke.openAuth(x.enc, r.privateKey, info, aad, x.ciphertext, s.publicKey),
    pt);
  assert.equal(await refusal(hpke.openAuth(x.enc, r.privateKey, info, aad, x.ciphertext,
    r.publicKey)), 'decrypt_failed');
  assert.deepEqual(await publicKeyOf(s.privateKey), s.publicKey);
});

test('parameters are refused', async () => {
  await assert.rejects(hpke.deriveKeyPair(new Uint8Array(31)), RangeError);
  await assert.rejects(hpke.keySchedule(1, new Uint8Array(32), new Uint8Array(0)), RangeError);
  const r = await hpke.generateKeyPair();
  const { context } = await hpke.setupBaseS(r.publicKey, new Uint8Array(0));
  await assert.rejects(context.export(new Uint8Array(0), 8161), RangeError);
});
