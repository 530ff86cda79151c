/**
 * Settings: whether this account shares read receipts (``account.settings`` on every
 * host: each host keeps its own), and when this browser notifies (kept on this device:
 * mentions and replies, all messages, or off), with the button that asks the browser's
 * permission — the only place Hearth ever asks for it, on a click.
 * @module
 */

import { DEFAULT_NOTIFY, Notifier, notifySetting } from '../chat/notify.js';
import { get, put } from '../identity/db.js';
import { openDialog, plainError } from './dialog.js';
import { h } from './dom.js';

/** @typedef {import('../app.js').App} App */

const NOTIFY_CHOICES = [
  { value: 'mentions', label: 'Mentions and replies to me' },
  { value: 'all', label: 'All messages' },
  { value: 'off', label: 'Off' },
];

/** @returns {Promise<import('../chat/notify.js').NotifySetting>} this device's choice */
export async function loadNotifySetting() {
  return notifySetting(await get('notify'));
}

/** @returns {string} what the browser allows, in words */
function permissionText() {
  const p = Notifier.permission();
  if (p === 'unsupported') return 'This browser cannot show notifications.';
  if (p === 'granted') return 'This browser allows Hearth to notify you while its tab is hidden.';
  if (p === 'denied') return 'Notifications are blocked for this site: allow them in the browser’s site settings.';
  return 'Hearth needs your permission to notify you.';
}

/** @param {App} app */
export async function openSettings(app) {
  const sessions = [...app.sessions.values()].filter((s) => s.ready);
  /** @type {boolean | null} */
  let receipts = null;
  const receiptBox = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', name: 'receipts', id: 'setting-receipts', disabled: true }));
  const receiptHint = h('span', { class: 'field-hint', text: 'Loading…' });
  if (sessions[0]) {
    void sessions[0].call('account.settings', {}).then((r) => {
      receipts = Boolean(r.receipts);
      receiptBox.checked = receipts;
      receiptBox.disabled = false;
      receiptHint.textContent = 'When this is off, others no longer see when you have received or read their messages. You still see theirs.';
    }, () => { receiptHint.textContent = 'Could not reach the host: try again once connected.'; });
  } else {
    receiptHint.textContent = 'Join a host first.';
  }
  const notify = await loadNotifySetting();
  const status = h('span', { class: 'field-hint', id: 'notify-permission', text: permissionText() });
  const allow = h('button', {
    type: 'button', class: 'button small', id: 'allow-notifications', text: 'Allow notifications',
    hidden: Notifier.permission() !== 'default',
    onclick: async () => {
      await Notifier.ask();
      status.textContent = permissionText();
      allow.hidden = Notifier.permission() !== 'default';
    },
  });
  return openDialog({
    id: 'settings-dialog', title: 'Settings',
    body: [
      h('h3', { class: 'section-title', text: 'Read receipts' }),
      h('label', { class: 'check' }, receiptBox, h('span', { text: ' Send read receipts' })),
      receiptHint,
      h('h3', { class: 'section-title', text: 'Notifications' }),
      h('fieldset', { class: 'choices', id: 'notify-choices' },
        h('legend', { class: 'field-label', text: 'Notify me while Hearth is in the background about' }),
        ...NOTIFY_CHOICES.map((c) => h('label', { class: 'check' },
          h('input', { type: 'radio', name: 'notify', value: c.value, checked: c.value === notify }),
          h('span', { text: ` ${c.label}` })))),
      h('div', { class: 'notify-permission' }, status, allow),
      h('p', { class: 'fine', text: 'A notification shows who wrote and what, and only what this device decrypted.' }),
    ],
    submit: 'Save',
    onSubmit: async (form) => {
      const chosen = /** @type {HTMLInputElement | null} */ (form.querySelector('input[name=notify]:checked'));
      await put('notify', notifySetting(chosen?.value ?? DEFAULT_NOTIFY));
      if (receipts !== null && receiptBox.checked !== receipts) {
        const want = receiptBox.checked;
        const failed = [];
        for (const s of sessions) {
          try {
            await s.call('account.settings', { receipts: want });
          } catch {
            failed.push(s.hostId);
          }
        }
        if (failed.length) throw plainError('Saved on some hosts only: the others could not be reached. Try again once connected.');
      }
    },
  });
}
