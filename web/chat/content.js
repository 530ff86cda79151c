/**
 * Message content: the plaintext inside an envelope (docs/protocol.md section 13.1);
 * the twin of hearth/content.py, held to it by tests/vectors/content.json.
 *
 * Invariant: ``encode`` only produces content that ``parse`` accepts, and ``parse``
 * accepts exactly the shapes of the spec (``"v":1``, a known ``t``, its fields and no
 * others), refusing anything else with HearthError ``bad_content``. A plaintext that is
 * not a JSON object with a ``v`` is a plain text message (older or simpler clients).
 * Lengths are counted in code points, as Python's ``len`` does.
 * @module
 */

import { ErrorCode, HearthError } from '../crypto/errors.js';

export const VERSION = 1;
export const BODY_MAX = 4000;
export const QUOTE_MAX = 200;
export const MENTIONS_MAX = 50;
export const EMOJI_MAX_BYTES = 32;
export const ID_MAX = 64;

const ID = new RegExp(`^[A-Za-z0-9_-]{1,${ID_MAX}}$`);
const ACCOUNT = /^[A-Za-z0-9_-]{43}$/;
/**
 * What an emoji never holds: control characters (general category Cc) and the Unicode
 * White_Space property, spelled out as hearth/content.py does so both agree exactly.
 * Format characters (ZWJ, variation selectors, the tag characters of subdivision flags)
 * are parts of emoji and allowed.
 */
