/**
 * The host rail (one icon per host) and the sidebar of the current host: its spaces,
 * each with its channels, and what the user's role allows on them.
 * @module
 */

import { icon } from './icons.js';
import { h, hueOf, initials, replace } from './dom.js';
import {
  openAccountDialog, openAddHostDialog, openCreateChannel, openCreateSpace, openDeleteChannel,
  openDeleteSpace, openLeaveSpace, openRenameChannel, openRenameSpace, openAcceptInvite,
} from './dialogs.js';
import { openSettings } from './settings_dialog.js';
import { badgeText } from '../chat/unread.js';

const RANK = { member: 0, admin: 1, owner: 2 };

/**
 * @param {string} role
 * @param {'member' | 'admin' | 'owner'} atLeast
 */
export function roleAllows(role, atLeast) {
  return (RANK[/** @type {keyof RANK} */ (role)] ?? -1) >= RANK[atLeast];
}

/**
 * A label for a host: the protocol gives hosts no name, so its first space stands in.
 * @param {import('../app.js').App} app
 * @param {string} hostId
 */
export function hostLabel(app, hostId) {
  const session = app.sessions.get(hostId);
  const first = session ? [...session.spaces.values()][0] : undefined;
  return first ? first.name : `Host ${hostId.slice(0, 6)}`;
}

/** @param {import('../app.js').App} app */
export function renderRail(app) {
  const items = app.hosts.map((saved) => {
    const label = hostLabel(app, saved.hostId);
    const active = saved.hostId === app.current.hostId;
    return h('button', {
      type: 'button', class: `rail-host${active ? ' active' : ''}`, title: label,
      'aria-label': `Host: ${label}`, 'aria-current': active ? 'true' : null,
      style: `--hue:${hueOf(saved.hostId)}`, dataset: { host: saved.hostId },
      onclick: () => app.select(saved.hostId),
    }, initials(label));
  });
  replace(app.rail,
    h('div', { class: 'rail-brand', 'aria-hidden': 'true', text: '◆' }),
    ...items,
    h('button', { type: 'button', class: 'rail-add', title: 'Add a host', 'aria-label': 'Add a host', onclick: () => void openAddHostDialog(app) }, icon('plus')));
}

/** @param {import('../app.js').App} app */
export function renderSidebar(app) {
  const session = app.session();
  const account = h('button', { type: 'button', class: 'account-chip', id: 'account-button', onclick: () => void openAccountDialog(app), 'aria-label': 'Account and devices' },
    h('span', { class: 'avatar small', style: `--hue:${hueOf(app.identity.account)}`, 'aria-hidden': 'true', text: initials(app.identity.name) }),
    h('span', { class: 'account-name', text: app.identity.name }),
    h('span', { class: 'account-sub', text: 'Account & devices' }));
  if (!session) {
    replace(app.sidebar, h('div', { class: 'sidebar-header' }, h('strong', { text: 'Hearth' })),
      h('p', { class: 'sidebar-empty', text: 'Add a host to get started.' }), account);
    return;
  }
  const spaces = [...session.spaces.values()].map((space) => {
    const canManageChannels = roleAllows(space.role, 'admin');
    const owner = space.role === 'owner';
    const channels = space.channels.map((c) => {
      const active = space.id === app.current.space && c.id === app.current.chan;
      return h('li', { class: `channel-item${active ? ' active' : ''}` },
        h('button', {
          type: 'button', class: 'channel-link', 'aria-current': active ? 'page' : null,
          dataset: { chan: c.id }, onclick: () => app.select(session.hostId, space.id, c.id),
        }, h('span', { class: 'hash', 'aria-hidden': 'true', text: '#' }), h('span', { class: 'channel-name', text: c.name }),
        ...badges()),
        canManageChannels ? h('span', { class: 'item-actions' },
          h('button', { type: 'button', class: 'icon-button', title: `Rename #${c.name}`, 'aria-label': `Rename channel ${c.name}`, onclick: () => void openRenameChannel(app, space, c) }, icon('pencil')),
          h('button', { type: 'button', class: 'icon-button', title: `Delete #${c.name}`, 'aria-label': `Delete channel ${c.name}`, onclick: () => void openDeleteChannel(app, space, c) }, icon('trash'))) : null);
    });
    return h('section', { class: 'space', dataset: { space: space.id } },
      h('header', { class: 'space-header' },
        h('span', { class: 'space-name', text: space.name }),
        ...badges(),
        h('span', { class: `role-badge role-${space.role}`, text: space.role }),
        h('span', { class: 'item-actions always' },
          canManageChannels ? h('button', { type: 'button', class: 'icon-button', title: 'New channel', 'aria-label': `New channel in ${space.name}`, onclick: () => void openCreateChannel(app, space) }, icon('plus')) : null,
          owner ? h('button', { type: 'button', class: 'icon-button', title: 'Rename space', 'aria-label': `Rename space ${space.name}`, onclick: () => void openRenameSpace(app, space) }, icon('pencil')) : null,
          owner ? h('button', { type: 'button', class: 'icon-button', title: 'Delete space', 'aria-label': `Delete space ${space.name}`, onclick: () => void openDeleteSpace(app, space) }, icon('trash'))
            : h('button', { type: 'button', class: 'icon-button', title: 'Leave space', 'aria-label': `Leave space ${space.name}`, onclick: () => void openLeaveSpace(app, space) }, icon('leave')))),
      h('ul', { class: 'channel-list' }, ...channels));
  });
  replace(app.sidebar,
    h('div', { class: 'sidebar-header' },
      h('strong', { class: 'host-title', text: session.spaces.size ? 'Spaces' : 'This host' }),
      session.owner ? h('button', { type: 'button', class: 'button small', id: 'new-space', text: '+ Space', onclick: () => void openCreateSpace(app) }) : null),
    h('div', { class: 'sidebar-scroll' }, ...spaces,
      h('button', { type: 'button', class: 'link-button sidebar-accept', text: 'Accept an invitation to your key…', onclick: () => void openAcceptInvite(app) })),
    h('div', { class: 'sidebar-footer' }, account,
      h('button', { type: 'button', class: 'icon-button settings-link', id: 'settings-button', title: 'Settings', 'aria-label': 'Settings', onclick: () => void openSettings(app) }, icon('settings'))));
  renderBadges(app);
}

