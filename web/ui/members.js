/**
 * The member list of the current space, grouped by role, with each member's presence
 * (chat/presence.js: a dot, and "last seen" once they are away or gone) and what the
 * viewer's role allows: owners change roles, admins and owners remove lower roles.
 * @module
 */

import { icon } from './icons.js';
import { h, hueOf, initials, replace, shortKey } from './dom.js';
import { openChangeRole, openInviteDialog, openRemoveMember } from './dialogs.js';
import { openSafetyNumber } from './e2e_dialogs.js';
import { roleAllows } from './sidebar.js';

const RANK = { member: 0, admin: 1, owner: 2 };
const TITLES = { owner: 'Owners', admin: 'Admins', member: 'Members' };
const STATE_WORDS = { online: 'Online', away: 'Away', offline: 'Offline' };

/**
 * "Online", "Away · last seen 14:02", "Offline · last seen 14:02", or "Offline" for
 * someone not seen since this page opened.
 * @param {import('../chat/presence.js').Seen} seen
 * @returns {string}
 */
export function presenceLabel({ state, lastSeen }) {
  if (state === 'online' || lastSeen === null) return STATE_WORDS[state];
  const d = new Date(lastSeen);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const when = new Date().toDateString() === d.toDateString() ? time : `${d.toLocaleDateString()} ${time}`;
  return `${STATE_WORDS[state]} · last seen ${when}`;
}

/** @param {import('../app.js').App} app */
export function renderMembers(app) {
  const session = app.session();
  const space = app.space();
  if (!session || !space) {
    replace(app.membersPanel);
    return;
  }
  const list = app.members.get(`${session.hostId}/${space.id}`);
  const me = app.identity.account;
  const myRank = RANK[space.role];
  const presence = app.presences.get(session.hostId);
  const groups = /** @type {const} */ (['owner', 'admin', 'member']).map((role) => {
    const people = (list ?? []).filter((m) => m.role === role);
    if (!people.length) return null;
    return h('section', { class: 'member-group' },
      h('h3', { text: `${TITLES[role]} — ${people.length}` }),
      h('ul', {}, ...people.map((m) => {
        const name = m.name ?? shortKey(m.acct);
        const canRemove = m.acct !== me && roleAllows(space.role, 'admin') && RANK[/** @type {keyof RANK} */ (m.role)] < myRank;
        const canRole = m.acct !== me && space.role === 'owner';
        const handle = `${session.hostId}:${m.name ?? m.acct}`;
        const verified = m.acct !== me && app.trust.isVerified(handle, m.acct);
        const seen = presence ? presence.seen(space.id, m.acct) : { state: 'offline', lastSeen: null };
        const label = presenceLabel(/** @type {import('../chat/presence.js').Seen} */ (seen));
        return h('li', { class: 'member', dataset: { acct: m.acct, role: m.role, presence: seen.state } },
          h('span', { class: 'avatar-with-presence' },
            h('span', { class: 'avatar small', style: `--hue:${hueOf(m.acct)}`, 'aria-hidden': 'true', text: initials(name) }),
            h('span', { class: `presence-dot ${seen.state}`, role: 'img', 'aria-label': label, title: label })),
          h('span', { class: 'member-text' },
            h('span', { class: 'member-name', text: m.acct === me ? `${name} (you)` : name, title: m.acct }),
            h('span', { class: 'member-presence', text: label }),
            h('span', { class: `role-badge role-${m.role}`, text: m.role }),
            verified ? h('span', { class: 'verified-badge', title: 'You compared safety numbers', text: '✓ verified' }) : null),
          h('span', { class: 'item-actions' },
            m.acct !== me ? h('button', { type: 'button', class: 'icon-button', title: 'Safety number', 'aria-label': `Safety number with ${name}`, onclick: () => void openSafetyNumber(app, m) }, icon('lock')) : null,
            canRole ? h('button', { type: 'button', class: 'icon-button', title: 'Change role', 'aria-label': `Change role of ${name}`, onclick: () => void openChangeRole(app, space, m) }, icon('role')) : null,
            canRemove ? h('button', { type: 'button', class: 'icon-button danger', title: 'Remove from space', 'aria-label': `Remove ${name}`, onclick: () => void openRemoveMember(app, space, m) }, icon('x')) : null));
      })));
  });
  replace(app.membersPanel,
    h('div', { class: 'members-header' },
      h('strong', { text: 'Members' }),
      roleAllows(space.role, 'admin') ? h('button', { type: 'button', class: 'button small primary', id: 'invite-button', text: 'Invite', onclick: () => void openInviteDialog(app, space) }) : null),
    list ? h('div', { class: 'members-scroll' }, ...groups) : h('p', { class: 'muted pad', text: 'Loading members…' }),
    h('p', { class: 'fine pad', text: 'Presence and typing go only to members of this space, signed by their devices, and are never stored.' }));
}
