/**
 * The account's one recovery secret: a generated recovery key, or one from a
 * passphrase; the twin of hearth/crypto/recovery.py.
 *
 * - generated: 32 random bytes, shown as a *recovery key text*: lowercase RFC 4648
 *   base32, no padding, of ``secret || check`` (34 bytes, 55 characters) in groups of 4
 *   separated by spaces, where ``check = HKDF(secret, info="hearth/v1/hkdf/recovery-key-check",
 *   L=2)`` catches typos. Parsing ignores spaces, dashes, tabs, newlines and case.
 * - passphrase: ``PBKDF2-HMAC-SHA256(UTF-8(NFKC(passphrase)), salt (16 random bytes),
 *   iterations (600,000 by default), 32)``.
 *
 * Layout of a recovery record (53 bytes; inside identity backups and link transfers):
 *
 *     0  1  kind: 0x00 generated, 0x01 passphrase
 *     1  4  iterations, big-endian (0 for generated)
 *     5 16  salt (zeros for generated)
 *     21 32 recovery secret
 *
 * The secret is raw bytes by design: it is written into identity backups and link
 * transfers, and it is the input of HKDF for the backup key.
 * @module
 */

import * as base32 from './base32.js';
import { concat, copy, equal, i2osp, utf8 } from './bytes.js';
import { ErrorCode, HearthError } from './errors.js';
import { hkdf } from './hkdf.js';
import { Label } from './labels.js';
import { PASSPHRASE_ITERATIONS, pbkdf2Sha256 } from './pbkdf2.js';
import { Reader } from './wire.js';

export const SECRET_SIZE = 32;
export const SALT_SIZE = 16;
export const RECORD_SIZE = 1 + 4 + SALT_SIZE + SECRET_SIZE;
export const KEY_TEXT_CHARS = 55;
const CHECK = utf8(Label.HKDF_RECOVERY_KEY_CHECK);

export const RecoveryKind = Object.freeze({ GENERATED: 0, PASSPHRASE: 1 });

/**
 * @param {number} kind
 * @returns {boolean}
 */
export function isRecoveryKind(kind) {
  return kind === RecoveryKind.GENERATED || kind === RecoveryKind.PASSPHRASE;
}

/**
 * UTF-8 of the NFKC form, so the same passphrase typed anywhere gives the same key.
 * @param {string} passphrase
 * @returns {Uint8Array}
 */
export function passphraseBytes(passphrase) {
  return utf8(passphrase.normalize('NFKC'));
}

/**
 * @param {Uint8Array} secret
 * @returns {Promise<Uint8Array>} the 2-byte typo check
 */
async function check(secret) {
  return hkdf(secret, { salt: new Uint8Array(0), info: CHECK, length: 2 });
}

/**
 * The recovery key text of a generated secret: 55 base32 characters in groups of 4.
 * @param {Uint8Array} secret
 * @returns {Promise<string>}
 */
export async function keyText(secret) {
  const chars = base32.encode(concat(secret, await check(secret)));
  return chars.match(/.{1,4}/g)?.join(' ') ?? '';
}

/**
 * The secret in a recovery key text; bad_key (quoting it) on a typo.
 * @param {string} text
 * @returns {Promise<Uint8Array>}
 */
export async function parseKeyText(text) {
  const shown = JSON.stringify(text.slice(0, 80));
  // Strip exactly what Python strips, then upper-case as str.upper() does.
  const compact = [...text].filter((c) => !' -\t\n'.includes(c)).join('').toUpperCase();
  const length = [...compact].length;
  if (length !== KEY_TEXT_CHARS) {
    throw new HearthError(ErrorCode.BAD_KEY,
      `recovery key ${shown} has ${length} characters, not ${KEY_TEXT_CHARS}`);
  }
  const raw = base32.decode(compact);
  if (raw === null) throw new HearthError(ErrorCode.BAD_KEY, `recovery key ${shown} is not base32`);
  const secret = raw.slice(0, SECRET_SIZE);
  if (!equal(await check(secret), raw.slice(SECRET_SIZE))) {
    throw new HearthError(ErrorCode.BAD_KEY,
      `recovery key ${shown} has a typo (its check does not match)`);
  }
  return secret;
}

/** A recovery secret and how it was made (the salt and count re-derive it). */
export class Recovery {
  /**
   * @param {number} kind one of RecoveryKind
   * @param {number} iterations
   * @param {Uint8Array} salt 16 bytes
   * @param {Uint8Array} secret 32 bytes
   */
  constructor(kind, iterations, salt, secret) {
    if (salt.length !== SALT_SIZE || secret.length !== SECRET_SIZE) {
      throw new RangeError(`recovery needs a ${SALT_SIZE}-byte salt and a ${SECRET_SIZE}-byte `
        + `secret, got ${salt.length} and ${secret.length}`);
    }
    this.kind = kind;
    this.iterations = iterations;
    this.salt = copy(salt);
    this.secret = copy(secret);
    Object.freeze(this);
  }

  /** @returns {Uint8Array} the 53-byte record */
  toBytes() {
    return concat(Uint8Array.of(this.kind), i2osp(this.iterations, 4), this.salt, this.secret);
  }

  /**
   * @param {Uint8Array} raw
   * @returns {Recovery} bad_key if ``raw`` is not a record
   */
  static fromBytes(raw) {
    const reader = new Reader(raw, 'recovery record', ErrorCode.BAD_KEY);
    const kind = reader.uint(1);
    if (!isRecoveryKind(kind)) {
      throw reader.fail(`kind ${kind} is neither 0 (generated) nor 1 (passphrase)`);
    }
    const record = new Recovery(kind, reader.uint(4), reader.take(SALT_SIZE),
      reader.take(SECRET_SIZE));
    reader.end();
    return record;
  }

  /**
   * A fresh generated recovery key (a fixed ``secret`` is for test vectors only).
   * @param {{secret?: Uint8Array}} [fixed]
   * @returns {Recovery}
   */
  static generate({ secret } = {}) {
    return new Recovery(RecoveryKind.GENERATED, 0, new Uint8Array(SALT_SIZE),
      secret ?? crypto.getRandomValues(new Uint8Array(SECRET_SIZE)));
  }

  /**
   * Derive the secret (slow on purpose); a new salt unless re-deriving.
   * @param {string} passphrase
   * @param {{salt?: Uint8Array, iterations?: number}} [options]
   * @returns {Promise<Recovery>}
   */
  static async fromPassphrase(passphrase,
    { salt = crypto.getRandomValues(new Uint8Array(SALT_SIZE)),
      iterations = PASSPHRASE_ITERATIONS } = {}) {
    if (salt.length !== SALT_SIZE) {
      throw new RangeError(`recovery salt must be ${SALT_SIZE} bytes, got ${salt.length}`);
    }
    const secret = await pbkdf2Sha256(passphraseBytes(passphrase), salt,
      { iterations, length: SECRET_SIZE });
    return new Recovery(RecoveryKind.PASSPHRASE, iterations, salt, secret);
  }

  /**
   * Parse a recovery key text; bad_key (quoting it) on a typo.
   * @param {string} text
   * @returns {Promise<Recovery>}
   */
  static async fromKeyText(text) {
    return Recovery.generate({ secret: await parseKeyText(text) });
  }

  /** @returns {Promise<string>} */
  keyText() {
    if (this.kind !== RecoveryKind.GENERATED) {
      throw new TypeError('only a generated recovery key has a key text');
    }
    return keyText(this.secret);
  }

  /**
   * @param {Recovery} other
   * @returns {boolean}
   */
  equals(other) {
    return equal(this.toBytes(), other.toBytes());
  }
}
