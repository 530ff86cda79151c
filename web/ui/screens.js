/**
 * Full-page screens shown instead of the app: first visit, lost keys, another tab
 * still starting.
 * @module
 */

import { h, replace } from './dom.js';

/**
 * @param {HTMLElement} root
 * @param {string} title
 * @param {Array<Node | string | null>} children
 * @param {string} id
 */
function screen(root, title, children, id) {
  replace(root, h('div', { class: 'screen', id },
    h('div', { class: 'screen-card' },
      h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true', text: '◆' }), 'Hearth'),
      h('h1', { text: title }), ...children)));
}

/**
 * First visit: explain in a sentence, ask for a display name, create the identity.
 * @param {HTMLElement} root
 * @param {{invited: 'join' | 'claim' | null, create: (name: string) => Promise<void>,
 *   other: (which: 'link' | 'restore') => Promise<void>}} options ``other`` runs the
 *   linking or restoring screen and resolves once the identity exists
 * @returns {Promise<void>} once the identity exists
 */
export function showWelcome(root, { invited, create, other }) {
  return new Promise((resolve) => {
    const input = /** @type {HTMLInputElement} */ (h('input', {
      class: 'input', name: 'name', required: true, maxlength: 100, autocomplete: 'nickname',
      placeholder: 'e.g. Sam', 'aria-label': 'Display name',
    }));
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'button primary wide', text: invited ? 'Continue' : 'Create my identity' }));
    const lead = invited === 'join' ? 'You have been invited to a community on Hearth. Choose the name people will see, and you are in.'
      : invited === 'claim' ? 'This link makes you the owner of a Hearth host. Choose the name people will see.'
        : 'Self-hosted, end-to-end encrypted community chat. Choose the name people will see.';
    const form = h('form', {
      class: 'welcome-form',
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        const name = input.value.trim();
        if (!name) return;
        button.disabled = true;
        button.textContent = 'Creating your keys…';
        try {
          await create(name);
          resolve();
        } catch (err) {
          console.warn(err);
          error.textContent = 'Your browser could not create or store keys (is this a private window, or is storage blocked for this site?). Allow site storage and try again.';
          error.hidden = false;
          button.disabled = false;
          button.textContent = 'Try again';
        }
      },
    },
    h('label', { class: 'field' }, h('span', { class: 'field-label', text: 'Display name' }), input),
    error, button);
    screen(root, invited ? 'Welcome!' : 'Welcome to Hearth', [
      h('p', { class: 'lead', text: lead }),
      form,
      h('p', { class: 'fine', text: 'Your keys are made on this device, and your messages are encrypted on it: nobody else — not the host, not the relay — can read them.' }),
      h('div', { class: 'screen-actions' },
        h('button', { type: 'button', class: 'button', id: 'start-link', text: 'I already use Hearth on another device', onclick: () => void other('link').then(resolve) }),
        h('button', { type: 'button', class: 'link-button', id: 'start-restore', text: 'Restore from an identity backup file', onclick: () => void other('restore').then(resolve) })),
    ], 'welcome');
    input.focus();
  });
}

/**
 * The keys were evicted: say so plainly and lead to restoring.
 * @param {HTMLElement} root
 * @param {{startOver: () => Promise<void>}} options
 */
export function showKeysLost(root, { startOver }) {
  screen(root, 'Your keys are no longer in this browser', [
    h('p', { class: 'lead', text: 'This browser had your Hearth identity, but its stored keys are gone. Browsers sometimes clear site storage when the disk is nearly full, or when site data is cleared.' }),
    h('p', { text: 'To get your account back, link this browser from another device where you are signed in, or restore it from your identity backup file.' }),
    h('p', { text: 'You can also start over with a new identity. You would need new invites to your communities, and people would see a new key for you.' }),
    h('div', { class: 'screen-actions' },
      h('button', { type: 'button', class: 'button primary', text: 'Link or restore my account', onclick: () => void startOver() }),
      h('button', { type: 'button', class: 'button danger', text: 'Start over with a new identity', onclick: () => void startOver() })),
  ], 'keys-lost');
}

/**
 * Another tab owns the device and is not ready yet (it is starting, or asks the user
 * something first): this tab follows it as soon as it is.
 * @param {HTMLElement} root
 */
export function showOtherTab(root) {
  screen(root, 'Hearth is starting in another tab', [
    h('p', { class: 'lead', text: 'Hearth is open in another tab of this browser. This tab works through that one, so your encryption keys are only ever used in one place.' }),
    h('p', { text: 'If that tab is asking you something (your name, a link), answer it there; this tab follows as soon as it is ready.' }),
  ], 'other-tab');
}
