import assert from 'node:assert/strict';
import test from 'node:test';

import { equal, toHex } from '../../web/crypto/bytes.js';
import { hmacSha256, hmacSha256Verify, TAG_SIZE } from '../../web/crypto/hmac.js';
import { h, load, refusal, unknownFlags, wycheproof } from './_vectors.mjs';

const WP = 'hmac_sha256_test.json';

test('Wycheproof hmac_sha256_test.json', async (t) => {
  assert.deepEqual(unknownFlags(WP, ['Pseudorandom', 'ModifiedTag']), []);
  const failures = [];
  let n = 0;
  for (const { group, test: c } of wycheproof(WP)) {
    n++;
    const [key, msg, tag] = [h(c.key), h(c.msg), h(c.tag)];
    assert.equal(tag.length * 8, group.tagSize);
    const ours = (await hmacSha256(key, msg)).subarray(0, tag.length);
    if (c.result === 'valid') {
      if (!equal(ours, tag)) failures.push(c.tcId);
      if (tag.length === TAG_SIZE) await hmacSha256Verify(key, msg, tag);
    } else {
      if (equal(ours, tag)) failures.push(c.tcId);
      if (await refusal(hmacSha256Verify(key, msg, tag)) !== 'bad_signature') failures.push(c.tcId);
    }
  }
  assert.deepEqual(failures, []);
  t.diagnostic(`checked ${n} vectors`);
});

test('shared Hearth vectors (including the empty key)', async (t) => {
  const cases = load('hearth_primitives.json').hmac;
  for (const c of cases) {
    assert.equal(toHex(await hmacSha256(h(c.key), h(c.message))), c.tag);
    await hmacSha256Verify(h(c.key), h(c.message), h(c.tag));
  }
  t.diagnostic(`checked ${cases.length} vectors`);
});

test('verify refuses truncated tags', async () => {
  const tag = await hmacSha256(Uint8Array.of(1), Uint8Array.of(2));
  assert.equal(await refusal(hmacSha256Verify(Uint8Array.of(1), Uint8Array.of(2),
    tag.subarray(0, 16))), 'bad_signature');
});
