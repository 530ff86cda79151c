/**
 * Sender-key sessions (Megolm-style): one hash-ratchet chain per (device, channel); the
 * twin of hearth/crypto/sender_session.py.
 *
 * The chain key ``C_i`` of message index ``i`` gives that message's AES-256-GCM key and
 * nonce and the next chain key, both with HKDF-SHA256 (empty salt):
 *
 *     key || nonce = HKDF(C_i, info="hearth/v1/hkdf/message-keys", L=44)   (32 + 12)
 *     C_{i+1}      = HKDF(C_i, info="hearth/v1/hkdf/chain-key",    L=32)
 *
 * A *session key* (53 bytes) is ``0x01 || session id (16) || index (4) || C_index (32)``:
 * whoever holds it reads messages ``index, index+1, ...`` and nothing earlier.
 *
 * Chain keys are raw bytes by design, not CryptoKeys: they are exported into key shares
 * and backups, and WebCrypto cannot derive a key usable as the next HKDF input (HKDF is
 * not a deriveKey target). The message key is imported non-extractable at once.
 *
 * Invariants: an outbound session never yields the same index twice (its steps run one
 * at a time, serial.js), so no AES-GCM key and nonce is used twice. An inbound session
 * ratchets forward at most MAX_SKIP steps for one message (index_too_far beyond),
 * refuses an index before the earliest it holds (index_too_old) and a second message id
 * for an index it already opened (replay).
 * @module
 */

import { concat, copy, equal, i2osp, toHex, utf8 } from './bytes.js';
import { ErrorCode, HearthError } from './errors.js';
import { hkdf } from './hkdf.js';
import { Label } from './labels.js';
import { Serial } from './serial.js';
import { Reader } from './wire.js';

export const VERSION = 1;
export const SESSION_ID_SIZE = 16;
export const CHAIN_KEY_SIZE = 32;
/** Most ratchet steps one inbound message may cost; rotation keeps real chains far shorter. */
export const MAX_SKIP = 10_000;
export const MAX_INDEX = 2 ** 32 - 1;
export const SESSION_KEY_SIZE = 1 + SESSION_ID_SIZE + 4 + CHAIN_KEY_SIZE;
const EMPTY = new Uint8Array(0);
const MESSAGE_KEYS = utf8(Label.HKDF_MESSAGE_KEYS);
const CHAIN_KEY = utf8(Label.HKDF_CHAIN_KEY);

/**
 * The AES-256-GCM key and nonce of one message index. The key is bytes because the
 * vectors check it and because it comes out of HKDF together with the nonce.
 * @typedef {{key: Uint8Array, nonce: Uint8Array}} MessageKeys
 */

/**
 * The message key and nonce for the index whose chain key is ``chainKey``.
 * @param {Uint8Array} chainKey
 * @returns {Promise<MessageKeys>}
 */
export async function messageKeys(chainKey) {
  const okm = await hkdf(chainKey, { salt: EMPTY, info: MESSAGE_KEYS, length: 44 });
  return { key: okm.slice(0, 32), nonce: okm.slice(32) };
}

/**
 * C_{i+1} from C_i.
 * @param {Uint8Array} chainKey
 * @returns {Promise<Uint8Array>}
 */
export async function nextChainKey(chainKey) {
  return hkdf(chainKey, { salt: EMPTY, info: CHAIN_KEY, length: 32 });
}

/** What a key share carries: a session id, an index and the chain key at it. */
export class SessionKey {
  /**
   * @param {Uint8Array} sessionId 16 bytes
   * @param {number} index 0 .. 2**32 - 1
   * @param {Uint8Array} chainKey 32 bytes
   */
  constructor(sessionId, index, chainKey) {
    if (sessionId.length !== SESSION_ID_SIZE || chainKey.length !== CHAIN_KEY_SIZE) {
      throw new RangeError(`session key needs a ${SESSION_ID_SIZE}-byte id and a `
        + `${CHAIN_KEY_SIZE}-byte chain key, got ${sessionId.length} and ${chainKey.length}`);
    }
    this.sessionId = copy(sessionId);
    this.index = index;
    this.chainKey = copy(chainKey);
    Object.freeze(this);
  }

  /** @returns {Uint8Array} the 53-byte layout */
  toBytes() {
    return concat(Uint8Array.of(VERSION), this.sessionId, i2osp(this.index, 4), this.chainKey);
  }

  /**
   * @param {Uint8Array} raw
   * @returns {SessionKey} bad_envelope if ``raw`` is not one
   */
  static fromBytes(raw) {
    const reader = new Reader(raw, 'session key', ErrorCode.BAD_ENVELOPE);
    reader.version(VERSION);
    const sessionId = reader.take(SESSION_ID_SIZE);
    const index = reader.uint(4);
    const chainKey = reader.take(CHAIN_KEY_SIZE);
    reader.end();
    return new SessionKey(sessionId, index, chainKey);
  }

  /**
   * @param {SessionKey} other
   * @returns {boolean}
   */
  equals(other) {
    return equal(this.toBytes(), other.toBytes());
  }
}

/**
 * The session key at ``index`` from an earlier one (never backwards: RangeError).
 * @param {SessionKey} key
 * @param {number} index
 * @returns {Promise<SessionKey>}
 */
export async function ratchetTo(key, index) {
  if (index < key.index) {
    throw new RangeError(`cannot ratchet session key at ${key.index} back to ${index}`);
  }
  let chain = key.chainKey;
  for (let i = key.index; i < index; i++) chain = await nextChainKey(chain);
  return new SessionKey(key.sessionId, index, chain);
}

