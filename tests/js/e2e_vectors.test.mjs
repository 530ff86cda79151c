// tests/vectors/hearth_e2e.json through web/crypto: every derivation, seal, session step,
// envelope, key share, backup, identity backup, linking message and safety number byte
// for byte, and every refusal with the error code Python gave (scripts/make_vectors.py
// wrote the file from hearth/crypto; tests/crypto/test_e2e_vectors.py checks Python).
import assert from 'node:assert/strict';
import test from 'node:test';

import * as backup from '../../web/crypto/backup.js';
import { concat, toHex } from '../../web/crypto/bytes.js';
import { importSeed } from '../../web/crypto/ed25519.js';
import { ErrorCode } from '../../web/crypto/errors.js';
import * as envelope from '../../web/crypto/envelope.js';
import * as identityBackup from '../../web/crypto/identity_backup.js';
import * as keyShare from '../../web/crypto/key_share.js';
import { ExistingDeviceLink, NewDeviceLink, codeAndConfirmKey, commitment, transcript }
  from '../../web/crypto/linking.js';
import { makePrekey, Prekey } from '../../web/crypto/prekeys.js';
import { parseKeyText, passphraseBytes, Recovery } from '../../web/crypto/recovery.js';
import * as safety from '../../web/crypto/safety.js';
import {
  InboundSession, messageKeys, nextChainKey, OutboundSession, ratchetTo, SessionKey,
} from '../../web/crypto/sender_session.js';
import { importPrivateKey, publicKeyOf, sharedSecret } from '../../web/crypto/x25519.js';
import { h, load, refusal } from './_vectors.mjs';

const V = load('hearth_e2e.json');

/** @param {string} hex a 32-byte X25519 private key */
async function x25519Pair(hex) {
  const privateKey = await importPrivateKey(h(hex));
  return { privateKey, publicKey: await publicKeyOf(privateKey) };
}

/** @param {{host: string, space: string, chan: string, msg_id: string}} p */
function place(p) {
  return { host: p.host, space: p.space, chan: p.chan, msgId: p.msg_id };
}

test('every error code web/crypto raises is one of hearth/errors.py', async () => {
  const { readFileSync } = await import('node:fs');
  const python = readFileSync(new URL('../../hearth/errors.py', import.meta.url), 'utf8');
  const known = new Set([...python.matchAll(/^\s+[A-Z_]+ = "([a-z_]+)"$/gm)].map((m) => m[1]));
  assert.ok(known.size > 30, 'parsed hearth/errors.py');
  assert.deepEqual(Object.values(ErrorCode).filter((c) => !known.has(c)), []);
});

test('ratchet: message keys, nonces and chain keys; session key bytes', async (t) => {
  const v = V.ratchet;
  let chain = h(v.steps[0].chain_key);
  for (const step of v.steps) {
    assert.equal(toHex(chain), step.chain_key);
    const keys = await messageKeys(chain);
    assert.deepEqual([toHex(keys.key), toHex(keys.nonce)], [step.message_key, step.nonce]);
    chain = await nextChainKey(chain);
  }
  const sk = v.session_key;
  const key = new SessionKey(h(sk.session_id), sk.index, h(sk.chain_key));
  assert.equal(toHex(key.toBytes()), sk.bytes);
  assert.ok(SessionKey.fromBytes(h(sk.bytes)).equals(key));
  assert.equal(toHex((await ratchetTo(key, v.ratchet_to.index)).toBytes()), v.ratchet_to.bytes);
  await assert.rejects(ratchetTo(key, key.index - 1), RangeError);
  for (const c of v.reject) {
    assert.equal(await refusal((async () => SessionKey.fromBytes(h(c.bytes)))()), c.error, c.why);
  }
  t.diagnostic(`checked ${v.steps.length} ratchet steps, 1 session key, 1 ratchetTo, `
    + `${v.reject.length} refusals`);
});

test('prekeys: signed bytes and every refusal', async (t) => {
  for (const c of V.prekeys) {
    const device = await importSeed(h(c.device_seed));
    assert.equal(toHex(device.publicKey), c.device);
    const prekey = await makePrekey(device, c.kind, c.key_id, c.created_at,
      await importPrivateKey(h(c.private)));
    assert.equal(toHex(prekey.toBytes()), c.bytes);
    const parsed = await Prekey.fromBytes(h(c.bytes), h(c.device));
    assert.deepEqual([parsed.kind, parsed.keyId, parsed.createdAt, toHex(parsed.toBytes())],
      [c.kind, c.key_id, c.created_at, c.bytes]);
  }
  for (const c of V.prekey_reject) {
    assert.equal(await refusal(Prekey.fromBytes(h(c.bytes), h(c.device))), c.error, c.why);
  }
  t.diagnostic(`checked ${V.prekeys.length} prekeys, ${V.prekey_reject.length} refusals`);
});

