/**
 * @mentions in the composer: what is being typed after an "@", which members match it,
 * and which chosen members the text still names when it is sent. The content carries
 * the mentioned *accounts* (docs/protocol.md §13.1); "@Name" in the body is for people.
 *
 * Invariants: a mention starts at the beginning of the text or after whitespace; only a
 * member chosen from the list is mentioned (typing "@Mia" by hand mentions nobody), and
 * only while "@" + their name is still in the text; at most 50 distinct accounts.
 * @module
 */

export const MAX_MENTIONS = 50;
const MAX_SUGGESTIONS = 8;

/**
 * @typedef {{acct: string, name: string | null}} Person
 */

/**
 * The "@query" that ends at the caret, if the caret is in one.
 * @param {string} text
 * @param {number} caret
 * @returns {{start: number, query: string} | null} ``start``: where the "@" is
 */
export function mentionAt(text, caret) {
  const before = text.slice(0, caret);
  const m = /(^|\s)@([^\s@]{0,40})$/u.exec(before);
  if (!m) return null;
  return { start: before.length - m[2].length - 1, query: m[2] };
}

/**
 * Members whose name starts with the query (then those containing it), never oneself.
 * @param {Person[]} members
 * @param {string} query
 * @param {string} me
 * @returns {Array<{acct: string, name: string}>}
 */
export function suggest(members, query, me) {
  const q = query.toLocaleLowerCase();
  const named = members.filter((m) => m.acct !== me && m.name)
    .map((m) => ({ acct: m.acct, name: /** @type {string} */ (m.name) }));
  const starts = named.filter((m) => m.name.toLocaleLowerCase().startsWith(q));
  const contains = named.filter((m) => !starts.includes(m) && m.name.toLocaleLowerCase().includes(q));
  return [...starts, ...contains].slice(0, MAX_SUGGESTIONS);
}

/**
 * The text with the "@query" at ``start`` replaced by "@Name ", and where the caret goes.
 * @param {string} text
 * @param {number} caret
 * @param {number} start
 * @param {string} name
 * @returns {{text: string, caret: number}}
 */
export function insertMention(text, caret, start, name) {
  const inserted = `@${name} `;
  const rest = text.slice(caret).replace(/^\s/u, '');
  return { text: text.slice(0, start) + inserted + rest, caret: start + inserted.length };
}

/**
 * The chosen accounts the text still names (as "@Name"), in order, at most 50.
 * @param {string} text
 * @param {Map<string, string>} chosen account -> the name inserted for it
 * @returns {string[]}
 */
export function mentionsIn(text, chosen) {
  /** @type {string[]} */
  const out = [];
  for (const [acct, name] of chosen) {
    const at = `@${name}`;
    let i = text.indexOf(at);
    while (i !== -1) {
      const before = i === 0 ? ' ' : text[i - 1];
      const after = text[i + at.length] ?? ' ';
      if (/\s/u.test(before) && !/[\p{L}\p{N}_]/u.test(after)) {
        out.push(acct);
        break;
      }
      i = text.indexOf(at, i + 1);
    }
  }
  return out.slice(0, MAX_MENTIONS);
}
