// The browser's awareness modules that need no browser: markers throttled per channel
// (web/chat/receipts.js), unread and mention counts (web/chat/unread.js, mentions by the
// latest applied version through web/chat/conversation.js), the
// notification rules (web/chat/notify.js) and @mention parsing (web/chat/mentions.js).
import assert from 'node:assert/strict';
import test from 'node:test';

import { MarkSender, ReceiptBook, receiptText, receiptTitle } from '../../web/chat/receipts.js';
import { badgeText, UnreadCounts } from '../../web/chat/unread.js';
import { editMessage, reaction, textMessage } from '../../web/chat/content.js';
import { held } from '../../web/chat/conversation.js';
import { notification, notifySetting, wanted } from '../../web/chat/notify.js';
import { insertMention, mentionAt, mentionsIn, suggest } from '../../web/chat/mentions.js';

/** A clock the test moves by hand. */
function fakeClock() {
  let now = 1_000;
  /** @type {Array<{at: number, f: () => void, id: number}>} */
  let timers = [];
  let next = 0;
  return {
    now: () => now,
    setTimeout: (f, ms) => { timers.push({ at: now + ms, f, id: ++next }); return next; },
    clearTimeout: (id) => { timers = timers.filter((t) => t.id !== id); },
    pending: () => timers.length,
    /** @param {number} ms */
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.f();
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

/** Accounts as content names them (43 base64url characters): this one, and others. */
const ME = 'M'.repeat(43);
const X = 'X'.repeat(43);

/**
 * A message as this device opened it.
 * @param {string} id
 * @param {number} seq
 * @param {string} acct
 * @param {import('../../web/chat/content.js').Content | null} content
 */
function said(id, seq, acct, content) {
  const re = content && content.t !== 'text' ? content.target : null;
  return held({ seq, id, acct, ts: seq * 1000, re, exp: null, del: false, dev: '', env: '', sess: null }, content);
}

test('marks go out at once, then at most once per channel per window, with the highest values', async () => {
  const clock = fakeClock();
  /** @type {Array<[string, string, object]>} */
  const sent = [];
  const sender = new MarkSender(async (space, chan, args) => {
    sent.push([space, chan, args]);
    return { read: args.read ?? 0, delivered: Math.max(args.delivered ?? 0, args.read ?? 0) };
  }, { every: 2_000, clock });
  sender.mark('s', 'c', { delivered: 3 });
  await tick();
  assert.deepEqual(sent, [['s', 'c', { delivered: 3 }]]);
  // Within the window: held, raised, sent once when the window ends.
  sender.mark('s', 'c', { delivered: 4 });
  sender.mark('s', 'c', { read: 5 });
  sender.mark('s', 'c', { delivered: 2 });
  await tick();
  assert.equal(sent.length, 1);
  // Another channel has its own window.
  sender.mark('s', 'd', { read: 1 });
  await tick();
  assert.deepEqual(sent[1], ['s', 'd', { read: 1 }]);
  clock.advance(1_999);
  await tick();
  assert.equal(sent.length, 2);
  clock.advance(1);
  await tick();
  // read raises delivered at the host: no delivered of its own (5 >= 4).
  assert.deepEqual(sent[2], ['s', 'c', { read: 5 }]);
  // Nothing new: nothing sent, no timer left.
  sender.mark('s', 'c', { read: 4, delivered: 5 });
  clock.advance(5_000);
  await tick();
  assert.equal(sent.length, 3);
  assert.equal(clock.pending(), 0);
  // delivered beyond read goes with it.
  sender.mark('s', 'c', { read: 6, delivered: 9 });
  await tick();
  assert.deepEqual(sent[3], ['s', 'c', { read: 6, delivered: 9 }]);
  // The page goes away: what waits for its window goes at once.
  sender.mark('s', 'c', { read: 9 });
  sender.flush();
  await tick();
  assert.deepEqual(sent[4], ['s', 'c', { read: 9 }]);
  assert.equal(clock.pending(), 0);
});

test('a refused mark is dropped, not retried forever', async () => {
  const clock = fakeClock();
  let calls = 0;
  const sender = new MarkSender(async () => { calls += 1; throw new Error('bad_request'); }, { clock });
  const warn = console.warn;
  console.warn = () => {};
  try {
    sender.mark('s', 'c', { read: 12 });
    await tick();
    clock.advance(10_000);
    await tick();
  } finally {
    console.warn = warn;
  }
  assert.equal(calls, 1);
  assert.equal(clock.pending(), 0);
});

test('receipts: read beats delivered, markers only rise, a full set drops who stopped sharing', () => {
  const book = new ReceiptBook();
  assert.deepEqual(book.receipt('s', 'c', 1, 'me'), { state: 'none', readBy: [], deliveredTo: [], of: 0 });
  book.set('s', 'c', [{ acct: 'me', read: 9, delivered: 9 }, { acct: 'b', read: 0, delivered: 0 }, { acct: 'c', read: 0, delivered: 0 }]);
  assert.equal(receiptText(book.receipt('s', 'c', 4, 'me')), '');
  assert.equal(book.receipt('s', 'c', 4, 'me').state, 'sent');
  book.merge('s', 'c', [{ acct: 'b', read: 0, delivered: 4 }]);
  assert.equal(receiptText(book.receipt('s', 'c', 4, 'me')), 'Delivered to 1 of 2');
  book.merge('s', 'c', [{ acct: 'c', read: 0, delivered: 5 }]);
  assert.equal(receiptText(book.receipt('s', 'c', 4, 'me')), 'Delivered');
  book.merge('s', 'c', [{ acct: 'b', read: 4, delivered: 0 }]);
  const r = book.receipt('s', 'c', 4, 'me');
  assert.deepEqual(r, { state: 'read', readBy: ['b'], deliveredTo: ['c'], of: 2 });
  assert.equal(receiptText(r), 'Read by 1 of 2');
  assert.equal(receiptTitle(r, (a) => a.toUpperCase()), 'Read by B\nDelivered to C');
  // A lower marker from a late event never lowers what is held.
  book.merge('s', 'c', [{ acct: 'b', read: 1, delivered: 1 }]);
  assert.equal(receiptText(book.receipt('s', 'c', 4, 'me')), 'Read by 1 of 2');
  assert.equal(receiptText(book.receipt('s', 'c', 5, 'me')), 'Delivered to 1 of 2');
  // b turned receipts off: channel.receipts no longer lists them.
  book.set('s', 'c', [{ acct: 'me', read: 9, delivered: 9 }, { acct: 'c', read: 0, delivered: 5 }]);
  assert.equal(receiptText(book.receipt('s', 'c', 4, 'me')), 'Delivered');
  assert.equal(book.receipt('x', 'c', 4, 'me').state, 'none');
});

test('receipts: a member who joined after the message is not counted as having read it', () => {
  const book = new ReceiptBook();
  // d joined later: its marker starts at the channel's end (9), past message 4.
  book.set('s', 'c', [{ acct: 'b', read: 4, delivered: 4 }, { acct: 'd', read: 9, delivered: 9 }]);
  assert.equal(receiptText(book.receipt('s', 'c', 4, 'me')), 'Read by 2 of 2');
  const r = book.receipt('s', 'c', 4, 'me', (acct) => acct !== 'd');
  assert.deepEqual(r, { state: 'read', readBy: ['b'], deliveredTo: [], of: 1 });
  assert.equal(receiptText(book.receipt('s', 'c', 4, 'me', () => false)), '');
});

test('unread: the host counts, live messages add, own and annotations do not, reading clears', () => {
  const u = new UnreadCounts(ME);
  assert.equal(u.has('s'), false);
  u.load('s', [
    { chan: 'a', read: 3, last: 5, unread: 2, first_unread: 4 },
    { chan: 'b', read: 0, last: 0, unread: 0, first_unread: null },
  ]);
  assert.deepEqual(u.space('s'), { unread: 2, mentions: 0 });
  assert.equal(u.has('s'), true);
  assert.equal(u.message('s', 'b', { seq: 1, id: 'm1', acct: X, re: '' }), true);
  assert.equal(u.message('s', 'b', { seq: 1, id: 'm1', acct: X, re: '' }), false, 'a duplicate');
  assert.equal(u.message('s', 'b', { seq: 2, id: 'm2', acct: ME, re: '' }), false, 'own');
  assert.equal(u.message('s', 'b', { seq: 3, id: 'm3', acct: X, re: 'm1' }), false, 'annotation');
  assert.equal(u.message('s', 'b', { seq: 4, id: 'm4', acct: X, re: '' }), true);
  assert.equal(u.message('nowhere', 'b', { seq: 4, id: 'm4', acct: X }), false);
  u.opened('s', 'b', said('m4', 4, X, textMessage('hi @Me', { mentions: [ME] })));
  assert.deepEqual(u.channel('s', 'b'), { unread: 2, mentions: 1 });
  assert.equal(u.get('s', 'b')?.firstUnread, 1);
  assert.deepEqual(u.space('s'), { unread: 4, mentions: 1 });
  // Reading up to 1 of b: exact, since b's unread all arrived live.
  assert.equal(u.read('s', 'b', 1), false);
  assert.deepEqual(u.channel('s', 'b'), { unread: 1, mentions: 1 });
  assert.equal(u.get('s', 'b')?.firstUnread, 4);
  // Reading a in part: the host counted those, so the count must be asked again.
  assert.equal(u.read('s', 'a', 4), true);
  // Reading to the end clears, mentions too; an old marker changes nothing.
  assert.equal(u.read('s', 'b', 4), false);
  assert.deepEqual(u.channel('s', 'b'), { unread: 0, mentions: 0 });
  assert.equal(u.get('s', 'b')?.firstUnread, null);
  assert.equal(u.read('s', 'b', 2), false);
  assert.equal(u.message('s', 'b', { seq: 3, id: 'late', acct: X }), false, 'already read');
  assert.deepEqual(u.channel('s', 'zzz'), { unread: 0, mentions: 0 });
});

test('unread: a delete takes away what was seen arrive, and asks again for what the host counted', () => {
  const u = new UnreadCounts(ME);
  u.load('s', [{ chan: 'a', read: 0, last: 2, unread: 2, first_unread: 1 }]);
  u.message('s', 'a', { seq: 3, id: 'm3', acct: X });
  u.opened('s', 'a', said('m3', 3, X, textMessage('hi @Me', { mentions: [ME] })));
  assert.equal(u.deleted('s', 'a', ['m3']), false);
  assert.deepEqual(u.channel('s', 'a'), { unread: 2, mentions: 0 });
  assert.equal(u.deleted('s', 'a', ['m1']), true);
  // A reload keeps mentions found and still unread, drops those now read.
  u.message('s', 'a', { seq: 4, id: 'm4', acct: X });
  u.opened('s', 'a', said('m4', 4, X, textMessage('hi @Me', { mentions: [ME] })));
  u.opened('s', 'a', said('old', 0, X, textMessage('hi @Me', { mentions: [ME] })));
  u.load('s', [{ chan: 'a', read: 0, last: 4, unread: 3, first_unread: 2 }]);
  assert.deepEqual(u.channel('s', 'a'), { unread: 3, mentions: 1 });
  u.load('s', [{ chan: 'a', read: 4, last: 4, unread: 0, first_unread: null }]);
  assert.deepEqual(u.channel('s', 'a'), { unread: 0, mentions: 0 });
  // With nothing unread a delete of anything is known to change nothing.
  assert.equal(u.deleted('s', 'a', ['m2']), false);
  assert.equal(badgeText(7), '7');
  assert.equal(badgeText(999), '999');
  assert.equal(badgeText(1000), '999+');
});

test('mentions: counted by the latest applied version, as the highlight is (section 13.1)', () => {
  const u = new UnreadCounts(ME);
  u.load('s', [{ chan: 'a', read: 0, last: 0, unread: 0, first_unread: null }]);
  const arrive = (/** @type {ReturnType<typeof said>} */ m) => {
    u.message('s', 'a', m);
    return u.wants('s', 'a', m) ? u.opened('s', 'a', m) : false;
  };
  const plain = said('m1', 1, X, textMessage('see you at eight'));
  const named = said('m2', 2, X, textMessage('@Me bring snacks', { mentions: [ME] }));
  assert.equal(arrive(plain), false);
  assert.equal(arrive(named), true);
  assert.deepEqual(u.channel('s', 'a'), { unread: 2, mentions: 1 });

  // An edit that names me makes its message a mention; one that drops me unmakes it.
  assert.equal(arrive(said('e1', 3, X, editMessage(plain, X, '@Me see you at eight', [ME]))), true);
  assert.deepEqual(u.channel('s', 'a'), { unread: 2, mentions: 2 });
  assert.equal(arrive(said('e2', 4, X, editMessage(named, X, 'bring snacks'))), true);
  assert.deepEqual(u.channel('s', 'a'), { unread: 2, mentions: 1 });
  assert.deepEqual([...(u.get('s', 'a')?.mentions.keys() ?? [])], ['m1']);
  // A reaction moves nothing; an "edit" by someone else is no version (not_author).
  assert.equal(arrive(said('r1', 5, X, reaction('m1', '👍', true))), false);
  const impostor = 'I'.repeat(43);
  assert.equal(arrive(said('e3', 6, impostor, { v: 1, t: 'edit', target: 'm1', body: 'quiet' })), false);
  assert.deepEqual(u.channel('s', 'a'), { unread: 2, mentions: 1 });
  // Deleting the edit that named me gives the original back: no mention.
  assert.equal(u.deleted('s', 'a', ['e1']), false);
  assert.deepEqual(u.channel('s', 'a'), { unread: 2, mentions: 0 });

  // Order does not matter: an edit opened before its message (still opening) counts.
  const late = said('m3', 7, X, textMessage('later'));
  u.message('s', 'a', late);
  const edit = said('e4', 8, X, editMessage(late, X, '@Me later', [ME]));
  assert.equal(arrive(edit), false, 'nothing to count until its message is opened');
  assert.equal(u.opened('s', 'a', late), true);
  assert.deepEqual(u.channel('s', 'a'), { unread: 3, mentions: 1 });

  // What is read, or mine, is not looked at; reading everything forgets the fold.
  assert.equal(u.wants('s', 'a', said('m4', 9, ME, textMessage('mine'))), false);
  u.read('s', 'a', 8);
  assert.deepEqual(u.channel('s', 'a'), { unread: 0, mentions: 0 });
  assert.equal(u.wants('s', 'a', said('e5', 10, X, editMessage(late, X, '@Me again', [ME]))), false);
  assert.equal(u.get('s', 'a')?.opened.messages.size, 0);
});

test('notifications: mentions and replies by default, all, or off; text only when decrypted', () => {
  const base = { mine: false, annotation: false, mentionsMe: false, repliesToMe: false, text: 'hi there', sender: 'Olive', channel: 'general' };
  assert.equal(notifySetting(undefined), 'mentions');
  assert.equal(notifySetting('loud'), 'mentions');
  assert.equal(notifySetting('off'), 'off');
  assert.equal(wanted('mentions', base), false);
  assert.equal(wanted('mentions', { ...base, mentionsMe: true }), true);
  assert.equal(wanted('mentions', { ...base, repliesToMe: true }), true);
  assert.equal(wanted('all', base), true);
  assert.equal(wanted('all', { ...base, mine: true }), false);
  assert.equal(wanted('all', { ...base, annotation: true }), false);
  assert.equal(wanted('off', { ...base, mentionsMe: true }), false);
  assert.deepEqual(notification({ ...base, mentionsMe: true }), { title: 'Olive mentioned you in #general', body: 'hi there' });
  assert.deepEqual(notification({ ...base, repliesToMe: true }), { title: 'Olive replied to you in #general', body: 'hi there' });
  assert.deepEqual(notification({ ...base, text: null }), { title: 'Olive in #general', body: 'New message' });
  const long = notification({ ...base, text: 'x'.repeat(300) }).body;
  assert.equal(long.length, 200);
  assert.ok(long.endsWith('…'));
});

test('mentions: the query at the caret, suggestions, insertion, and what the text still names', () => {
  assert.deepEqual(mentionAt('hi @Mi', 6), { start: 3, query: 'Mi' });
  assert.deepEqual(mentionAt('@', 1), { start: 0, query: '' });
  assert.equal(mentionAt('mail@example', 12), null);
  assert.equal(mentionAt('hi @Mia there', 13), null);
  const people = [
    { acct: 'me', name: 'Mira' }, { acct: 'b', name: 'Mia' }, { acct: 'c', name: 'Sam Mitchell' },
    { acct: 'd', name: null }, { acct: 'e', name: 'Olive' },
  ];
  assert.deepEqual(suggest(people, 'mi', 'me').map((p) => p.acct), ['b', 'c']);
  assert.deepEqual(suggest(people, '', 'me').map((p) => p.acct), ['b', 'c', 'e']);
  assert.deepEqual(insertMention('hi @Mi', 6, 3, 'Mia'), { text: 'hi @Mia ', caret: 8 });
  assert.deepEqual(insertMention('@M and', 2, 0, 'Mia'), { text: '@Mia and', caret: 5 });
  const chosen = new Map([['b', 'Mia'], ['e', 'Olive']]);
  assert.deepEqual(mentionsIn('hi @Mia and @Olive!', chosen), ['b', 'e']);
  assert.deepEqual(mentionsIn('hi @Miami', chosen), [], 'a longer word is not the name');
  assert.deepEqual(mentionsIn('email@Mia.org', chosen), [], 'not after a space');
  assert.deepEqual(mentionsIn('@Miami then @Mia', chosen), ['b']);
  assert.deepEqual(mentionsIn('no one', chosen), []);
});
