/**
 * The channel-message envelope: one AES-256-GCM seal and one Ed25519 signature; the twin
 * of hearth/crypto/envelope.py.
 *
 *     header (61 bytes)
 *       0   1  version 0x01
 *       1  32  sender device Ed25519 public key
 *       33 16  session id
 *       49  4  message index, big-endian
 *       53  8  sent at, ms, big-endian (the sender's clock)
 *     ciphertext   AES-256-GCM(key, nonce, plaintext, aad): len(plaintext) + 16 bytes
 *     signature    64 bytes, Ed25519 by the sender device over
 *                  "hearth/v1/message" 0x00 || aad || ciphertext
 *
 *     aad = header || fields(host id, space id, channel id, message id)
 *
 * Because the delivery place is in the AAD and under the signature, an envelope moved to
 * another host, space, channel or message id fails; because the signature is the
 * device's, a member holding the session key still cannot write in the sender's name.
 *
 * Invariants: ``seal`` costs one AEAD and one signature whatever the group size; ``open``
 * verifies the signature before it decrypts, and refuses a replayed index.
 * @module
 */

import { open as aeadOpen, seal as aeadSeal, TAG_SIZE } from './aead.js';
import { concat, copy, equal, i2osp } from './bytes.js';
import { ErrorCode, HearthError } from './errors.js';
import { fields, Reader } from './wire.js';
import { Context, signFor, verifyFor } from './signing.js';

export const VERSION = 1;
export const HEADER_SIZE = 61;
export const SIGNATURE_SIZE = 64;
export const OVERHEAD = HEADER_SIZE + TAG_SIZE + SIGNATURE_SIZE;
/** The signing context (hearth/signing.py Context.MESSAGE). */
export const SIGNING_CONTEXT = Context.MESSAGE;

/**
 * Where a message was delivered: bound into its AAD.
 * @typedef {{host: string, space: string, chan: string, msgId: string}} Place
 */

/**
 * @param {Place} place
 * @returns {Uint8Array}
 */
export function placeBytes(place) {
  return fields(place.host, place.space, place.chan, place.msgId);
}

/** The 61-byte header of an envelope. */
export class Header {
  /**
   * @param {Uint8Array} sender 32-byte device Ed25519 public key
   * @param {Uint8Array} sessionId 16 bytes
   * @param {number} index
   * @param {number} sentAt ms
   */
  constructor(sender, sessionId, index, sentAt) {
    this.sender = copy(sender);
    this.sessionId = copy(sessionId);
    this.index = index;
    this.sentAt = sentAt;
    Object.freeze(this);
  }

  /** @returns {Uint8Array} */
  toBytes() {
    return concat(Uint8Array.of(VERSION), this.sender, this.sessionId, i2osp(this.index, 4),
      i2osp(this.sentAt, 8));
  }
}

/**
 * A parsed (not yet verified) envelope.
 * @typedef {{header: Header, ciphertext: Uint8Array, signature: Uint8Array}} Envelope
 */

/**
 * aad || ciphertext: what the sender's signature covers for ``place``.
 * @param {Envelope} envelope
 * @param {Place} place
 * @returns {Uint8Array}
 */
export function signedBytes(envelope, place) {
  return concat(envelope.header.toBytes(), placeBytes(place), envelope.ciphertext);
}

/**
 * Split an envelope into its parts; bad_envelope if it cannot be one.
 * @param {Uint8Array} raw
 * @returns {Envelope}
 */
export function parse(raw) {
  const reader = new Reader(raw, 'envelope', ErrorCode.BAD_ENVELOPE);
  reader.version(VERSION);
  const sender = reader.take(32);
  const sessionId = reader.take(16);
  const index = reader.uint(4);
  const sentAt = reader.uint(8);
  const ciphertext = reader.rest(SIGNATURE_SIZE);
  if (ciphertext.length < TAG_SIZE) {
    throw reader.fail(`ciphertext is ${ciphertext.length} bytes, shorter than a tag`);
  }
  const signature = reader.take(SIGNATURE_SIZE);
  return { header: new Header(sender, sessionId, index, sentAt), ciphertext, signature };
}

/**
 * Encrypt ``plaintext`` as the session's next message, signed by ``device``.
 * @param {import('./ed25519.js').Ed25519KeyPair} device
 * @param {import('./sender_session.js').OutboundSession} session
 * @param {Place} place
 * @param {Uint8Array} plaintext
 * @param {number} sentAt ms
 * @returns {Promise<Uint8Array>}
 */
export async function seal(device, session, place, plaintext, sentAt) {
  const { index, keys } = await session.advance();
  const header = new Header(device.publicKey, session.sessionId, index, sentAt).toBytes();
  const aad = concat(header, placeBytes(place));
  const ciphertext = await aeadSeal(keys.key, keys.nonce, plaintext, aad);
  const signature = await signFor(device.privateKey, SIGNING_CONTEXT, concat(aad, ciphertext));
  return concat(header, ciphertext, signature);
}

/**
 * bad_signature unless the header's device signed this envelope for ``place``.
 * @param {Envelope} envelope
 * @param {Place} place
 * @returns {Promise<void>}
 */
export async function verifySignature(envelope, place) {
  try {
    await verifyFor(envelope.header.sender, SIGNING_CONTEXT, signedBytes(envelope, place),
      envelope.signature);
  } catch (e) {
    if (!(e instanceof HearthError)) throw e;
    throw new HearthError(ErrorCode.BAD_SIGNATURE, 'envelope signature does not verify for '
      + `host ${JSON.stringify(place.host)}, space ${JSON.stringify(place.space)}, channel `
      + `${JSON.stringify(place.chan)}, message ${JSON.stringify(place.msgId)}: it was `
      + 'altered or made for another place');
  }
}

/**
 * Verify, check for replay, decrypt, and remember the index as opened.
 * @param {Envelope} envelope
 * @param {Place} place
 * @param {import('./sender_session.js').InboundSession} session
 * @returns {Promise<Uint8Array>} the plaintext
 */
export async function open(envelope, place, session) {
  if (!equal(envelope.header.sessionId, session.sessionId)) {
    throw new RangeError('envelope and inbound session name different sessions');
  }
  await verifySignature(envelope, place);
  const { index } = envelope.header;
  return session.exclusive(async () => {
    session.checkReplay(index, place.msgId);
    const keys = await session.keysFor(index);
    const aad = concat(envelope.header.toBytes(), placeBytes(place));
    const plaintext = await aeadOpen(keys.key, keys.nonce, envelope.ciphertext, aad);
    session.markSeen(index, place.msgId);
    return plaintext;
  });
}
