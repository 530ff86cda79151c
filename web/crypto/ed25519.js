/**
 * Ed25519 (RFC 8032) signatures over exact bytes, via WebCrypto.
 *
 * Invariants: seeds and public keys are 32 bytes, signatures 64; signing is
 * deterministic; private keys are non-extractable CryptoKeys; every verification
 * failure (bad signature, malformed key, wrong length) is HearthError bad_signature.
 * Domain separation lives one layer up, as in hearth/signing.py.
 * @module
 */

import { b64d, concat, fromHex } from './bytes.js';
import { ErrorCode, HearthError } from './errors.js';

const subtle = globalThis.crypto.subtle;
export const SEED_SIZE = 32;
export const PUBLIC_KEY_SIZE = 32;
export const SIGNATURE_SIZE = 64;
const ALGORITHM = { name: 'Ed25519' };
// PKCS#8 PrivateKeyInfo for id-Ed25519 (RFC 8410) up to the 32-byte seed.
const PKCS8_PREFIX = fromHex('302e020100300506032b657004220420');

/**
 * @typedef {{privateKey: CryptoKey, publicKey: Uint8Array}} Ed25519KeyPair
 */

/**
 * A fresh key pair; the private key cannot be exported.
 * @returns {Promise<Ed25519KeyPair>}
 */
export async function generateKeyPair() {
  const pair = /** @type {CryptoKeyPair} */ (
    await subtle.generateKey(ALGORITHM, false, ['sign', 'verify']));
  const publicKey = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

/**
 * The key pair for a 32-byte RFC 8032 secret (seed). Raw bytes are unavoidable here
 * (test vectors, identity backups); WebCrypto derives no public key from a private
 * one, so the seed is imported once extractable to read the public key from its JWK,
 * then imported again non-extractable -- only the second key is returned.
 * @param {Uint8Array} seed
 * @returns {Promise<Ed25519KeyPair>}
 */
export async function importSeed(seed) {
  if (seed.length !== SEED_SIZE) {
    throw new RangeError(`Ed25519 seed must be ${SEED_SIZE} bytes, got ${seed.length}`);
  }
  const pkcs8 = concat(PKCS8_PREFIX, seed);
  const temporary = await subtle.importKey('pkcs8', pkcs8, ALGORITHM, true, ['sign']);
  const jwk = await subtle.exportKey('jwk', temporary);
  const publicKey = b64d(/** @type {string} */ (jwk.x), { field: 'jwk.x', size: PUBLIC_KEY_SIZE });
  const privateKey = await subtle.importKey('pkcs8', pkcs8, ALGORITHM, false, ['sign']);
  return { privateKey, publicKey };
}

/**
 * The 64-byte signature of ``message``.
 * @param {CryptoKey} privateKey
 * @param {Uint8Array} message
 * @returns {Promise<Uint8Array>}
 */
export async function sign(privateKey, message) {
  return new Uint8Array(await subtle.sign(ALGORITHM, privateKey, message));
}

/**
 * Resolve if ``signature`` is valid for ``message`` under ``publicKey``; else throw
 * HearthError bad_signature.
 * @param {Uint8Array} publicKey
 * @param {Uint8Array} message
 * @param {Uint8Array} signature
 * @returns {Promise<void>}
 */
export async function verify(publicKey, message, signature) {
  if (publicKey.length !== PUBLIC_KEY_SIZE) {
    throw new HearthError(ErrorCode.BAD_SIGNATURE,
      `Ed25519 public key must be ${PUBLIC_KEY_SIZE} bytes, got ${publicKey.length}`);
  }
  if (signature.length !== SIGNATURE_SIZE) {
    throw new HearthError(ErrorCode.BAD_SIGNATURE,
      `Ed25519 signature must be ${SIGNATURE_SIZE} bytes, got ${signature.length}`);
  }
  let ok = false;
  try {
    const key = await subtle.importKey('raw', publicKey, ALGORITHM, true, ['verify']);
    ok = await subtle.verify(ALGORITHM, key, signature, message);
  } catch {
    ok = false; // a public key that is not a curve point cannot verify anything
  }
  if (!ok) throw new HearthError(ErrorCode.BAD_SIGNATURE, 'Ed25519 signature does not verify');
}