const NOT_EMOJI = /[\u0000-\u001f\u007f-\u009f\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

/**
 * @typedef {{id: string, acct: string, quote: string}} Reply
 * @typedef {{v: 1, t: 'text', body: string, reply?: Reply, mentions?: string[]}} TextContent
 * @typedef {{v: 1, t: 'edit', target: string, body: string, mentions?: string[]}} EditContent
 * @typedef {{v: 1, t: 'react', target: string, emoji: string, on: boolean}} ReactContent
 * @typedef {TextContent | EditContent | ReactContent} Content
 */

/** @type {Record<string, {required: string[], optional: string[]}>} */
const FIELDS = {
  text: { required: ['v', 't', 'body'], optional: ['reply', 'mentions'] },
  edit: { required: ['v', 't', 'target', 'body'], optional: ['mentions'] },
  react: { required: ['v', 't', 'target', 'emoji', 'on'], optional: [] },
};

/** @param {string} message */
function bad(message) {
  return new HearthError(ErrorCode.BAD_CONTENT, message);
}

/**
 * The number of code points of ``s`` (what Python's ``len`` counts).
 * @param {string} s
 */
export function length(s) {
  let n = 0;
  for (const _ of s) n++; // eslint-disable-line no-unused-vars
  return n;
}

/**
 * The first ``n`` code points of ``s``: never half of a surrogate pair.
 * @param {string} s
 * @param {number} n
 */
export function prefix(s, n) {
  return [...s].slice(0, n).join('');
}

/**
 * @param {unknown} value
 * @param {string} name
 * @param {number} min
 * @param {number} max
 * @returns {string}
 */
function text(value, name, min, max) {
  if (typeof value !== 'string') throw bad(`${name} must be a string`);
  const n = length(value);
  if (n < min || n > max) throw bad(`${name} must be ${min} to ${max} characters, not ${n}`);
  return value;
}

/**
 * @param {unknown} value
 * @param {string} name
 */
function messageId(value, name) {
  if (typeof value !== 'string') throw bad(`${name} must be a string`);
  if (!ID.test(value)) throw bad(`${name} must be a message id: 1 to ${ID_MAX} characters of A-Z a-z 0-9 _ -`);
  return value;
}

/**
 * @param {unknown} value
 * @param {string} name
 */
function account(value, name) {
  if (typeof value !== 'string' || !ACCOUNT.test(value)) throw bad(`${name} must be an account key`);
  return value;
}

/**
 * @param {unknown} value
 * @returns {string[]}
 */
function mentions(value) {
  if (!Array.isArray(value) || value.length < 1 || value.length > MENTIONS_MAX) {
    throw bad(`mentions must be a list of 1 to ${MENTIONS_MAX} account keys`);
  }
  value.forEach((a, i) => account(a, `mentions[${i}]`));
  if (new Set(value).size !== value.length) throw bad('mentions must not repeat an account');
  return value;
}

/**
 * @param {unknown} value
 * @returns {Reply}
 */
function reply(value) {
  if (!isObject(value)) throw bad('reply must be an object');
  onlyFields(value, ['id', 'acct', 'quote'], ['id', 'acct', 'quote'], 'reply');
  return { id: messageId(value.id, 'reply.id'), acct: account(value.acct, 'reply.acct'),
    quote: text(value.quote, 'reply.quote', 0, QUOTE_MAX) };
}

/**
 * @param {unknown} value
 * @returns {string}
 */
function emoji(value) {
  if (typeof value !== 'string') throw bad('emoji must be a string');
  const bytes = new TextEncoder().encode(value).length;
  if (bytes < 1 || bytes > EMOJI_MAX_BYTES) throw bad(`emoji must be 1 to ${EMOJI_MAX_BYTES} UTF-8 bytes, not ${bytes}`);
  if (NOT_EMOJI.test(value)) throw bad('emoji must not hold whitespace or control characters');
  return value;
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * @param {Record<string, unknown>} obj
 * @param {string[]} required
 * @param {string[]} optional
 * @param {string} where
 */
function onlyFields(obj, required, optional, where) {
  for (const key of Object.keys(obj)) {
    if (!required.includes(key) && !optional.includes(key)) throw bad(`unknown field ${where}.${key}`);
  }
  for (const key of required) {
    if (!(key in obj)) throw bad(`missing field ${where}.${key}`);
  }
}

/**
 * Check a decoded object against the spec; the content, or HearthError bad_content.
 * @param {unknown} obj
 * @returns {Content}
 */
export function check(obj) {
  if (!isObject(obj)) throw bad('content must be a JSON object');
  if (obj.v !== VERSION) throw bad(`unsupported content version ${JSON.stringify(obj.v ?? null)}`);
  if (!('t' in obj)) throw bad('missing field content.t');
  const t = obj.t;
  if (typeof t !== 'string' || !(t in FIELDS)) throw bad(`unknown content type ${JSON.stringify(t)}`);
  onlyFields(obj, FIELDS[t].required, FIELDS[t].optional, 'content');
  if (t === 'text') {
    /** @type {TextContent} */
    const c = { v: VERSION, t, body: text(obj.body, 'body', 1, BODY_MAX) };
    if ('reply' in obj) c.reply = reply(obj.reply);
    if ('mentions' in obj) c.mentions = mentions(obj.mentions);
    return c;
  }
  if (t === 'edit') {
    /** @type {EditContent} */
    const c = { v: VERSION, t, target: messageId(obj.target, 'target'), body: text(obj.body, 'body', 1, BODY_MAX) };
    if ('mentions' in obj) c.mentions = mentions(obj.mentions);
    return c;
  }
  if (typeof obj.on !== 'boolean') throw bad('on must be true or false');
  return { v: VERSION, t: 'react', target: messageId(obj.target, 'target'), emoji: emoji(obj.emoji), on: obj.on };
}

/**
 * The plaintext of ``content`` (checked first: a client never sends what a peer refuses).
 * @param {Content} content
 * @returns {string}
 */
export function encode(content) {
  return JSON.stringify(check(content));
}

/**
 * What a decrypted plaintext says: content, or plain text when it is not a JSON object
 * with a ``v`` field; HearthError bad_content when it has ``v`` but does not parse.
 * @param {string} plaintext
 * @returns {Content}
 */
export function parse(plaintext) {
  let obj;
  try {
    obj = JSON.parse(plaintext);
  } catch {
    return { v: VERSION, t: 'text', body: plaintext };
  }
  if (!isObject(obj) || !('v' in obj)) return { v: VERSION, t: 'text', body: plaintext };
  return check(obj);
}

/**
 * The message id an annotation names (published as ``re``), or null for a text.
 * @param {Content} content
 * @returns {string | null}
 */
export function targetOf(content) {
  return content.t === 'text' ? null : content.target;
}

/**
 * A text message, optionally replying to ``parent`` (quoting its first 200 characters).
 * @param {string} body
 * @param {{parent?: {id: string, acct: string, body: string}, mentions?: string[]}} [extra]
 * @returns {TextContent}
 */
export function textMessage(body, { parent, mentions: named } = {}) {
  /** @type {TextContent} */
  const c = { v: VERSION, t: 'text', body };
  if (parent) c.reply = { id: parent.id, acct: parent.acct, quote: prefix(parent.body, QUOTE_MAX) };
  if (named?.length) c.mentions = named;
  return /** @type {TextContent} */ (check(c));
}

/**
 * An edit of ``target`` by its author. Refused with ``not_author`` when ``author`` (the
 * target's account) is not ``me``: a peer would drop it anyway.
 * @param {{id: string, acct: string}} target
 * @param {string} me this device's account
 * @param {string} body
 * @param {string[]} [named] mentions
 * @returns {EditContent}
 */
export function editMessage(target, me, body, named) {
  if (target.acct !== me) {
    throw new HearthError(ErrorCode.NOT_AUTHOR, `message ${JSON.stringify(target.id)} was sent by another member: only its author can edit it`);
  }
  /** @type {EditContent} */
  const c = { v: VERSION, t: 'edit', target: target.id, body };
  if (named?.length) c.mentions = named;
  return /** @type {EditContent} */ (check(c));
}

/**
 * A reaction (``on``) or its removal on message ``target``.
 * @param {string} target
 * @param {string} emojiText
 * @param {boolean} on
 * @returns {ReactContent}
 */
export function reaction(target, emojiText, on) {
  return /** @type {ReactContent} */ (check({ v: VERSION, t: 'react', target, emoji: emojiText, on }));
}
