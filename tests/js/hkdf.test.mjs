import assert from 'node:assert/strict';
import test from 'node:test';

import { toHex } from '../../web/crypto/bytes.js';
import { expand, extract, hkdf } from '../../web/crypto/hkdf.js';
import { h, load, unknownFlags, wycheproof } from './_vectors.mjs';

const WP = 'hkdf_sha256_test.json';

test('RFC 5869 test cases 1-3', async (t) => {
  const cases = load('rfc5869_hkdf_sha256.json').vectors;
  for (const c of cases) {
    const prk = await extract(h(c.salt), h(c.ikm));
    assert.equal(toHex(prk), c.prk, c.name);
    assert.equal(toHex(await expand(prk, h(c.info), c.length)), c.okm, c.name);
    assert.equal(toHex(await hkdf(h(c.ikm), { salt: h(c.salt), info: h(c.info), length: c.length })),
      c.okm, c.name);
  }
  t.diagnostic(`checked ${cases.length} vectors`);
});

test('Wycheproof hkdf_sha256_test.json', async (t) => {
  assert.deepEqual(unknownFlags(WP, ['Normal', 'EmptySalt', 'MaximalOutputSize',
    'OutputCollision', 'SizeTooLarge']), []);
  const failures = [];
  let n = 0;
  for (const { test: c } of wycheproof(WP)) {
    n++;
    const [ikm, salt, info] = [h(c.ikm), h(c.salt), h(c.info)];
    if (c.result === 'valid') {
      const one = toHex(await hkdf(ikm, { salt, info, length: c.size }));
      const two = toHex(await expand(await extract(salt, ikm), info, c.size));
      if (one !== c.okm || two !== c.okm) failures.push(c.tcId);
    } else {
      assert.ok(c.flags.includes('SizeTooLarge'));
      await assert.rejects(hkdf(ikm, { salt, info, length: c.size }), RangeError);
      await assert.rejects(expand(await extract(salt, ikm), info, c.size), RangeError);
    }
  }
  assert.deepEqual(failures, []);
  t.diagnostic(`checked ${n} vectors`);
});

test('shared Hearth vectors', async (t) => {
  const cases = load('hearth_primitives.json').hkdf;
  for (const c of cases) {
    const [ikm, salt, info] = [h(c.ikm), h(c.salt), h(c.info)];
    assert.equal(toHex(await extract(salt, ikm)), c.prk);
    assert.equal(toHex(await hkdf(ikm, { salt, info, length: c.length })), c.okm);
    assert.equal(toHex(await expand(h(c.prk), info, c.length)), c.okm);
  }
  t.diagnostic(`checked ${cases.length} vectors`);
});

test('refuses impossible lengths and short PRKs', async () => {
  for (const length of [0, -1, 8161, 1.5]) {
    await assert.rejects(hkdf(new Uint8Array(32), { salt: new Uint8Array(0),
      info: new Uint8Array(0), length }), RangeError);
  }
  await assert.rejects(expand(new Uint8Array(5), new Uint8Array(0), 32), RangeError);
});
