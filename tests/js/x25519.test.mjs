import assert from 'node:assert/strict';
import test from 'node:test';

import { toHex } from '../../web/crypto/bytes.js';
import { generateKeyPair, importPrivateKey, publicKeyOf, sharedSecret } from '../../web/crypto/x25519.js';
import { h, load, refusal, unknownFlags, wycheproof } from './_vectors.mjs';

const RFC = load('rfc7748_x25519.json');
const WP = 'x25519_test.json';
const SHARED = load('hearth_primitives.json').x25519;
const ZERO = '00'.repeat(32);

/** @param {string} sk @param {string} pk */
async function dh(sk, pk) {
  return toHex(await sharedSecret(await importPrivateKey(h(sk)), h(pk)));
}

test('RFC 7748 section 5.2 scalar multiplication', async (t) => {
  for (const c of RFC.scalar_mult) assert.equal(await dh(c.scalar, c.u), c.output, c.name);
  t.diagnostic(`checked ${RFC.scalar_mult.length} vectors`);
});

test('RFC 7748 section 5.2, 1,000 iterations', async (t) => {
  for (const c of RFC.iterated) {
    let k = '09' + '00'.repeat(31);
    let u = k;
    for (let i = 0; i < c.iterations; i++) [k, u] = [await dh(k, u), k];
    assert.equal(k, c.output);
  }
  t.diagnostic(`checked ${RFC.iterated.length} vectors`);
});

test('RFC 7748 section 6.1 Diffie-Hellman', async (t) => {
  for (const c of RFC.diffie_hellman) {
    assert.equal(toHex(await publicKeyOf(await importPrivateKey(h(c.alice_private)))), c.alice_public);
    assert.equal(toHex(await publicKeyOf(await importPrivateKey(h(c.bob_private)))), c.bob_public);
    assert.equal(await dh(c.alice_private, c.bob_public), c.shared);
    assert.equal(await dh(c.bob_private, c.alice_public), c.shared);
  }
  t.diagnostic(`checked ${RFC.diffie_hellman.length} vectors`);
});

test('Wycheproof x25519_test.json (all-zero results refused as low_order_key)', async (t) => {
  assert.deepEqual(unknownFlags(WP, ['Normal', 'Ktv', 'Twist', 'SpecialPublicKey',
    'SmallPublicKey', 'NonCanonicalPublic', 'EdgeCaseShared', 'EdgeCaseMultiplication',
    'EdgeCasePrivateKey', 'LowOrderPublic', 'ZeroSharedSecret']), []);
  const failures = [];
  let n = 0;
  for (const { group, test: c } of wycheproof(WP)) {
    n++;
    assert.equal(group.curve, 'curve25519');
    assert.ok(['valid', 'acceptable'].includes(c.result));
    const key = await importPrivateKey(h(c.private));
    if (c.shared === ZERO) {
      const code = await refusal(sharedSecret(key, h(c.public)));
      if (code !== 'low_order_key') failures.push(`${c.tcId}: ${code}`);
    } else {
      let got;
      try {
        got = toHex(await sharedSecret(key, h(c.public)));
      } catch (e) {
        got = String(e);
      }
      if (got !== c.shared) failures.push(`${c.tcId} (${c.result} ${c.flags}): ${got}`);
    }
  }
  assert.deepEqual(failures, []);
  t.diagnostic(`checked ${n} vectors`);
});

test('shared Hearth vectors', async (t) => {
  for (const c of SHARED.agree) {
    assert.equal(toHex(await publicKeyOf(await importPrivateKey(h(c.private_a)))), c.public_a);
    assert.equal(toHex(await publicKeyOf(await importPrivateKey(h(c.private_b)))), c.public_b);
    assert.equal(await dh(c.private_a, c.public_b), c.shared);
    assert.equal(await dh(c.private_b, c.public_a), c.shared);
  }
  for (const c of SHARED.reject) {
    const code = await refusal(sharedSecret(await importPrivateKey(h(c.private)), h(c.public)));
    assert.equal(code, c.error, c.public);
  }
  t.diagnostic(`checked ${SHARED.agree.length + SHARED.reject.length} vectors`);
});

test('generated keys agree and are not extractable', async () => {
  const [a, b] = [await generateKeyPair(), await generateKeyPair()];
  assert.equal(a.privateKey.extractable, false);
  assert.deepEqual(await publicKeyOf(a.privateKey), a.publicKey);
  const s = await sharedSecret(a.privateKey, b.publicKey);
  assert.deepEqual(s, await sharedSecret(b.privateKey, a.publicKey));
  assert.equal((await importPrivateKey(new Uint8Array(32).fill(7))).extractable, false);
  for (const size of [0, 31, 33]) {
    assert.equal(await refusal(sharedSecret(a.privateKey, new Uint8Array(size).fill(9))), 'bad_key');
  }
});
