import assert from 'node:assert/strict';
import test from 'node:test';

import { concat, toHex } from '../../web/crypto/bytes.js';
import { generateKeyPair, importSeed, sign, verify } from '../../web/crypto/ed25519.js';
import { h, load, refusal, unknownFlags, wycheproof } from './_vectors.mjs';

const WP = 'ed25519_test.json';
const SHARED = load('hearth_primitives.json').ed25519;

test('RFC 8032 section 7.1: TEST 1, 2, 3, SHA(abc)', async (t) => {
  const cases = load('rfc8032_ed25519.json').vectors;
  for (const c of cases) {
    const { privateKey, publicKey } = await importSeed(h(c.secret_key));
    assert.equal(privateKey.extractable, false);
    assert.equal(toHex(publicKey), c.public_key, c.name);
    assert.equal(toHex(await sign(privateKey, h(c.message))), c.signature, c.name);
    await verify(h(c.public_key), h(c.message), h(c.signature));
    const changed = concat(h(c.message), Uint8Array.of(33));
    assert.equal(await refusal(verify(h(c.public_key), changed, h(c.signature))), 'bad_signature');
  }
  t.diagnostic(`checked ${cases.length} vectors`);
});

test('Wycheproof ed25519_test.json', async (t) => {
  assert.deepEqual(unknownFlags(WP, ['Valid', 'Ktv', 'TinkOverflow', 'InvalidSignature',
    'TruncatedSignature', 'SignatureWithGarbage', 'CompressedSignature', 'InvalidEncoding',
    'SignatureMalleability', 'InvalidKtv']), []);
  const failures = [];
  let n = 0;
  for (const { group, test: c } of wycheproof(WP)) {
    n++;
    const code = await refusal(verify(h(group.publicKey.pk), h(c.msg), h(c.sig)));
    const want = c.result === 'valid' ? 'accepted' : 'bad_signature';
    if (code !== want) failures.push(`${c.tcId} (${c.result} ${c.flags}): ${code}`);
  }
  assert.deepEqual(failures, []);
  t.diagnostic(`checked ${n} vectors`);
});

test('shared Hearth vectors', async (t) => {
  for (const c of SHARED.sign) {
    const { privateKey, publicKey } = await importSeed(h(c.seed));
    assert.equal(toHex(publicKey), c.public_key);
    assert.equal(toHex(await sign(privateKey, h(c.message))), c.signature);
    await verify(publicKey, h(c.message), h(c.signature));
  }
  for (const c of SHARED.reject) {
    const code = await refusal(verify(h(c.public_key), h(c.message), h(c.signature)));
    assert.equal(code, c.error, c.why);
  }
  t.diagnostic(`checked ${SHARED.sign.length + SHARED.reject.length} vectors`);
});

test('generated keys sign and verify; sizes are checked', async () => {
  const { privateKey, publicKey } = await generateKeyPair();
  assert.equal(privateKey.extractable, false);
  const sig = await sign(privateKey, Uint8Array.of(1));
  await verify(publicKey, Uint8Array.of(1), sig);
  assert.equal(await refusal(verify(publicKey.subarray(0, 31), Uint8Array.of(1), sig)),
    'bad_signature');
  await assert.rejects(importSeed(new Uint8Array(31)), RangeError);
});
