// web/chat/conversation.js: folding messages and annotations into rows, in any order of
// arrival (history loads newest first), with the rules of docs/protocol.md section 13.1.
import assert from 'node:assert/strict';
import test from 'node:test';

import { editMessage, reaction, textMessage } from '../../web/chat/content.js';
import { Conversation, EMOJI_PER_ACCOUNT } from '../../web/chat/conversation.js';
import { Reason } from '../../web/e2e/reasons.js';

const ALICE = 'A'.repeat(43);
const BOB = 'B'.repeat(43);
const CARL = 'C'.repeat(43);

let nextSeq = 1;
/**
 * A delivered message (seq in the order of creation).
 * @param {string} id
 * @param {string} acct
 * @param {import('../../web/chat/content.js').Content | null} content
 * @param {{re?: string | null, exp?: number | null, seq?: number}} [extra]
 * @returns {import('../../web/chat/conversation.js').Held}
 */
function msg(id, acct, content, { re, exp = null, seq } = {}) {
  const target = content && content.t !== 'text' ? content.target : null;
  const s = seq ?? nextSeq++;
  return { seq: s, id, acct, ts: 1000 * s, re: re === undefined ? target : re, exp, content };
}

/**
 * Fold ``held`` into a new conversation in the given order.
 * @param {string} me
 * @param {ReturnType<typeof msg>[]} held
 */
function fold(me, held) {
  const c = new Conversation(me);
  for (const m of held) c.add(m);
  return c;
}

/** Every order of ``items`` (small lists only). @template T @param {T[]} items @returns {T[][]} */
function orders(items) {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) => orders([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]));
}

test('the fold is the same whatever order the messages arrive in', () => {
  const all = [
    msg('m1', ALICE, textMessage('first')),
    msg('e1', ALICE, editMessage({ id: 'm1', acct: ALICE }, ALICE, 'second')),
    msg('r1', BOB, reaction('m1', '👍', true)),
    msg('e2', ALICE, editMessage({ id: 'm1', acct: ALICE }, ALICE, 'third')),
    msg('r2', BOB, reaction('m1', '👍', false)),
  ];
  const want = fold(ALICE, all).shown('m1');
  assert.equal(want?.body, 'third');
  assert.deepEqual(want?.versions.map((v) => v.body), ['first', 'second', 'third']);
  assert.equal(want?.edited, true);
  assert.deepEqual(want?.reactions, []);
  for (const order of orders(all)) assert.deepEqual(fold(ALICE, order).shown('m1'), want);
});

test('annotations are no rows, and the changed rows are reported', () => {
  const c = new Conversation(BOB);
  const edit = msg('e1', ALICE, editMessage({ id: 'm1', acct: ALICE }, ALICE, 'fixed'));
  assert.deepEqual([...c.add(edit)], ['m1']); // held: the target is not here yet
  assert.equal(c.shown('m1'), null);
  assert.equal(c.shown('e1'), null);
  assert.deepEqual([...c.add(msg('m1', ALICE, textMessage('fxied'), { seq: 0 }))], ['m1']);
  assert.equal(c.shown('m1')?.body, 'fixed');
  assert.equal(c.shown('e1'), null);
});

test('an edit counts only from the author; others are dropped with not_author', () => {
  const c = fold(BOB, [
    msg('m1', ALICE, textMessage('mine')),
    msg('e1', BOB, { v: 1, t: 'edit', target: 'm1', body: 'hijacked' }),
  ]);
  const shown = c.shown('m1');
  assert.equal(shown?.body, 'mine');
  assert.equal(shown?.edited, false);
  assert.deepEqual(c.dropped.map((d) => [d.id, d.reason]), [['e1', 'not_author']]);
});

