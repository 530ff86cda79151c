/**
 * Safety numbers: what two users compare to know they hold each other's account keys;
 * the twin of hearth/crypto/safety.py. Made from the two ACCOUNT keys only, so adding or
 * removing a device never changes it.
 *
 *     half(k)  = 30 digits: HKDF(k, salt = "", info = "hearth/v1/hkdf/safety-number", L = 30)
 *                read as six 5-byte big-endian integers, each mod 100000, zero-padded to 5
 *     number   = the two halves, the smaller string first (60 digits; 12 groups of 5)
 *     QR       = 0x01 || the two account keys, the smaller (bytewise) first (65 bytes)
 *
 * Invariant: both users compute the same number and QR payload; a changed account key
 * on either side changes both.
 * @module
 */

import { concat, equal, toHex, utf8 } from './bytes.js';
import { ErrorCode, HearthError } from './errors.js';
import { hkdf } from './hkdf.js';
import { Label } from './labels.js';

export const QR_VERSION = 1;
export const QR_SIZE = 65;
const SAFETY_NUMBER = utf8(Label.HKDF_SAFETY_NUMBER);

/**
 * One account key's 30 digits.
 * @param {Uint8Array} account 32-byte Ed25519 public key
 * @returns {Promise<string>}
 */
export async function half(account) {
  if (account.length !== 32) {
    throw new RangeError(`account key must be 32 bytes, got ${account.length}`);
  }
  const okm = await hkdf(account, { salt: new Uint8Array(0), info: SAFETY_NUMBER, length: 30 });
  let out = '';
  for (let i = 0; i < 30; i += 5) {
    // 5 bytes exceed 32-bit integer operators but not a double's 53 bits.
    const n = okm.subarray(i, i + 5).reduce((acc, b) => acc * 256 + b, 0);
    out += String(n % 100_000).padStart(5, '0');
  }
  return out;
}

/**
 * 60 digits, the same whichever side computes it.
 * @param {Uint8Array} mine
 * @param {Uint8Array} theirs
 * @returns {Promise<string>}
 */
export async function safetyNumber(mine, theirs) {
  const halves = [await half(mine), await half(theirs)];
  return halves.sort().join('');
}

/**
 * ``12345 67890 ...`` for display.
 * @param {string} number
 * @returns {string}
 */
export function grouped(number) {
  return number.match(/.{1,5}/g)?.join(' ') ?? '';
}

/**
 * Bytewise (unsigned, then shorter first) comparison, as Python orders bytes.
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {number}
 */
function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/**
 * @param {Uint8Array} mine
 * @param {Uint8Array} theirs
 * @returns {Uint8Array} the 65-byte QR payload
 */
export function qrPayload(mine, theirs) {
  const [low, high] = compareBytes(mine, theirs) <= 0 ? [mine, theirs] : [theirs, mine];
  return concat(Uint8Array.of(QR_VERSION), low, high);
}

/**
 * bad_key unless a scanned QR payload names exactly these two account keys.
 * @param {Uint8Array} payload
 * @param {Uint8Array} mine
 * @param {Uint8Array} theirs
 */
export function verifyQr(payload, mine, theirs) {
  if (!equal(payload, qrPayload(mine, theirs))) {
    throw new HearthError(ErrorCode.BAD_KEY, `scanned safety code `
      + `${toHex(payload.subarray(0, QR_SIZE))} does not match the account keys you hold `
      + `(${toHex(mine)} and ${toHex(theirs)}): do not trust this contact's key`);
  }
}
