/**
 * Host ids (docs/protocol.md section 3, hearth/keys.py): the host's Ed25519 public key
 * plus a 3-byte checksum, lowercase base32 without padding -- 56 characters.
 *
 *   host_id = lower(base32(pk || SHA-256("hearth/v1/host-id" || pk)[0:3]))
 *
 * The id *is* the key that verifies the host's signatures, so a client needs nothing
 * else to trust what a host says, and a mistyped id fails the checksum.
 * @module
 */

import { concat, equal, utf8 } from '../crypto/bytes.js';
import { ErrorCode, HearthError } from '../crypto/errors.js';
import * as base32 from '../crypto/base32.js';

export const HOST_ID_LENGTH = 56;
const CHECKSUM_LABEL = utf8('hearth/v1/host-id');

/** @param {Uint8Array} publicKey @returns {Promise<Uint8Array>} */
async function checksum(publicKey) {
  const digest = await crypto.subtle.digest('SHA-256', concat(CHECKSUM_LABEL, publicKey));
  return new Uint8Array(digest).slice(0, 3);
}

/**
 * The 56-character host id of a 32-byte Ed25519 public key.
 * @param {Uint8Array} publicKey
 * @returns {Promise<string>}
 */
export async function hostIdFromPublicKey(publicKey) {
  if (publicKey.length !== 32) {
    throw new RangeError(`host public key must be 32 bytes, got ${publicKey.length}`);
  }
  return base32.encode(concat(publicKey, await checksum(publicKey)));
}

/**
 * The Ed25519 public key inside ``hostId``; HearthError bad_frame if the id is not 56
 * lowercase base32 characters or its checksum does not match (a typo).
 * @param {string} hostId
 * @returns {Promise<Uint8Array>}
 */
export async function publicKeyFromHostId(hostId) {
  if (typeof hostId !== 'string' || !/^[a-z2-7]{56}$/.test(hostId)) {
    throw new HearthError(ErrorCode.BAD_FRAME,
      `host id ${JSON.stringify(String(hostId).slice(0, 80))} is not 56 lowercase base32 characters`);
  }
  const raw = /** @type {Uint8Array} */ (base32.decode(hostId.toUpperCase()));
  const publicKey = raw.slice(0, 32);
  if (!equal(await checksum(publicKey), raw.slice(32))) {
    throw new HearthError(ErrorCode.BAD_FRAME, `host id ${JSON.stringify(hostId)} has a bad checksum`);
  }
  return publicKey;
}

/**
 * Whether ``text`` is a well-formed host id with a good checksum.
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export async function isHostId(text) {
  try {
    await publicKeyFromHostId(text);
    return true;
  } catch {
    return false;
  }
}