test('envelopes: seal byte for byte, open, and the AAD', async (t) => {
  const v = V.envelope;
  const device = await importSeed(h(v.device_seed));
  assert.equal(toHex(device.publicKey), v.device);
  const session = OutboundSession.create(0, { sessionId: h(v.session_id),
    chainKey: h(v.chain_key) });
  const inbound = new InboundSession(h(v.session_id), 0, h(v.chain_key));
  for (const c of v.seal) {
    const where = place({ ...v, msg_id: c.msg_id });
    const sealed = await envelope.seal(device, session, where, h(c.plaintext), c.sent_at);
    assert.equal(toHex(sealed), c.envelope);
    assert.equal(toHex(concat(sealed.subarray(0, envelope.HEADER_SIZE),
      envelope.placeBytes(where))), c.aad);
    const parsed = envelope.parse(sealed);
    assert.equal(parsed.header.sentAt, c.sent_at);
    assert.equal(toHex(await envelope.open(parsed, where, inbound)), c.plaintext);
    // Showing the same message again (same place) is not a replay.
    assert.equal(toHex(await envelope.open(parsed, where, inbound)), c.plaintext);
  }
  assert.equal(session.index, v.seal.length);
  t.diagnostic(`checked ${v.seal.length} envelopes`);
});

test('envelopes: tampered ciphertext, header, signature, sender, place are refused',
  async (t) => {
    const v = V.envelope;
    for (const c of v.reject) {
      const inbound = new InboundSession(h(v.session_id), 0, h(v.chain_key));
      const attempt = (async () => envelope.open(envelope.parse(h(c.envelope)), place(c.place),
        inbound))();
      assert.equal(await refusal(attempt), c.error, c.why);
      // A refusal before decryption leaves the session able to open the genuine message.
      const genuine = v.seal[1];
      assert.equal(toHex(await envelope.open(envelope.parse(h(genuine.envelope)),
        place({ ...v, msg_id: genuine.msg_id }), inbound)), genuine.plaintext, c.why);
    }
    t.diagnostic(`checked ${v.reject.length} refusals`);
  });

test('envelopes: replayed index, index too old, index too far', async (t) => {
  const v = V.envelope;
  for (const c of v.session_reject) {
    const inbound = InboundSession.fromKey(SessionKey.fromBytes(h(c.session_key)));
    const all = c.envelopes.map((/** @type {any} */ e) => ({
      where: place({ ...v, msg_id: e.msg_id }), parsed: envelope.parse(h(e.envelope)) }));
    const last = /** @type {any} */ (all.pop());
    for (const e of all) await envelope.open(e.parsed, e.where, inbound);
    assert.equal(await refusal(envelope.open(last.parsed, last.where, inbound)), c.error, c.why);
  }
  t.diagnostic(`checked ${v.session_reject.length} session refusals`);
});

test('key shares: seal byte for byte, open, and every refusal', async (t) => {
  const v = V.key_share;
  const sender = await importSeed(h(v.sender_seed));
  const recipient = await importSeed(h(v.recipient_seed));
  assert.deepEqual([toHex(sender.publicKey), toHex(recipient.publicKey)], [v.sender, v.recipient]);
  const where = { host: v.host, space: v.space, chan: v.chan };
  for (const c of v.cases) {
    const prekey = await Prekey.fromBytes(h(c.prekey), h(v.recipient));
    const key = SessionKey.fromBytes(h(c.session_key));
    const sealed = await keyShare.seal(sender, h(v.recipient), prekey, where, key,
      { ephemeral: await x25519Pair(c.ephemeral) });
    assert.equal(toHex(sealed), c.share);
    assert.equal(sealed.length, keyShare.SIZE);
    assert.equal(toHex(concat(sealed.subarray(0, keyShare.HEADER_SIZE),
      keyShare.channelPlaceBytes(where))), c.aad);
    const privateKey = await importPrivateKey(h(c.prekey_private));
    /** @type {number[][]} */
    const asked = [];
    const opened = await keyShare.open(sealed, h(v.recipient), where, (kind, id) => {
      asked.push([kind, id]);
      return privateKey;
    });
    assert.deepEqual(asked, [[c.kind, c.prekey_id]]);
    assert.deepEqual([opened.share.kind, opened.share.prekeyId], [c.kind, c.prekey_id]);
    assert.ok(opened.key.equals(key));
  }
  for (const c of v.reject) {
    const held = c.held === null ? null : await importPrivateKey(h(c.held));
    const attempt = keyShare.open(h(c.share), h(c.me), c.place, () => held);
    assert.equal(await refusal(attempt), c.error, c.why);
  }
  t.diagnostic(`checked ${v.cases.length} shares, ${v.reject.length} refusals`);
});

