/**
 * Browser notifications for messages that arrive while no tab of Hearth is seen
 * (docs/protocol.md §13.4).
 *
 * Invariants: the permission is asked only from a user's gesture (the settings
 * dialog), never on its own; a notification shows a message's text only when this
 * device decrypted it, else a plain "New message"; the user's choice is one of
 * ``mentions`` (mentions and replies to them: the default), ``all`` or ``off``.
 * @module
 */

/** @typedef {'mentions' | 'all' | 'off'} NotifySetting */

/** @type {NotifySetting[]} */
export const NOTIFY_SETTINGS = ['mentions', 'all', 'off'];
export const DEFAULT_NOTIFY = /** @type {NotifySetting} */ ('mentions');
const MAX_BODY = 200;

/**
 * @typedef {object} Arrival what is known of a message that arrived
 * @property {boolean} mine sent by this account
 * @property {boolean} annotation an edit or a reaction (never notified)
 * @property {boolean} mentionsMe its content names this account
 * @property {boolean} repliesToMe it replies to a message of this account
 * @property {string | null} text its text, when this device decrypted it
 * @property {string} sender the sender's name
 * @property {string} channel the channel's name
 */

/**
 * @param {unknown} value a stored setting, maybe missing or from an older version
 * @returns {NotifySetting}
 */
export function notifySetting(value) {
  return NOTIFY_SETTINGS.includes(/** @type {NotifySetting} */ (value)) ? /** @type {NotifySetting} */ (value) : DEFAULT_NOTIFY;
}

/**
 * Whether the setting asks for a notification of this message.
 * @param {NotifySetting} setting
 * @param {Arrival} a
 * @returns {boolean}
 */
export function wanted(setting, a) {
  if (setting === 'off' || a.mine || a.annotation) return false;
  return setting === 'all' || a.mentionsMe || a.repliesToMe;
}

/**
 * The title and body of the notification for a message.
 * @param {Arrival} a
 * @returns {{title: string, body: string}}
 */
export function notification(a) {
  const where = `#${a.channel}`;
  const title = a.mentionsMe ? `${a.sender} mentioned you in ${where}`
    : a.repliesToMe ? `${a.sender} replied to you in ${where}` : `${a.sender} in ${where}`;
  const text = a.text === null ? 'New message' : a.text;
  return { title, body: text.length > MAX_BODY ? `${text.slice(0, MAX_BODY - 1)}…` : text };
}

/**
 * Shows notifications through the Notification API, when it exists and is allowed.
 */
export class Notifier {
  /**
   * @param {{setting: () => NotifySetting, hidden: () => boolean}} when
   */
  constructor(when) {
    this.when = when;
  }

  /** @returns {boolean} the browser has the API */
  static supported() {
    return typeof Notification === 'function';
  }

  /** @returns {NotificationPermission | 'unsupported'} */
  static permission() {
    return Notifier.supported() ? Notification.permission : 'unsupported';
  }

  /**
   * Ask for permission; call only from a user's gesture.
   * @returns {Promise<NotificationPermission | 'unsupported'>}
   */
  static async ask() {
    if (!Notifier.supported()) return 'unsupported';
    return Notification.requestPermission();
  }

  /**
   * Notify of a message if the tab is hidden, the setting wants it and it is allowed.
   * @param {Arrival} a
   * @param {string} tag one notification per message, replaced rather than repeated
   * @param {() => void} open what a click does (show the message's channel)
   * @returns {Notification | null}
   */
  show(a, tag, open) {
    if (!this.when.hidden() || !wanted(this.when.setting(), a)) return null;
    if (Notifier.permission() !== 'granted') return null;
    const { title, body } = notification(a);
    const n = new Notification(title, { body, tag });
    n.onclick = () => {
      window.focus();
      open();
      n.close();
    };
    return n;
  }
}
