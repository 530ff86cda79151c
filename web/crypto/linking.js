/**
 * Device linking: an existing device E hands the account secrets to a new device N; the
 * twin of hearth/crypto/linking.py. A commit-then-reveal key agreement whose short code
 * (SAS) the user compares, so a man in the middle on the host or relay fails.
 *
 *     M1  N -> E  0x01 || commit (32)     commit = HKDF(pk_N, "", "hearth/v1/hkdf/link-commit", 32)
 *     M2  E -> N  0x02 || commit (32) || pk_E (32)      (E echoes the commit it answers)
 *     M3  N -> E  0x03 || pk_N (32)                     (E checks it against the commit)
 *     M4  N -> E  0x04 || HMAC-SHA256(confirm key, transcript)   after the user typed E's
 *                                                       code into N and N found it equal
 *     M5  E -> N  0x05 || enc (32) || ciphertext        after E's user confirmed too:
 *                 HPKE SealAuth(pkR = pk_N, info = "hearth/v1/hpke/device-link",
 *                               aad = transcript, account seed (32) || recovery record (53),
 *                               skS = sk_E)
 *
 *     transcript  = 0x01 || fields(host id, link id) || commit || pk_E || pk_N
 *     okm         = HKDF(X25519(own key, peer key), salt = transcript,
 *                        info = "hearth/v1/hkdf/link-code", L = 40)
 *     code (SAS)  = big-endian okm[0:8] mod 10^8, as 8 digits;  confirm key = okm[8:40]
 *
 * Link keys are fresh non-extractable X25519 CryptoKeys; the confirm key is imported as a
 * non-extractable HMAC key. The account seed and recovery record are bytes by design
 * (they are what is transferred).
 * @module
 */

import { concat, equal, toHex, utf8 } from './bytes.js';
import { ErrorCode, HearthError } from './errors.js';
import { hkdf } from './hkdf.js';
import { hmacSha256, hmacSha256Verify, importHmacKey } from './hmac.js';
import { openAuth, sealAuth } from './hpke.js';
import { Label } from './labels.js';
import { Recovery, RECORD_SIZE } from './recovery.js';
import { fields, Reader } from './wire.js';
import { generateKeyPair, KEY_SIZE as ENC_SIZE, sharedSecret } from './x25519.js';

export const VERSION = 1;
export const CODE_DIGITS = 8;
const SEED_SIZE = 32;
const LINK_COMMIT = utf8(Label.HKDF_LINK_COMMIT);
const LINK_CODE = utf8(Label.HKDF_LINK_CODE);
const DEVICE_LINK = utf8(Label.HPKE_DEVICE_LINK);

/**
 * @typedef {import('./x25519.js').X25519KeyPair} X25519KeyPair
 */

/**
 * The new device's commitment to its link key.
 * @param {Uint8Array} publicKey
 * @returns {Promise<Uint8Array>}
 */
export async function commitment(publicKey) {
  return hkdf(publicKey, { salt: new Uint8Array(0), info: LINK_COMMIT, length: 32 });
}

/**
 * @param {string} host
 * @param {string} link
 * @param {Uint8Array} commit
 * @param {Uint8Array} pkE
 * @param {Uint8Array} pkN
 * @returns {Uint8Array}
 */
export function transcript(host, link, commit, pkE, pkN) {
  return concat(Uint8Array.of(VERSION), fields(host, link), commit, pkE, pkN);
}

/**
 * The 8-digit code and the 32-byte confirm key (bytes: the vectors check it).
 * @param {Uint8Array} shared X25519 shared secret
 * @param {Uint8Array} transcriptBytes
 * @returns {Promise<{code: string, confirmKey: Uint8Array}>}
 */
export async function codeAndConfirmKey(shared, transcriptBytes) {
  const okm = await hkdf(shared, { salt: transcriptBytes, info: LINK_CODE, length: 40 });
  let number = 0n;
  for (const byte of okm.subarray(0, 8)) number = (number << 8n) | BigInt(byte);
  const code = (number % 10n ** BigInt(CODE_DIGITS)).toString().padStart(CODE_DIGITS, '0');
  return { code, confirmKey: okm.slice(8) };
}

