/**
 * Building DOM without HTML strings. Every piece of text -- above all text from other
 * users (names, messages) -- goes in as a Text node or textContent, never as markup,
 * so nothing a user types can become an element, a script or an image request.
 * @module
 */

/**
 * @typedef {Node | string | number | null | undefined | false} Child
 */

/**
 * Create an element. ``attrs`` keys: ``class``, ``text``, ``dataset`` (object),
 * ``on<event>`` (listener), ``aria-*`` / other attributes (setAttribute), and DOM
 * properties for ``value``, ``checked``, ``disabled``, ``hidden``, ``type``.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Child | Child[])} children strings become Text nodes
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = String(value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (['value', 'checked', 'disabled', 'hidden', 'type', 'tabIndex'].includes(key)) {
      /** @type {any} */ (el)[key] = value;
    } else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} parent
 * @param {Array<Child | Child[]>} children
 */
export function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replace everything inside ``parent``. If the focus was inside, it moves to the new
 * element that stands for the one that had it (same id, or same label and channel):
 * a redraw must not throw a keyboard user back to the top of the page.
 * @param {Element} parent
 * @param {...(Child | Child[])} children
 */
export function replace(parent, ...children) {
  const focused = document.activeElement;
  const again = focused instanceof HTMLElement && focused !== parent && parent.contains(focused)
    ? focusKey(focused) : null;
  parent.replaceChildren();
  append(parent, children);
  if (again) /** @type {HTMLElement | null} */ (parent.querySelector(again))?.focus({ preventScroll: true });
}

/**
 * A selector for the element a redraw makes in place of ``el``, or null if there is
 * no telling which it is.
 * @param {HTMLElement} el
 * @returns {string | null}
 */
function focusKey(el) {
  if (el.id) return `#${CSS.escape(el.id)}`;
  const label = el.getAttribute('aria-label');
  const chan = el.dataset.chan;
  if (!label && !chan) return null;
  return `${el.tagName.toLowerCase()}${label ? `[aria-label="${CSS.escape(label)}"]` : ''}${chan ? `[data-chan="${CSS.escape(chan)}"]` : ''}`;
}

/**
 * The first letters of a name, for avatars ("Book club" -> "BC").
 * @param {string} name
 * @returns {string}
 */
export function initials(name) {
  // Words that start with a letter or digit: "<img src=x> Book club" -> "BC".
  const words = name.trim().split(/\s+/).filter((w) => /^[\p{L}\p{N}]/u.test(w));
  const letters = words.slice(0, 2).map((w) => [...w][0] ?? '').join('');
  return (letters || '?').toUpperCase();
}

/**
 * A stable hue for a key, so each person keeps their avatar colour.
 * @param {string} key
 * @returns {number} 0-359
 */
export function hueOf(key) {
  let n = 0;
  for (const c of key) n = (n * 31 + c.charCodeAt(0)) >>> 0;
  return n % 360;
}

/**
 * Short form of a long key for display: first and last characters.
 * @param {string} key
 * @returns {string}
 */
export function shortKey(key) {
  return key.length > 14 ? `${key.slice(0, 6)}…${key.slice(-4)}` : key;
}
