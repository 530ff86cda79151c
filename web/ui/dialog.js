/**
 * Modal dialogs on the native <dialog> element: focus is trapped and Esc closes them
 * (the browser does both). A form dialog stays open while its action runs, shows the
 * action's error in plain words inside the dialog, and closes only on success.
 * @module
 */

import { humanMessage, UserError } from '../protocol/errors.js';
import { h } from './dom.js';

/**
 * @typedef {object} DialogOptions
 * @property {string} title
 * @property {Array<Node | string>} body
 * @property {string} [submit] label of the main button (none: a close-only dialog)
 * @property {(form: HTMLFormElement) => Promise<unknown> | unknown} [onSubmit] resolve to
 *   close; throw to show the error and stay open
 * @property {boolean} [danger] the main action destroys something
 * @property {string} [cancel] label of the close button
 * @property {string} [id] test and style hook
 */

/**
 * Show a dialog; resolves with onSubmit's result, or undefined if dismissed.
 * @param {DialogOptions} options
 * @returns {Promise<unknown>}
 */
export function openDialog({ title, body, submit, onSubmit, danger, cancel, id }) {
  return new Promise((resolve) => {
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const submitButton = submit
      ? h('button', { type: 'submit', class: danger ? 'button danger' : 'button primary', text: submit })
      : null;
    const closeButton = h('button', { type: 'button', class: 'button', text: cancel ?? (submit ? 'Cancel' : 'Close') });
    const form = /** @type {HTMLFormElement} */ (h('form', { method: 'dialog', class: 'dialog-form' },
      h('h2', { class: 'dialog-title', text: title }),
      h('div', { class: 'dialog-body' }, ...body),
      error,
      h('div', { class: 'dialog-actions' }, closeButton, submitButton)));
    const dialog = /** @type {HTMLDialogElement} */ (h('dialog', { class: 'dialog', id }, form));
    let result;
    closeButton.addEventListener('click', () => dialog.close());
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!onSubmit) return dialog.close();
      error.hidden = true;
      if (submitButton) /** @type {HTMLButtonElement} */ (submitButton).disabled = true;
      try {
        result = await onSubmit(form);
        dialog.close();
      } catch (err) {
        // An action may succeed and still keep its dialog open to show a result.
        if (!(err && /** @type {any} */ (err).keepOpen)) {
          error.textContent = humanMessage(err);
          error.hidden = false;
        }
      } finally {
        if (submitButton) /** @type {HTMLButtonElement} */ (submitButton).disabled = false;
      }
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    /** @type {HTMLElement | null} */ (form.querySelector('input, textarea, select'))?.focus();
  });
}

/**
 * A labelled text field.
 * @param {string} label
 * @param {Record<string, any>} attrs input attributes (name, value, maxlength, ...)
 * @param {string} [hint]
 * @returns {HTMLElement}
 */
export function field(label, attrs, hint) {
  const tag = attrs.multiline ? 'textarea' : 'input';
  const { multiline, ...rest } = attrs;
  void multiline;
  return h('label', { class: 'field' },
    h('span', { class: 'field-label', text: label }),
    h(tag, { class: 'input', autocomplete: 'off', ...rest }),
    hint ? h('span', { class: 'field-hint', text: hint }) : null);
}

/**
 * A value of a submitted form field, trimmed.
 * @param {HTMLFormElement} form
 * @param {string} name
 * @returns {string}
 */
export function formValue(form, name) {
  const el = /** @type {HTMLInputElement | null} */ (form.elements.namedItem(name));
  return (el?.value ?? '').trim();
}

/**
 * An error whose message is already fit for a person (shown as it is).
 * @param {string} message
 * @returns {Error}
 */
export function plainError(message) {
  return new UserError(message);
}
