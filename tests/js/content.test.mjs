// web/chat/content.js: section 13.1 content, its limits and exact refusals, and (when
// present) the shared vectors of tests/vectors/content.json that hearth/content.py passes.
import assert from 'node:assert/strict';
import test from 'node:test';

import {
  editMessage, encode, parse, reaction, targetOf, textMessage,
} from '../../web/chat/content.js';
import { load } from './_vectors.mjs';

const ALICE = 'A'.repeat(43);
const BOB = 'B'.repeat(43);

/**
 * The code and message of the HearthError ``fn`` throws.
 * @param {() => unknown} fn
 */
function refused(fn) {
  try {
    fn();
  } catch (e) {
    if (e?.name === 'HearthError') return `${e.code}: ${e.message.slice(e.code.length + 2)}`;
    throw e;
  }
  return 'accepted';
}

test('plain text and JSON without v are shown as text', () => {
  for (const raw of ['hello', '{"t":"text","body":"x"}', '[1,2]', '42', 'null', '"quoted"', '{not json']) {
    assert.deepEqual(parse(raw), { v: 1, t: 'text', body: raw });
  }
});

test('each kind round-trips through encode and parse', () => {
  const reply = textMessage('yes!', { parent: { id: 'm1', acct: ALICE, body: 'x'.repeat(300) }, mentions: [ALICE] });
  assert.equal(reply.reply?.quote, 'x'.repeat(200));
  const edit = editMessage({ id: 'm1', acct: ALICE }, ALICE, 'fixed', [BOB]);
  const react = reaction('m1', '👍🏽', true);
  for (const c of [reply, edit, react, textMessage('plain')]) assert.deepEqual(parse(encode(c)), c);
  assert.equal(targetOf(reply), null);
  assert.equal(targetOf(edit), 'm1');
  assert.equal(targetOf(react), 'm1');
});

test('lengths count code points, and a quote never splits an emoji', () => {
  const emojiBody = '😀'.repeat(4000); // 8,000 UTF-16 units, 4,000 characters
  assert.equal(parse(encode(textMessage(emojiBody))).body, emojiBody);
  const c = textMessage('ok', { parent: { id: 'p', acct: ALICE, body: '😀'.repeat(201) } });
  assert.equal(c.reply?.quote, '😀'.repeat(200));
  // A ZWJ sequence is one emoji; 32 bytes is the limit.
  assert.equal(reaction('m', '👩‍👩‍👧‍👦', true).emoji, '👩‍👩‍👧‍👦');
});

