/**
 * Sending one's own messages: shown at once, then marked stored when the host answers
 * with its sequence number, or marked failed with a retry.
 *
 * Each message gets a client-chosen id (16 random bytes) and is encrypted once; a retry
 * resends the same id with the same envelope, which the host recognises
 * (docs/protocol.md section 9: ``dup: true``), so a retry after a lost answer never
 * posts twice. A message that failed only because the relay or host was unreachable is
 * retried by itself when the session resumes (``resumed``), so a restart loses nothing.
 *
 * What is sent is content (chat/content.js, docs/protocol.md section 13.1): a text, or an
 * edit or reaction published with ``re`` naming its target, so the host drops it with
 * that message. Content is checked before it is encrypted: nothing a peer would refuse
 * leaves this device.
 * @module
 */

import { b64e } from '../crypto/bytes.js';
import { encode, targetOf } from './content.js';
import { humanMessage, RequestError } from '../protocol/errors.js';

/** Refusals that say nothing about the message itself: worth sending again unasked. */
const TRANSIENT = new Set(['host_offline', 'connection_lost', 'timeout']);

/**
 * @typedef {object} Outgoing
 * @property {string} id
 * @property {string} text what the pending row shows (the body; empty for a reaction)
 * @property {import('./content.js').Content} content
 * @property {string | null} re the message it annotates (an edit or a reaction), or null
 * @property {'sending' | 'stored' | 'failed'} state
 * @property {number} [seq]
 * @property {number} ts
 * @property {string} [env] base64url, once encrypted
 * @property {string} [sess] the envelope's session id, base64url
 * @property {string} [error] plain-words reason, when failed
 * @property {boolean} [transient] it failed only because the host was unreachable
 */

export class Outbox extends EventTarget {
  /** @type {Map<string, Outgoing>} */ items = new Map();

  /**
   * @param {import('./host_session.js').HostSession} session
   * @param {import('../e2e/secure.js').SecureClient} secure
   * @param {string} space
   * @param {string} chan
   */
  constructor(session, secure, space, chan) {
    super();
    this.session = session;
    this.secure = secure;
    this.space = space;
    this.chan = chan;
    this.onResumed = () => {
      for (const item of this.items.values()) {
        if (item.state === 'failed' && item.transient) void this.retry(item.id);
      }
    };
    session.addEventListener('resumed', this.onResumed);
  }

  /** Stop listening to the session (the view closed). */
  destroy() {
    this.session.removeEventListener('resumed', this.onResumed);
  }

  /** @param {Outgoing} item */
  #changed(item) {
    this.dispatchEvent(new CustomEvent('change', { detail: item }));
  }

  /**
   * Send ``content`` (checked first: a refusal throws before anything is queued).
   * @param {import('./content.js').Content} content
   * @returns {Promise<Outgoing>}
   */
  send(content) {
    encode(content);
    const item = /** @type {Outgoing} */ ({
      id: b64e(crypto.getRandomValues(new Uint8Array(16))), content, re: targetOf(content),
      text: content.t === 'react' ? '' : content.body, state: 'sending', ts: Date.now(),
    });
    this.items.set(item.id, item);
    this.#changed(item);
    return this.#attempt(item);
  }

  /**
   * @param {string} id
   * @returns {Promise<Outgoing | undefined>}
   */
  retry(id) {
    const item = this.items.get(id);
    if (!item || item.state !== 'failed') return Promise.resolve(item);
    item.state = 'sending';
    this.#changed(item);
    return this.#attempt(item);
  }

  /**
   * Messages not known to be stored, for the outbox that takes over from this one (a
   * follower tab becoming the owner).
   * @returns {Outgoing[]}
   */
  unsent() {
    return [...this.items.values()].filter((i) => i.state !== 'stored').map((i) => ({ ...i }));
  }

  /**
   * Send another outbox's unsent messages from this one. Each keeps its id, and its
   * envelope if it has one, so a message the host already stored is not stored twice.
   * @param {Outgoing[]} items
   */
  adopt(items) {
    for (const item of items) {
      this.items.set(item.id, { ...item, state: 'failed' });
      void this.retry(item.id);
    }
  }

  /** @param {Outgoing} item */
  async #attempt(item) {
    try {
      if (item.env === undefined) {
        const sealed = await this.secure.encrypt(this.space, this.chan, item.id, encode(item.content));
        item.env = sealed.env;
        item.sess = sealed.sess;
      }
      const r = await this.session.call('publish', { space: this.space, chan: this.chan, id: item.id,
        env: item.env, sess: item.sess, ...(item.re ? { re: item.re } : {}) });
      item.state = 'stored';
      item.seq = r.seq;
      item.ts = r.ts;
    } catch (e) {
      item.state = 'failed';
      item.error = humanMessage(e);
      item.transient = e instanceof RequestError && TRANSIENT.has(e.code);
    }
    this.#changed(item);
    return item;
  }
}
