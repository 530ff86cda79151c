// Unit tests of web/ modules that need no browser: run by test_protocol_vectors.py with
// `node --test tests/web/client_units.test.mjs`.
import assert from 'node:assert/strict';
import test from 'node:test';

import { Timeline } from '../../web/chat/timeline.js';
import { backoffDelay, clientSocketUrl } from '../../web/protocol/connection.js';
import { HearthError } from '../../web/crypto/errors.js';
import { generateKeyPair } from '../../web/crypto/ed25519.js';
import { b64e } from '../../web/crypto/bytes.js';
import { certifyDevice } from '../../web/protocol/certificate.js';
import { Reason, reasonFor } from '../../web/e2e/reasons.js';
import { verifyRoster } from '../../web/e2e/roster.js';
import { InviteLinkError, parseInviteLink } from '../../web/protocol/invite.js';

const msg = (seq) => ({ seq, id: `m${seq}`, acct: 'a', dev: 'd', ts: seq, env: 'AA' });

test('timeline pages merge without duplicates and live gaps are detected', () => {
  const t = new Timeline();
  assert.deepEqual(t.add([msg(51), msg(52), msg(53)]).map((m) => m.seq), [51, 52, 53]);
  assert.deepEqual(t.add([msg(50), msg(51)]).map((m) => m.seq), [50]);
  assert.equal(t.oldest, 50);
  assert.equal(t.newest, 53);
  assert.equal(t.place(53), 'dup');
  assert.equal(t.place(52), 'dup');
  assert.equal(t.place(54), 'next');
  assert.equal(t.place(56), 'gap');
  assert.equal(new Timeline().place(7), 'next');
});

test('reconnect backoff grows, is capped and jittered', () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    const ceiling = Math.min(15_000, 400 * 2 ** attempt);
    for (let i = 0; i < 20; i++) {
      const d = backoffDelay(attempt);
      assert.ok(d >= ceiling / 2 && d <= ceiling, `${d} for attempt ${attempt}`);
    }
  }
  assert.equal(clientSocketUrl('https://chat.example.org'), 'wss://chat.example.org/ws/client');
  assert.equal(clientSocketUrl('http://127.0.0.1:8470'), 'ws://127.0.0.1:8470/ws/client');
});

test('crypto refusals become the plain-words reasons of hearth/e2e/reasons.py', () => {
  assert.equal(reasonFor(new HearthError('bad_signature', 'x')).reason, Reason.TAMPERED);
  assert.equal(reasonFor(new HearthError('index_too_old', 'x')).reason, Reason.BEFORE_JOIN);
  assert.equal(reasonFor(new HearthError('decrypt_failed', 'x')).reason, Reason.BAD_KEY_SHARED);
  assert.equal(reasonFor(new HearthError('replay', 'x')).reason.text, 'a repeat of an earlier message, ignored');
  assert.throws(() => reasonFor(new TypeError('a bug')), TypeError);
});

test('the roster keeps only devices their account certified; the rest are shown, not trusted', async () => {
  const account = await generateKeyPair();
  const impostor = await generateKeyPair();
  const device = await generateKeyPair();
  const x = new Uint8Array(32).fill(9);
  const cert = async (signer) => b64e(await certifyDevice(signer.privateKey, {
    account: signer.publicKey, device: device.publicKey, deviceX25519: x, issuedAt: 1 }));
  const acct = b64e(account.publicKey);
  const entry = (c) => ({ dev: b64e(device.publicKey), cert: c, created_at: 1, revoked: false, revoked_at: null });
  const good = await verifyRoster('s', { members: [{ acct, role: 'member', joined_at: 5, devices: [entry(await cert(account))] }], departed: [] }, 0);
  assert.deepEqual([...good.recipients()], [b64e(device.publicKey)]);
  const forged = await verifyRoster('s', { members: [{ acct, role: 'member', joined_at: 5, devices: [entry(await cert(impostor))] }], departed: [] }, 0);
  assert.equal(forged.recipients().size, 0);
  assert.match(forged.uncertified[0].why, /signed by account/);
});

test('a damaged invite link is refused with words a person can act on', async () => {
  await assert.rejects(parseInviteLink('hello'), InviteLinkError);
  const good = 'http://127.0.0.1:8470/#/join/tcaiwhaf7ohn6ozjaepzu2cpo3moqfqom7626jwzidqrvxdaci66kjjb/'
    + 'ISgvNj1ES1JZYGdudXyDipGYn6attLvCydDX3uXs8_o';
  assert.equal((await parseInviteLink(good)).kind, 'join');
  await assert.rejects(parseInviteLink(good.replace('tcaiw', 'tcaix')), /checksum/);
  await assert.rejects(parseInviteLink(good.slice(0, -3)), /incomplete/);
});

