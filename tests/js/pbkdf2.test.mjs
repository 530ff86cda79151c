import assert from 'node:assert/strict';
import test from 'node:test';

import { toHex } from '../../web/crypto/bytes.js';
import { PASSPHRASE_ITERATIONS, pbkdf2Sha256 } from '../../web/crypto/pbkdf2.js';
import { h, load, unknownFlags, wycheproof } from './_vectors.mjs';

const WP = 'pbkdf2_hmacsha256_test.json';

test('Wycheproof pbkdf2_hmacsha256_test.json', async (t) => {
  assert.deepEqual(unknownFlags(WP, ['Rfc7914', 'Printable', 'Pseudorandom', 'Ascii', 'Utf8',
    'NonUtf8']), []);
  const failures = [];
  let n = 0;
  for (const { test: c } of wycheproof(WP)) {
    n++;
    assert.equal(c.result, 'valid');
    const dk = await pbkdf2Sha256(h(c.password), h(c.salt),
      { iterations: c.iterationCount, length: c.dkLen });
    if (toHex(dk) !== c.dk) failures.push(c.tcId);
  }
  assert.deepEqual(failures, []);
  t.diagnostic(`checked ${n} vectors`);
});

test('shared Hearth vectors (UTF-8 passwords, the 600,000 default)', async (t) => {
  assert.equal(PASSPHRASE_ITERATIONS, 600_000);
  const cases = load('hearth_primitives.json').pbkdf2;
  for (const c of cases) {
    const dk = c.iterations === PASSPHRASE_ITERATIONS
      ? await pbkdf2Sha256(c.password_utf8, h(c.salt))
      : await pbkdf2Sha256(c.password_utf8, h(c.salt), { iterations: c.iterations, length: c.length });
    assert.equal(toHex(dk), c.dk, c.password_utf8);
    assert.equal(toHex(await pbkdf2Sha256(h(c.password), h(c.salt),
      { iterations: c.iterations, length: c.length })), c.dk);
  }
  t.diagnostic(`checked ${cases.length} vectors`);
});

test('refuses nonsense parameters', async () => {
  await assert.rejects(pbkdf2Sha256('pw', new Uint8Array(8), { iterations: 0 }), RangeError);
  await assert.rejects(pbkdf2Sha256('pw', new Uint8Array(8), { length: 0 }), RangeError);
});