/**
 * A reader for link message ``tag``, of exactly 1 + ``size`` bytes unless size is null.
 * @param {Uint8Array} raw
 * @param {number} tag
 * @param {number | null} size
 * @returns {Reader}
 */
function message(raw, tag, size) {
  const reader = new Reader(raw, `link message ${tag}`, ErrorCode.BAD_ENVELOPE);
  const got = reader.uint(1);
  if (got !== tag) throw reader.fail(`expected message type ${tag}, got ${got}`);
  if (size !== null && raw.length !== 1 + size) {
    throw reader.fail(`must be ${1 + size} bytes, got ${raw.length}`);
  }
  return reader;
}

/** @param {string} text */
function mismatch(text) {
  return new HearthError(ErrorCode.LINK_MISMATCH, text);
}

/**
 * The digits of a typed code: ASCII 0-9 only, everything else (spaces, dashes) dropped,
 * exactly as hearth/crypto/linking.py does.
 * @param {string} code
 * @returns {string}
 */
function normaliseCode(code) {
  return code.replace(/[^0-9]/g, '');
}

/**
 * @param {X25519KeyPair | undefined} key
 * @returns {Promise<X25519KeyPair>}
 */
async function linkKey(key) {
  return key ?? generateKeyPair();
}

/**
 * The new device's side (N). Call in order: commitMessage, onReveal, confirm, onSecrets.
 */
export class NewDeviceLink {
  /** @type {Uint8Array} */ #transcript = new Uint8Array(0);
  /** @type {CryptoKey | null} */ #confirmKey = null;
  /** @type {Uint8Array} */ #pkE = new Uint8Array(0);

  /**
   * @param {string} host
   * @param {string} link
   * @param {X25519KeyPair} key
   */
  constructor(host, link, key) {
    this.host = host;
    this.link = link;
    this.key = key;
    /** The code shown to the user, set by onReveal. */
    this.code = '';
  }

  /**
   * @param {string} host
   * @param {string} link
   * @param {{key?: X25519KeyPair}} [options] a fixed key is for test vectors only
   * @returns {Promise<NewDeviceLink>}
   */
  static async create(host, link, { key } = {}) {
    return new NewDeviceLink(host, link, await linkKey(key));
  }

  /** @returns {Promise<Uint8Array>} M1 */
  async commitMessage() {
    return concat(Uint8Array.of(1), await commitment(this.key.publicKey));
  }

