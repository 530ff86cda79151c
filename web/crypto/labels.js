/**
 * Every domain-separation label Hearth feeds to HKDF or HPKE (hearth/crypto/labels.py
 * holds the same strings; tests/vectors/hearth_primitives.json pins both).
 * Invariants: ASCII, prefixed "hearth/v1/", no label a prefix of another.
 * @module
 */

export const Label = Object.freeze({
  /** HPKE info: a sender-key session sealed to one member device (one-time prekey). */
  HPKE_KEY_SHARE: 'hearth/v1/hpke/key-share',
  /** HPKE info: account secrets sealed from an existing device to a newly linked one. */
  HPKE_DEVICE_LINK: 'hearth/v1/hpke/device-link',
  /** HKDF info: the AEAD key and nonce of one channel message, from its ratchet key. */
  HKDF_MESSAGE_KEYS: 'hearth/v1/hkdf/message-keys',
  /** HKDF info: the key-backup AEAD key, from the account's recovery secret. */
  HKDF_BACKUP_KEY: 'hearth/v1/hkdf/backup-key',
  /** HKDF info: the identity-backup file key, from the passphrase's PBKDF2 output. */
  HKDF_IDENTITY_BACKUP: 'hearth/v1/hkdf/identity-backup',
  /** HKDF info: the confirmation key of a device-linking short code. */
  HKDF_LINK_CODE: 'hearth/v1/hkdf/link-code',
  /** HKDF info: the next chain key of a sender-key session, from the current one. */
  HKDF_CHAIN_KEY: 'hearth/v1/hkdf/chain-key',
  /** HKDF info: the new device's commitment to its linking key (a hash commitment). */
  HKDF_LINK_COMMIT: 'hearth/v1/hkdf/link-commit',
  /** HKDF info: one account key's half of a safety number. */
  HKDF_SAFETY_NUMBER: 'hearth/v1/hkdf/safety-number',
  /** HKDF info: the 2-byte typo check appended to a generated recovery key. */
  HKDF_RECOVERY_KEY_CHECK: 'hearth/v1/hkdf/recovery-key-check',
});
