/**
 * AES-256-GCM with associated data: 32-byte key, 12-byte nonce, 16-byte tag appended.
 *
 * Invariants: ``seal`` returns ciphertext || tag (plaintext length + 16); ``open``
 * returns the exact plaintext or throws HearthError decrypt_failed -- a wrong key,
 * nonce, AAD, flipped bit or truncation are indistinguishable. A (key, nonce) pair
 * never seals twice; callers derive nonces.
 * @module
 */

import { ErrorCode, HearthError } from './errors.js';

const subtle = globalThis.crypto.subtle;
export const KEY_SIZE = 32;
export const NONCE_SIZE = 12;
export const TAG_SIZE = 16;

/**
 * Import a 32-byte AES-256-GCM key as a non-extractable CryptoKey. Raw bytes are
 * unavoidable here: AEAD keys come out of HKDF/HPKE as bytes.
 * @param {Uint8Array} raw
 * @returns {Promise<CryptoKey>}
 */
export async function importAeadKey(raw) {
  if (raw.length !== KEY_SIZE) {
    throw new RangeError(`AES-256-GCM key must be ${KEY_SIZE} bytes, got ${raw.length}`);
  }
  return subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

/**
 * @param {Uint8Array | CryptoKey} key
 * @param {Uint8Array} nonce
 * @returns {Promise<CryptoKey>}
 */
async function prepare(key, nonce) {
  if (nonce.length !== NONCE_SIZE) {
    throw new RangeError(`AES-256-GCM nonce must be ${NONCE_SIZE} bytes, got ${nonce.length}`);
  }
  if (key instanceof Uint8Array) return importAeadKey(key);
  const algorithm = /** @type {AesKeyAlgorithm} */ (key.algorithm);
  if (algorithm.name !== 'AES-GCM' || algorithm.length !== 8 * KEY_SIZE) {
    throw new TypeError(`expected an AES-256-GCM key, got ${algorithm.name}`);
  }
  return key;
}

/**
 * Encrypt and authenticate ``plaintext``, authenticating ``aad`` too.
 * @param {Uint8Array | CryptoKey} key
 * @param {Uint8Array} nonce
 * @param {Uint8Array} plaintext
 * @param {Uint8Array} aad
 * @returns {Promise<Uint8Array>} ciphertext || tag
 */
export async function seal(key, nonce, plaintext, aad) {
  const k = await prepare(key, nonce);
  const params = { name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 };
  return new Uint8Array(await subtle.encrypt(params, k, plaintext));
}

/**
 * The plaintext, or HearthError decrypt_failed if anything does not authenticate.
 * @param {Uint8Array | CryptoKey} key
 * @param {Uint8Array} nonce
 * @param {Uint8Array} ciphertext ciphertext || tag
 * @param {Uint8Array} aad
 * @returns {Promise<Uint8Array>}
 */
export async function open(key, nonce, ciphertext, aad) {
  const k = await prepare(key, nonce);
  if (ciphertext.length < TAG_SIZE) {
    throw new HearthError(ErrorCode.DECRYPT_FAILED,
      `ciphertext is ${ciphertext.length} bytes, shorter than the ${TAG_SIZE}-byte tag`);
  }
  const params = { name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 };
  try {
    return new Uint8Array(await subtle.decrypt(params, k, ciphertext));
  } catch {
    throw new HearthError(ErrorCode.DECRYPT_FAILED,
      'AES-256-GCM tag does not verify (wrong key, nonce or AAD)');
  }
}
