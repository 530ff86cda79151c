/**
 * Connection authentication (docs/protocol.md section 4, hearth/auth.py): the device
 * signs the relay's 32-byte challenge nonce followed by its 169-byte certificate, under
 * context client-auth, binding the connection to both the device and the account.
 * @module
 */

import { b64d, b64e, concat } from '../crypto/bytes.js';
import { Context, signFor, signingInput } from '../crypto/signing.js';

export const NONCE_SIZE = 32;

/**
 * The exact bytes a device signs to answer ``nonce`` (for vectors and tests).
 * @param {Uint8Array} nonce
 * @param {Uint8Array} certificate
 * @returns {Uint8Array}
 */
export function helloSigningInput(nonce, certificate) {
  return signingInput(Context.CLIENT_AUTH, concat(nonce, certificate));
}

/**
 * The ``hello`` frame answering a ``challenge``.
 * @param {{privateKey: CryptoKey}} device
 * @param {Uint8Array} certificate
 * @param {string} challengeNonce base64url, from the relay
 * @returns {Promise<{t: 'hello', cert: string, sig: string}>}
 */
export async function helloFrame(device, certificate, challengeNonce) {
  const nonce = b64d(challengeNonce, { field: 'nonce', size: NONCE_SIZE });
  const sig = await signFor(device.privateKey, Context.CLIENT_AUTH, concat(nonce, certificate));
  return { t: 'hello', cert: b64e(certificate), sig: b64e(sig) };
}
