/**
 * Key shares: a session key sealed with HPKE to one device's prekey, signed by the
 * sharer; the twin of hearth/crypto/key_share.py.
 *
 * Layout (235 bytes):
 *
 *     header (70 bytes)
 *       0   1  version 0x01
 *       1   1  prekey kind the share is sealed to: 0x01 signed prekey (fallback, no
 *              one-time prekey was left), 0x02 one-time prekey
 *       2   4  prekey id, big-endian
 *       6  32  sharing device Ed25519 public key
 *       38 32  recipient device Ed25519 public key
 *     enc          32 bytes, the HPKE encapsulated key
 *     ciphertext   69 bytes: HPKE SealBase(pkR = the prekey, info = "hearth/v1/hpke/key-share",
 *                  aad, session key (53 bytes, sender_session.js SessionKey))
 *     signature    64 bytes, Ed25519 by the sharing device over
 *                  "hearth/v1/key-share" 0x00 || aad || enc || ciphertext
 *
 *     aad = header || fields(host id, space id, channel id)
 *
 * Invariants: a share opens only on its recipient device (wrong_recipient otherwise),
 * only for the channel it names (the place is in the AAD and under the signature), and
 * only if the sharing device signed it (bad_signature).
 * @module
 */

import { TAG_SIZE } from './aead.js';
import { concat, copy, equal, i2osp, toHex, utf8 } from './bytes.js';
import { ErrorCode, HearthError } from './errors.js';
import { openBase, sealBase } from './hpke.js';
import { Label } from './labels.js';
import { isKind } from './prekeys.js';
import { SESSION_KEY_SIZE, SessionKey } from './sender_session.js';
import { fields, Reader } from './wire.js';
import { KEY_SIZE as ENC_SIZE } from './x25519.js';
import { Context, signFor, verifyFor } from './signing.js';

export const VERSION = 1;
export const HEADER_SIZE = 70;
export const SIZE = HEADER_SIZE + ENC_SIZE + SESSION_KEY_SIZE + TAG_SIZE + 64;
/** The signing context (hearth/signing.py Context.KEY_SHARE). */
export const SIGNING_CONTEXT = Context.KEY_SHARE;
const INFO = utf8(Label.HPKE_KEY_SHARE);
const KIND_NAMES = { 1: 'signed', 2: 'one_time' };

/**
 * The channel a share is for: bound into its AAD.
 * @typedef {{host: string, space: string, chan: string}} ChannelPlace
 */

/**
 * @param {ChannelPlace} place
 * @returns {Uint8Array}
 */
export function channelPlaceBytes(place) {
  return fields(place.host, place.space, place.chan);
}

/**
 * @param {number} kind
 * @param {number} prekeyId
 * @param {Uint8Array} sender
 * @param {Uint8Array} recipient
 * @returns {Uint8Array}
 */
function headerBytes(kind, prekeyId, sender, recipient) {
  return concat(Uint8Array.of(VERSION, kind), i2osp(prekeyId, 4), sender, recipient);
}

/** A parsed (not yet opened) key share. */
export class Share {
  /**
   * @param {number} kind one of prekeys.Kind
   * @param {number} prekeyId
   * @param {Uint8Array} sender
   * @param {Uint8Array} recipient
   * @param {Uint8Array} enc
   * @param {Uint8Array} ciphertext
   * @param {Uint8Array} signature
   */
  constructor(kind, prekeyId, sender, recipient, enc, ciphertext, signature) {
    this.kind = kind;
    this.prekeyId = prekeyId;
    this.sender = copy(sender);
    this.recipient = copy(recipient);
    this.enc = copy(enc);
    this.ciphertext = copy(ciphertext);
    this.signature = copy(signature);
    Object.freeze(this);
  }

  /** @returns {Uint8Array} */
  header() {
    return headerBytes(this.kind, this.prekeyId, this.sender, this.recipient);
  }
}

/**
 * @param {Uint8Array} raw
 * @returns {Share} bad_envelope if ``raw`` cannot be one
 */
