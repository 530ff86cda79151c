import assert from 'node:assert/strict';
import test from 'node:test';

import { importAeadKey, open, seal } from '../../web/crypto/aead.js';
import { toHex } from '../../web/crypto/bytes.js';
import { h, load, refusal, unknownFlags, wycheproof } from './_vectors.mjs';

const WP = 'aes_gcm_test.json';
const SHARED = load('hearth_primitives.json').aead;

test('Wycheproof aes_gcm_test.json (keySize 256, ivSize 96, tagSize 128)', async (t) => {
  assert.deepEqual(unknownFlags(WP, ['Ktv', 'Pseudorandom', 'SpecialCase', 'ModifiedTag']), []);
  const failures = [];
  let n = 0;
  for (const { group, test: c } of wycheproof(WP)) {
    n++;
    assert.deepEqual([group.keySize, group.ivSize, group.tagSize], [256, 96, 128]);
    const [key, iv, aad, msg] = [h(c.key), h(c.iv), h(c.aad), h(c.msg)];
    const sealed = c.ct + c.tag;
    if (c.result === 'valid') {
      if (toHex(await seal(key, iv, msg, aad)) !== sealed) failures.push(c.tcId);
      if (toHex(await open(key, iv, h(sealed), aad)) !== c.msg) failures.push(c.tcId);
    } else if (await refusal(open(key, iv, h(sealed), aad)) !== 'decrypt_failed') {
      failures.push(c.tcId);
    }
  }
  assert.deepEqual(failures, []);
  t.diagnostic(`checked ${n} vectors`);
});

test('shared Hearth vectors: seal, and a CryptoKey gives the same bytes', async (t) => {
  for (const c of SHARED.seal) {
    const [key, nonce, aad, pt] = [h(c.key), h(c.nonce), h(c.aad), h(c.plaintext)];
    assert.equal(toHex(await seal(key, nonce, pt, aad)), c.ciphertext);
    const cryptoKey = await importAeadKey(key);
    assert.equal(cryptoKey.extractable, false);
    assert.equal(toHex(await seal(cryptoKey, nonce, pt, aad)), c.ciphertext);
    assert.equal(toHex(await open(cryptoKey, nonce, h(c.ciphertext), aad)), c.plaintext);
  }
  t.diagnostic(`checked ${SHARED.seal.length} vectors`);
});

test('shared Hearth vectors: every tampering refused with decrypt_failed', async (t) => {
  for (const c of SHARED.reject) {
    const code = await refusal(open(h(c.key), h(c.nonce), h(c.ciphertext), h(c.aad)));
    assert.equal(code, c.error, c.why);
  }
  t.diagnostic(`checked ${SHARED.reject.length} vectors`);
});

test('wrong key or nonce size is a caller bug', async () => {
  for (const [k, n] of [[31, 12], [33, 12], [16, 12], [32, 11], [32, 16]]) {
    await assert.rejects(seal(new Uint8Array(k), new Uint8Array(n), new Uint8Array(0),
      new Uint8Array(0)), RangeError);
  }
});
