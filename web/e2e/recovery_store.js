/**
 * The account's recovery secret on this device (docs/security.md, "Recovery"): one per
 * account, shared by every host's key backup.
 *
 * The secret must stay readable bytes (it derives the backup key with HKDF, and linking
 * and identity backups carry it), so, like the account seed (identity/identity.js), it
 * is stored sealed with AES-256-GCM under a non-extractable key kept beside it: a copy
 * of the database files without the browser's key store is ciphertext.
 * @module
 */

import { open, seal } from '../crypto/aead.js';
import { utf8 } from '../crypto/bytes.js';
import { Recovery } from '../crypto/recovery.js';
import { del, get, put } from '../identity/db.js';

const RECORD = 'recovery';
const AAD = utf8('hearth/v1/browser/recovery-record');

/**
 * The stored recovery secret, or null if none was set up on this device yet.
 * @returns {Promise<Recovery | null>}
 */
export async function loadRecovery() {
  const saved = await get(RECORD);
  if (!saved) return null;
  return Recovery.fromBytes(await open(saved.wrapKey, saved.iv, saved.ciphertext, AAD));
}

/**
 * @param {Recovery} recovery
 * @returns {Promise<void>}
 */
export async function saveRecovery(recovery) {
  const wrapKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false,
    ['encrypt', 'decrypt']);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  await put(RECORD, { wrapKey, iv, ciphertext: await seal(wrapKey, iv, recovery.toBytes(), AAD) });
}

/** @returns {Promise<void>} */
export async function forgetRecovery() {
  await del(RECORD);
}
