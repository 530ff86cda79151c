/**
 * Why a message cannot be shown, in plain words: never an unexplained "unable to
 * decrypt"; the twin of hearth/e2e/reasons.py (the sentences are the same, word for word).
 *
 * Invariant: every failure the E2E layer reports is one of these reasons, with the exact
 * sentence a user sees; ``retry`` says whether the client asks again by itself.
 * @module
 */

import { ErrorCode, HearthError } from '../crypto/errors.js';

/** @typedef {{name: string, text: string, retry: boolean}} Reason */

/** @type {Readonly<Record<string, Reason>>} */
export const Reason = Object.freeze({
  BEFORE_JOIN: { name: 'before_join', text: 'sent before you joined', retry: false },
  BEFORE_DEVICE: { name: 'before_device', text: 'sent before this device was added — restore your key backup', retry: false },
  NOT_SHARED_YET: { name: 'not_shared_yet', text: 'the sender\'s device has not shared its key yet — retrying', retry: true },
  DEVICE_REMOVED: { name: 'device_removed', text: 'this device was removed', retry: false },
  SENDER_DEVICE_REMOVED: { name: 'sender_device_removed', text: 'sent from a device that had been removed', retry: false },
  SENDER_REMOVED: { name: 'sender_removed', text: 'sent after the sender was removed from the space', retry: false },
  UNCERTIFIED_DEVICE: { name: 'uncertified_device', text: 'sent from a device the sender\'s account never approved — the host may be tampering', retry: false },
  TAMPERED: { name: 'tampered', text: 'the message was altered, or is not from its sender', retry: false },
  REPLAY: { name: 'replay', text: 'a repeat of an earlier message, ignored', retry: false },
  BAD_KEY_SHARED: { name: 'bad_key_shared', text: 'the sender\'s device shared a key that does not open it', retry: false },
  // Content (section 13.1): opened fine, but not something this client may show or apply.
  BAD_CONTENT: { name: 'bad_content', text: 'the message is not in a form Hearth can show', retry: false },
  NOT_AUTHOR: { name: 'not_author', text: 'an edit by someone other than the author, ignored', retry: false },
});

/** A message (or key) this device cannot use, with its reason and the detail. */
export class E2EError extends Error {
  /**
   * @param {Reason} reason
   * @param {string} detail technical, for the console and tests
   */
  constructor(reason, detail) {
    super(`${reason.text} (${detail})`);
    this.name = 'E2EError';
    this.reason = reason;
    this.detail = detail;
  }
}

/** @type {Record<string, Reason>} */
const BY_CODE = {
  [ErrorCode.BAD_SIGNATURE]: Reason.TAMPERED,
  [ErrorCode.BAD_ENVELOPE]: Reason.TAMPERED,
  [ErrorCode.REPLAY]: Reason.REPLAY,
  [ErrorCode.INDEX_TOO_OLD]: Reason.BEFORE_JOIN,
  [ErrorCode.INDEX_TOO_FAR]: Reason.TAMPERED,
  [ErrorCode.DECRYPT_FAILED]: Reason.BAD_KEY_SHARED,
  [ErrorCode.BAD_CONTENT]: Reason.BAD_CONTENT,
  [ErrorCode.NOT_AUTHOR]: Reason.NOT_AUTHOR,
};

/**
 * The plain-words form of a crypto refusal; anything that is not one is rethrown.
 * @param {unknown} error
 * @returns {E2EError}
 */
export function reasonFor(error) {
  if (!(error instanceof HearthError)) throw error;
  return new E2EError(BY_CODE[error.code] ?? Reason.TAMPERED, error.message);
}
