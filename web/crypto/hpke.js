/**
 * RFC 9180 HPKE, modes base (0x00) and auth (0x02), one suite only, over WebCrypto:
 * DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM (0x0020 / 0x0001 / 0x0002).
 * The twin of hearth/crypto/hpke.py; both pass the RFC's vectors and the shared ones.
 *
 * Invariants:
 * - ``enc`` is the 32-byte ephemeral public key; each ciphertext is plaintext + 16 bytes.
 * - The i-th seal/open of a context uses base_nonce XOR I2OSP(i, 12). Calls on one
 *   context run one at a time, in call order (a promise queue), so concurrent seals can
 *   never share a nonce; at most 2**96 - 1 messages, then RangeError.
 * - A failed open throws HearthError decrypt_failed and does not advance the sequence.
 * - A small-order key throws low_order_key; a key of the wrong length bad_key.
 * - The AEAD key and exporter secret live in non-extractable CryptoKeys; they pass
 *   through memory as bytes once, because HKDF-Expand (over HMAC) returns bytes.
 * - ``ephemeral`` options exist for deterministic test vectors only.
 * @module
 */

import { concat, copy, i2osp, utf8 } from './bytes.js';
import { importAeadKey, open as aeadOpen, seal as aeadSeal } from './aead.js';
import { expand, extract } from './hkdf.js';
import { importHmacKey } from './hmac.js';
import * as x25519 from './x25519.js';

export const KEM_ID = 0x0020;
export const KDF_ID = 0x0001;
export const AEAD_ID = 0x0002;
export const MODE_BASE = 0x00;
export const MODE_AUTH = 0x02;
export const N_SECRET = 32;
export const N_SK = 32;
export const N_K = 32;
export const N_N = 12;
export const N_H = 32;
export const MAX_EXPORT = 255 * N_H;

export const KEM_SUITE_ID = concat(utf8('KEM'), i2osp(KEM_ID, 2));
export const HPKE_SUITE_ID = concat(utf8('HPKE'), i2osp(KEM_ID, 2), i2osp(KDF_ID, 2),
  i2osp(AEAD_ID, 2));
const VERSION = utf8('HPKE-v1');
const SEQ_LIMIT = (1n << BigInt(8 * N_N)) - 1n;
const EMPTY = new Uint8Array(0);

/**
 * @typedef {import('./x25519.js').X25519KeyPair} X25519KeyPair
 */

/**
 * LabeledExtract (RFC 9180 section 4).
 * @param {Uint8Array} suiteId
 * @param {Uint8Array} salt
 * @param {string} label
 * @param {Uint8Array} ikm
 * @returns {Promise<Uint8Array>}
 */
export async function labeledExtract(suiteId, salt, label, ikm) {
  return extract(salt, concat(VERSION, suiteId, utf8(label), ikm));
}

/**
 * LabeledExpand (RFC 9180 section 4); ``length`` is at most 255 * 32.
 * @param {Uint8Array} suiteId
 * @param {Uint8Array | CryptoKey} prk
 * @param {string} label
 * @param {Uint8Array} info
 * @param {number} length
 * @returns {Promise<Uint8Array>}
 */
export async function labeledExpand(suiteId, prk, label, info, length) {
  if (!Number.isInteger(length) || length < 1 || length > MAX_EXPORT) {
    throw new RangeError(`HPKE expand length must be 1..${MAX_EXPORT}, got ${length}`);
  }
  const labeledInfo = concat(i2osp(length, 2), VERSION, suiteId, utf8(label), info);
  return expand(prk, labeledInfo, length);
}

// --- DHKEM(X25519, HKDF-SHA256), RFC 9180 section 4.1 ---------------------------------

/**
 * A fresh random HPKE key pair.
 * @returns {Promise<X25519KeyPair>}
 */
export async function generateKeyPair() {
  return x25519.generateKeyPair();
}

/**
 * The raw private scalar DeriveKeyPair(ikm) yields (RFC 9180 section 7.1.3). Exposed
 * so tests can compare it with the vectors' skXm; production uses deriveKeyPair.
 * @param {Uint8Array} ikm at least 32 bytes
 * @returns {Promise<Uint8Array>}
 */