test('presence book: states, last seen, timeouts and typing', async () => {
  const { PresenceBook } = await import('../../web/chat/presence.js');
  const { PRESENCE_OFFLINE_AFTER_MS, TYPING_SHOWN_MS } = await import('../../web/protocol/ephemeral.js');
  const book = new PresenceBook();
  const upd = (acct, dev, k, state, chan = '*') => ({ v: 1, host: 'h', space: 's', chan, k, state, dev, acct, ts: 0 });
  assert.deepEqual(book.seen('s', 'alice', 1000), { state: 'offline', lastSeen: null });
  book.note(upd('alice', 'phone', 'presence', 'away'), 1000);
  assert.deepEqual(book.seen('s', 'alice', 1000), { state: 'away', lastSeen: 1000 });
  book.note(upd('alice', 'laptop', 'presence', 'online'), 2000);
  assert.deepEqual(book.seen('s', 'alice', 2000), { state: 'online', lastSeen: 2000 }); // any device online
  assert.equal(book.seen('other-space', 'alice', 2000).state, 'offline');
  // No heartbeat for too long: offline, with the last time seen.
  assert.deepEqual(book.seen('s', 'alice', 2000 + PRESENCE_OFFLINE_AFTER_MS + 1), { state: 'offline', lastSeen: 2000 });
  assert.equal(book.seen('s', 'alice', 1000 + PRESENCE_OFFLINE_AFTER_MS).state, 'online');
  book.note(upd('alice', 'laptop', 'presence', 'offline'), 3000);
  assert.deepEqual(book.seen('s', 'alice', 3000), { state: 'away', lastSeen: 3000 });

  book.note(upd('bob', 'b1', 'typing', 'typing', 'general'), 5000);
  book.note(upd('carol', 'c1', 'typing', 'typing', 'general'), 5500);
  assert.deepEqual(book.typers('s', 'general', 6000), ['bob', 'carol']);
  assert.deepEqual(book.typers('s', 'random', 6000), []);
  assert.deepEqual(book.typers('s', 'general', 5000 + TYPING_SHOWN_MS), ['carol']);
  const before = book.snapshot(6000);
  book.note(upd('carol', 'c1', 'typing', 'stopped', 'general'), 6000);
  assert.deepEqual(book.typers('s', 'general', 6000), ['bob']);
  assert.notEqual(book.snapshot(6000), before);
  book.note(upd('bob', 'b1', 'presence', 'offline'), 6100); // leaving ends typing too
  assert.deepEqual(book.typers('s', 'general', 6100), []);
  book.forget('s');
  assert.equal(book.snapshot(6100), '');
});

test('ephemeral bodies: signed, checked for shape, route, clock and roster', async () => {
  const { signEphemeral, openEphemeral, checkSender } = await import('../../web/protocol/ephemeral.js');
  const account = await generateKeyPair();
  const device = await generateKeyPair();
  const acct = b64e(account.publicKey);
  const frame = await signEphemeral(device, acct, { host: 'h', space: 's', chan: '*', k: 'presence', state: 'online', ts: 1000 });
  const body = await openEphemeral(frame, 1000);
  assert.equal(body.dev, b64e(device.publicKey));
  await assert.rejects(openEphemeral(frame, 1000 + 30_001), /stale_request: eph body ts 1000 is 30001 ms/);
  await assert.rejects(openEphemeral({ ...frame, chan: 'general' }, 1000), /bad_frame: eph body names chan "\*" but the frame is routed to "general"/);
  await assert.rejects(signEphemeral(device, acct, { host: 'h', space: 's', chan: 'general', k: 'presence', state: 'online' }), /presence cannot go to chan "general"/);
  await assert.rejects(signEphemeral(device, acct, { host: 'h', space: 's', chan: 'general', k: 'typing', state: 'online' }), /state "online" is not one of stopped, typing/);
  const cert = await certifyDevice(account.privateKey, { account: account.publicKey, device: device.publicKey,
    deviceX25519: new Uint8Array(32).fill(9), issuedAt: 1 });
  const listing = (revoked) => ({ members: [{ acct, joined_at: 1, devices: [{ dev: body.dev, cert: b64e(cert), created_at: 1, revoked_at: revoked }] }], departed: [] });
  checkSender(body, await verifyRoster('s', listing(null), 1));
  assert.throws(() => checkSender(body, { space: 's', devices: new Map(), members: new Map() }), /unknown_device/);
  const revoked = await verifyRoster('s', listing(5), 1);
  assert.throws(() => checkSender(body, revoked), /device_revoked: .* was revoked at 5/);
  const departed = await verifyRoster('s', listing(null), 1);
  departed.members.clear();
  assert.throws(() => checkSender(body, departed), /not_member/);
});
