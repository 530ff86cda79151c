/**
 * Identity backup: the account key and recovery secret in one file, under a passphrase;
 * the twin of hearth/crypto/identity_backup.py. For a user who has lost every device.
 *
 *     header (33 bytes)
 *       0   1  version 0x01
 *       1   4  PBKDF2 iterations, big-endian
 *       5  16  PBKDF2 salt
 *       21 12  AES-GCM nonce
 *     ciphertext   AES-256-GCM(file key, nonce, plaintext, aad = header)
 *
 *     file key  = HKDF(PBKDF2-HMAC-SHA256(UTF-8(NFKC(passphrase)), salt, iterations, 32),
 *                      salt = "", info = "hearth/v1/hkdf/identity-backup", L = 32)
 *     plaintext = account Ed25519 seed (32) || recovery record (53, recovery.js)
 *
 * Invariant: a wrong passphrase (or any altered byte) is wrong_secret; nothing else is
 * told apart. The account seed is raw bytes by design: it is this file's content
 * (ed25519.importSeed turns it into a non-extractable key).
 * @module
 */

import { NONCE_SIZE, open as aeadOpen, seal as aeadSeal } from './aead.js';
import { concat, i2osp, utf8 } from './bytes.js';
import { ErrorCode, HearthError } from './errors.js';
import { hkdf } from './hkdf.js';
import { Label } from './labels.js';
import { MAX_FILE_ITERATIONS, PASSPHRASE_ITERATIONS, pbkdf2Sha256 } from './pbkdf2.js';
import { passphraseBytes, Recovery, RECORD_SIZE, SALT_SIZE } from './recovery.js';
import { Reader } from './wire.js';

export const VERSION = 1;
export const HEADER_SIZE = 1 + 4 + SALT_SIZE + NONCE_SIZE;
export const SEED_SIZE = 32;
const IDENTITY_BACKUP = utf8(Label.HKDF_IDENTITY_BACKUP);

/**
 * The file's AES-256-GCM key (bytes: the vectors check it).
 * @param {string} passphrase
 * @param {Uint8Array} salt
 * @param {number} iterations
 * @returns {Promise<Uint8Array>}
 */
export async function fileKey(passphrase, salt, iterations) {
  const stretched = await pbkdf2Sha256(passphraseBytes(passphrase), salt, { iterations });
  return hkdf(stretched, { salt: new Uint8Array(0), info: IDENTITY_BACKUP, length: 32 });
}

/**
 * The backup file's bytes (fixed ``salt``/``nonce``: test vectors only).
 * @param {string} passphrase
 * @param {Uint8Array} accountSeed 32 bytes
 * @param {Recovery} recovery
 * @param {{iterations?: number, salt?: Uint8Array, nonce?: Uint8Array}} [options]
 * @returns {Promise<Uint8Array>}
 */
export async function seal(passphrase, accountSeed, recovery,
  { iterations = PASSPHRASE_ITERATIONS, salt, nonce } = {}) {
  if (accountSeed.length !== SEED_SIZE) {
    throw new RangeError(`account seed must be ${SEED_SIZE} bytes, got ${accountSeed.length}`);
  }
  const s = salt ?? crypto.getRandomValues(new Uint8Array(SALT_SIZE));
  const iv = nonce ?? crypto.getRandomValues(new Uint8Array(NONCE_SIZE));
  const header = concat(Uint8Array.of(VERSION), i2osp(iterations, 4), s, iv);
  const key = await fileKey(passphrase, s, iterations);
  return concat(header, await aeadSeal(key, iv, concat(accountSeed, recovery.toBytes()), header));
}

/**
 * The account seed and recovery; wrong_secret for a wrong passphrase or altered file.
 * @param {Uint8Array} data
 * @param {string} passphrase
 * @returns {Promise<{accountSeed: Uint8Array, recovery: Recovery}>}
 */
export async function open(data, passphrase) {
  const reader = new Reader(data, 'identity backup', ErrorCode.BAD_ENVELOPE);
  reader.version(VERSION);
  const iterations = reader.uint(4);
  const salt = reader.take(SALT_SIZE);
  const nonce = reader.take(NONCE_SIZE);
  if (iterations < 1 || iterations > MAX_FILE_ITERATIONS) {
    throw reader.fail(`iteration count ${iterations} is outside 1..${MAX_FILE_ITERATIONS}`);
  }
  let plaintext;
  try {
    plaintext = await aeadOpen(await fileKey(passphrase, salt, iterations), nonce, reader.rest(),
      data.slice(0, HEADER_SIZE));
  } catch (e) {
    if (!(e instanceof HearthError)) throw e;
    throw new HearthError(ErrorCode.WRONG_SECRET, 'the passphrase does not open this identity '
      + 'backup (or the file was altered)');
  }
  if (plaintext.length !== SEED_SIZE + RECORD_SIZE) {
    throw new HearthError(ErrorCode.BAD_ENVELOPE, `identity backup holds ${plaintext.length} `
      + `bytes, not ${SEED_SIZE + RECORD_SIZE}`);
  }
  return { accountSeed: plaintext.slice(0, SEED_SIZE),
    recovery: Recovery.fromBytes(plaintext.slice(SEED_SIZE)) };
}