  /**
   * Read M2; returns M3 and sets ``code`` (shown to the user).
   * @param {Uint8Array} m2
   * @returns {Promise<Uint8Array>}
   */
  async onReveal(m2) {
    const reader = message(m2, 2, 64);
    const commit = reader.take(32);
    const pkE = reader.take(32);
    const pkN = this.key.publicKey;
    if (!equal(commit, await commitment(pkN))) {
      throw mismatch('the existing device answered another device\'s request (commitment '
        + `${toHex(commit)}): someone else used this link code; start again`);
    }
    this.#pkE = pkE;
    this.#transcript = transcript(this.host, this.link, commit, pkE, pkN);
    const shared = await sharedSecret(this.key.privateKey, pkE);
    const { code, confirmKey } = await codeAndConfirmKey(shared, this.#transcript);
    this.code = code;
    this.#confirmKey = await importHmacKey(confirmKey);
    return concat(Uint8Array.of(3), pkN);
  }

  /**
   * M4, only if ``typedCode`` (read off the existing device) equals ours.
   * @param {string} typedCode
   * @returns {Promise<Uint8Array>}
   */
  async confirm(typedCode) {
    if (!this.code || this.#confirmKey === null) throw new TypeError('confirm() before onReveal()');
    if (normaliseCode(typedCode) !== this.code) {
      throw mismatch(`code ${JSON.stringify(typedCode)} typed from the existing device differs `
        + 'from this device\'s: someone is in the middle; nothing was sent');
    }
    return concat(Uint8Array.of(4), await hmacSha256(this.#confirmKey, this.#transcript));
  }

  /**
   * Read M5: the account seed and recovery.
   * @param {Uint8Array} m5
   * @returns {Promise<{accountSeed: Uint8Array, recovery: Recovery}>}
   */
  async onSecrets(m5) {
    const reader = message(m5, 5, null);
    const enc = reader.take(ENC_SIZE);
    const plaintext = await openAuth(enc, this.key.privateKey, DEVICE_LINK, this.#transcript,
      reader.rest(), this.#pkE);
    if (plaintext.length !== SEED_SIZE + RECORD_SIZE) {
      throw mismatch(`link transfer holds ${plaintext.length} bytes, not `
        + `${SEED_SIZE + RECORD_SIZE}`);
    }
    return { accountSeed: plaintext.slice(0, SEED_SIZE),
      recovery: Recovery.fromBytes(plaintext.slice(SEED_SIZE)) };
  }
}

/** The existing device's side (E). Call in order: onCommit, onKey, transfer. */
export class ExistingDeviceLink {
  /** @type {Uint8Array} */ #commit = new Uint8Array(0);
  /** @type {Uint8Array} */ #transcript = new Uint8Array(0);
  /** @type {CryptoKey | null} */ #confirmKey = null;
  /** @type {Uint8Array} */ #pkN = new Uint8Array(0);

  /**
   * @param {string} host
   * @param {string} link
   * @param {X25519KeyPair} key
   */
  constructor(host, link, key) {
    this.host = host;
    this.link = link;
    this.key = key;
    /** The code shown to the user (who types it into the new device), set by onKey. */
    this.code = '';
  }

  /**
   * @param {string} host
   * @param {string} link
   * @param {{key?: X25519KeyPair}} [options] a fixed key is for test vectors only
   * @returns {Promise<ExistingDeviceLink>}
   */
  static async create(host, link, { key } = {}) {
    return new ExistingDeviceLink(host, link, await linkKey(key));
  }

  /**
   * Read M1; returns M2.
   * @param {Uint8Array} m1
   * @returns {Uint8Array}
   */
  onCommit(m1) {
    this.#commit = message(m1, 1, 32).take(32);
    return concat(Uint8Array.of(2), this.#commit, this.key.publicKey);
  }

  /**
   * Read M3; sets ``code``.
   * @param {Uint8Array} m3
   * @returns {Promise<void>}
   */
  async onKey(m3) {
    const pkN = message(m3, 3, 32).take(32);
    if (!equal(await commitment(pkN), this.#commit)) {
      throw mismatch(`the new device's key ${toHex(pkN)} does not match its commitment `
        + `${toHex(this.#commit)}: someone is in the middle; nothing was sent`);
    }
    this.#pkN = pkN;
    this.#transcript = transcript(this.host, this.link, this.#commit, this.key.publicKey, pkN);
    const shared = await sharedSecret(this.key.privateKey, pkN);
    const { code, confirmKey } = await codeAndConfirmKey(shared, this.#transcript);
    this.code = code;
    this.#confirmKey = await importHmacKey(confirmKey);
  }

  /**
   * M5: the account secrets sealed to the new device, once both sides confirmed.
   * @param {boolean} userConfirmed
   * @param {Uint8Array} m4
   * @param {Uint8Array} accountSeed
   * @param {Recovery} recovery
   * @param {{ephemeral?: X25519KeyPair}} [options] vectors only
   * @returns {Promise<Uint8Array>}
   */
  async transfer(userConfirmed, m4, accountSeed, recovery, { ephemeral } = {}) {
    if (!this.code || this.#confirmKey === null) throw new TypeError('transfer() before onKey()');
    if (!userConfirmed) {
      throw mismatch('the user did not confirm that the new device accepted the code');
    }
    const tag = message(m4, 4, 32).take(32);
    try {
      await hmacSha256Verify(this.#confirmKey, this.#transcript, tag);
    } catch (e) {
      if (!(e instanceof HearthError)) throw e;
      throw mismatch('the new device\'s confirmation does not match this exchange: someone is '
        + 'in the middle; nothing was sent');
    }
    const { enc, ciphertext } = await sealAuth(this.#pkN, DEVICE_LINK, this.#transcript,
      concat(accountSeed, recovery.toBytes()), this.key.privateKey, { ephemeral });
    return concat(Uint8Array.of(5), enc, ciphertext);
  }
}
