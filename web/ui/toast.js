/**
 * Short-lived messages at the bottom of the screen ("Copied", "You joined ...").
 * @module
 */

import { h } from './dom.js';

/**
 * @param {string} message plain words; shown with textContent
 * @param {'ok' | 'error' | 'info'} [kind]
 */
export function toast(message, kind = 'info') {
  let tray = document.getElementById('toasts');
  if (!tray) {
    tray = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(tray);
  }
  const el = h('div', { class: 'toast', dataset: { kind }, text: message });
  tray.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

/**
 * Copy ``text`` to the clipboard; falls back to selecting ``input`` when the Clipboard
 * API is unavailable (insecure context, denied permission).
 * @param {string} text
 * @param {HTMLInputElement} [input]
 */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Copied to the clipboard.', 'ok');
  } catch {
    input?.select();
    const ok = document.execCommand?.('copy');
    toast(ok ? 'Copied to the clipboard.' : 'Select the text and copy it with Ctrl+C.', ok ? 'ok' : 'info');
  }
}
