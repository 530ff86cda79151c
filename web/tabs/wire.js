/**
 * What tabs of one browser profile say to each other over a BroadcastChannel
 * (see web/README.md, "Several tabs"). The owner tab is the one holding the device's Web
 * Lock (identity/tab_lock.js); every other tab is a follower working through it.
 *
 * Follower to owner:
 *   ``{t: 'hello', from}``                       who is serving? (answered by ``owner``)
 *   ``{t: 'req', id, from, target, host, method, args}``  do this and answer
 *   ``{t: 'note', from, what, value}``            fire and forget (visibility, bye)
 * Owner to followers:
 *   ``{t: 'owner', owner, hosts}``               this tab serves now (after each hello)
 *   ``{t: 'res', to, id, ok, value | error}``     the answer to one request
 *   ``{t: 'ev', host, source, name, detail}``     something happened (spaces, a message…)
 *
 * Everything crossing is structured-clone data: plain objects, strings, bytes. Errors
 * cross as their wire code (so a follower reacts to ``host_offline`` as the owner would)
 * and as the plain words the owner would have shown.
 * @module
 */

import { humanMessage, RequestError, UserError } from '../protocol/errors.js';

export const CHANNEL = 'hearth-tabs';

/** @typedef {{code?: string, detail?: string, words: string}} WireError */

/**
 * @param {unknown} e
 * @returns {WireError}
 */
export function errorToWire(e) {
  if (e instanceof RequestError) return { code: e.code, detail: e.detail, words: humanMessage(e) };
  return { words: humanMessage(e) };
}

/**
 * The error as the follower's code expects it: a RequestError where there is a wire
 * code (its sentence is the owner's, both come from humanMessage), else the owner's words.
 * @param {WireError} w
 * @returns {Error}
 */
export function errorFromWire(w) {
  return w.code ? new RequestError(w.code, w.detail ?? '') : new UserError(w.words);
}

/** @returns {string} an id for this tab, new on every page load */
export function newTabId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
}