export async function deriveScalar(ikm) {
  if (ikm.length < N_SK) {
    throw new RangeError(`DeriveKeyPair needs at least ${N_SK} bytes of ikm, got ${ikm.length}`);
  }
  const dkpPrk = await labeledExtract(KEM_SUITE_ID, EMPTY, 'dkp_prk', ikm);
  return labeledExpand(KEM_SUITE_ID, dkpPrk, 'sk', EMPTY, N_SK);
}

/**
 * DeriveKeyPair(ikm) for X25519; the private key is non-extractable.
 * @param {Uint8Array} ikm at least 32 bytes
 * @returns {Promise<X25519KeyPair>}
 */
export async function deriveKeyPair(ikm) {
  const privateKey = await x25519.importPrivateKey(await deriveScalar(ikm));
  return { privateKey, publicKey: await x25519.publicKeyOf(privateKey) };
}

/**
 * @param {Uint8Array} dh
 * @param {Uint8Array} kemContext
 * @returns {Promise<Uint8Array>}
 */
async function extractAndExpand(dh, kemContext) {
  const eaePrk = await labeledExtract(KEM_SUITE_ID, EMPTY, 'eae_prk', dh);
  return labeledExpand(KEM_SUITE_ID, eaePrk, 'shared_secret', kemContext, N_SECRET);
}

/**
 * Encap(pkR).
 * @param {Uint8Array} pkR
 * @param {{ephemeral?: X25519KeyPair}} [options]
 * @returns {Promise<{sharedSecret: Uint8Array, enc: Uint8Array}>}
 */
export async function encap(pkR, { ephemeral } = {}) {
  const e = ephemeral ?? await generateKeyPair();
  const dh = await x25519.sharedSecret(e.privateKey, pkR);
  const enc = copy(e.publicKey);
  return { sharedSecret: await extractAndExpand(dh, concat(enc, pkR)), enc };
}

/**
 * Decap(enc, skR).
 * @param {Uint8Array} enc
 * @param {CryptoKey} skR
 * @returns {Promise<Uint8Array>}
 */
export async function decap(enc, skR) {
  const dh = await x25519.sharedSecret(skR, enc);
  return extractAndExpand(dh, concat(enc, await x25519.publicKeyOf(skR)));
}

/**
 * AuthEncap(pkR, skS).
 * @param {Uint8Array} pkR
 * @param {CryptoKey} skS
 * @param {{ephemeral?: X25519KeyPair}} [options]
 * @returns {Promise<{sharedSecret: Uint8Array, enc: Uint8Array}>}
 */
export async function authEncap(pkR, skS, { ephemeral } = {}) {
  const e = ephemeral ?? await generateKeyPair();
  const dh = concat(await x25519.sharedSecret(e.privateKey, pkR),
    await x25519.sharedSecret(skS, pkR));
  const enc = copy(e.publicKey);
  const kemContext = concat(enc, pkR, await x25519.publicKeyOf(skS));
  return { sharedSecret: await extractAndExpand(dh, kemContext), enc };
}

/**
 * AuthDecap(enc, skR, pkS).
 * @param {Uint8Array} enc
 * @param {CryptoKey} skR
 * @param {Uint8Array} pkS
 * @returns {Promise<Uint8Array>}
 */
export async function authDecap(enc, skR, pkS) {
  const dh = concat(await x25519.sharedSecret(skR, enc), await x25519.sharedSecret(skR, pkS));
  const kemContext = concat(enc, await x25519.publicKeyOf(skR), pkS);
  return extractAndExpand(dh, kemContext);
}

// --- Key schedule and contexts, RFC 9180 sections 5.1-5.3 ----------------------------

/**
 * @typedef {{key: Uint8Array, baseNonce: Uint8Array, exporterSecret: Uint8Array}} ScheduledKeys
 */

/**
 * KeySchedule(mode, shared_secret, info, psk="", psk_id="") for modes base and auth.
 * Returns bytes (for vector checks); contexts import them as CryptoKeys at once.
 * @param {number} mode
 * @param {Uint8Array} sharedSecret
 * @param {Uint8Array} info
 * @returns {Promise<ScheduledKeys>}
 */
