/**
 * HMAC-SHA256 over WebCrypto. Any key length; tags are the full 32 bytes.
 * @module
 */

import { ErrorCode, HearthError } from './errors.js';

const subtle = globalThis.crypto.subtle;
export const TAG_SIZE = 32;

/**
 * Import an HMAC-SHA256 key as a non-extractable CryptoKey.
 * WebCrypto refuses zero-length HMAC keys; HMAC zero-pads every key shorter than the
 * 64-byte block, so the empty key and the single byte 0x00 are the same key (RFC 2104
 * section 2) and we import the latter.
 * @param {Uint8Array} raw
 * @returns {Promise<CryptoKey>}
 */
export async function importHmacKey(raw) {
  const material = raw.length === 0 ? new Uint8Array(1) : raw;
  return subtle.importKey('raw', material, { name: 'HMAC', hash: 'SHA-256' }, false,
    ['sign', 'verify']);
}

/**
 * @param {Uint8Array | CryptoKey} key raw bytes or a key from importHmacKey
 * @returns {Promise<CryptoKey>}
 */
async function asKey(key) {
  return key instanceof Uint8Array ? importHmacKey(key) : key;
}

/**
 * The 32-byte HMAC-SHA256 of ``message`` under ``key``.
 * @param {Uint8Array | CryptoKey} key
 * @param {Uint8Array} message
 * @returns {Promise<Uint8Array>}
 */
export async function hmacSha256(key, message) {
  return new Uint8Array(await subtle.sign('HMAC', await asKey(key), message));
}

/**
 * Resolve if ``tag`` is the 32-byte HMAC of ``message``; else HearthError bad_signature.
 * The comparison is WebCrypto's verify (constant time).
 * @param {Uint8Array | CryptoKey} key
 * @param {Uint8Array} message
 * @param {Uint8Array} tag
 * @returns {Promise<void>}
 */
export async function hmacSha256Verify(key, message, tag) {
  if (tag.length !== TAG_SIZE
      || !(await subtle.verify('HMAC', await asKey(key), tag, message))) {
    throw new HearthError(ErrorCode.BAD_SIGNATURE, 'HMAC-SHA256 tag does not verify');
  }
}
