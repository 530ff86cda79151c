/**
 * Account recovery, the one recovery concept (docs/security.md, "Recovery"): set up
 * before the first message is sent, in plain words. Either a recovery key that Hearth
 * makes and shows once, or a passphrase the user chooses. If the account already has a
 * key backup on this host (recovery was set up on another device), the dialog asks for
 * that key or passphrase instead, and checks it by opening the backup.
 * @module
 */

import { b64d } from '../crypto/bytes.js';
import { recoveryParams } from '../crypto/backup.js';
import { HearthError } from '../crypto/errors.js';
import { KEY_TEXT_CHARS, Recovery, RecoveryKind } from '../crypto/recovery.js';
import { RequestError } from '../protocol/errors.js';
import { field, formValue, openDialog, plainError } from './dialog.js';
import { h, replace } from './dom.js';
import { copyText } from './toast.js';

const MIN_PASSPHRASE = 10;

/**
 * The account's key backup on this host, if there is one.
 * @param {import('../e2e/secure.js').SecureClient} secure
 * @returns {Promise<Uint8Array | null>}
 */
async function storedBackup(secure) {
  try {
    return b64d((await secure.call('backup.get')).blob, { field: 'blob' });
  } catch (e) {
    if (e instanceof RequestError && e.code === 'not_found') return null;
    throw e;
  }
}

/**
 * Set up (or, if the account has one, enter) the recovery secret.
 * @param {import('../e2e/secure.js').SecureClient} secure
 * @returns {Promise<Recovery | null>} null if the user cancelled
 */
export async function openRecoverySetup(secure) {
  const existing = await storedBackup(secure);
  const result = existing ? await enterExisting(secure, existing) : await setUpNew();
  return /** @type {Recovery | null} */ (result ?? null);
}

/**
 * @param {import('../e2e/secure.js').SecureClient} secure
 * @param {Uint8Array} blob
 */
function enterExisting(secure, blob) {
  const params = recoveryParams(blob);
  const generated = params.kind === RecoveryKind.GENERATED;
  return openDialog({
    id: 'recovery-dialog',
    title: 'Enter your recovery key',
    body: [
      h('p', { text: generated
        ? 'Your account already has a recovery key, made on another of your devices. Type it here: this device then reads your earlier messages and can back up its own.'
        : 'Your account already has a recovery passphrase, chosen on another of your devices. Type it here: this device then reads your earlier messages and can back up its own.' }),
      field(generated ? 'Recovery key' : 'Recovery passphrase', { name: 'secret', required: true, type: generated ? 'text' : 'password',
        placeholder: generated ? 'abcd efgh …' : '' }),
    ],
    submit: 'Unlock',
    onSubmit: async (form) => {
      const typed = formValue(form, 'secret');
      let recovery;
      try {
        recovery = generated ? await Recovery.fromKeyText(typed)
          : await Recovery.fromPassphrase(typed, { salt: params.salt, iterations: params.iterations });
        await secure.restoreBackup(recovery);
      } catch (e) {
        if (e instanceof HearthError) {
          throw plainError(generated
            ? `That recovery key does not open your key backup. Check it for typos (it has ${KEY_TEXT_CHARS} letters and digits).`
            : 'That passphrase does not open your key backup. Check it and try again.');
        }
        throw e;
      }
      return recovery;
    },
  });
}

function setUpNew() {
  const generated = Recovery.generate();
  const keyBox = /** @type {HTMLTextAreaElement} */ (h('textarea', { class: 'input mono recovery-key', id: 'recovery-key', readonly: true, rows: 2 }));
  void generated.keyText().then((text) => { keyBox.value = text; });
  let choice = 'key';
  const keyPanel = h('div', { class: 'tab-panel', dataset: { tab: 'key' } },
    h('p', { text: 'This is your recovery key. Write it down or keep it in a password manager: it is shown only now. With it, a new device reads your earlier messages, even if every other device is lost.' }),
    h('div', { class: 'copy-row' }, keyBox, h('button', { type: 'button', class: 'button', text: 'Copy', onclick: () => void copyText(keyBox.value, keyBox) })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'saved' }), h('span', { text: ' I have saved my recovery key somewhere safe' })));
  const passPanel = h('div', { class: 'tab-panel', dataset: { tab: 'passphrase' }, hidden: true },
    h('p', { text: `Or choose a passphrase of at least ${MIN_PASSPHRASE} characters instead. Anyone who guesses it can read your key backup, so make it long and not used anywhere else.` }),
    field('Passphrase', { name: 'pass', type: 'password', autocomplete: 'new-password' }),
    field('Passphrase again', { name: 'pass2', type: 'password', autocomplete: 'new-password' }));
  const tabs = h('div', { class: 'tabs', role: 'tablist' },
    ...[['key', 'Recovery key'], ['passphrase', 'Passphrase']].map(([id, label]) => h('button', {
      type: 'button', role: 'tab', class: `tab${id === 'key' ? ' active' : ''}`, dataset: { tab: id }, text: label,
      onclick: (/** @type {MouseEvent} */ e) => {
        choice = id;
        for (const b of tabs.children) b.classList.toggle('active', b === e.currentTarget);
        keyPanel.hidden = id !== 'key';
        passPanel.hidden = id !== 'passphrase';
      },
    })));
  const intro = h('p', { text: 'Before your first message: set up account recovery. Your messages are encrypted on your devices, and Hearth keeps an encrypted backup of their keys on the host. Only your recovery key (or passphrase) unlocks it — Hearth cannot reset it for you.' });
  const status = h('p', { class: 'fine', hidden: true });
  return openDialog({
    id: 'recovery-dialog',
    title: 'Set up account recovery',
    body: [intro, tabs, keyPanel, passPanel, status],
    submit: 'Turn on recovery',
    onSubmit: async (form) => {
      if (choice === 'key') {
        const saved = /** @type {HTMLInputElement} */ (form.elements.namedItem('saved'));
        if (!saved.checked) throw plainError('Save your recovery key first, then tick the box to say you did.');
        return generated;
      }
      const pass = /** @type {HTMLInputElement} */ (form.elements.namedItem('pass')).value;
      const again = /** @type {HTMLInputElement} */ (form.elements.namedItem('pass2')).value;
      if ([...pass].length < MIN_PASSPHRASE) throw plainError(`The passphrase needs at least ${MIN_PASSPHRASE} characters.`);
      if (pass !== again) throw plainError('The two passphrases differ. Type the same one twice.');
      replace(status, 'Deriving the key from your passphrase (this takes a moment on purpose)…');
      status.hidden = false;
      return Recovery.fromPassphrase(pass);
    },
  });
}
