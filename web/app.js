/**
 * Hearth for the web: state and wiring of a running app (main.js starts it). Rendering
 * lives in ui/, the protocol in protocol/, sessions and messages in chat/, keys in
 * identity/, and end-to-end encryption in e2e/ (one SecureClient per host, one recovery
 * secret per account).
 *
 * The same App runs in every tab. In the tab that owns the device (identity/tab_lock.js)
 * it holds the relay connections and SecureClients and serves the other tabs
 * (tabs/owner.js); in a follower tab the same UI runs on stand-ins that ask the owner
 * (tabs/follower.js). When the owner closes, the first follower in line for the lock
 * becomes the owner and starts afresh from IndexedDB, keeping its view and unsent text.
 * @module
 */

import { HostSession } from './chat/host_session.js';
import { Presence } from './chat/presence.js';
import { loadRecovery, saveRecovery } from './e2e/recovery_store.js';
import { SecureClient } from './e2e/secure.js';
import { TrustStore } from './e2e/trust.js';
import { saveName } from './identity/identity.js';
import { get, put } from './identity/db.js';
import { RelayConnection } from './protocol/connection.js';
import { humanMessage, UserError } from './protocol/errors.js';
import { isHostId } from './protocol/host_id.js';
import { parseInviteLink, proveInvite, invitePublicKey } from './protocol/invite.js';
import { ChannelView } from './ui/channel_view.js';
import { h, replace } from './ui/dom.js';
import { renderMembers } from './ui/members.js';
import { renderBadges, renderRail, renderSidebar } from './ui/sidebar.js';
import { renderMain } from './ui/main_view.js';
import { TabServer } from './tabs/owner.js';
import { FollowerLink, RemoteConnection, remoteHost } from './tabs/follower.js';
import { toast } from './ui/toast.js';
import { openRecoverySetup } from './ui/recovery_dialog.js';
import { Awareness } from './chat/awareness.js';
import { attachAwareness, notifyArrival } from './ui/awareness_view.js';

/**
 * @typedef {{hostId: string, origin: string, label: string}} SavedHost
 * @typedef {{acct: string, name: string | null, role: string, joined_at: number}} Member
 * @typedef {{current: App['current'], unsent: {key: string, items: import('./chat/outbox.js').Outgoing[]} | null}} HandOver
 *   what a follower passes on when it becomes the owner
 */

/** The page's one element Hearth draws in (screens before an App, then the App). */
export const root = /** @type {HTMLElement} */ (document.getElementById('app'));

export class App {
  /** @type {SavedHost[]} */ hosts = [];
  /** @type {Map<string, RelayConnection>} (stand-ins in a follower tab) */ conns = new Map();
  /** @type {Map<string, HostSession>} (stand-ins in a follower tab) */ sessions = new Map();
  /** @type {{hostId: string | null, space: string | null, chan: string | null}} */
  current = { hostId: null, space: null, chan: null };
  /** @type {Map<string, Member[]>} members by "host/space" */ members = new Map();
  /** @type {ChannelView | null} */ view = null;
  /** @type {ReturnType<typeof attachAwareness> | null} the view's divider, marks, mention picker */
  viewAwareness = null;
  persisted = false;
  /** @type {string | undefined} the "host/space" whose member list was last fetched on show */
  membersShown;
  /** @type {Map<string, SecureClient>} end-to-end encryption, by host */ secures = new Map();
  /** @type {Map<string, Presence>} presence and typing, by host */ presences = new Map();
  /** @type {import('./crypto/recovery.js').Recovery | null} */ recovery = null;
  trust = new TrustStore();
  /** @type {Set<string>} warnings already shown (key changes, uncertified devices) */
  warned = new Set();

  /** @type {HandOver['unsent']} messages to send again once their channel shows */
  unsent = null;
  /** removes every window and document listener when this App stops */
  listening = new AbortController();