test('annotations that lie about their target or come without re are bad_content', () => {
  const c = fold(ALICE, [
    msg('m1', ALICE, textMessage('one')),
    msg('m2', ALICE, textMessage('two')),
    msg('e1', ALICE, editMessage({ id: 'm1', acct: ALICE }, ALICE, 'moved'), { re: 'm2' }),
    msg('r1', BOB, reaction('m1', '🎉', true), { re: null }),
    msg('t1', BOB, textMessage('a text as an annotation'), { re: 'm1' }),
  ]);
  assert.equal(c.shown('m1')?.body, 'one');
  assert.equal(c.shown('m2')?.body, 'two');
  assert.deepEqual(c.shown('m1')?.reactions, []);
  // Published without re: no row and no effect (as in hearth/e2e/conversation.py).
  assert.equal(c.shown('r1'), null);
  assert.deepEqual(c.dropped.map((d) => [d.id, d.reason]).sort(),
    [['e1', 'bad_content'], ['r1', 'bad_content'], ['t1', 'bad_content']]);
});

test('reactions: latest by seq per (account, emoji), with who, and mine', () => {
  const c = fold(BOB, [
    msg('m1', ALICE, textMessage('party?')),
    msg('r1', BOB, reaction('m1', '🎉', true)),
    msg('r2', CARL, reaction('m1', '🎉', true)),
    msg('r3', CARL, reaction('m1', '👍', true)),
    msg('r4', CARL, reaction('m1', '🎉', false)),
    msg('r5', ALICE, reaction('m1', '🎉', true)),
    msg('r6', BOB, reaction('m1', '🎉', true)), // again: still one
  ]);
  assert.deepEqual(c.shown('m1')?.reactions, [
    { emoji: '🎉', accts: [BOB, ALICE], mine: true },
    { emoji: '👍', accts: [CARL], mine: false },
  ]);
});

test(`an account counts at most ${EMOJI_PER_ACCOUNT} emoji on one message`, () => {
  const emoji = Array.from({ length: EMOJI_PER_ACCOUNT + 1 }, (_, i) => String.fromCodePoint(0x1F600 + i));
  const held = [msg('m1', ALICE, textMessage('react to me'))];
  for (const e of emoji) held.push(msg(`r${e}`, BOB, reaction('m1', e, true)));
  let c = fold(ALICE, held);
  assert.deepEqual(c.shown('m1')?.reactions.map((r) => r.emoji), emoji.slice(0, EMOJI_PER_ACCOUNT));
  // One taken off makes room; the 21st counts when it is sent again.
  held.push(msg('off', BOB, reaction('m1', emoji[0], false)));
  held.push(msg('again', BOB, reaction('m1', emoji[EMOJI_PER_ACCOUNT], true)));
  c = fold(ALICE, held);
  assert.deepEqual(c.shown('m1')?.reactions.map((r) => r.emoji), emoji.slice(1));
  // Another account is not limited by Bob's.
  c.add(msg('carl', CARL, reaction('m1', emoji[0], true)));
  assert.equal(c.shown('m1')?.reactions.length, EMOJI_PER_ACCOUNT + 1);
});

test('a reply shows the parent as held (edited, deleted) else the quote', () => {
  const parent = textMessage('original words');
  const child = textMessage('agreed', { parent: { id: 'p1', acct: ALICE, body: 'original words' } });
  const c = new Conversation(BOB);
  c.add(msg('c1', BOB, child));
  assert.deepEqual(c.shown('c1')?.reply, { id: 'p1', acct: ALICE, state: 'quoted', text: 'original words' });
  assert.deepEqual([...c.add(msg('p1', ALICE, parent, { seq: 0 }))].sort(), ['c1', 'p1']);
  assert.deepEqual(c.shown('c1')?.reply, { id: 'p1', acct: ALICE, state: 'held', text: 'original words' });
  const changed = c.add(msg('e1', ALICE, editMessage({ id: 'p1', acct: ALICE }, ALICE, 'better words')));
  assert.deepEqual([...changed].sort(), ['c1', 'p1']);
  assert.equal(c.shown('c1')?.reply?.text, 'better words');
  assert.deepEqual([...c.remove(['p1'])].sort(), ['c1', 'p1']);
  assert.deepEqual(c.shown('c1')?.reply, { id: 'p1', acct: ALICE, state: 'deleted', text: 'Original message was deleted' });
});