test('recovery: key text, key text parsing, passphrase secret', async (t) => {
  const v = V.backup;
  const generated = Recovery.generate({ secret: h(v.recovery_key.secret) });
  assert.equal(await generated.keyText(), v.recovery_key.text);
  assert.ok((await Recovery.fromKeyText(v.recovery_key.text)).equals(generated));
  for (const c of v.key_text_parse) {
    if (c.error === null) assert.equal(toHex(await parseKeyText(c.text)), c.secret, c.why);
    else assert.equal(await refusal(parseKeyText(c.text)), c.error, c.why);
  }
  const p = v.passphrase_recovery;
  assert.equal(toHex(passphraseBytes(p.passphrase)), p.passphrase_nfkc_utf8);
  const derived = await Recovery.fromPassphrase(p.passphrase, { salt: h(p.salt),
    iterations: p.iterations });
  assert.equal(toHex(derived.secret), p.secret);
  assert.equal(await refusal((async () => Recovery.fromBytes(
    concat(Uint8Array.of(2), derived.toBytes().subarray(1))))()), ErrorCode.BAD_KEY);
  t.diagnostic(`checked 1 key text, ${v.key_text_parse.length} typed texts, 1 passphrase`);
});

test('key backups: backup key, seal byte for byte, open, and every refusal', async (t) => {
  const v = V.backup;
  const account = h(v.account);
  for (const c of v.key_backups) {
    const recovery = Recovery.fromBytes(h(c.recovery));
    assert.equal(toHex(recovery.toBytes()), c.recovery);
    assert.equal(toHex(await backup.backupKey(recovery)), c.backup_key);
    const sessions = await backup.open(h(c.blob), recovery, account);
    assert.deepEqual(sessions.map((s) => toHex(s.toBytes())), v.sessions);
    const resealed = await backup.seal(recovery, account, sessions,
      { nonce: h(c.blob).slice(22, 34) });
    assert.equal(toHex(resealed), c.blob);
  }
  const wrong = Recovery.generate({ secret: new Uint8Array(32) });
  assert.equal(await refusal(backup.open(h(v.key_backups[0].blob), wrong, account)),
    v.wrong_secret);
  for (const c of v.reject) {
    const attempt = backup.open(h(c.blob), Recovery.fromBytes(h(c.recovery)), h(c.account));
    assert.equal(await refusal(attempt), c.error, c.why);
  }
  t.diagnostic(`checked ${v.key_backups.length} backups, ${v.reject.length + 1} refusals`);
});

test('identity backup: file key, seal byte for byte, open, and every refusal', async (t) => {
  const i = V.backup.identity_backup;
  const file = h(i.file);
  const { accountSeed, recovery } = await identityBackup.open(file, i.passphrase);
  assert.deepEqual([toHex(accountSeed), toHex(recovery.toBytes())], [i.account_seed, i.recovery]);
  const header = file.slice(0, identityBackup.HEADER_SIZE);
  assert.equal(toHex(await identityBackup.fileKey(i.passphrase, header.slice(5, 21),
    i.iterations)), i.file_key);
  const resealed = await identityBackup.seal(i.passphrase, accountSeed, recovery,
    { iterations: i.iterations, salt: header.slice(5, 21), nonce: header.slice(21, 33) });
  assert.equal(toHex(resealed), i.file);
  assert.equal(await refusal(identityBackup.open(file, 'correct horse')), i.wrong_passphrase);
  for (const c of V.backup.identity_reject) {
    const attempt = identityBackup.open(h(c.file), c.passphrase);
    if (c.error === null) {
      assert.equal(toHex((await attempt).accountSeed), i.account_seed, c.why);
    } else {
      assert.equal(await refusal(attempt), c.error, c.why);
    }
  }
  t.diagnostic(`checked 1 identity backup, ${V.backup.identity_reject.length + 1} other opens`);
});

