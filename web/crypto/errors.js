/**
 * The errors web/crypto raises: the same codes as hearth/errors.py (ErrorCode), so a
 * refusal reads the same in both implementations and in the shared vectors.
 *
 * Invariant: input that came from a peer (ciphertext, public key, signature, base64url
 * text) fails with a HearthError and one of these codes; a caller's own mistake (a
 * 31-byte AEAD key, an HKDF output longer than 8160 bytes) is a TypeError or RangeError.
 * @module
 */

export const ErrorCode = Object.freeze({
  BAD_FRAME: 'bad_frame',
  BAD_SIGNATURE: 'bad_signature',
  DECRYPT_FAILED: 'decrypt_failed',
  BAD_KEY: 'bad_key',
  LOW_ORDER_KEY: 'low_order_key',
  // End-to-end protocol refusals (wire.js and the formats built on it); REPLAY is the
  // same string as the host's request-replay code, as in hearth/errors.py.
  BAD_ENVELOPE: 'bad_envelope',
  INDEX_TOO_OLD: 'index_too_old',
  INDEX_TOO_FAR: 'index_too_far',
  REPLAY: 'replay',
  WRONG_RECIPIENT: 'wrong_recipient',
  UNKNOWN_PREKEY: 'unknown_prekey',
  WRONG_SECRET: 'wrong_secret',
  LINK_MISMATCH: 'link_mismatch',
  // Rich-messaging content refusals (web/chat/content.js; hearth/content.py).
  BAD_CONTENT: 'bad_content',
  NOT_AUTHOR: 'not_author',
});

/** A refusal with a wire code (one of ErrorCode) and a human-readable message. */
export class HearthError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = 'HearthError';
    /** @type {string} */
    this.code = code;
  }
}
