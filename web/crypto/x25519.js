/**
 * X25519 (RFC 7748) over WebCrypto, refusing low-order points.
 *
 * Invariants: public keys are 32 raw bytes; private keys are non-extractable CryptoKeys;
 * a shared secret is 32 bytes and never all zero -- a small-order peer key throws
 * HearthError low_order_key (WebCrypto itself fails such a derivation with an
 * OperationError, which is the only way X25519 deriveBits fails on valid keys).
 * @module
 */

import { concat, equal, fromHex } from './bytes.js';
import { ErrorCode, HearthError } from './errors.js';

const subtle = globalThis.crypto.subtle;
export const KEY_SIZE = 32;
const ALGORITHM = { name: 'X25519' };
// PKCS#8 PrivateKeyInfo for id-X25519 (RFC 8410) up to the 32-byte key.
const PKCS8_PREFIX = fromHex('302e020100300506032b656e04220420');
const BASE_POINT = concat(Uint8Array.of(9), new Uint8Array(31));

/**
 * @typedef {{privateKey: CryptoKey, publicKey: Uint8Array}} X25519KeyPair
 */

/**
 * A fresh key pair; the private key cannot be exported.
 * @returns {Promise<X25519KeyPair>}
 */
export async function generateKeyPair() {
  const pair = /** @type {CryptoKeyPair} */ (
    await subtle.generateKey(ALGORITHM, false, ['deriveBits']));
  const publicKey = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

/**
 * Import a raw 32-byte scalar as a non-extractable private key. Raw bytes are
 * unavoidable for test vectors, HPKE DeriveKeyPair and backups; WebCrypto has no raw
 * private import for X25519, so the scalar is wrapped in PKCS#8.
 * @param {Uint8Array} raw
 * @returns {Promise<CryptoKey>}
 */
export async function importPrivateKey(raw) {
  if (raw.length !== KEY_SIZE) {
    throw new RangeError(`X25519 private key must be ${KEY_SIZE} bytes, got ${raw.length}`);
  }
  return subtle.importKey('pkcs8', concat(PKCS8_PREFIX, raw), ALGORITHM, false,
    ['deriveBits']);
}

/**
 * The public key X25519(sk, 9) of a private key, computed without exporting it.
 * @param {CryptoKey} privateKey
 * @returns {Promise<Uint8Array>}
 */
export async function publicKeyOf(privateKey) {
  return sharedSecret(privateKey, BASE_POINT);
}

/**
 * X25519(sk, peer). HearthError bad_key if ``peerPublic`` is not 32 bytes,
 * low_order_key if the result would be all zero.
 * @param {CryptoKey} privateKey
 * @param {Uint8Array} peerPublic
 * @returns {Promise<Uint8Array>}
 */
export async function sharedSecret(privateKey, peerPublic) {
  if (peerPublic.length !== KEY_SIZE) {
    throw new HearthError(ErrorCode.BAD_KEY,
      `X25519 public key must be ${KEY_SIZE} bytes, got ${peerPublic.length}`);
  }
  let secret = new Uint8Array(KEY_SIZE);
  try {
    const peer = await subtle.importKey('raw', peerPublic, ALGORITHM, true, []);
    secret = new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: peer },
      privateKey, 8 * KEY_SIZE));
  } catch (e) {
    if (!(e instanceof Error) || e.name !== 'OperationError') throw e;
  }
  if (equal(secret, new Uint8Array(KEY_SIZE))) {
    const hex = Array.from(peerPublic, (b) => b.toString(16).padStart(2, '0')).join('');
    throw new HearthError(ErrorCode.LOW_ORDER_KEY,
      `X25519 public key ${hex} has small order (all-zero shared secret)`);
  }
  return secret;
}
