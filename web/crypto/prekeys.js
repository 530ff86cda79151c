/**
 * Prekeys: X25519 keys a device publishes, signed by its device key, for key shares; the
 * twin of hearth/crypto/prekeys.py.
 *
 * Layout (110 bytes):
 *
 *     0   1  version 0x01
 *     1   1  kind: 0x01 signed prekey (reused until rotated), 0x02 one-time prekey
 *     2   4  key id, big-endian (unique per device and kind)
 *     6  32  X25519 public key
 *     38  8  created at, ms, big-endian
 *     46 64  Ed25519 signature by the device key over
 *            "hearth/v1/prekey" 0x00 || device public key (32) || bytes 0..45
 *
 * Invariants: a prekey verifies only against the device that made it (its key is inside
 * the signed bytes), so a host cannot hand out its own key in a device's name. The
 * private half is a non-extractable CryptoKey that never leaves the device.
 * @module
 */

import { concat, copy, i2osp } from './bytes.js';
import { ErrorCode } from './errors.js';
import { Reader } from './wire.js';
import { publicKeyOf } from './x25519.js';
import { Context, signFor, verifyFor } from './signing.js';

export const VERSION = 1;
export const PAYLOAD_SIZE = 46;
export const SIZE = PAYLOAD_SIZE + 64;
/** The signing context (hearth/signing.py Context.PREKEY). */
export const SIGNING_CONTEXT = Context.PREKEY;

/** Which prekey a key share was sealed to; the share says so in its header. */
export const Kind = Object.freeze({ SIGNED: 1, ONE_TIME: 2 });

/**
 * @param {number} kind
 * @returns {boolean}
 */
export function isKind(kind) {
  return kind === Kind.SIGNED || kind === Kind.ONE_TIME;
}

/** A device's signed, public prekey. */
export class Prekey {
  /**
   * @param {number} kind one of Kind
   * @param {number} keyId
   * @param {Uint8Array} publicKey 32 bytes
   * @param {number} createdAt ms
   * @param {Uint8Array} signature 64 bytes
   */
  constructor(kind, keyId, publicKey, createdAt, signature) {
    this.kind = kind;
    this.keyId = keyId;
    this.publicKey = copy(publicKey);
    this.createdAt = createdAt;
    this.signature = copy(signature);
    Object.freeze(this);
  }

  /** @returns {Uint8Array} bytes 0..45, what the signature covers after the device key */
  get payload() {
    return concat(Uint8Array.of(VERSION, this.kind), i2osp(this.keyId, 4), this.publicKey,
      i2osp(this.createdAt, 8));
  }

  /** @returns {Uint8Array} */
  toBytes() {
    return concat(this.payload, this.signature);
  }

  /**
   * Parse and verify against ``device``; bad_key if malformed, bad_signature if forged.
   * @param {Uint8Array} raw
   * @param {Uint8Array} device the device's Ed25519 public key
   * @returns {Promise<Prekey>}
   */
  static async fromBytes(raw, device) {
    const reader = new Reader(raw, 'prekey', ErrorCode.BAD_KEY);
    reader.version(VERSION);
    const kind = reader.uint(1);
    if (!isKind(kind)) throw reader.fail(`kind ${kind} is neither 1 (signed) nor 2 (one-time)`);
    const keyId = reader.uint(4);
    const publicKey = reader.take(32);
    const createdAt = reader.uint(8);
    const signature = reader.take(64);
    reader.end();
    const prekey = new Prekey(kind, keyId, publicKey, createdAt, signature);
    await verifyFor(device, SIGNING_CONTEXT, concat(device, prekey.payload), signature);
    return prekey;
  }
}

/**
 * Sign the public half of ``privateKey`` as ``device``'s prekey ``(kind, keyId)``.
 * @param {import('./ed25519.js').Ed25519KeyPair} device
 * @param {number} kind one of Kind
 * @param {number} keyId 0 .. 2**32 - 1
 * @param {number} createdAt ms
 * @param {CryptoKey} privateKey X25519, non-extractable is fine
 * @returns {Promise<Prekey>}
 */
export async function makePrekey(device, kind, keyId, createdAt, privateKey) {
  if (!Number.isInteger(keyId) || keyId < 0 || keyId >= 2 ** 32) {
    throw new RangeError(`prekey id must fit 4 bytes, got ${keyId}`);
  }
  if (!isKind(kind)) throw new RangeError(`prekey kind must be 1 or 2, got ${kind}`);
  const unsigned = new Prekey(kind, keyId, await publicKeyOf(privateKey), createdAt,
    new Uint8Array(64));
  const signature = await signFor(device.privateKey, SIGNING_CONTEXT,
    concat(device.publicKey, unsigned.payload));
  return new Prekey(kind, keyId, unsigned.publicKey, createdAt, signature);
}