test('a tombstone from history removes what it names', () => {
  const c = fold(ALICE, [msg('m1', ALICE, textMessage('soon deleted'))]);
  assert.deepEqual([...c.add({ ...msg('m1', ALICE, null, { seq: 1 }), del: true })], ['m1']);
  assert.equal(c.shown('m1'), null);
  assert.ok(c.gone.has('m1'));
});

test('deleting drops the message with its annotations, for good', () => {
  const c = fold(ALICE, [
    msg('m1', ALICE, textMessage('oops')),
    msg('r1', BOB, reaction('m1', '😮', true)),
  ]);
  assert.deepEqual([...c.remove(['m1', 'r1'])], ['m1']);
  assert.equal(c.shown('m1'), null);
  assert.equal(c.annotations.size, 0);
  // A stale copy (a history page fetched before the delete) does not bring it back.
  c.add(msg('m1', ALICE, textMessage('oops'), { seq: 1 }));
  c.add(msg('e9', ALICE, editMessage({ id: 'm1', acct: ALICE }, ALICE, 'back?')));
  assert.equal(c.shown('m1'), null);
  // Deleting one reaction undoes only it.
  const d = fold(ALICE, [msg('m2', ALICE, textMessage('hi')), msg('r2', BOB, reaction('m2', '👋', true))]);
  assert.deepEqual([...d.remove(['r2'])], ['m2']);
  assert.deepEqual(d.shown('m2')?.reactions, []);
  assert.equal(d.shown('m2')?.body, 'hi');
});

test('messages disappear at exp locally, annotations included', () => {
  const c = fold(ALICE, [
    msg('m1', ALICE, textMessage('soon gone'), { exp: 5000 }),
    msg('m2', ALICE, textMessage('stays')),
    msg('r1', BOB, reaction('m2', '⏳', true), { exp: 7000 }),
  ]);
  assert.equal(c.nextExpiry(), 5000);
  assert.deepEqual([...c.expire(4999)], []);
  assert.deepEqual([...c.expire(5000)], ['m1']);
  assert.equal(c.shown('m1'), null);
  assert.equal(c.nextExpiry(), 7000);
  assert.equal(c.shown('m2')?.reactions.length, 1);
  assert.deepEqual([...c.expire(7000)], ['m2']);
  assert.deepEqual(c.shown('m2')?.reactions, []);
  assert.equal(c.nextExpiry(), null);
});

test('mentions come from the latest applied version', () => {
  const c = fold(BOB, [
    msg('m1', ALICE, textMessage('hey', { mentions: [BOB] })),
  ]);
  assert.equal(c.mentionsMe('m1'), true);
  c.add(msg('e1', ALICE, editMessage({ id: 'm1', acct: ALICE }, ALICE, 'hey Carl', [CARL])));
  assert.equal(c.mentionsMe('m1'), false);
  c.add(msg('e2', CARL, { v: 1, t: 'edit', target: 'm1', body: 'hey Bob', mentions: [BOB] }));
  assert.equal(c.mentionsMe('m1'), false); // not the author's edit
});

test('a message that cannot be opened is a row with its reason; re-added once opened', () => {
  const c = new Conversation(ALICE);
  c.add({ ...msg('m1', BOB, null), failure: Reason.NOT_SHARED_YET });
  assert.equal(c.shown('m1')?.failure, Reason.NOT_SHARED_YET);
  c.add(msg('m1', BOB, textMessage('now readable'), { seq: c.shown('m1')?.seq }));
  assert.equal(c.shown('m1')?.body, 'now readable');
  assert.equal(c.shown('m1')?.failure, null);
});
