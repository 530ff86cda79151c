/**
 * Domain-separated signing, exactly hearth/signing.py: every signature covers
 * ``"hearth/v1/" || context || 0x00 || payload`` (docs/protocol.md section 2), so a
 * signature made for one purpose never verifies for another.
 * @module
 */

import { concat, utf8 } from './bytes.js';
import { sign, verify } from './ed25519.js';

/** Every purpose a Hearth Ed25519 signature can have. */
export const Context = Object.freeze({
  HOST_AUTH: 'host-auth',
  CLIENT_AUTH: 'client-auth',
  DEVICE_CERT: 'device-cert',
  REQUEST: 'request',
  RESPONSE: 'response',
  EVENT: 'event',
  CAPABILITY: 'capability',
  INVITE: 'invite',
  PREKEY: 'prekey',
  MESSAGE: 'message',
  KEY_SHARE: 'key-share',
  EPHEMERAL: 'ephemeral',
});

/**
 * The exact bytes signed for ``payload`` under ``context``.
 * @param {string} context one of Context
 * @param {Uint8Array} payload
 * @returns {Uint8Array}
 */
export function signingInput(context, payload) {
  return concat(utf8(`hearth/v1/${context}`), Uint8Array.of(0), payload);
}

/**
 * @param {CryptoKey} privateKey Ed25519
 * @param {string} context
 * @param {Uint8Array} payload
 * @returns {Promise<Uint8Array>} the 64-byte signature
 */
export function signFor(privateKey, context, payload) {
  return sign(privateKey, signingInput(context, payload));
}

/**
 * Resolve if ``signature`` is ``publicKey``'s over ``payload`` for ``context``;
 * otherwise reject with HearthError bad_signature.
 * @param {Uint8Array} publicKey
 * @param {string} context
 * @param {Uint8Array} payload
 * @param {Uint8Array} signature
 * @returns {Promise<void>}
 */
export function verifyFor(publicKey, context, payload, signature) {
  return verify(publicKey, signingInput(context, payload), signature);
}
