import assert from 'node:assert/strict';
import test from 'node:test';

import { b64d, b64e, concat, equal, i2osp, toHex } from '../../web/crypto/bytes.js';
import { Label } from '../../web/crypto/labels.js';
import { h, load, refusal } from './_vectors.mjs';

const SHARED = load('hearth_primitives.json');

test('base64url: shared encode/decode vectors', (t) => {
  for (const c of SHARED.base64url.encode) {
    assert.equal(b64e(h(c.bytes)), c.text);
    assert.equal(toHex(b64d(c.text)), c.bytes);
  }
  t.diagnostic(`checked ${SHARED.base64url.encode.length} vectors`);
});

test('base64url: refuses exactly what hearth/b64.py refuses', async (t) => {
  for (const text of SHARED.base64url.reject) {
    assert.equal(await refusal((async () => b64d(text))()), 'bad_frame', JSON.stringify(text));
  }
  t.diagnostic(`checked ${SHARED.base64url.reject.length} vectors`);
});

test('base64url: round trip every length and the size check', async () => {
  for (let n = 0; n < 70; n++) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) % 256);
    const text = b64e(data);
    assert.equal(text, Buffer.from(data).toString('base64url'));
    assert.deepEqual(b64d(text), data);
  }
  assert.equal(await refusal((async () => b64d('AAAA', { size: 2 }))()), 'bad_frame');
  assert.equal(await refusal((async () => b64d(/** @type {any} */ (7)))()), 'bad_frame');
});

test('labels: the same strings as hearth/crypto/labels.py, prefix-free', () => {
  assert.deepEqual({ ...Label }, SHARED.labels);
  const values = Object.values(Label);
  for (const a of values) {
    assert.ok(a.startsWith('hearth/v1/'));
    for (const b of values) if (a !== b) assert.ok(!b.startsWith(a), `${a} prefixes ${b}`);
  }
});

test('concat, equal, i2osp', () => {
  assert.deepEqual(concat(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)),
    Uint8Array.of(1, 2, 3));
  assert.ok(equal(Uint8Array.of(1, 2), Uint8Array.of(1, 2)));
  assert.ok(!equal(Uint8Array.of(1, 2), Uint8Array.of(1, 3)));
  assert.ok(!equal(Uint8Array.of(1, 2), Uint8Array.of(1)));
  assert.equal(toHex(i2osp(258, 2)), '0102');
  assert.equal(toHex(i2osp((1n << 96n) - 1n, 12)), 'ff'.repeat(12));
  assert.throws(() => i2osp(256, 1), RangeError);
});
