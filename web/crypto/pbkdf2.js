/**
 * PBKDF2-HMAC-SHA256 (RFC 8018) for passphrase-derived keys, over WebCrypto.
 * The default of 600,000 iterations matches hearth/crypto/pbkdf2.py.
 * @module
 */

import { utf8 } from './bytes.js';

const subtle = globalThis.crypto.subtle;
export const PASSPHRASE_ITERATIONS = 600_000;
/** The most iterations a file may ask for: a hostile file must not hang the client. */
export const MAX_FILE_ITERATIONS = 10_000_000;

/**
 * ``length`` bytes of PBKDF2-HMAC-SHA256(password, salt, iterations).
 * @param {Uint8Array | string} password bytes, or text (UTF-8 encoded as typed, no
 *   normalisation -- the same bytes Python's str.encode() gives)
 * @param {Uint8Array} salt
 * @param {{iterations?: number, length?: number}} [options]
 * @returns {Promise<Uint8Array>}
 */
export async function pbkdf2Sha256(password, salt,
  { iterations = PASSPHRASE_ITERATIONS, length = 32 } = {}) {
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(`PBKDF2 needs at least one iteration, got ${iterations}`);
  }
  if (!Number.isInteger(length) || length < 1) {
    throw new RangeError(`PBKDF2 output must be at least 1 byte, got ${length}`);
  }
  const raw = typeof password === 'string' ? utf8(password) : password;
  const key = await subtle.importKey('raw', raw, 'PBKDF2', false, ['deriveBits']);
  const bits = await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key, 8 * length);
  return new Uint8Array(bits);
}