/** An unread badge and a mention badge, empty until ``renderBadges`` fills them. */
function badges() {
  return [h('span', { class: 'mention-badge', hidden: true }), h('span', { class: 'unread-badge', hidden: true })];
}

/**
 * @param {Element | null} holder a channel link or a space header
 * @param {{unread: number, mentions: number}} counts
 * @param {string} what "in #general", "in Book club"
 */
function fillBadges(holder, counts, what) {
  const mention = /** @type {HTMLElement | null} */ (holder?.querySelector(':scope > .mention-badge'));
  const unread = /** @type {HTMLElement | null} */ (holder?.querySelector(':scope > .unread-badge'));
  if (!mention || !unread || !holder) return;
  const set = (/** @type {HTMLElement} */ el, /** @type {number} */ n, /** @type {string} */ text, /** @type {string} */ label) => {
    el.hidden = n === 0;
    if (el.textContent !== text) el.textContent = text;
    el.setAttribute('aria-label', label);
    el.dataset.count = String(n);
  };
  set(mention, counts.mentions, `@${badgeText(counts.mentions)}`, `${counts.mentions} mention${counts.mentions === 1 ? '' : 's'} of you ${what}`);
  set(unread, counts.unread, badgeText(counts.unread), `${badgeText(counts.unread)} unread ${what}`);
  holder.classList.toggle('has-unread', counts.unread > 0);
}

/**
 * Unread and mention counts on each channel and each space of the shown host (redrawn in
 * place: no rebuild of the sidebar, so focus and scroll stay).
 * @param {import('../app.js').App} app
 */
export function renderBadges(app) {
  const session = app.session();
  if (!session) return;
  for (const section of /** @type {NodeListOf<HTMLElement>} */ (app.sidebar.querySelectorAll('section.space[data-space]'))) {
    const space = /** @type {string} */ (section.dataset.space);
    const name = session.spaces.get(space)?.name ?? '';
    if (app.awareness.counted(session.hostId, space)) section.dataset.counted = 'true';
    fillBadges(section.querySelector('.space-header'), app.awareness.counts(session.hostId, space), `in ${name}`);
    for (const link of /** @type {NodeListOf<HTMLElement>} */ (section.querySelectorAll('.channel-link[data-chan]'))) {
      const chan = /** @type {string} */ (link.dataset.chan);
      fillBadges(link, app.awareness.counts(session.hostId, space, chan), `in #${link.querySelector('.channel-name')?.textContent ?? ''}`);
    }
  }
}