export function parse(raw) {
  const reader = new Reader(raw, 'key share', ErrorCode.BAD_ENVELOPE);
  reader.version(VERSION);
  const kind = reader.uint(1);
  if (!isKind(kind)) {
    throw reader.fail(`prekey kind ${kind} is neither 1 (signed) nor 2 (one-time)`);
  }
  const share = new Share(kind, reader.uint(4), reader.take(32), reader.take(32),
    reader.take(ENC_SIZE), reader.take(SESSION_KEY_SIZE + TAG_SIZE), reader.take(64));
  reader.end();
  return share;
}

/**
 * Seal ``key`` to ``recipient``'s verified ``prekey`` (``ephemeral``: vectors only).
 * @param {import('./ed25519.js').Ed25519KeyPair} sender
 * @param {Uint8Array} recipient the recipient device's Ed25519 public key
 * @param {import('./prekeys.js').Prekey} prekey verified with Prekey.fromBytes
 * @param {ChannelPlace} place
 * @param {SessionKey} key
 * @param {{ephemeral?: import('./x25519.js').X25519KeyPair}} [options]
 * @returns {Promise<Uint8Array>}
 */
export async function seal(sender, recipient, prekey, place, key, { ephemeral } = {}) {
  const header = headerBytes(prekey.kind, prekey.keyId, sender.publicKey, recipient);
  const aad = concat(header, channelPlaceBytes(place));
  const { enc, ciphertext } = await sealBase(prekey.publicKey, INFO, aad, key.toBytes(),
    { ephemeral });
  const signature = await signFor(sender.privateKey, SIGNING_CONTEXT,
    concat(aad, enc, ciphertext));
  return concat(header, enc, ciphertext, signature);
}

/**
 * The private key of this device's prekey ``(kind, id)``, or null/undefined if it holds
 * none (a one-time prekey is deleted after its first use).
 * @typedef {(kind: number, id: number) => CryptoKey | null | undefined
 *   | Promise<CryptoKey | null | undefined>} PrekeyLookup
 */

/**
 * The share and the session key in it, for device ``me``; the caller then deletes a used
 * one-time prekey. Refusals: bad_envelope, wrong_recipient, bad_signature,
 * unknown_prekey, decrypt_failed.
 * @param {Uint8Array} raw
 * @param {Uint8Array} me this device's Ed25519 public key
 * @param {ChannelPlace} place
 * @param {PrekeyLookup} prekeyPrivate
 * @returns {Promise<{share: Share, key: SessionKey}>}
 */
export async function open(raw, me, place, prekeyPrivate) {
  const share = parse(raw);
  if (!equal(share.recipient, me)) {
    throw new HearthError(ErrorCode.WRONG_RECIPIENT,
      `key share is for device ${toHex(share.recipient)}, this is ${toHex(me)}`);
  }
  const aad = concat(share.header(), channelPlaceBytes(place));
  try {
    await verifyFor(share.sender, SIGNING_CONTEXT, concat(aad, share.enc, share.ciphertext),
      share.signature);
  } catch (e) {
    if (!(e instanceof HearthError)) throw e;
    throw new HearthError(ErrorCode.BAD_SIGNATURE, `key share signature by device `
      + `${toHex(share.sender)} does not verify for host ${JSON.stringify(place.host)}, `
      + `space ${JSON.stringify(place.space)}, channel ${JSON.stringify(place.chan)}`);
  }
  const privateKey = await prekeyPrivate(share.kind, share.prekeyId);
  if (privateKey === null || privateKey === undefined) {
    throw new HearthError(ErrorCode.UNKNOWN_PREKEY, `this device holds no `
      + `${KIND_NAMES[/** @type {1 | 2} */ (share.kind)]} prekey ${share.prekeyId} `
      + '(a one-time prekey is deleted after its first use)');
  }
  const plaintext = await openBase(share.enc, privateKey, INFO, aad, share.ciphertext);
  return { share, key: SessionKey.fromBytes(plaintext) };
}
