/**
 * Presence and typing bodies (docs/protocol.md section 12): the twin of
 * hearth/ephemeral.py. A body is the exact JSON text
 * ``{v, host, space, chan, k, state, dev, acct, ts}``, signed by the sending device
 * under the ``ephemeral`` context and carried in an ``eph`` frame.
 *
 * Invariants of an opened body: the signature verifies under ``dev``; ``presence`` is
 * space-wide (chan ``*``, state online/away/offline), ``typing`` names one channel
 * (state typing/stopped); host, space and channel equal the frame's route; ``ts`` is
 * within EPHEMERAL_MAX_AGE_MS of this clock. ``checkSender`` adds the roster check:
 * a certified, unrevoked device of a current member.
 * @module
 */

import { b64d, b64e, utf8 } from '../crypto/bytes.js';
import { ErrorCode, HearthError } from '../crypto/errors.js';
import { Context, signFor, verifyFor } from '../crypto/signing.js';

/** hearth/limits.py */
export const MAX_EPHEMERAL_BODY = 512;
export const EPHEMERAL_MAX_AGE_MS = 30_000;
/** hearth/ephemeral.py: the timing every client follows. */
export const PRESENCE_HEARTBEAT_MS = 30_000;
export const PRESENCE_OFFLINE_AFTER_MS = 75_000;
export const TYPING_EVERY_MS = 3_000;
export const TYPING_SHOWN_MS = 6_000;

/** @type {Record<string, string[]>} the states each kind may carry */
const STATES = { presence: ['away', 'offline', 'online'], typing: ['stopped', 'typing'] };

/**
 * @typedef {{v: 1, host: string, space: string, chan: string, k: 'presence' | 'typing',
 *   state: string, dev: string, acct: string, ts: number}} EphemeralBody
 */

/**
 * Shape of a body: bad_frame quoting the bad value.
 * @param {any} body
 */
function checkShape(body) {
  const fields = ['v', 'host', 'space', 'chan', 'k', 'state', 'dev', 'acct', 'ts'];
  if (body === null || typeof body !== 'object' || Array.isArray(body)
      || Object.keys(body).length !== fields.length || !fields.every((f) => f in body)) {
    throw new HearthError(ErrorCode.BAD_FRAME, `eph body must have exactly the fields ${fields.join(', ')}`);
  }
  if (body.v !== 1) throw new HearthError(ErrorCode.BAD_FRAME, `eph body: version ${JSON.stringify(body.v)} is not 1`);
  const states = STATES[body.k];
  if (!Object.hasOwn(STATES, body.k)) {
    throw new HearthError(ErrorCode.BAD_FRAME, `eph body: kind ${JSON.stringify(body.k)} is not presence or typing`);
  }
  if (!states.includes(body.state)) {
    throw new HearthError(ErrorCode.BAD_FRAME, `eph body: state ${JSON.stringify(body.state)} is not one of ${states.join(', ')} for ${body.k}`);
  }
  if ((body.chan === '*') !== (body.k === 'presence')) {
    throw new HearthError(ErrorCode.BAD_FRAME, `eph body: ${body.k} cannot go to chan ${JSON.stringify(body.chan)}`);
  }
  for (const f of ['host', 'space', 'chan', 'dev', 'acct']) {
    if (typeof body[f] !== 'string') throw new HearthError(ErrorCode.BAD_FRAME, `eph body: ${f} is not a string`);
  }
  if (!Number.isSafeInteger(body.ts)) throw new HearthError(ErrorCode.BAD_FRAME, 'eph body: ts is not an integer');
}

/**
 * The ``eph`` frame carrying this device's signed update; field order exactly as
 * hearth/ephemeral.py writes it.
 * @param {{privateKey: CryptoKey, publicKey: Uint8Array}} device
 * @param {string} account base64url account key
 * @param {{host: string, space: string, chan: string, k: 'presence' | 'typing', state: string, ts?: number}} update
 * @returns {Promise<{t: 'eph', host: string, space: string, chan: string, body: string, sig: string}>}
 */
export async function signEphemeral(device, account, { host, space, chan, k, state, ts = Date.now() }) {
  const body = { v: 1, host, space, chan, k, state, dev: b64e(device.publicKey), acct: account, ts };
  checkShape(body);
  const text = JSON.stringify(body);
  const sig = b64e(await signFor(device.privateKey, Context.EPHEMERAL, utf8(text)));
  return { t: 'eph', host, space, chan, body: text, sig };
}

/**
 * Verify and parse a received ``eph`` frame; HearthError bad_signature, bad_frame or
 * stale_request otherwise.
 * @param {Record<string, any>} frame
 * @param {number} now ms
 * @returns {Promise<EphemeralBody>}
 */
export async function openEphemeral(frame, now) {
  const raw = utf8(String(frame.body));
  if (raw.length > MAX_EPHEMERAL_BODY) {
    throw new HearthError('too_large', `eph body is ${raw.length} bytes, max ${MAX_EPHEMERAL_BODY}`);
  }
  let body;
  try {
    body = JSON.parse(frame.body);
  } catch {
    throw new HearthError(ErrorCode.BAD_FRAME, 'eph body is not JSON');
  }
  checkShape(body);
  let dev;
  let sig;
  try {
    dev = b64d(body.dev, { field: 'dev', size: 32 });
    sig = b64d(String(frame.sig), { field: 'sig', size: 64 });
  } catch (e) {
    throw new HearthError(ErrorCode.BAD_SIGNATURE, e instanceof Error ? e.message : String(e));
  }
  await verifyFor(dev, Context.EPHEMERAL, raw, sig);
  for (const f of ['host', 'space', 'chan']) {
    if (body[f] !== frame[f]) {
      throw new HearthError(ErrorCode.BAD_FRAME, `eph body names ${f} ${JSON.stringify(body[f])} but the frame is routed to ${JSON.stringify(frame[f])}`);
    }
  }
  if (Math.abs(now - body.ts) > EPHEMERAL_MAX_AGE_MS) {
    throw new HearthError('stale_request', `eph body ts ${body.ts} is ${now - body.ts} ms from this clock, max ${EPHEMERAL_MAX_AGE_MS}`);
  }
  return body;
}

/**
 * ``dev`` must be an unrevoked device certified by ``acct``, a current member of the
 * roster's space (web/e2e/roster.js); HearthError unknown_device, device_revoked or
 * not_member otherwise.
 * @param {EphemeralBody} body
 * @param {import('../e2e/roster.js').Roster} roster
 */
export function checkSender(body, roster) {
  const device = roster.devices.get(body.dev);
  if (!device || device.acct !== body.acct) {
    throw new HearthError('unknown_device', `device ${body.dev} is not certified by account ${body.acct} in space ${JSON.stringify(roster.space)}`);
  }
  if (device.revokedAt !== null) {
    throw new HearthError('device_revoked', `device ${body.dev} was revoked at ${device.revokedAt}`);
  }
  if (!roster.members.has(device.acct)) {
    throw new HearthError('not_member', `account ${body.acct} is not a member of space ${JSON.stringify(roster.space)}`);
  }
}