  /**
   * @param {import('./identity/identity.js').Identity} identity
   * @param {{ownership?: {release: () => void}, link?: FollowerLink}} role the device's
   *   lock (this tab owns the device) or the link to the tab that does (a follower)
   */
  constructor(identity, { ownership, link }) {
    this.identity = identity;
    this.ownership = ownership ?? null;
    this.link = link ?? null;
    /** unread and mention counts, markers, receipts and notifications of every host */
    this.awareness = new Awareness({
      me: identity.account,
      showing: (hostId, space, chan) => document.visibilityState === 'visible' && this.view !== null
        && this.current.hostId === hostId && this.current.space === space && this.current.chan === chan,
      arrived: (hostId, space, chan, m, opened) => void notifyArrival(this, hostId, space, chan, m, opened),
    });
    this.awareness.addEventListener('change', () => renderBadges(this));
    /** @type {TabServer | null} answers follower tabs; none in a follower */
    this.tabs = this.link ? null : new TabServer(this);
    this.layout();
    this.shell.dataset.tab = this.link ? 'follower' : 'owner';
  }

  layout() {
    this.banner = h('div', { class: 'banner', id: 'connection-banner', role: 'status', hidden: true });
    this.rail = h('nav', { class: 'rail', 'aria-label': 'Hosts' });
    this.sidebar = h('nav', { class: 'sidebar', 'aria-label': 'Spaces and channels' });
    this.main = h('main', { class: 'main' });
    this.membersPanel = h('aside', { class: 'members', 'aria-label': 'Members' });
    this.scrim = h('div', { class: 'scrim', onclick: () => this.closeDrawers() });
    this.shell = h('div', { class: 'shell', dataset: { connection: 'online' } },
      this.banner, this.rail, this.sidebar, this.main, this.membersPanel, this.scrim);
    replace(root, this.shell);
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !document.querySelector('dialog[open]')) this.closeDrawers();
    }, { signal: this.listening.signal });
  }

  closeDrawers() {
    delete this.shell.dataset.drawer;
  }

  /** @param {'nav' | 'members'} which */
  toggleDrawer(which) {
    if (this.shell.dataset.drawer === which) delete this.shell.dataset.drawer;
    else this.shell.dataset.drawer = which;
  }

  /** @param {HandOver} [handOver] the view a follower showed before it became the owner */
  async start(handOver) {
    this.hosts = this.link ? this.link.hosts : (await get('hosts')) ?? [];
    this.recovery = await loadRecovery();
    this.trust = await TrustStore.load();
    const last = handOver?.current ?? (await get('lastView')) ?? {};
    this.unsent = handOver?.unsent ?? null;
    for (const saved of this.hosts) await this.#openSession(saved);
    // The saved view stands until its host lists its spaces (#fixSelection).
    const saved = this.hosts.find((x) => x.hostId === last.hostId);
    const first = saved ?? this.hosts[0];
    if (first) this.current = { hostId: first.hostId, space: saved ? last.space ?? null : null, chan: saved ? last.chan ?? null : null };
    this.render();
    this.tabs?.serve();
    this.link?.addEventListener('ev', (e) => {
      const m = /** @type {CustomEvent} */ (e).detail;
      if (m.source === 'app' && m.name === 'hosts') void this.#followHosts();
    });
    const { signal } = this.listening;
    window.addEventListener('online', () => { for (const c of this.conns.values()) c.retryNow(); }, { signal });
    // Away while the tab is hidden, online when it is back; offline when the page goes.
    document.addEventListener('visibilitychange', () => {
      for (const p of this.presences.values()) p.announce();
    }, { signal });
    window.addEventListener('pagehide', () => {
      this.awareness.flush(); // a read marker still waiting for its window goes now
      for (const p of this.presences.values()) p.leave();
    }, { signal });
    window.addEventListener('pageshow', (e) => {
      if (e.persisted) for (const p of this.presences.values()) p.back();
    }, { signal });
    window.addEventListener('hashchange', () => void this.handleLink(location.href), { signal });
    await Promise.all([...this.sessions.values()].map((s) => this.#startSession(s)));
  }

  /** A follower: open the hosts the owner added since. */
  async #followHosts() {
    for (const saved of /** @type {FollowerLink} */ (this.link).hosts) {
      if (!this.hosts.some((x) => x.hostId === saved.hostId)) this.hosts.push(saved);
      if (!this.sessions.has(saved.hostId)) await this.#startSession(await this.#openSession(saved));
    }
  }

  /**
   * The connection to the relay at ``origin`` (one per relay, shared by its hosts).
   * @param {string} origin
   * @returns {RelayConnection}
   */
  connection(origin) {
    let conn = this.conns.get(origin);
    if (!conn) {
      conn = this.link ? /** @type {RelayConnection} */ (/** @type {unknown} */ (new RemoteConnection(this.link, origin)))
        : new RelayConnection(origin, { device: this.identity.device, certificate: this.identity.certificate });
      conn.addEventListener('state', () => this.renderConnection());
      this.conns.set(origin, conn);
      conn.start();
      if (this.tabs) this.tabs.watchConnection(origin, conn);
    }
    return conn;
  }

  /**
   * @param {SavedHost} saved
   * @returns {Promise<HostSession>}
   */
  async #openSession(saved) {
    const { session, secure, presence } = this.link
      ? /** @type {{session: HostSession, secure: SecureClient, presence: Presence}} */ (/** @type {unknown} */ (
        remoteHost(this.link, /** @type {any} */ (this.connection(saved.origin)), saved.hostId, this.identity.account)))
      : await this.#ownHost(saved);
    secure.addEventListener('uncertified', (e) => this.#warnUncertified(saved.hostId, /** @type {CustomEvent} */ (e).detail.roster));
    secure.addEventListener('restored', (e) => {
      if (/** @type {CustomEvent} */ (e).detail.learned) this.view?.retryUnreadable();
    });
    this.secures.set(saved.hostId, secure);
    presence.addEventListener('change', () => {
      if (this.current.hostId === saved.hostId) renderMembers(this);
    });
    this.presences.set(saved.hostId, presence);
    session.addEventListener('spaces', () => {
      this.#fixSelection();
      this.render();
    });
    session.addEventListener('removed', (e) => {
      const { space, name } = /** @type {CustomEvent} */ (e).detail;
      this.members.delete(`${saved.hostId}/${space}`);
      this.notice(`You were removed from ${name}. You no longer receive its messages.`, 'removed');
    });
    session.addEventListener('revoked', () => this.notice('This device was signed out of your account from another device. Hearth can no longer act for you on this host.', 'revoked'));
    session.addEventListener('status', () => this.renderConnection());
    session.addEventListener('members', (e) => {
      const { space, acct } = /** @type {CustomEvent} */ (e).detail;
      // My own role changed: the space list carries it (and what the sidebar offers).
      if (acct === this.identity.account) void session.refreshSpaces().catch(() => undefined);
      if (this.current.hostId === saved.hostId && this.current.space === space) void this.refreshMembers();
    });
    session.addEventListener('resumed', () => {
      void this.refreshMembers();
      void this.#startSecure(session);
    });
    this.sessions.set(saved.hostId, session);
    this.awareness.watch(session, secure);
    return session;
  }

  /**
   * The owner's own session, encryption (its ratchet state loaded from IndexedDB) and
   * presence with one host, served to the follower tabs too.
   * @param {SavedHost} saved
   */
  async #ownHost(saved) {
    const session = new HostSession(this.connection(saved.origin), saved.hostId, () => this.identity.name);
    const secure = await SecureClient.open(session, this.identity);
    if (this.recovery) secure.useRecovery(this.recovery);
    // The device is away only when no tab of it is seen, this one or a follower.
    const presence = new Presence(session, secure, {
      hidden: () => document.visibilityState === 'hidden' && !this.tabs?.anyVisible(),
    });
    this.tabs?.watchHost(saved.hostId, { session, secure, presence });
    return { session, secure, presence };
  }

  /** @param {HostSession} session */
  async #startSession(session) {
    // Retries until the host answers; meanwhile the main view says it is connecting.
    await session.resume();
    this.render();
  }

  /**
   * Publish prekeys (refilled when low) and merge the key backup, after each hello.
   * @param {HostSession} session
   */
  async #startSecure(session) {
    try {
      await this.secure(session.hostId).start();
    } catch (e) {
      console.warn('hearth: could not set up encryption with', session.hostId, e);
    }
  }

  /**
   * @param {string} hostId
   * @returns {SecureClient}
   */
  secure(hostId) {
    return /** @type {SecureClient} */ (this.secures.get(hostId));
  }

  /**
   * The account's recovery secret, set up now (a dialog) if this device has none:
   * required before the first message is sent. Resolves false if the user cancelled.
   * @returns {Promise<boolean>}
   */
  async ensureRecovery() {
    if (this.recovery) return true;
    if (this.link) {
      // The owner may have set it up since this tab started; setting it up is its job.
      this.recovery = await loadRecovery();
      if (!this.recovery) toast('Set up account recovery in the other Hearth tab first (send a message there, or open Account & devices).', 'info');
      return Boolean(this.recovery);
    }
    const session = this.session();
    if (!session) return false;
    const recovery = await openRecoverySetup(this.secure(session.hostId));
    if (!recovery) return false;
    await this.adoptRecovery(recovery);
    return true;
  }

  /**
   * Keep ``recovery`` on this device and back up every host's keys under it.
   * @param {import('./crypto/recovery.js').Recovery} recovery
   */
  async adoptRecovery(recovery) {
    await saveRecovery(recovery);
    this.recovery = recovery;
    for (const secure of this.secures.values()) {
      secure.useRecovery(recovery);
      void secure.start().then(() => secure.backup())
        .catch((e) => console.warn('hearth: key backup', e));
    }
  }

  /**
   * Say once, plainly, that the host lists devices their accounts never approved.
   * @param {string} hostId
   * @param {import('./e2e/roster.js').Roster} roster
   */
  #warnUncertified(hostId, roster) {
    for (const u of roster.uncertified) {
      const key = `uncertified:${hostId}:${u.dev}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      this.notice(`The host lists a device for ${this.nameOf(u.acct)} that their account never approved. Hearth does not encrypt to it and does not show its messages. The host may be tampering.`, 'uncertified');
    }
  }

  /**
   * Trust on first use: remember each member's account key under the name they show,
   * and warn when a name comes back with another key.
   * @param {string} hostId
   * @param {Member[]} members
   */
  async #observeKeys(hostId, members) {
    for (const m of members) {
      if (m.acct === this.identity.account || !m.name) continue;
      const handle = `${hostId}:${m.name}`;
      const status = await this.trust.observe(handle, m.acct);
      const previous = this.trust.changedFrom(handle);
      // Once per change and page: two accounts that show one name in a space swap the
      // record at every poll of the member list, and must not add a banner each time.
      if ((status === 'changed' || previous) && !this.warned.has(`key:${handle}:${m.acct}`)) {
        this.warned.add(`key:${handle}:${m.acct}`);
        if (previous) this.warned.add(`key:${handle}:${previous}`);
        this.keyChanged(handle, m.name);
      }
    }
  }

  /**
   * The warning banner for a contact whose account key changed.
   * @param {string} handle
   * @param {string} name
   */
  keyChanged(handle, name) {
    const el = h('div', { class: 'notice', role: 'alert', dataset: { kind: 'key-changed' } },
      h('span', { text: `${name}'s account key has changed. It may be a new account of theirs, or someone pretending to be them. Compare safety numbers with ${name} before you trust it.` }),
      h('button', { type: 'button', class: 'link-button', text: 'I understand', onclick: () => { void this.trust.acknowledge(handle); el.remove(); } }));
    this.shell.append(el);
  }

  /**
   * Keep the selection pointing at something that exists. Before the host has listed
   * its spaces nothing is known to be gone: the selection (a reloaded page's saved view)
   * stands until then.
   */
  #fixSelection() {
    const session = this.session();
    if (!session?.listed) return;
    const space = this.current.space ? session.spaces.get(this.current.space) : undefined;
    if (!space) {
      const next = [...session.spaces.values()][0];
      this.current.space = next?.id ?? null;
      this.current.chan = next?.channels[0]?.id ?? null;
    } else if (!space.channels.some((c) => c.id === this.current.chan)) {
      this.current.chan = space.channels[0]?.id ?? null;
    }
  }

  /** @returns {HostSession | undefined} */
  session() {
    return this.current.hostId ? this.sessions.get(this.current.hostId) : undefined;
  }

  /** @returns {import('./chat/host_session.js').Space | undefined} */
  space() {
    return this.current.space ? this.session()?.spaces.get(this.current.space) : undefined;
  }

  /** @returns {import('./chat/host_session.js').Channel | undefined} */
  channel() {
    return this.space()?.channels.find((c) => c.id === this.current.chan);
  }

  /**
   * @param {string} hostId
   * @param {string | null} [space]
   * @param {string | null} [chan]
   */
  select(hostId, space = null, chan = null) {
    this.current = { hostId, space, chan };
    this.#fixSelection();
    void put('lastView', this.current);
    this.closeDrawers();
    this.render();
  }

  render() {
    this.#fixSelection();
    renderRail(this);
    renderSidebar(this);
    this.#renderChannel();
    renderMembers(this);
    this.renderConnection();
    this.#membersOnShow();
  }

  #renderChannel() {
    const session = this.session();
    const space = this.space();
    const channel = this.channel();
    const key = session && space && channel ? `${session.hostId}/${space.id}/${channel.id}` : '';
    if (this.view && this.viewKey === key) {
      renderMain(this, this.view);
      return;
    }
    this.view?.destroy();
    this.viewAwareness?.destroy();
    this.view = null;
    this.viewAwareness = null;
    this.viewKey = key;
    if (session && space && channel && session.ready) {
      this.view = new ChannelView(session, this.secure(session.hostId), space, channel, {
        nameOf: (acct) => this.nameOf(acct), myAccount: this.identity.account,
        ensureRecovery: () => this.ensureRecovery(),
        presence: /** @type {Presence} */ (this.presences.get(session.hostId)),
      });
      this.viewAwareness = attachAwareness(this, this.view, this.view.open());
      if (this.unsent?.key === key) {
        this.view.outbox.adopt(this.unsent.items);
        this.unsent = null;
      }
    } else {
      this.viewKey = '';
    }
    renderMain(this, this.view);
  }

  renderConnection() {
    const states = [...this.conns.values()].map((c) => c.state);
    const reconnecting = states.includes('reconnecting');
    const session = this.session();
    const hostDown = session && !session.hostOnline;
    const was = this.shell.dataset.connection;
    const now = reconnecting ? 'reconnecting' : hostDown ? 'host-offline' : 'online';
    this.shell.dataset.connection = now;
    if (now === 'reconnecting') {
      replace(this.banner, h('span', { class: 'spinner', 'aria-hidden': 'true' }),
        h('span', { text: 'Reconnecting… Your messages are safe; Hearth picks up where it left off.' }),
        h('button', { type: 'button', class: 'link-button', text: 'Retry now', onclick: () => { for (const c of this.conns.values()) c.retryNow(); } }));
      this.banner.hidden = false;
    } else if (now === 'host-offline') {
      replace(this.banner, h('span', { text: 'This host is offline right now. Hearth reconnects by itself when it is back.' }));
      this.banner.hidden = false;
    } else if (was !== 'online' && was !== undefined) {
      replace(this.banner, h('span', { text: 'Reconnected.' }));
      this.banner.dataset.kind = 'ok';
      this.banner.hidden = false;
      setTimeout(() => {
        if (this.shell.dataset.connection === 'online') {
          this.banner.hidden = true;
          delete this.banner.dataset.kind;
        }
      }, 2500);
      return;
    }
    if (now !== 'online') delete this.banner.dataset.kind;
  }

  /**
   * A lasting notice in the main area (removal, revocation): stays until dismissed.
   * @param {string} message
   * @param {string} kind
   */
  notice(message, kind) {
    const el = h('div', { class: 'notice', role: 'alert', dataset: { kind } },
      h('span', { text: message }),
      h('button', { type: 'button', class: 'link-button', text: 'Dismiss', onclick: () => el.remove() }));
    this.shell.append(el);
  }

  /**
   * @param {string} acct
   * @returns {string}
   */
  nameOf(acct) {
    if (acct === this.identity.account) return this.identity.name;
    for (const list of this.members.values()) {
      const m = list.find((x) => x.acct === acct);
      if (m?.name) return m.name;
    }
    return `${acct.slice(0, 6)}…`;
  }

  /** Reload the member list of the current space. */
  async refreshMembers() {
    const session = this.session();
    const space = this.space();
    if (!session || !space || !session.ready) return;
    try {
      const r = await session.call('member.list', { space: space.id });
      this.members.set(`${session.hostId}/${space.id}`, r.members);
      await this.#observeKeys(session.hostId, r.members);
      renderMembers(this);
      this.view?.refreshNames();
      this.viewAwareness?.marks.refresh(); // receipts count who was a member when it was sent
    } catch (e) {
      console.warn('hearth: member list', e);
    }
  }

  /**
   * Fetch the member list when another space is shown; after that the host's ``mem``
   * events (and every reconnect, which may have missed some) keep it current.
   */
  #membersOnShow() {
    const key = `${this.current.hostId}/${this.current.space}`;
    if (key === this.membersShown && this.members.has(key)) return;
    this.membersShown = key;
    void this.refreshMembers();
  }

  /** @param {SavedHost} saved */
  async #saveHost(saved) {
    if (!this.hosts.some((x) => x.hostId === saved.hostId)) {
      this.hosts.push(saved);
      await put('hosts', this.hosts);
      this.tabs?.hostsChanged();
    }
  }

  /**
   * Add a host by id (on this page's relay, or the given one), say hello to it and show it.
   * @param {string} hostId
   * @param {string} [origin]
   * @returns {Promise<HostSession>}
   */
  async addHost(hostId, origin = location.origin) {
    const session = await this.ensureHost(hostId, origin);
    this.select(hostId);
    return session;
  }

  /**
   * Add a host if it is new and say hello to it (a follower asks the owner to).
   * @param {string} hostId
   * @param {string} [origin]
   * @returns {Promise<HostSession>}
   */
  async ensureHost(hostId, origin = location.origin) {
    if (!(await isHostId(hostId))) {
      throw new UserError('That is not a valid host id. A host id is 56 letters and digits (a–z, 2–7); check for a typo or copy it again.');
    }
    if (this.link) {
      await this.link.request('app', '', 'ensureHost', hostId, origin);
      await this.#followHosts();
      const followed = /** @type {HostSession} */ (this.sessions.get(hostId));
      await followed.resume();
      return followed;
    }
    let session = this.sessions.get(hostId);
    if (!session) {
      const saved = { hostId, origin, label: '' };
      session = await this.#openSession(saved);
      try {
        await session.start();
      } catch (e) {
        this.sessions.delete(hostId);
        this.secures.delete(hostId);
        this.presences.get(hostId)?.stop();
        this.presences.delete(hostId);
        throw e;
      }
      await this.#saveHost(saved);
      void this.#startSecure(session);
    } else if (!session.ready) {
      await session.start();
      void this.#startSecure(session);
    }
    return session;
  }

  /**
   * Open an invite or owner-claim link (pasted, or the page's own address).
   * @param {string} href
   * @returns {Promise<boolean>} whether it was a link (handled or failed visibly)
   */
  async handleLink(href) {
    if (!/#\/(join|claim)\//.test(href)) return false;
    try {
      const link = await parseInviteLink(href);
      const session = await this.addHost(link.hostId, link.origin);
      const proof = { pk: await invitePublicKey(link.secret), proof: await proveInvite(link.secret, link.hostId, this.identity.device.publicKey) };
      if (link.kind === 'claim') {
        await session.call('host.claim', proof);
        session.owner = true;
        toast('You are now an owner of this host. Create a space to get started.', 'ok');
      } else {
        const r = await session.call('invite.redeem', proof);
        await this.enterSpace(session, r.space.id);
        toast(`You joined ${r.space.name}.`, 'ok');
      }
      this.render();
    } catch (e) {
      toast(humanMessage(e), 'error');
    } finally {
      // The secret is spent or useless now: keep it out of the address bar and history.
      if (location.hash.startsWith('#/join/') || location.hash.startsWith('#/claim/')) {
        history.replaceState(null, '', location.pathname + location.search);
      }
    }
    return true;
  }

  /**
   * Show a space this account just made or joined: the list again, its live events,
   * then the view (live events before history: nothing published meanwhile is missed).
   * Callers with a modal dialog close it first: the page beneath one is inert.
   * @param {HostSession} session
   * @param {string} space
   */
  async enterSpace(session, space) {
    await session.refreshSpaces();
    await session.follow(space).catch(() => undefined);
    this.select(session.hostId, space);
  }

  /** @param {string} name */
  async rename(name) {
    if (this.link) {
      await this.link.request('app', '', 'rename', name);
      this.identity = { ...this.identity, name };
      this.render();
      return;
    }
    await saveName(name);
    this.identity = { ...this.identity, name };
    await Promise.all([...this.sessions.values()].map((s) => s.start().catch(() => undefined)));
    this.render();
  }

  /**
   * What this tab shows and has not sent yet, for the App that replaces it.
   * @returns {HandOver}
   */
  handOver() {
    return { current: { ...this.current }, unsent: this.view ? { key: this.viewKey ?? '', items: this.view.outbox.unsent() } : null };
  }

  /** Stop everything this App runs (a follower becoming the owner starts a new App). */
  stop() {
    this.listening.abort();
    for (const p of this.presences.values()) {
      p.leave();
      p.stop();
    }
    for (const s of this.sessions.values()) s.stop();
    for (const c of this.conns.values()) c.stop();
    this.awareness.stop();
    this.viewAwareness?.destroy();
    this.view?.destroy();
    this.tabs?.close();
    this.link?.close();
    this.ownership?.release();
  }
}
