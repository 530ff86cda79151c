/**
 * The owner tab's side of the tab bridge (tabs/wire.js): it answers follower tabs'
 * requests with its own HostSession, SecureClient and Presence of each host, and tells
 * them what those objects announce. Followers never hold keys or connections, so every
 * message they send is sealed here, by the one SecureClient that advances the ratchet.
 * @module
 */

import { RequestError, UserError } from '../protocol/errors.js';
import { CHANNEL, errorToWire, newTabId } from './wire.js';

/**
 * @typedef {import('../chat/host_session.js').HostSession} HostSession
 * @typedef {import('../e2e/secure.js').SecureClient} SecureClient
 * @typedef {import('../chat/presence.js').Presence} Presence
 * @typedef {{session: HostSession, secure: SecureClient, presence: Presence}} Served
 */

/** Events of each object that followers hear about, by source. */
const SESSION_EVENTS = ['spaces', 'message', 'del', 'chan', 'rcpt', 'members', 'removed', 'followed', 'resumed',
  'status', 'revoked'];

/**
 * What a follower may ask, and nothing else: a handler per target and method. Results
 * must be structured-clone data (hence ``null`` where a method returns an object).
 * @type {Record<string, Record<string, (subject: any, ...args: any[]) => unknown>>}
 */
const HANDLERS = {
  session: {
    call: (/** @type {HostSession} */ s, op, args) => s.call(op, args),
    refreshSpaces: async (/** @type {HostSession} */ s) => { await s.refreshSpaces(); return null; },
    follow: async (/** @type {HostSession} */ s, space) => { await s.follow(space); return null; },
    state: (/** @type {HostSession} */ s) => sessionState(s),
  },
  secure: {
    show: (/** @type {SecureClient} */ c, space, chan, m, shares) => c.show(space, chan, m, shares),
    acceptShares: (/** @type {SecureClient} */ c, space, chan, items) => c.acceptShares(space, chan, items),
    encrypt: (/** @type {SecureClient} */ c, space, chan, id, text) => c.encrypt(space, chan, id, text),
    removeMember: (/** @type {SecureClient} */ c, space, acct) => c.removeMember(space, acct),
    revokeDevice: (/** @type {SecureClient} */ c, dev) => c.revokeDevice(dev),
    backup: (/** @type {SecureClient} */ c) => c.backup(),
    call: (/** @type {SecureClient} */ c, op, args) => c.call(op, args),
  },
  presence: {
    typing: (/** @type {Presence} */ p, space, chan) => { p.typing(space, chan); return null; },
    stopTyping: (/** @type {Presence} */ p, space, chan) => { p.stopTyping(space, chan); return null; },
    view: (/** @type {Presence} */ p) => p.view(),
  },
  conn: {
    retryNow: (/** @type {import('../protocol/connection.js').RelayConnection} */ c) => { c.retryNow(); return null; },
  },
  app: {
    ensureHost: async (/** @type {import('../app.js').App} */ app, hostId, origin) => { await app.ensureHost(hostId, origin); return null; },
    rename: async (/** @type {import('../app.js').App} */ app, name) => { await app.rename(name); return null; },
  },
};

/**
 * What a follower needs to render a host's sidebar and main view.
 * @param {HostSession} s
 */
export function sessionState(s) {
  return { spaces: [...s.spaces.values()], listed: s.listed, owner: s.owner, ready: s.ready, hostOnline: s.hostOnline };
}

export class TabServer {
  id = newTabId();
  serving = false;
  /** @type {Map<string, Served>} by host id */ hosts = new Map();
  /** @type {Set<string>} follower tabs the user can see now */ #visible = new Set();

  /** @param {import('../app.js').App} app */
  constructor(app) {
    this.app = app;
    this.channel = new BroadcastChannel(CHANNEL);
    this.channel.onmessage = (e) => void this.#receive(e.data);
  }

  /** Start answering: the app has opened its hosts. */
  serve() {
    this.serving = true;
    this.#announce();
  }

  #announce() {
    const conns = Object.fromEntries([...this.app.conns].map(([origin, c]) => [origin, c.state]));
    this.#post({ t: 'owner', owner: this.id, hosts: this.app.hosts, conns });
  }

  /**
   * @param {string} hostId
   * @param {Served} served
   */
  watchHost(hostId, served) {
    this.hosts.set(hostId, served);
    const { session, secure, presence } = served;
    for (const name of SESSION_EVENTS) {
      session.addEventListener(name, (e) => this.#event('session', hostId, name,
        { .../** @type {CustomEvent} */ (e).detail, state: sessionState(session) }));
    }
    secure.addEventListener('restored', (e) => this.#event('secure', hostId, 'restored', /** @type {CustomEvent} */ (e).detail));
    presence.addEventListener('change', () => this.#event('presence', hostId, 'change', presence.view()));
  }

  /**
   * @param {string} origin
   * @param {import('../protocol/connection.js').RelayConnection} conn
   */
  watchConnection(origin, conn) {
    conn.addEventListener('state', () => this.#event('conn', origin, 'state', { state: conn.state }));
  }

  /** The list of hosts changed (one was added). */
  hostsChanged() {
    this.#event('app', '', 'hosts', { hosts: this.app.hosts });
  }

  /** @returns {boolean} whether the user sees Hearth in some follower tab */
  anyVisible() {
    return this.#visible.size > 0;
  }

  close() {
    this.serving = false;
    this.channel.close();
  }

  /**
   * @param {string} source
   * @param {string} host
   * @param {string} name
   * @param {object} detail
   */
  #event(source, host, name, detail) {
    if (this.serving) this.#post({ t: 'ev', source, host, name, detail });
  }

  /** @param {object} message */
  #post(message) {
    try {
      this.channel.postMessage(message);
    } catch (e) {
      console.warn('hearth: could not tell the other tabs', e);
    }
  }

  /** @param {Record<string, any>} m */
  async #receive(m) {
    if (!this.serving || typeof m !== 'object' || m === null) return;
    if (m.t === 'hello') {
      this.#announce();
    } else if (m.t === 'note') {
      if (m.what === 'visible' && m.value) this.#visible.add(m.from);
      else this.#visible.delete(m.from); // hidden, or the tab closed ('bye')
      // This device is away only when no tab of it is seen.
      for (const p of this.app.presences.values()) p.announce();
    } else if (m.t === 'req') {
      try {
        const value = await this.#run(m);
        this.channel.postMessage({ t: 'res', to: m.from, id: m.id, ok: true, value });
      } catch (e) {
        this.#post({ t: 'res', to: m.from, id: m.id, ok: false, error: errorToWire(e) });
      }
    }
  }

  /**
   * @param {Record<string, any>} m a request
   * @returns {Promise<unknown>}
   */
  async #run({ target, host, method, args }) {
    const table = Object.hasOwn(HANDLERS, target) ? HANDLERS[target] : undefined;
    const handler = table && Object.hasOwn(table, method) ? table[method] : undefined;
    if (!handler || !Array.isArray(args)) throw new UserError('This tab asked the Hearth tab for something it does not do. Reload this tab.');
    const subject = target === 'app' ? this.app
      : target === 'conn' ? this.app.conns.get(host)
        : this.hosts.get(host)?.[/** @type {'session' | 'secure' | 'presence'} */ (target)];
    if (!subject) throw new RequestError('not_found', `no ${target} for ${host} in the owning tab`);
    return handler(subject, ...args);
  }
}