test('every refusal names what is wrong, with code bad_content', () => {
  const cases = [
    ['{"v":2,"t":"text","body":"x"}', 'bad_content: unsupported content version 2'],
    ['{"v":1,"t":"poll","body":"x"}', 'bad_content: unknown content type "poll"'],
    ['{"v":1,"body":"x"}', 'bad_content: missing field content.t'],
    ['{"v":"1","t":"text","body":"x"}', 'bad_content: unsupported content version "1"'],
    ['{"v":1,"t":"text","body":"x","color":"red"}', 'bad_content: unknown field content.color'],
    ['{"v":1,"t":"text"}', 'bad_content: missing field content.body'],
    ['{"v":1,"t":"text","body":""}', 'bad_content: body must be 1 to 4000 characters, not 0'],
    [JSON.stringify({ v: 1, t: 'text', body: 'x'.repeat(4001) }), 'bad_content: body must be 1 to 4000 characters, not 4001'],
    ['{"v":1,"t":"text","body":7}', 'bad_content: body must be a string'],
    ['{"v":1,"t":"text","body":"x","reply":"m1"}', 'bad_content: reply must be an object'],
    [JSON.stringify({ v: 1, t: 'text', body: 'x', reply: { id: 'm', acct: ALICE } }), 'bad_content: missing field reply.quote'],
    [JSON.stringify({ v: 1, t: 'text', body: 'x', reply: { id: 'm', acct: 'short', quote: '' } }), 'bad_content: reply.acct must be an account key'],
    [JSON.stringify({ v: 1, t: 'text', body: 'x', reply: { id: 'm', acct: ALICE, quote: 'q'.repeat(201) } }), 'bad_content: reply.quote must be 0 to 200 characters, not 201'],
    [JSON.stringify({ v: 1, t: 'text', body: 'x', reply: { id: '', acct: ALICE, quote: '' } }), 'bad_content: reply.id must be a message id: 1 to 64 characters of A-Z a-z 0-9 _ -'],
    [JSON.stringify({ v: 1, t: 'text', body: 'x', mentions: [] }), 'bad_content: mentions must be a list of 1 to 50 account keys'],
    [JSON.stringify({ v: 1, t: 'text', body: 'x', mentions: Array(51).fill(ALICE) }), 'bad_content: mentions must be a list of 1 to 50 account keys'],
    [JSON.stringify({ v: 1, t: 'text', body: 'x', mentions: [ALICE, ALICE] }), 'bad_content: mentions must not repeat an account'],
    [JSON.stringify({ v: 1, t: 'text', body: 'x', mentions: [ALICE, 3] }), 'bad_content: mentions[1] must be an account key'],
    ['{"v":1,"t":"edit","body":"x"}', 'bad_content: missing field content.target'],
    ['{"v":1,"t":"edit","target":"m","body":"x","reply":{}}', 'bad_content: unknown field content.reply'],
    ['{"v":1,"t":"react","target":"m","emoji":"👍"}', 'bad_content: missing field content.on'],
    ['{"v":1,"t":"react","target":"m","emoji":"👍","on":1}', 'bad_content: on must be true or false'],
    ['{"v":1,"t":"react","target":"m","emoji":"","on":true}', 'bad_content: emoji must be 1 to 32 UTF-8 bytes, not 0'],
    [JSON.stringify({ v: 1, t: 'react', target: 'm', emoji: '😀'.repeat(9), on: true }), 'bad_content: emoji must be 1 to 32 UTF-8 bytes, not 36'],
    ['{"v":1,"t":"react","target":"m","emoji":"a b","on":true}', 'bad_content: emoji must not hold whitespace or control characters'],
    ['{"v":1,"t":"react","target":"m","emoji":"a\\u0000","on":true}', 'bad_content: emoji must not hold whitespace or control characters'],
    [JSON.stringify({ v: 1, t: 'react', target: 'x'.repeat(65), emoji: '👍', on: true }), 'bad_content: target must be a message id: 1 to 64 characters of A-Z a-z 0-9 _ -'],
  ];
  for (const [raw, want] of cases) assert.equal(refused(() => parse(raw)), want, raw);
});

test('a client refuses to send what a peer would refuse', () => {
  assert.equal(refused(() => editMessage({ id: 'm1', acct: ALICE }, BOB, 'mine now')),
    'not_author: message "m1" was sent by another member: only its author can edit it');
  assert.equal(refused(() => textMessage('')), 'bad_content: body must be 1 to 4000 characters, not 0');
  assert.equal(refused(() => reaction('m1', 'two words', true)),
    'bad_content: emoji must not hold whitespace or control characters');
  assert.equal(refused(() => encode(/** @type {any} */ ({ v: 1, t: 'text', body: 'x', extra: 1 }))),
    'bad_content: unknown field content.extra');
});

test('tests/vectors/content.json: the same verdicts, messages and spelling as hearth/content.py', () => {
  const data = load('content.json');
  assert.ok(data.valid.length && data.plain.length && data.invalid.length, 'the vector file holds no cases');
  for (const v of data.valid) {
    assert.deepEqual(parse(v.plaintext), v.content, v.name);
    // Keys in encoded order too: the spelling both implementations send.
    assert.deepEqual(Object.keys(parse(v.plaintext)), Object.keys(v.content), v.name);
    if (v.canonical) assert.equal(encode(v.content), v.plaintext, v.name);
  }
  for (const v of data.plain) assert.deepEqual(parse(v.plaintext), v.content, v.name);
  for (const v of data.invalid) assert.equal(refused(() => parse(v.plaintext)), `${v.code}: ${v.msg}`, v.name);
});