export async function keySchedule(mode, sharedSecret, info) {
  if (mode !== MODE_BASE && mode !== MODE_AUTH) {
    throw new RangeError(`only HPKE modes base (0) and auth (2) are supported, got ${mode}`);
  }
  const pskIdHash = await labeledExtract(HPKE_SUITE_ID, EMPTY, 'psk_id_hash', EMPTY);
  const infoHash = await labeledExtract(HPKE_SUITE_ID, EMPTY, 'info_hash', info);
  const context = concat(Uint8Array.of(mode), pskIdHash, infoHash);
  const secret = await labeledExtract(HPKE_SUITE_ID, sharedSecret, 'secret', EMPTY);
  return {
    key: await labeledExpand(HPKE_SUITE_ID, secret, 'key', context, N_K),
    baseNonce: await labeledExpand(HPKE_SUITE_ID, secret, 'base_nonce', context, N_N),
    exporterSecret: await labeledExpand(HPKE_SUITE_ID, secret, 'exp', context, N_H),
  };
}

/**
 * Import scheduled keys: the AEAD key and exporter secret as non-extractable CryptoKeys.
 * @param {ScheduledKeys} keys
 * @returns {Promise<[CryptoKey, CryptoKey, Uint8Array]>}
 */
async function importScheduled(keys) {
  return [await importAeadKey(keys.key), await importHmacKey(keys.exporterSecret),
    copy(keys.baseNonce)];
}

class Context {
  /** @type {CryptoKey} */ #key;
  /** @type {CryptoKey} */ #exporterKey;
  /** @type {Uint8Array} */ #baseNonce;
  /** @type {bigint} */ #seq = 0n;
  /** @type {Promise<unknown>} */ #queue = Promise.resolve();

  /**
   * @param {CryptoKey} key
   * @param {CryptoKey} exporterKey
   * @param {Uint8Array} baseNonce
   */
  constructor(key, exporterKey, baseNonce) {
    this.#key = key;
    this.#exporterKey = exporterKey;
    this.#baseNonce = baseNonce;
  }

  /** How many messages this context has sealed or opened. */
  get seq() {
    return this.#seq;
  }

