/**
 * Refusals from a relay or host, and what to tell a person about each. The user never
 * sees a raw wire code or stack: every code has a sentence, and anything unforeseen
 * gets a generic one (the detail goes to the console for whoever debugs).
 * @module
 */

/** A refusal from the relay or a host, carrying its wire code. */
export class RequestError extends Error {
  /**
   * @param {string} code wire code (docs/protocol.md section 10) or a local one
   * @param {string} detail the technical message, for the console
   */
  constructor(code, detail) {
    super(`${code}: ${detail}`);
    this.name = 'RequestError';
    this.code = code;
    this.detail = detail;
  }
}

/** An error whose message is already written for a person: shown as it is. */
export class UserError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'UserError';
  }
}

/** @type {Record<string, string>} */
const SENTENCES = {
  host_offline: 'The host is offline right now. Hearth will keep trying; you can also try again in a moment.',
  connection_lost: 'The connection dropped before the host answered. Try again once Hearth has reconnected.',
  timeout: 'The host did not answer in time. Try again in a moment.',
  rate_limited: 'You are doing that too quickly. Wait a few seconds and try again.',
  too_large: 'That is too large to send.',
  not_member: 'You are no longer a member of that space.',
  forbidden: 'Your role does not allow that.',
  not_found: 'That no longer exists. It may have been deleted.',
  conflict: 'That already exists or clashes with something else. Try another name.',
  invite_invalid: 'This invite is not valid on this host. Ask for a new link.',
  invite_expired: 'This invite has expired. Ask for a new link.',
  invite_used_up: 'This invite has already been used as many times as allowed. Ask for a new link.',
  invite_revoked: 'This invite was withdrawn by the person who made it. Ask for a new link.',
  device_revoked: 'This device was signed out of your account from another device.',
  unknown_device: 'The host does not know this device yet. Reconnecting should fix it.',
  stale_request: 'Your device clock is more than two minutes off. Correct the time and try again.',
  bad_request: 'The host could not understand that request. Check what you typed and try again.',
  auth_failed: 'The relay did not accept this device\'s keys.',
  bad_token: 'The relay refused a permission from the host. Hearth will fetch a new one.',
  token_expired: 'A permission from the host expired. Hearth will fetch a new one.',
  token_revoked: 'The host withdrew your access to that space.',
  mailbox_full: 'That device has too many undelivered messages waiting.',
};

/**
 * A sentence for a person about ``error``, whatever it is.
 * @param {unknown} error
 * @returns {string}
 */
export function humanMessage(error) {
  if (error instanceof RequestError && SENTENCES[error.code]) return SENTENCES[error.code];
  if (error instanceof Error && error.name === 'E2EUnavailableError') return error.message;
  if (error instanceof UserError) return error.message;
  if (error instanceof Error && error.name === 'E2EError') {
    const text = /** @type {any} */ (error).reason.text;
    return `${text[0].toUpperCase()}${text.slice(1)}.`;
  }
  console.warn('hearth: unexpected error', error);
  return 'Something went wrong on our side. Try again; if it keeps happening, reload the page.';
}
