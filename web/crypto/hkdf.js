/**
 * HKDF-SHA256 (RFC 5869): extract, expand, and both in one call.
 *
 * WebCrypto's HKDF only does extract-then-expand in one step, so extract and expand are
 * written over WebCrypto HMAC exactly as RFC 5869 section 2 defines them; the one-call
 * ``hkdf`` uses WebCrypto's HKDF. Tests check that both paths agree on every vector.
 * Invariants: a PRK is 32 bytes; output is 1..8160 bytes; an empty salt means 32 zero
 * bytes (RFC 5869 section 2.2).
 * @module
 */

import { concat } from './bytes.js';
import { hmacSha256, importHmacKey } from './hmac.js';

const subtle = globalThis.crypto.subtle;
export const HASH_SIZE = 32;
export const MAX_OUTPUT = 255 * HASH_SIZE;

/** @param {number} length */
function checkLength(length) {
  if (!Number.isInteger(length) || length < 1 || length > MAX_OUTPUT) {
    throw new RangeError(`HKDF-SHA256 output must be 1..${MAX_OUTPUT} bytes, got ${length}`);
  }
}

/**
 * HKDF-Extract(salt, IKM): the 32-byte pseudorandom key.
 * @param {Uint8Array} salt
 * @param {Uint8Array} ikm
 * @returns {Promise<Uint8Array>}
 */
export async function extract(salt, ikm) {
  return hmacSha256(salt.length ? salt : new Uint8Array(HASH_SIZE), ikm);
}

/**
 * HKDF-Expand(PRK, info, L). ``prk`` may be an HMAC CryptoKey (non-extractable secret).
 * @param {Uint8Array | CryptoKey} prk at least 32 bytes when given as bytes
 * @param {Uint8Array} info
 * @param {number} length
 * @returns {Promise<Uint8Array>}
 */
export async function expand(prk, info, length) {
  checkLength(length);
  if (prk instanceof Uint8Array && prk.length < HASH_SIZE) {
    throw new RangeError(`HKDF PRK must be at least ${HASH_SIZE} bytes, got ${prk.length}`);
  }
  const key = prk instanceof Uint8Array ? await importHmacKey(prk) : prk;
  const out = new Uint8Array(length);
  let previous = new Uint8Array(0);
  for (let i = 1, at = 0; at < length; i++) {
    previous = await hmacSha256(key, concat(previous, info, Uint8Array.of(i)));
    out.set(previous.subarray(0, Math.min(HASH_SIZE, length - at)), at);
    at += HASH_SIZE;
  }
  return out;
}

/**
 * HKDF-Expand(HKDF-Extract(salt, IKM), info, L), by WebCrypto's own HKDF.
 * @param {Uint8Array} ikm
 * @param {{salt: Uint8Array, info: Uint8Array, length: number}} params
 * @returns {Promise<Uint8Array>}
 */
export async function hkdf(ikm, { salt, info, length }) {
  checkLength(length);
  const key = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  const bits = await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key,
    8 * length);
  return new Uint8Array(bits);
}
