/**
 * Signed bodies (docs/protocol.md section 6, hearth/rpc.py). A request, response or
 * event travels as a JSON *string* plus a signature over that string's exact UTF-8
 * bytes; the receiver verifies those bytes first and only then parses them, so no
 * canonical JSON is ever needed on either side.
 * @module
 */

import { b64d, b64e, utf8 } from '../crypto/bytes.js';
import { ErrorCode, HearthError } from '../crypto/errors.js';
import { publicKeyFromHostId } from './host_id.js';
import { Context, signFor, verifyFor } from '../crypto/signing.js';

export const MAX_BODY = 120 * 1024;

/**
 * @typedef {object} SignedRequest
 * @property {string} n the request's nonce (base64url of 16 bytes): correlates the response
 * @property {string} text the body's JSON text
 * @property {string} sig base64url signature over the text's UTF-8 bytes
 */

/**
 * The JSON text of a request body, field order exactly as hearth/rpc.py writes it.
 * @param {{host: string, dev: string, n: string, ts: number, op: string, a: object}} body
 * @returns {string}
 */
export function requestText({ host, dev, n, ts, op, a }) {
  return JSON.stringify({ v: 1, host, dev, n, ts, op, a });
}

/**
 * A device-signed request for ``op`` on ``hostId``.
 * @param {{privateKey: CryptoKey, publicKey: Uint8Array}} device the device signing key
 * @param {string} hostId
 * @param {string} op
 * @param {object} args
 * @param {{n?: string, ts?: number}} [fixed] nonce and clock, for test vectors only
 * @returns {Promise<SignedRequest>}
 */
export async function signRequest(device, hostId, op, args, fixed = {}) {
  const n = fixed.n ?? b64e(crypto.getRandomValues(new Uint8Array(16)));
  const ts = fixed.ts ?? Date.now();
  const text = requestText({ host: hostId, dev: b64e(device.publicKey), n, ts, op, a: args });
  const bytes = utf8(text);
  if (bytes.length > MAX_BODY) {
    throw new HearthError('too_large', `request body is ${bytes.length} bytes, max ${MAX_BODY}`);
  }
  return { n, text, sig: b64e(await signFor(device.privateKey, Context.REQUEST, bytes)) };
}

/**
 * Verify a host-signed response or event against the key inside ``hostId``, then
 * parse it; HearthError bad_signature if it was not signed by that host for that
 * purpose, or names another host.
 * @param {string} hostId
 * @param {string} text
 * @param {string} signature
 * @param {'response' | 'event'} kind
 * @returns {Promise<Record<string, any>>}
 */
export async function openHostBody(hostId, text, signature, kind) {
  const context = kind === 'response' ? Context.RESPONSE : Context.EVENT;
  let hostKey;
  let sig;
  try {
    hostKey = await publicKeyFromHostId(hostId);
    sig = b64d(signature, { field: 'sig', size: 64 });
  } catch (e) {
    throw new HearthError(ErrorCode.BAD_SIGNATURE, e instanceof Error ? e.message : String(e));
  }
  await verifyFor(hostKey, context, utf8(text), sig);
  const body = JSON.parse(text);
  if (body === null || typeof body !== 'object' || body.v !== 1) {
    throw new HearthError(ErrorCode.BAD_SIGNATURE, `signed ${kind} is not a version 1 object`);
  }
  if (body.host !== hostId) {
    throw new HearthError(ErrorCode.BAD_SIGNATURE, `signed ${kind} names a different host`);
  }
  return body;
}
