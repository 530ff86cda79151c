/**
 * The store of contacts' account keys: trust on first use, verified marks, and a loud
 * "key changed" when a contact's account key is not the one remembered; the twin of
 * hearth/e2e/trust.py, kept in IndexedDB.
 *
 * A contact's handle is how the user knows them: their display name on a host
 * ("host id:name"), since that is what an impostor would copy. Invariant: a verified
 * mark belongs to one exact key; a changed key clears it and is reported, never
 * silently accepted.
 * @module
 */

import { get, put } from '../identity/db.js';

const RECORD = 'trust';

/** @typedef {'new' | 'same' | 'changed'} KeyStatus */
/** @typedef {{account: string, verified: boolean, previous: string | null}} Contact */

export class TrustStore {
  /** @type {Map<string, Contact>} handle -> the account key trusted for it */
  contacts = new Map();

  /** @returns {Promise<TrustStore>} */
  static async load() {
    const store = new TrustStore();
    store.contacts = new Map(Object.entries((await get(RECORD)) ?? {}));
    return store;
  }

  /**
   * Record ``account`` for ``handle``: new (trusted on first use), same, or changed (the
   * verified mark is cleared and the old key kept in ``previous``).
   * @param {string} handle
   * @param {string} account base64url
   * @returns {Promise<KeyStatus>}
   */
  async observe(handle, account) {
    const known = this.contacts.get(handle);
    if (known?.account === account) return 'same';
    this.contacts.set(handle, { account, verified: false, previous: known ? known.account : null });
    await this.#save();
    return known ? 'changed' : 'new';
  }

  /**
   * After comparing safety numbers: only the key that was compared is marked.
   * @param {string} handle
   * @param {string} account
   * @returns {Promise<void>}
   */
  async markVerified(handle, account) {
    const known = this.contacts.get(handle);
    if (!known || known.account !== account) {
      throw new Error(`cannot verify ${JSON.stringify(handle)}: the key compared (${account}) is not the one on record; observe() it first`);
    }
    known.verified = true;
    await this.#save();
  }

  /**
   * @param {string} handle
   * @param {string} account
   * @returns {boolean}
   */
  isVerified(handle, account) {
    const known = this.contacts.get(handle);
    return Boolean(known?.verified && known.account === account);
  }

  /**
   * The key this handle had before it changed, if it changed and was not re-verified.
   * @param {string} handle
   * @returns {string | null}
   */
  changedFrom(handle) {
    const known = this.contacts.get(handle);
    return known && !known.verified ? known.previous : null;
  }

  /**
   * The user has seen the warning and accepts the new key (verified stays cleared).
   * @param {string} handle
   * @returns {Promise<void>}
   */
  async acknowledge(handle) {
    const known = this.contacts.get(handle);
    if (known) known.previous = null;
    await this.#save();
  }

  #save() {
    return put(RECORD, Object.fromEntries(this.contacts));
  }
}
