/**
 * Key backup: the account's inbound session keys, encrypted under its recovery secret;
 * the twin of hearth/crypto/backup.py. The host stores the blob opaquely.
 *
 *     header (34 bytes)
 *       0   1  version 0x01
 *       1   1  recovery kind: 0x00 generated recovery key, 0x01 passphrase (recovery.js)
 *       2   4  PBKDF2 iterations, big-endian (0 for a generated key)
 *       6  16  PBKDF2 salt (zeros for a generated key)
 *       22 12  AES-GCM nonce (random per backup)
 *     ciphertext   AES-256-GCM(backup key, nonce, plaintext, aad = header || account key (32))
 *
 *     backup key = HKDF(recovery secret, salt = "", info = "hearth/v1/hkdf/backup-key", L = 32)
 *     plaintext  = count (4, big-endian) || count records, each
 *                  fields(host id, space id, channel id) || sender device key (32)
 *                  || session key (53 bytes, sender_session.js SessionKey)
 *
 * Invariants: only the recovery secret opens a backup (wrong_secret otherwise: a wrong
 * passphrase and a tampered blob are indistinguishable); a backup opens only for the
 * account it was made for (the account key is in the AAD).
 * @module
 */

import { NONCE_SIZE, open as aeadOpen, seal as aeadSeal, TAG_SIZE } from './aead.js';
import { concat, copy, equal, i2osp, utf8 } from './bytes.js';
import { ErrorCode, HearthError } from './errors.js';
import { hkdf } from './hkdf.js';
import { MAX_FILE_ITERATIONS } from './pbkdf2.js';
import { Label } from './labels.js';
import { isRecoveryKind, SALT_SIZE } from './recovery.js';
import { SESSION_KEY_SIZE, SessionKey } from './sender_session.js';
import { fields, Reader } from './wire.js';

export const VERSION = 1;
export const HEADER_SIZE = 2 + 4 + SALT_SIZE + NONCE_SIZE;
const BACKUP_KEY = utf8(Label.HKDF_BACKUP_KEY);
const KIND_NAMES = ['generated', 'passphrase'];

/** One inbound session: where it belongs, who sent it, and its earliest key. */
export class BackedUpSession {
  /**
   * @param {string} host
   * @param {string} space
   * @param {string} chan
   * @param {Uint8Array} sender 32-byte device Ed25519 public key
   * @param {SessionKey} key
   */
  constructor(host, space, chan, sender, key) {
    this.host = host;
    this.space = space;
    this.chan = chan;
    this.sender = copy(sender);
    this.key = key;
    Object.freeze(this);
  }

  /** @returns {Uint8Array} */
  toBytes() {
    return concat(fields(this.host, this.space, this.chan), this.sender, this.key.toBytes());
  }
}

/**
 * The backup's AES-256-GCM key. Returned as bytes (the vectors check it); seal and open
 * import it as a non-extractable CryptoKey at once.
 * @param {import('./recovery.js').Recovery} recovery
 * @returns {Promise<Uint8Array>}
 */
export async function backupKey(recovery) {
  return hkdf(recovery.secret, { salt: new Uint8Array(0), info: BACKUP_KEY, length: 32 });
}

/**
 * The encrypted blob (a fixed ``nonce`` is for test vectors only).
 * @param {import('./recovery.js').Recovery} recovery
 * @param {Uint8Array} account the account's Ed25519 public key
 * @param {BackedUpSession[]} sessions
 * @param {{nonce?: Uint8Array}} [fixed]
 * @returns {Promise<Uint8Array>}
 */
export async function seal(recovery, account, sessions, { nonce } = {}) {
  const iv = nonce ?? crypto.getRandomValues(new Uint8Array(NONCE_SIZE));
  const header = concat(Uint8Array.of(VERSION, recovery.kind), i2osp(recovery.iterations, 4),
    recovery.salt, iv);
  const plaintext = concat(i2osp(sessions.length, 4), ...sessions.map((s) => s.toBytes()));
  return concat(header, await aeadSeal(await backupKey(recovery), iv, plaintext,
    concat(header, account)));
}

/**
 * (kind, iterations, salt) from a blob's header: what re-derives a passphrase secret.
 * @param {Uint8Array} blob
 * @returns {{kind: number, iterations: number, salt: Uint8Array}}
 */
export function recoveryParams(blob) {
  const reader = new Reader(blob, 'key backup', ErrorCode.BAD_ENVELOPE);
  reader.version(VERSION);
  const kind = reader.uint(1);
  if (!isRecoveryKind(kind)) throw reader.fail(`recovery kind ${kind} is neither 0 nor 1`);
  const iterations = reader.uint(4);
  if (iterations > MAX_FILE_ITERATIONS) {
    throw reader.fail(`iteration count ${iterations} exceeds ${MAX_FILE_ITERATIONS}`);
  }
  return { kind, iterations, salt: reader.take(SALT_SIZE) };
}

/**
 * The sessions in ``blob``; wrong_secret if ``recovery`` (or ``account``) is not its.
 * @param {Uint8Array} blob
 * @param {import('./recovery.js').Recovery} recovery
 * @param {Uint8Array} account
 * @returns {Promise<BackedUpSession[]>}
 */
export async function open(blob, recovery, account) {
  const { kind, iterations, salt } = recoveryParams(blob);
  if (blob.length < HEADER_SIZE + TAG_SIZE) {
    throw new HearthError(ErrorCode.BAD_ENVELOPE, `key backup is only ${blob.length} bytes`);
  }
  if (kind !== recovery.kind || iterations !== recovery.iterations
      || !equal(salt, recovery.salt)) {
    throw new HearthError(ErrorCode.WRONG_SECRET, `this backup is locked by a `
      + `${KIND_NAMES[kind]} recovery secret (${iterations} iterations), not the one given`);
  }
  const header = blob.slice(0, HEADER_SIZE);
  let plaintext;
  try {
    plaintext = await aeadOpen(await backupKey(recovery), header.slice(22), blob.slice(HEADER_SIZE),
      concat(header, account));
  } catch (e) {
    if (!(e instanceof HearthError)) throw e;
    throw new HearthError(ErrorCode.WRONG_SECRET, 'the passphrase or recovery key does not '
      + 'open this key backup (or the backup was altered)');
  }
  const reader = new Reader(plaintext, 'key backup contents', ErrorCode.BAD_ENVELOPE);
  const sessions = [];
  for (let n = reader.uint(4); n > 0; n--) {
    const [host, space, chan] = [reader.text(), reader.text(), reader.text()];
    const sender = reader.take(32);
    const key = SessionKey.fromBytes(reader.take(SESSION_KEY_SIZE));
    sessions.push(new BackedUpSession(host, space, chan, sender, key));
  }
  reader.end();
  return sessions;
}