  /**
   * Run ``step(key, nonce)`` after every earlier call; advance the sequence if it succeeds.
   * @template T
   * @param {(key: CryptoKey, nonce: Uint8Array) => Promise<T>} step
   * @returns {Promise<T>}
   */
  _next(step) {
    const run = this.#queue.then(async () => {
      if (this.#seq >= SEQ_LIMIT) {
        throw new RangeError('HPKE context has used all 2**96 - 1 sequence numbers');
      }
      const seq = i2osp(this.#seq, N_N);
      const nonce = this.#baseNonce.map((b, i) => b ^ seq[i]);
      const result = await step(this.#key, nonce);
      this.#seq += 1n;
      return result;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Context.Export: ``length`` bytes bound to this context and ``exporterContext``.
   * @param {Uint8Array} exporterContext
   * @param {number} length
   * @returns {Promise<Uint8Array>}
   */
  async export(exporterContext, length) {
    return labeledExpand(HPKE_SUITE_ID, this.#exporterKey, 'sec', exporterContext, length);
  }
}

/** The sender's side of an HPKE context: seal only. */
export class SenderContext extends Context {
  /**
   * Seal the next message: AES-256-GCM ciphertext || tag.
   * @param {Uint8Array} aad
   * @param {Uint8Array} plaintext
   * @returns {Promise<Uint8Array>}
   */
  seal(aad, plaintext) {
    const a = copy(aad);
    const p = copy(plaintext);
    return this._next((key, nonce) => aeadSeal(key, nonce, p, a));
  }
}

/** The recipient's side of an HPKE context: open only. */
export class RecipientContext extends Context {
  /**
   * Open the next message; decrypt_failed leaves the sequence number as it was.
   * @param {Uint8Array} aad
   * @param {Uint8Array} ciphertext
   * @returns {Promise<Uint8Array>}
   */
  open(aad, ciphertext) {
    const a = copy(aad);
    const c = copy(ciphertext);
    return this._next((key, nonce) => aeadOpen(key, nonce, c, a));
  }
}

/**
 * SetupBaseS(pkR, info).
 * @param {Uint8Array} pkR
 * @param {Uint8Array} info
 * @param {{ephemeral?: X25519KeyPair}} [options]
 * @returns {Promise<{enc: Uint8Array, context: SenderContext}>}
 */
export async function setupBaseS(pkR, info, options = {}) {
  const { sharedSecret, enc } = await encap(pkR, options);
  const context = new SenderContext(...await importScheduled(
    await keySchedule(MODE_BASE, sharedSecret, info)));
  return { enc, context };
}

/**
 * SetupBaseR(enc, skR, info).
 * @param {Uint8Array} enc
 * @param {CryptoKey} skR
 * @param {Uint8Array} info
 * @returns {Promise<RecipientContext>}
 */
export async function setupBaseR(enc, skR, info) {
  const keys = await keySchedule(MODE_BASE, await decap(enc, skR), info);
  return new RecipientContext(...await importScheduled(keys));
}

/**
 * SetupAuthS(pkR, info, skS).
 * @param {Uint8Array} pkR
 * @param {Uint8Array} info
 * @param {CryptoKey} skS
 * @param {{ephemeral?: X25519KeyPair}} [options]
 * @returns {Promise<{enc: Uint8Array, context: SenderContext}>}
 */
export async function setupAuthS(pkR, info, skS, options = {}) {
  const { sharedSecret, enc } = await authEncap(pkR, skS, options);
  const context = new SenderContext(...await importScheduled(
    await keySchedule(MODE_AUTH, sharedSecret, info)));
  return { enc, context };
}

/**
 * SetupAuthR(enc, skR, info, pkS).
 * @param {Uint8Array} enc
 * @param {CryptoKey} skR
 * @param {Uint8Array} info
 * @param {Uint8Array} pkS
 * @returns {Promise<RecipientContext>}
 */
export async function setupAuthR(enc, skR, info, pkS) {
  const secret = await authDecap(enc, skR, pkS);
  const keys = await keySchedule(MODE_AUTH, secret, info);
  return new RecipientContext(...await importScheduled(keys));
}

/**
 * Single-shot SealBase.
 * @param {Uint8Array} pkR
 * @param {Uint8Array} info
 * @param {Uint8Array} aad
 * @param {Uint8Array} plaintext
 * @param {{ephemeral?: X25519KeyPair}} [options]
 * @returns {Promise<{enc: Uint8Array, ciphertext: Uint8Array}>}
 */
export async function sealBase(pkR, info, aad, plaintext, options = {}) {
  const { enc, context } = await setupBaseS(pkR, info, options);
  return { enc, ciphertext: await context.seal(aad, plaintext) };
}

/**
 * Single-shot OpenBase.
 * @param {Uint8Array} enc
 * @param {CryptoKey} skR
 * @param {Uint8Array} info
 * @param {Uint8Array} aad
 * @param {Uint8Array} ciphertext
 * @returns {Promise<Uint8Array>}
 */
export async function openBase(enc, skR, info, aad, ciphertext) {
  return (await setupBaseR(enc, skR, info)).open(aad, ciphertext);
}

/**
 * Single-shot SealAuth.
 * @param {Uint8Array} pkR
 * @param {Uint8Array} info
 * @param {Uint8Array} aad
 * @param {Uint8Array} plaintext
 * @param {CryptoKey} skS
 * @param {{ephemeral?: X25519KeyPair}} [options]
 * @returns {Promise<{enc: Uint8Array, ciphertext: Uint8Array}>}
 */
export async function sealAuth(pkR, info, aad, plaintext, skS, options = {}) {
  const { enc, context } = await setupAuthS(pkR, info, skS, options);
  return { enc, ciphertext: await context.seal(aad, plaintext) };
}

/**
 * Single-shot OpenAuth.
 * @param {Uint8Array} enc
 * @param {CryptoKey} skR
 * @param {Uint8Array} info
 * @param {Uint8Array} aad
 * @param {Uint8Array} ciphertext
 * @param {Uint8Array} pkS
 * @returns {Promise<Uint8Array>}
 */
export async function openAuth(enc, skR, info, aad, ciphertext, pkS) {
  return (await setupAuthR(enc, skR, info, pkS)).open(aad, ciphertext);
}
