/**
 * The main column: a channel (header + ChannelView), or the right empty state --
 * no host yet, no space yet on this host, a host still connecting.
 * @module
 */

import { icon } from './icons.js';
import { h, replace } from './dom.js';
import { openAcceptInvite, openAddHostDialog, openCreateSpace } from './dialogs.js';

/**
 * @param {import('../app.js').App} app
 * @param {import('./channel_view.js').ChannelView | null} view
 */
export function renderMain(app, view) {
  const session = app.session();
  const space = app.space();
  const channel = app.channel();
  const menu = h('button', { type: 'button', class: 'icon-button only-narrow', 'aria-label': 'Open the list of spaces and channels', onclick: () => app.toggleDrawer('nav') }, icon('menu'));
  const people = h('button', { type: 'button', class: 'icon-button only-narrow', 'aria-label': 'Show members', onclick: () => app.toggleDrawer('members') }, icon('users'));
  if (!session) {
    replace(app.main, h('header', { class: 'main-header' }, menu, h('strong', { text: 'Hearth' })),
      empty('Join your first community', 'Open the invite link someone sent you, or paste it here. A host id works too.',
        h('button', { type: 'button', class: 'button primary', text: 'Add a host or invite link', onclick: () => void openAddHostDialog(app) })));
    return;
  }
  if (!session.ready) {
    replace(app.main, h('header', { class: 'main-header' }, menu, h('strong', { text: 'Connecting…' })),
      empty('Connecting to the host…', 'This takes a moment. If the host is offline, Hearth keeps trying by itself.'));
    return;
  }
  if (!space || !channel || !view) {
    replace(app.main, h('header', { class: 'main-header' }, menu, h('strong', { text: 'No spaces yet' })),
      session.owner
        ? empty('Create your first space', 'A space is a community: its members, channels and history. You own this host, so you can create as many as you like.',
          h('button', { type: 'button', class: 'button primary', text: 'Create a space', onclick: () => void openCreateSpace(app) }))
        : empty('You are not in any space on this host yet', 'Ask a member for an invite link. If someone invited your account key, accept it with the space code they gave you.',
          h('button', { type: 'button', class: 'button', text: 'Accept an invitation', onclick: () => void openAcceptInvite(app) })));
    return;
  }
  const header = h('header', { class: 'main-header' }, menu,
    h('span', { class: 'hash big', 'aria-hidden': 'true', text: '#' }),
    h('h1', { class: 'channel-title', text: channel.name }),
    h('span', { class: 'header-space', text: space.name }),
    h('span', { class: 'e2e-pill', title: 'Messages are end-to-end encrypted' }, icon('lock'), 'End-to-end encrypted'),
    people);
  // The view stays where it is: taking it out of the page, even to put it straight back,
  // would take the focus (and the next keystrokes) away from whoever is typing in it.
  const old = app.main.firstElementChild;
  if (app.main.childElementCount === 2 && app.main.lastElementChild === view.el && old) old.replaceWith(header);
  else replace(app.main, header, view.el);
}

/**
 * @param {string} title
 * @param {string} text
 * @param {...Node} actions
 */
function empty(title, text, ...actions) {
  return h('div', { class: 'empty-state' },
    h('div', { class: 'empty-mark', 'aria-hidden': 'true', text: '◆' }),
    h('h2', { text: title }), h('p', { text }), h('div', { class: 'empty-actions' }, ...actions));
}
