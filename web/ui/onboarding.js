/**
 * The two other ways onto Hearth besides a new identity: link this browser to an
 * account used on another device (type the 8-digit code it shows), or restore the
 * account from an identity backup file and its passphrase. Full-page screens, shown
 * before the app starts; each resolves once this browser has its identity.
 * @module
 */

import { h, replace } from './dom.js';
import { humanMessage } from '../protocol/errors.js';

/**
 * @typedef {object} LinkActions
 * @property {(name: string, address: string, typeCode: (again: boolean) => Promise<string>, progress: (text: string) => void) => Promise<void>} link
 * @property {(name: string, file: Uint8Array, passphrase: string) => Promise<void>} restore
 */

/**
 * @param {HTMLElement} root
 * @param {string} id
 * @param {string} title
 * @param {Array<Node | null>} children
 */
function card(root, id, title, children) {
  replace(root, h('div', { class: 'screen', id },
    h('div', { class: 'screen-card' },
      h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true', text: '◆' }), 'Hearth'),
      h('h1', { text: title }), ...children)));
}

/**
 * @param {string} label
 * @param {Record<string, any>} attrs
 * @returns {[HTMLElement, HTMLInputElement]}
 */
function labelled(label, attrs) {
  const input = /** @type {HTMLInputElement} */ (h('input', { class: 'input', autocomplete: 'off', 'aria-label': label, ...attrs }));
  return [h('label', { class: 'field' }, h('span', { class: 'field-label', text: label }), input), input];
}

/**
 * Link this browser to an existing account.
 * @param {HTMLElement} root
 * @param {{address: string, link: LinkActions['link'], back: () => void}} options
 * @returns {Promise<void>} once linked
 */
export function showLinkScreen(root, { address, link, back }) {
  return new Promise((resolve) => {
    const [nameField, name] = labelled('Display name', { required: true, maxlength: 100, placeholder: 'e.g. Sam' });
    const [addressField, addressInput] = labelled('Link address from your other device', { required: true, value: address, placeholder: 'https://…/#/link/…' });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const status = h('p', { class: 'muted', id: 'link-status', role: 'status' });
    const [codeField, code] = labelled('Code shown on your other device', { inputmode: 'numeric', maxlength: 12, placeholder: '1234 5678' });
    const codeButton = h('button', { type: 'button', class: 'button primary wide', id: 'link-code-submit', text: 'Confirm code' });
    const codeStep = h('div', { class: 'link-code-step', hidden: true }, codeField, codeButton);
    const start = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'button primary wide', text: 'Link this browser' }));
    /** @param {string} text */
    const fail = (text) => {
      error.textContent = text;
      error.hidden = false;
    };
    const form = h('form', {
      class: 'welcome-form',
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        if (!name.value.trim()) return fail('Choose the name people will see.');
        error.hidden = true;
        start.disabled = true;
        status.textContent = 'Connecting to your other device…';
        /** @type {(again: boolean) => Promise<string>} */
        const typeCode = (again) => new Promise((resolveCode) => {
          if (again) fail('That code does not match. Check the digits on your other device and type them again.');
          codeStep.hidden = false;
          status.textContent = 'Type the 8-digit code your other device shows now.';
          code.value = '';
          code.focus();
          const submit = () => {
            codeStep.hidden = true;
            error.hidden = true;
            status.textContent = 'Code accepted here. Now confirm on your other device…';
            resolveCode(code.value);
          };
          codeButton.onclick = submit;
          code.onkeydown = (/** @type {KeyboardEvent} */ k) => {
            if (k.key === 'Enter') {
              k.preventDefault();
              submit();
            }
          };
        });
        try {
          await link(name.value.trim(), addressInput.value, typeCode, (text) => { status.textContent = text; });
          resolve();
        } catch (err) {
          codeStep.hidden = true;
          status.textContent = '';
          fail(err instanceof Error && /link_mismatch/.test(err.message)
            ? 'Linking stopped: the codes did not match, so your account was not sent. Someone may be in the middle. Start again from your other device.'
            : humanMessage(err));
          start.disabled = false;
        }
      },
    }, nameField, addressField, start);
    card(root, 'link-screen', 'Link this browser to your account', [
      h('p', { class: 'lead', text: 'On a device where you already use Hearth, open Account & devices and choose “Link a new device”. Paste the address it shows here.' }),
      form, status, codeStep, error,
      h('button', { type: 'button', class: 'link-button', text: 'Back', onclick: back }),
    ]);
    (address ? name : addressInput).focus();
  });
}

/**
 * Restore an account from an identity backup file.
 * @param {HTMLElement} root
 * @param {{restore: LinkActions['restore'], back: () => void}} options
 * @returns {Promise<void>} once restored
 */
export function showRestoreScreen(root, { restore, back }) {
  return new Promise((resolve) => {
    const [nameField, name] = labelled('Display name', { required: true, maxlength: 100 });
    const [fileField, file] = labelled('Identity backup file', { type: 'file', required: true, accept: '.hearthid,application/octet-stream' });
    const [passField, pass] = labelled('Its passphrase', { type: 'password', required: true });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'button primary wide', text: 'Restore my account' }));
    const form = h('form', {
      class: 'welcome-form',
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        const chosen = file.files?.[0];
        if (!chosen || !name.value.trim()) return;
        button.disabled = true;
        button.textContent = 'Unlocking the file (this takes a moment on purpose)…';
        error.hidden = true;
        try {
          await restore(name.value.trim(), new Uint8Array(await chosen.arrayBuffer()), pass.value);
          resolve();
        } catch (err) {
          error.textContent = err instanceof Error && /wrong_secret|bad_envelope/.test(err.message)
            ? 'That passphrase does not open this file, or the file is not a Hearth identity backup.'
            : humanMessage(err);
          error.hidden = false;
          button.disabled = false;
          button.textContent = 'Restore my account';
        }
      },
    }, nameField, fileField, passField, error, button);
    card(root, 'restore-screen', 'Restore from an identity backup', [
      h('p', { class: 'lead', text: 'Choose the file you downloaded from Account & devices, and type the passphrase you locked it with. Then open an invite link or add your host again: your earlier messages come back through your key backup.' }),
      form,
      h('button', { type: 'button', class: 'link-button', text: 'Back', onclick: back }),
    ]);
    name.focus();
  });
}
