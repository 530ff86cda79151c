/**
 * RFC 4648 base32 without padding, as Python's base64.b32encode / b32decode read it
 * (for recovery key texts; recovery.js).
 *
 * ``encode`` writes lowercase and no padding. ``decode`` takes the uppercase alphabet
 * only (callers upper-case first) and, like b32decode, ignores the spare low bits of the
 * last character, so it accepts exactly what Python accepts.
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * @param {Uint8Array} data
 * @returns {string} lowercase, unpadded
 */
export function encode(data) {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of data) {
    acc = ((acc << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out.toLowerCase();
}

/**
 * The bytes of unpadded uppercase base32 text, or null if a character is not in the
 * alphabet or the length is one no byte string encodes to (1, 3 or 6 mod 8).
 * @param {string} text
 * @returns {Uint8Array | null}
 */
export function decode(text) {
  if ([1, 3, 6].includes(text.length % 8)) return null;
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (const c of text) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) return null;
    acc = ((acc << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}
