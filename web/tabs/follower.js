/**
 * A follower tab's side of the tab bridge (tabs/wire.js): stand-ins for the owner tab's
 * HostSession, SecureClient, Presence and RelayConnection with the same methods and
 * events the UI uses, each method a request to the owner and each event one the owner
 * passed on. The UI (app.js, ui/) is the same code in both kinds of tab; only what sits
 * under it differs. A follower holds no relay connection and no ratchet state: it shows
 * what the owner decrypted and asks the owner to seal what it sends.
 * @module
 */

import { RequestError, UserError } from '../protocol/errors.js';
import { CHANNEL, errorFromWire, newTabId } from './wire.js';

/** A request the owner has not answered by then fails (the owner may have hung). */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * The follower's end of the BroadcastChannel. Events: ``ev`` {the owner's event
 * message}, ``owner`` (another tab took over serving: state must be fetched again).
 */
export class FollowerLink extends EventTarget {
  id = newTabId();
  /** @type {string | null} the serving tab's id */ owner = null;
  /** @type {import('../app.js').SavedHost[]} */ hosts = [];
  /** @type {Record<string, string>} connection state by relay origin */ conns = {};
  /** @type {Map<number, {resolve: (v: any) => void, reject: (e: Error) => void, timer: ReturnType<typeof setTimeout>}>} */
  #pending = new Map();
  #next = 0;
  #listening = new AbortController();
  /** @type {() => void} */ #served = () => {};