/** This device's sending chain in one channel; ``index`` is the next message's index. */
export class OutboundSession {
  #serial = new Serial();

  /**
   * @param {Uint8Array} sessionId
   * @param {number} index
   * @param {Uint8Array} chainKey
   * @param {number} createdAt ms
   */
  constructor(sessionId, index, chainKey, createdAt) {
    this.sessionId = copy(sessionId);
    this.index = index;
    this.chainKey = copy(chainKey);
    this.createdAt = createdAt;
  }

  /**
   * A fresh session at index 0 (fixed ids and keys are for test vectors only).
   * @param {number} nowMs
   * @param {{sessionId?: Uint8Array, chainKey?: Uint8Array}} [fixed]
   * @returns {OutboundSession}
   */
  static create(nowMs, { sessionId, chainKey } = {}) {
    const random = (/** @type {number} */ n) => crypto.getRandomValues(new Uint8Array(n));
    return new OutboundSession(sessionId ?? random(SESSION_ID_SIZE), 0,
      chainKey ?? random(CHAIN_KEY_SIZE), nowMs);
  }

  /**
   * The state to share now: it opens the next message and every later one. Queued
   * behind pending ``advance`` calls, so it never exports a key already used.
   * @returns {Promise<SessionKey>}
   */
  export() {
    return this.#serial.run(async () => new SessionKey(this.sessionId, this.index,
      this.chainKey));
  }

  /**
   * The index and keys for the next message; the chain moves past them at once.
   * @returns {Promise<{index: number, keys: MessageKeys}>}
   */
  advance() {
    return this.#serial.run(async () => {
      if (this.index >= MAX_INDEX) {
        throw new RangeError('sender session used all 2**32 indices; rotate it');
      }
      const index = this.index;
      const keys = await messageKeys(this.chainKey);
      this.chainKey = await nextChainKey(this.chainKey);
      this.index += 1;
      return { index, keys };
    });
  }
}

/** A session key received from a sender device: opens ``firstIndex`` onwards. */
export class InboundSession {
  /** @type {[number, Uint8Array] | null} */
  #cursor = null;
  #serial = new Serial();

  /**
   * @param {Uint8Array} sessionId
   * @param {number} firstIndex
   * @param {Uint8Array} firstChainKey
   * @param {Map<number, string>} [seen] index -> message id it opened as
   */
  constructor(sessionId, firstIndex, firstChainKey, seen = new Map()) {
    this.sessionId = copy(sessionId);
    this.firstIndex = firstIndex;
    this.firstChainKey = copy(firstChainKey);
    this.seen = seen;
  }

  /**
   * @param {SessionKey} key
   * @returns {InboundSession}
   */
  static fromKey(key) {
    return new InboundSession(key.sessionId, key.index, key.chainKey);
  }

  /** @returns {SessionKey} the earliest state held (what a key backup keeps) */
  export() {
    return new SessionKey(this.sessionId, this.firstIndex, this.firstChainKey);
  }

  /**
   * Adopt ``key`` if it reaches further back; true if it did.
   * @param {SessionKey} key
   * @returns {boolean}
   */
  merge(key) {
    if (!equal(key.sessionId, this.sessionId)) {
      throw new RangeError('cannot merge keys of different sessions');
    }
    if (key.index >= this.firstIndex) return false;
    this.firstIndex = key.index;
    this.firstChainKey = copy(key.chainKey);
    this.#cursor = null;
    return true;
  }

  /**
   * Run ``step`` alone on this session: opening a message reads the replay record,
   * awaits, then writes it, and two opens must not interleave there.
   * @template T
   * @param {() => Promise<T>} step
   * @returns {Promise<T>}
   */
  exclusive(step) {
    return this.#serial.run(step);
  }

  /**
   * The keys of ``index``: index_too_old before the first held, index_too_far past
   * MAX_SKIP steps.
   * @param {number} index
   * @returns {Promise<MessageKeys>}
   */
  async keysFor(index) {
    if (index < this.firstIndex) {
      throw new HearthError(ErrorCode.INDEX_TOO_OLD, `message index ${index} precedes index `
        + `${this.firstIndex}, the earliest this device was given`);
    }
    let [start, chain] = [this.firstIndex, this.firstChainKey];
    if (this.#cursor !== null && this.#cursor[0] <= index) [start, chain] = this.#cursor;
    if (index - start > MAX_SKIP) {
      throw new HearthError(ErrorCode.INDEX_TOO_FAR, `message index ${index} is `
        + `${index - start} steps past index ${start} (max ${MAX_SKIP})`);
    }
    for (let i = start; i < index; i++) chain = await nextChainKey(chain);
    this.#cursor = [index, chain];
    return messageKeys(chain);
  }

  /**
   * Refuse (replay) an index already opened under another message id.
   * @param {number} index
   * @param {string} messageId
   */
  checkReplay(index, messageId) {
    const earlier = this.seen.get(index);
    if (earlier !== undefined && earlier !== messageId) {
      throw new HearthError(ErrorCode.REPLAY, `index ${index} of session `
        + `${toHex(this.sessionId)} already opened message ${JSON.stringify(earlier)}; `
        + `refusing it again as ${JSON.stringify(messageId)}`);
    }
  }

  /**
   * @param {number} index
   * @param {string} messageId
   */
  markSeen(index, messageId) {
    this.seen.set(index, messageId);
  }
}
