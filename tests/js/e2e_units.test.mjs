// web/crypto's end-to-end modules beyond the shared vectors: what only JS can get wrong
// (concurrent async calls on one session, number limits) and the caller-side contracts.
import assert from 'node:assert/strict';
import test from 'node:test';

import { concat, toHex } from '../../web/crypto/bytes.js';
import { generateKeyPair as newSigningKey } from '../../web/crypto/ed25519.js';
import * as envelope from '../../web/crypto/envelope.js';
import * as keyShare from '../../web/crypto/key_share.js';
import { ExistingDeviceLink, NewDeviceLink } from '../../web/crypto/linking.js';
import { Kind, makePrekey, Prekey } from '../../web/crypto/prekeys.js';
import { Recovery } from '../../web/crypto/recovery.js';
import {
  InboundSession, OutboundSession, ratchetTo,
} from '../../web/crypto/sender_session.js';
import { fields, Reader } from '../../web/crypto/wire.js';
import { generateKeyPair as newX25519Key } from '../../web/crypto/x25519.js';
import { refusal } from './_vectors.mjs';

const PLACE = { host: 'h', space: 's', chan: 'c' };

test('concurrent seals on one session never share an index', async () => {
  const device = await newSigningKey();
  const session = OutboundSession.create(0);
  const first = await session.export();
  const sealed = await Promise.all(Array.from({ length: 20 }, (_, n) =>
    envelope.seal(device, session, { ...PLACE, msgId: `m${n}` }, Uint8Array.of(n), n)));
  const indices = sealed.map((raw) => envelope.parse(raw).header.index);
  assert.deepEqual(indices, Array.from({ length: 20 }, (_, n) => n));
  assert.equal((await session.export()).index, 20);
  const inbound = InboundSession.fromKey(first);
  const opened = await Promise.all(sealed.map((raw, n) =>
    envelope.open(envelope.parse(raw), { ...PLACE, msgId: `m${n}` }, inbound)));
  assert.deepEqual(opened.map((p) => p[0]), indices);
});

test('concurrent opens of one index under two message ids: exactly one is a replay',
  async () => {
    const device = await newSigningKey();
    const session = OutboundSession.create(0);
    const key = await session.export();
    // A broken sender signs two messages at index 0 (two sessions from one state).
    const twin = new OutboundSession(key.sessionId, 0, key.chainKey, 0);
    const a = await envelope.seal(device, session, { ...PLACE, msgId: 'a' }, Uint8Array.of(1), 0);
    const b = await envelope.seal(device, twin, { ...PLACE, msgId: 'b' }, Uint8Array.of(2), 0);
    const inbound = InboundSession.fromKey(key);
    const results = await Promise.all([
      refusal(envelope.open(envelope.parse(a), { ...PLACE, msgId: 'a' }, inbound)),
      refusal(envelope.open(envelope.parse(b), { ...PLACE, msgId: 'b' }, inbound)),
    ]);
    // Either may win (their signatures verify concurrently); never both, never neither.
    assert.deepEqual(results.sort(), ['accepted', 'replay']);
  });

test('an inbound session opens from the index it was given, and merges an earlier key',
  async () => {
    const device = await newSigningKey();
    const session = OutboundSession.create(0);
    const zero = await session.export();
    const sealed = [];
    for (let n = 0; n < 3; n++) {
      sealed.push(await envelope.seal(device, session, { ...PLACE, msgId: `m${n}` },
        Uint8Array.of(n), n));
    }
    const late = InboundSession.fromKey(await ratchetTo(zero, 2));
    const open = (/** @type {number} */ n) => envelope.open(envelope.parse(sealed[n]),
      { ...PLACE, msgId: `m${n}` }, late);
    assert.deepEqual(await open(2), Uint8Array.of(2));
    assert.equal(await refusal(open(0)), 'index_too_old');
    assert.equal(late.merge(zero), true);
    assert.equal(late.merge(await ratchetTo(zero, 1)), false);
    assert.deepEqual(await open(0), Uint8Array.of(0));
    assert.equal(late.export().index, 0);
  });

test('keys stay non-extractable; prekey ids and fields are checked', async () => {
  const device = await newSigningKey();
  assert.equal(device.privateKey.extractable, false);
  const pk = await newX25519Key();
  assert.equal(pk.privateKey.extractable, false);
  await assert.rejects(makePrekey(device, Kind.ONE_TIME, 2 ** 32, 0, pk.privateKey), RangeError);
  const prekey = await makePrekey(device, Kind.ONE_TIME, 7, 0, pk.privateKey);
  assert.equal((await Prekey.fromBytes(prekey.toBytes(), device.publicKey)).keyId, 7);
  assert.throws(() => fields('caf\u00e9'), TypeError);
  assert.throws(() => fields('x'.repeat(256)), RangeError);
  assert.deepEqual(fields('', 'ab'), Uint8Array.of(0, 2, 97, 98));
});

test('an 8-byte integer beyond 2**53 - 1 is refused, not rounded', () => {
  const reader = new Reader(concat(Uint8Array.of(0x00, 0x20), new Uint8Array(6)), 'x',
    'bad_envelope');
  assert.equal(new Reader(Uint8Array.of(0, 0x1f, 255, 255, 255, 255, 255, 255), 'x', 'bad_envelope')
    .uint(8), Number.MAX_SAFE_INTEGER);
  assert.throws(() => reader.uint(8), (/** @type {any} */ e) => e.code === 'bad_envelope');
});

test('a key share sealed to a fresh prekey opens once the prekey is known', async () => {
  const [alice, bob] = [await newSigningKey(), await newSigningKey()];
  const pk = await newX25519Key();
  const prekey = await makePrekey(bob, Kind.SIGNED, 1, 0, pk.privateKey);
  const key = await OutboundSession.create(0).export();
  const share = await keyShare.seal(alice, bob.publicKey, prekey, PLACE, key);
  assert.equal(share.length, keyShare.SIZE);
  const opened = await keyShare.open(share, bob.publicKey, PLACE,
    async (kind, id) => (kind === Kind.SIGNED && id === 1 ? pk.privateKey : null));
  assert.ok(opened.key.equals(key));
  assert.equal(toHex(opened.share.sender), toHex(alice.publicKey));
});

test('linking with fresh keys: both codes agree; a man in the middle gets other codes',
  async () => {
    const n = await NewDeviceLink.create('h', 'link');
    const e = await ExistingDeviceLink.create('h', 'link');
    await e.onKey(await n.onReveal(e.onCommit(await n.commitMessage())));
    assert.match(e.code, /^\d{8}$/);
    assert.equal(n.code, e.code);
    const recovery = Recovery.generate();
    const m5 = await e.transfer(true, await n.confirm(e.code), new Uint8Array(32).fill(7), recovery);
    assert.ok((await n.onSecrets(m5)).recovery.equals(recovery));
    // Mallory relays N's commitment to E but answers N with her own key: N refuses M2.
    const mallory = await ExistingDeviceLink.create('h', 'link');
    const n2 = await NewDeviceLink.create('h', 'link');
    const m1 = await n2.commitMessage();
    const forged = mallory.onCommit(concat(Uint8Array.of(1), new Uint8Array(32)));
    assert.equal(await refusal(n2.onReveal(forged)), 'link_mismatch');
    assert.equal(await refusal(n2.onReveal(mallory.onCommit(m1))), 'accepted');
  });