  constructor() {
    super();
    /** Resolves once a tab serves (the owner may still be on its welcome screen). */
    this.ready = new Promise((resolve) => { this.#served = () => resolve(undefined); });
    this.channel = new BroadcastChannel(CHANNEL);
    this.channel.onmessage = (e) => this.#receive(e.data);
    this.channel.postMessage({ t: 'hello', from: this.id });
    const { signal } = this.#listening;
    const visible = () => this.note('visible', document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', visible, { signal });
    window.addEventListener('pagehide', () => this.note('bye', false), { signal });
    window.addEventListener('pageshow', visible, { signal });
  }

  /** @param {Record<string, any>} m */
  #receive(m) {
    if (typeof m !== 'object' || m === null) return;
    if (m.t === 'owner') {
      const changed = this.owner !== null && this.owner !== m.owner;
      this.owner = m.owner;
      this.hosts = m.hosts;
      this.conns = m.conns;
      this.#served();
      this.note('visible', document.visibilityState === 'visible');
      if (changed) {
        // The tab that had our requests is gone: none of them will be answered.
        this.#failAll('the owning tab closed before it answered');
        this.dispatchEvent(new CustomEvent('owner'));
      }
    } else if (m.t === 'res' && m.to === this.id) {
      const waiting = this.#pending.get(m.id);
      if (!waiting) return;
      this.#pending.delete(m.id);
      clearTimeout(waiting.timer);
      if (m.ok) waiting.resolve(m.value);
      else waiting.reject(errorFromWire(m.error));
    } else if (m.t === 'ev') {
      if (m.source === 'app' && m.name === 'hosts') this.hosts = m.detail.hosts;
      this.dispatchEvent(new CustomEvent('ev', { detail: m }));
    }
  }

  /**
   * Ask the owner to run ``method`` of its ``target`` object for ``host``.
   * @param {'session' | 'secure' | 'presence' | 'conn' | 'app'} target
   * @param {string} host a host id (a relay origin for ``conn``, '' for ``app``)
   * @param {string} method
   * @param {...unknown} args structured-clone data
   * @returns {Promise<any>}
   */
  request(target, host, method, ...args) {
    if (this.#listening.signal.aborted) return Promise.reject(new RequestError('connection_lost', 'this tab stopped following'));
    return new Promise((resolve, reject) => {
      const id = ++this.#next;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RequestError('timeout', `the owning tab did not answer ${target}.${method}`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      this.channel.postMessage({ t: 'req', id, from: this.id, target, host, method, args });
    });
  }

  /**
   * @param {string} what
   * @param {unknown} value
   */
  note(what, value) {
    if (!this.#listening.signal.aborted) this.channel.postMessage({ t: 'note', from: this.id, what, value });
  }

  /** @param {string} why */
  #failAll(why) {
    for (const [id, waiting] of this.#pending) {
      clearTimeout(waiting.timer);
      // Transient, like a dropped connection: the outbox sends such a message again.
      waiting.reject(new RequestError('connection_lost', why));
      this.#pending.delete(id);
    }
  }

  /** This tab stops following (it became the owner, or is closing). */
  close() {
    this.#listening.abort();
    this.#failAll('this tab stopped following');
    this.channel.close();
  }
}

/**
 * @param {FollowerLink} link
 * @param {string} source
 * @param {string} host
 * @param {(name: string, detail: any) => void} handle
 */
function onOwnerEvent(link, source, host, handle) {
  link.addEventListener('ev', (e) => {
    const m = /** @type {CustomEvent} */ (e).detail;
    if (m.source === source && m.host === host) handle(m.name, m.detail);
  });
}

/** The owner's connection to one relay, as far as the UI looks at it. Events: ``state``. */
export class RemoteConnection extends EventTarget {
  /**
   * @param {FollowerLink} link
   * @param {string} origin
   */
  constructor(link, origin) {
    super();
    this.link = link;
    this.origin = origin;
    /** @type {string} */ this.state = link.conns[origin] ?? 'online';
    onOwnerEvent(link, 'conn', origin, (_name, detail) => {
      this.state = detail.state;
      this.dispatchEvent(new CustomEvent('state'));
    });
  }

  retryNow() {
    this.link.request('conn', this.origin, 'retryNow').catch(() => undefined);
  }

  start() {}

  stop() {}
}

/** The owner's HostSession of one host: same fields, methods and events. */
export class RemoteSession extends EventTarget {
  /** @type {Map<string, import('../chat/host_session.js').Space>} */ spaces = new Map();
  owner = false;
  hostOnline = true;
  ready = false;
  listed = false;

  /**
   * @param {FollowerLink} link
   * @param {RemoteConnection} conn
   * @param {string} hostId
   */
  constructor(link, conn, hostId) {
    super();
    this.link = link;
    this.conn = conn;
    this.hostId = hostId;
    onOwnerEvent(link, 'session', hostId, (name, detail) => {
      const before = this.ready;
      if (detail.state) this.#apply(detail.state);
      // The owner's session says ``spaces`` before it is ready: readiness shows later.
      if (before !== this.ready && name !== 'spaces') this.dispatchEvent(new CustomEvent('spaces', { detail: {} }));
      this.dispatchEvent(new CustomEvent(name, { detail }));
    });
    link.addEventListener('owner', () => void this.resume());
  }

  /** @param {ReturnType<typeof import('./owner.js').sessionState>} state */
  #apply(state) {
    this.spaces = new Map(state.spaces.map((s) => [s.id, s]));
    this.listed = state.listed;
    this.owner = state.owner;
    this.ready = state.ready;
    this.hostOnline = state.hostOnline;
  }

  /**
   * @param {string} op
   * @param {object} [args]
   * @returns {Promise<Record<string, any>>}
   */
  call(op, args = {}) {
    return this.link.request('session', this.hostId, 'call', op, args);
  }

  /** @returns {Promise<void>} */
  async refreshSpaces() {
    // The owner's ``spaces`` event, sent before its answer, brings the new list.
    await this.link.request('session', this.hostId, 'refreshSpaces');
  }

  /** @param {string} space */
  async follow(space) {
    await this.link.request('session', this.hostId, 'follow', space);
  }

  start() {
    return this.resume();
  }

  /** Fetch the owner's state of this host, then say so as a resumed session would. */
  async resume() {
    try {
      this.#apply(await this.link.request('session', this.hostId, 'state'));
    } catch (e) {
      console.warn('hearth: could not fetch the session from the owning tab', e);
      return;
    }
    this.dispatchEvent(new CustomEvent('spaces', { detail: {} }));
    this.dispatchEvent(new CustomEvent('resumed', { detail: {} }));
  }

  stop() {}
}

/** The owner's SecureClient of one host: it opens and seals, this tab only asks. */
export class RemoteSecure extends EventTarget {
  /**
   * @param {FollowerLink} link
   * @param {string} hostId
   */
  constructor(link, hostId) {
    super();
    this.link = link;
    this.hostId = hostId;
    onOwnerEvent(link, 'secure', hostId, (name, detail) => this.dispatchEvent(new CustomEvent(name, { detail })));
  }

  /**
   * @param {string} method
   * @param {...unknown} args
   */
  #ask(method, ...args) {
    return this.link.request('secure', this.hostId, method, ...args);
  }

  /** @type {import('../e2e/secure.js').SecureClient['show']} */
  show(space, chan, m, shares = []) { return this.#ask('show', space, chan, m, shares); }

  /** @type {import('../e2e/secure.js').SecureClient['acceptShares']} */
  acceptShares(space, chan, items) { return this.#ask('acceptShares', space, chan, items); }

  /** @type {import('../e2e/secure.js').SecureClient['encrypt']} */
  encrypt(space, chan, msgId, text) { return this.#ask('encrypt', space, chan, msgId, text); }

  /** @param {string} space @param {string} acct */
  removeMember(space, acct) { return this.#ask('removeMember', space, acct); }

  /** @param {string} dev */
  revokeDevice(dev) { return this.#ask('revokeDevice', dev); }

  /** @returns {Promise<number>} */
  backup() { return this.#ask('backup'); }

  /** @param {string} op @param {object} [args] */
  call(op, args = {}) { return this.#ask('call', op, args); }

  /** The owner publishes prekeys and restores the key backup. */
  start() { return Promise.resolve(); }

  useRecovery() {}

  /** @returns {Promise<number>} */
  restoreBackup() {
    return Promise.reject(new UserError('Restore your key backup in the other Hearth tab: it holds this device’s keys.'));
  }
}

/** The owner's Presence of one host, as last reported. Events: ``change``. */
export class RemotePresence extends EventTarget {
  /** @type {Set<string>} */ followed = new Set();
  /** @type {import('../chat/presence.js').PresenceState} */ #self = 'online';
  /** @type {Map<string, import('../chat/presence.js').Seen>} "space acct" -> seen */ #seen = new Map();
  /** @type {Map<string, string[]>} "space/chan" -> accounts typing */ #typing = new Map();

  /**
   * @param {FollowerLink} link
   * @param {string} hostId
   * @param {string} me this account
   */
  constructor(link, hostId, me) {
    super();
    this.link = link;
    this.hostId = hostId;
    this.me = me;
    onOwnerEvent(link, 'presence', hostId, (_name, view) => this.#apply(view));
    link.addEventListener('owner', () => void this.sync());
    void this.sync();
  }

  async sync() {
    try {
      this.#apply(await this.link.request('presence', this.hostId, 'view'));
    } catch (e) {
      console.warn('hearth: could not fetch presence from the owning tab', e);
    }
  }

  /** @param {ReturnType<import('../chat/presence.js').Presence['view']>} view */
  #apply(view) {
    this.#self = view.self;
    this.#seen = new Map(view.seen.map(([space, acct, seen]) => [`${space} ${acct}`, seen]));
    this.#typing = new Map(view.typing);
    this.dispatchEvent(new CustomEvent('change'));
  }

  /**
   * @param {string} space
   * @param {string} acct
   * @returns {import('../chat/presence.js').Seen}
   */
  seen(space, acct) {
    if (acct === this.me) return { state: this.#self, lastSeen: Date.now() };
    return this.#seen.get(`${space} ${acct}`) ?? { state: 'offline', lastSeen: null };
  }

  /**
   * @param {string} space
   * @param {string} chan
   * @returns {string[]}
   */
  typers(space, chan) {
    return this.#typing.get(`${space}/${chan}`) ?? [];
  }

  /** @param {string} space @param {string} chan */
  typing(space, chan) {
    this.link.request('presence', this.hostId, 'typing', space, chan).catch(() => undefined);
  }

  /** @param {string} space @param {string} chan */
  stopTyping(space, chan) {
    this.link.request('presence', this.hostId, 'stopTyping', space, chan).catch(() => undefined);
  }

  /** Visibility goes to the owner through the link; a follower never says offline. */
  announce() {}

  leave() {}

  back() {}

  stop() {}
}

/**
 * The stand-ins for one host.
 * @param {FollowerLink} link
 * @param {RemoteConnection} conn
 * @param {string} hostId
 * @param {string} me this account
 */
export function remoteHost(link, conn, hostId, me) {
  return {
    session: new RemoteSession(link, conn, hostId),
    secure: new RemoteSecure(link, hostId),
    presence: new RemotePresence(link, hostId, me),
  };
}
