/**
 * Byte helpers: canonical unpadded base64url (exactly hearth/b64.py), hex, UTF-8,
 * concatenation, big-endian integers and a comparison that does not stop early.
 * @module
 */

import { ErrorCode, HearthError } from './errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** @type {Map<string, number>} */
const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));

/**
 * Encode bytes as unpadded base64url.
 * @param {Uint8Array} data
 * @returns {string}
 */
export function b64e(data) {
  let out = '';
  let i = 0;
  for (; i + 3 <= data.length; i += 3) {
    const n = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  const rest = data.length - i;
  if (rest === 1) {
    const n = data[i] << 16;
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (data[i] << 16) | (data[i + 1] << 8);
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63];
  }
  return out;
}

/**
 * Decode unpadded base64url, refusing padding, '+', '/', stray characters, impossible
 * lengths, non-zero spare bits (every value has exactly one spelling) and wrong sizes.
 * @param {string} text
 * @param {{field?: string, size?: number}} [options]
 * @returns {Uint8Array}
 * @throws {HearthError} code bad_frame
 */
export function b64d(text, { field = 'value', size } = {}) {
  const shown = JSON.stringify(String(text).slice(0, 64));
  if (typeof text !== 'string' || text.length % 4 === 1) {
    throw new HearthError(ErrorCode.BAD_FRAME, `${field}: ${shown} is not unpadded base64url`);
  }
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let j = 0;
  for (const c of text) {
    const v = VALUE.get(c);
    if (v === undefined) {
      throw new HearthError(ErrorCode.BAD_FRAME, `${field}: ${shown} is not unpadded base64url`);
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  if (acc !== 0) {
    throw new HearthError(
      ErrorCode.BAD_FRAME, `${field}: ${shown} is not canonical unpadded base64url`);
  }
  if (size !== undefined && out.length !== size) {
    throw new HearthError(ErrorCode.BAD_FRAME, `${field}: expected ${size} bytes, got ${out.length}`);
  }
  return out;
}

/**
 * @param {string} hex lowercase or uppercase, even length
 * @returns {Uint8Array}
 */
export function fromHex(hex) {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError(`not hex: ${JSON.stringify(hex.slice(0, 64))}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * @param {Uint8Array} data
 * @returns {string} lowercase hex
 */
export function toHex(data) {
  return Array.from(data, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * @param {string} text
 * @returns {Uint8Array} its UTF-8 encoding
 */
export function utf8(text) {
  return new TextEncoder().encode(text);
}

/**
 * @param {Uint8Array} data
 * @returns {string} the text, refusing invalid UTF-8 (TypeError)
 */
export function fromUtf8(data) {
  return new TextDecoder('utf-8', { fatal: true }).decode(data);
}

/**
 * @param {...Uint8Array} parts
 * @returns {Uint8Array} a new array holding every part in order
 */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Compare without stopping at the first difference (lengths are not secret).
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {boolean}
 */
export function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * I2OSP: ``n`` as ``length`` big-endian bytes (RFC 8017); RangeError if it does not fit.
 * @param {number | bigint} n
 * @param {number} length
 * @returns {Uint8Array}
 */
export function i2osp(n, length) {
  let v = BigInt(n);
  if (v < 0n || v >= 1n << BigInt(8 * length)) {
    throw new RangeError(`${n} does not fit in ${length} bytes`);
  }
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * A copy of ``data`` that later changes by the caller cannot reach.
 * @param {Uint8Array} data
 * @returns {Uint8Array}
 */
export function copy(data) {
  if (!(data instanceof Uint8Array)) throw new TypeError('expected a Uint8Array');
  return new Uint8Array(data);
}
