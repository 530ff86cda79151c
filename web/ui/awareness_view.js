/**
 * Awareness in the app's view (chat/awareness.js is the model): a shown channel is
 * marked read when it opens in a visible tab and again when the tab comes back, with a
 * divider before what was unread; its rows get mention highlights and receipt labels
 * (ui/channel_marks.js); its composer gets the @mention picker (ui/mention_picker.js);
 * and a message that arrives while no tab of this device is seen may notify.
 * @module
 */

import { Notifier } from '../chat/notify.js';
import { ChannelMarks } from './channel_marks.js';
import { MentionPicker } from './mention_picker.js';
import { loadNotifySetting } from './settings_dialog.js';

/**
 * @typedef {import('../app.js').App} App
 * @typedef {import('./channel_view.js').ChannelView} ChannelView
 */

/**
 * Awareness for the view just made; ``destroy`` it with the view.
 * @param {App} app
 * @param {ChannelView} view
 * @param {Promise<unknown>} opening the view's first page loading
 * @returns {{marks: ChannelMarks, picker: MentionPicker, destroy: () => void}}
 */
export function attachAwareness(app, view, opening) {
  const hostId = view.session.hostId;
  const space = view.space.id;
  const chan = view.channel.id;
  const me = app.identity.account;
  const marks = new ChannelMarks(view.list, {
    me,
    mentionsMe: (id) => view.conversation.mentionsMe(id),
    // Members who joined after a message was sent never had it to read.
    receipt: (seq, ts) => {
      const joined = new Map((app.members.get(`${hostId}/${space}`) ?? []).map((m) => [m.acct, m.joined_at]));
      return app.awareness.receipt(hostId, space, chan, seq, (acct) => (joined.get(acct) ?? 0) <= ts);
    },
    nameOf: (acct) => app.nameOf(acct),
  });
  const picker = new MentionPicker(view.composer.input, { me, members: () => app.members.get(`${hostId}/${space}`) ?? [] });
  view.composer.box.before(picker.list);
  view.composer.mentionPicker = picker;

  const listening = new AbortController();
  let opened = false;
  let dividerShown = false;
  const read = () => {
    if (!opened || document.visibilityState !== 'visible') return;
    const first = app.awareness.viewing(hostId, space, chan, view.timeline.newest);
    if (first !== null && !dividerShown) {
      dividerShown = true;
      marks.showDivider(first);
    }
  };
  void opening.then(() => {
    opened = true;
    read();
  });
  document.addEventListener('visibilitychange', read, { signal: listening.signal });
  const redraw = (/** @type {Event} */ e) => {
    const d = /** @type {CustomEvent} */ (e).detail;
    if (d.hostId === hostId && d.space === space && d.chan === chan) marks.refresh();
  };
  app.awareness.addEventListener('receipts', redraw, { signal: listening.signal });
  void app.awareness.loadReceipts(hostId, space, chan).then((loaded) => {
    if (loaded) view.list.dataset.receipts = 'loaded'; // the marks shown are the host's
  });
  return {
    marks, picker,
    destroy: () => {
      listening.abort();
      marks.destroy();
      picker.reset();
    },
  };
}

/**
 * Notify of a message from someone else if this device shows no tab of Hearth (only the
 * tab that owns the device notifies: one notification per device).
 * @param {App} app
 * @param {string} hostId
 * @param {string} space
 * @param {string} chan
 * @param {import('../chat/timeline.js').StoredMessage} m
 * @param {import('../chat/awareness.js').Opened} opened
 */
export async function notifyArrival(app, hostId, space, chan, m, opened) {
  const hidden = () => document.visibilityState === 'hidden' && !app.tabs?.anyVisible();
  if (app.link || !hidden()) return; // (and no need to read the setting)
  const setting = await loadNotifySetting();
  const channel = app.sessions.get(hostId)?.spaces.get(space)?.channels.find((c) => c.id === chan);
  const notifier = new Notifier({ setting: () => setting, hidden });
  notifier.show({
    mine: false, annotation: Boolean(m.re), mentionsMe: opened.mentionsMe, repliesToMe: opened.repliesToMe,
    text: opened.text, sender: app.nameOf(m.acct), channel: channel?.name ?? 'a channel',
  }, `${hostId}/${m.id}`, () => app.select(hostId, space, chan));
}
