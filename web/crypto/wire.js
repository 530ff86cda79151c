/**
 * Byte layouts of the end-to-end formats: length-prefixed ASCII fields and a strict
 * reader (the twin of hearth/crypto/wire.py).
 *
 * Invariants: ``fields(a, b, ...)`` is ``len(a) (1 byte) || a || len(b) || b || ...``
 * with each text ASCII and at most 255 bytes, so two different tuples never encode to
 * the same bytes. ``Reader`` refuses a short read and leftover bytes with
 * HearthError(code) naming the format and offset: a parser either consumes its input
 * exactly or fails.
 *
 * One difference from Python, forced by JS numbers: an integer field above 2**53 - 1
 * (only 8-byte millisecond timestamps can hold one) is refused with the format's code
 * instead of being read as an inexact number; no honest writer produces one.
 * @module
 */

import { concat } from './bytes.js';
import { HearthError } from './errors.js';

/**
 * Each text as 1 length byte then its ASCII bytes (host ids, space/channel/message ids).
 * @param {...string} texts
 * @returns {Uint8Array}
 */
export function fields(...texts) {
  const parts = [];
  for (const text of texts) {
    if (typeof text !== 'string' || !/^[\x00-\x7f]*$/.test(text)) {
      throw new TypeError(`field ${JSON.stringify(String(text).slice(0, 64))} is not ASCII`);
    }
    if (text.length > 255) {
      throw new RangeError(`field ${JSON.stringify(text.slice(0, 64))}... is ${text.length} `
        + 'bytes, max 255');
    }
    parts.push(Uint8Array.of(text.length), Uint8Array.from(text, (c) => c.charCodeAt(0)));
  }
  return concat(...parts);
}

/** Reads a fixed binary layout front to back; any misfit is HearthError(code). */
export class Reader {
  /**
   * @param {Uint8Array} data
   * @param {string} what the format's name, for messages ("envelope", "key share", ...)
   * @param {string} code the ErrorCode every misfit carries
   */
  constructor(data, what, code) {
    this.data = data;
    this.what = what;
    this.code = code;
    this.pos = 0;
  }

  /**
   * @param {string} message
   * @returns {HearthError} (to throw)
   */
  fail(message) {
    return new HearthError(this.code, `${this.what}: ${message}`);
  }

  /**
   * The next ``size`` bytes (a copy, so later changes to the input cannot reach it).
   * @param {number} size
   * @returns {Uint8Array}
   */
  take(size) {
    if (this.pos + size > this.data.length) {
      throw this.fail(`needs ${size} bytes at offset ${this.pos}, only `
        + `${this.data.length - this.pos} left`);
    }
    const chunk = this.data.slice(this.pos, this.pos + size);
    this.pos += size;
    return chunk;
  }

  /**
   * A big-endian unsigned integer of ``size`` bytes.
   * @param {number} size
   * @returns {number}
   */
  uint(size) {
    const at = this.pos;
    let value = 0n;
    for (const byte of this.take(size)) value = (value << 8n) | BigInt(byte);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.fail(`integer ${value} at offset ${at} exceeds 2**53 - 1`);
    }
    return Number(value);
  }

  /** @param {number} expected */
  version(expected) {
    const got = this.uint(1);
    if (got !== expected) throw this.fail(`version ${got} is not ${expected}`);
  }

  /**
   * A length-prefixed ASCII field, as ``fields`` writes it.
   * @returns {string}
   */
  text() {
    const raw = this.take(this.uint(1));
    if (raw.some((b) => b > 0x7f)) {
      throw this.fail(`field ${JSON.stringify(String.fromCharCode(...raw.slice(0, 64)))} `
        + 'is not ASCII');
    }
    return String.fromCharCode(...raw);
  }

  /**
   * Everything left except the last ``keep`` bytes.
   * @param {number} [keep]
   * @returns {Uint8Array}
   */
  rest(keep = 0) {
    const size = this.data.length - this.pos - keep;
    if (size < 0) throw this.fail(`needs ${keep} more bytes at offset ${this.pos}`);
    return this.take(size);
  }

  end() {
    if (this.pos !== this.data.length) {
      throw this.fail(`${this.data.length - this.pos} unexpected bytes at offset ${this.pos}`);
    }
  }
}