test('linking: M1..M5, transcript, code and confirm key', async (t) => {
  const v = V.linking;
  const eKey = await x25519Pair(v.E_private);
  const nKey = await x25519Pair(v.N_private);
  const fresh = async () => [await NewDeviceLink.create(v.host, v.link, { key: nKey }),
    await ExistingDeviceLink.create(v.host, v.link, { key: eKey })];
  const [newDevice, existing] = /** @type {[NewDeviceLink, ExistingDeviceLink]} */ (
    await fresh());
  const m1 = await newDevice.commitMessage();
  assert.equal(toHex(m1), v.m1);
  assert.equal(toHex(await commitment(nKey.publicKey)), v.m1.slice(2));
  assert.equal(toHex(existing.onCommit(m1)), v.m2);
  assert.equal(toHex(await newDevice.onReveal(h(v.m2))), v.m3);
  await existing.onKey(h(v.m3));
  assert.deepEqual([existing.code, newDevice.code], [v.code, v.code]);
  const tr = transcript(v.host, v.link, h(v.m1).slice(1), eKey.publicKey, nKey.publicKey);
  assert.equal(toHex(tr), v.transcript);
  const derived = await codeAndConfirmKey(await sharedSecret(eKey.privateKey, nKey.publicKey), tr);
  assert.deepEqual([derived.code, toHex(derived.confirmKey)], [v.code, v.confirm_key]);
  assert.equal(toHex(await newDevice.confirm(v.code)), v.m4);
  const m5 = await existing.transfer(true, h(v.m4), h(v.account_seed),
    Recovery.fromBytes(h(v.recovery)), { ephemeral: await x25519Pair(v.ephemeral) });
  assert.equal(toHex(m5), v.m5);
  const got = await newDevice.onSecrets(m5);
  assert.deepEqual([toHex(got.accountSeed), toHex(got.recovery.toBytes())],
    [v.account_seed, v.recovery]);
  t.diagnostic('checked 5 messages, 1 transcript, 1 code, 1 confirm key');
});

test('linking: typed codes and every refusal', async (t) => {
  const v = V.linking;
  const eKey = await x25519Pair(v.E_private);
  const nKey = await x25519Pair(v.N_private);
  for (const c of v.typed_codes) {
    const n = await NewDeviceLink.create(v.host, v.link, { key: nKey });
    await n.onReveal(h(v.m2));
    if (c.error === null) assert.equal(toHex(await n.confirm(c.typed)), c.m4, c.typed);
    else assert.equal(await refusal(n.confirm(c.typed)), c.error, c.typed);
  }
  const recovery = Recovery.fromBytes(h(v.recovery));
  for (const c of v.reject) {
    const n = await NewDeviceLink.create(v.host, v.link, { key: nKey });
    const e = await ExistingDeviceLink.create(v.host, v.link, { key: eKey });
    const message = h(c.message);
    /** @type {Record<string, () => Promise<unknown>>} */
    const steps = {
      on_commit: async () => e.onCommit(message),
      on_reveal: () => n.onReveal(message),
      on_key: () => e.onKey(message),
      transfer: () => e.transfer(c.confirmed, message, h(v.account_seed), recovery),
      on_secrets: () => n.onSecrets(message),
    };
    const order = ['on_commit', 'on_reveal', 'on_key', 'transfer', 'on_secrets'];
    const genuine = [() => e.onCommit(h(v.m1)), () => n.onReveal(h(v.m2)),
      () => e.onKey(h(v.m3)), async () => undefined];
    for (const step of genuine.slice(0, order.indexOf(c.step))) await step();
    assert.equal(await refusal(steps[c.step]()), c.error, c.why);
  }
  t.diagnostic(`checked ${v.typed_codes.length} typed codes, ${v.reject.length} refusals`);
});

test('safety numbers: halves, number, QR payload and a mismatched QR', async (t) => {
  for (const c of V.safety) {
    const [a, b] = [h(c.a), h(c.b)];
    assert.deepEqual([await safety.half(a), await safety.half(b)], [c.half_a, c.half_b]);
    assert.equal(await safety.safetyNumber(a, b), c.number);
    assert.equal(await safety.safetyNumber(b, a), c.number);
    assert.equal(toHex(safety.qrPayload(b, a)), c.qr);
    assert.equal(toHex(safety.qrPayload(a, b)), c.qr);
    safety.verifyQr(h(c.qr), b, a);
    assert.equal(safety.grouped(c.number).split(' ').length, 12);
  }
  const [x, y] = V.safety;
  assert.throws(() => safety.verifyQr(h(x.qr), h(x.a), h(y.b)),
    (/** @type {any} */ e) => e.code === ErrorCode.BAD_KEY);
  t.diagnostic(`checked ${V.safety.length} pairs`);
});
