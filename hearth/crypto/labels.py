"""Every domain-separation label Hearth feeds to HKDF or HPKE, in one place.

``web/crypto/labels.js`` holds the same strings; ``tests/vectors/hearth_primitives.json``
pins both. Invariants: every label is ASCII, starts with ``hearth/v1/`` and no label is
a prefix of another, so an output derived for one purpose never equals one derived for
another. A label is never reused for a second purpose; a changed meaning gets a new
label (``hearth/v2/...``), and the shared vectors are regenerated.
"""

from __future__ import annotations

from enum import Enum


class Label(Enum):
    """HKDF ``info`` strings and HPKE ``info`` strings, by purpose."""

    # HPKE info: a sender-key session sealed to one member device (one-time prekey).
    HPKE_KEY_SHARE = b"hearth/v1/hpke/key-share"
    # HPKE info: account secrets sealed from an existing device to a newly linked one.
    HPKE_DEVICE_LINK = b"hearth/v1/hpke/device-link"
    # HKDF info: the AEAD key and nonce of one channel message, from its ratchet key.
    HKDF_MESSAGE_KEYS = b"hearth/v1/hkdf/message-keys"
    # HKDF info: the key-backup AEAD key, from the account's recovery secret.
    HKDF_BACKUP_KEY = b"hearth/v1/hkdf/backup-key"
    # HKDF info: the identity-backup file key, from the passphrase's PBKDF2 output.
    HKDF_IDENTITY_BACKUP = b"hearth/v1/hkdf/identity-backup"
    # HKDF info: the confirmation key of a device-linking short code.
    HKDF_LINK_CODE = b"hearth/v1/hkdf/link-code"
    # HKDF info: the next chain key of a sender-key session, from the current one.
    HKDF_CHAIN_KEY = b"hearth/v1/hkdf/chain-key"
    # HKDF info: the new device's commitment to its linking key (a hash commitment).
    HKDF_LINK_COMMIT = b"hearth/v1/hkdf/link-commit"
    # HKDF info: one account key's half of a safety number.
    HKDF_SAFETY_NUMBER = b"hearth/v1/hkdf/safety-number"
    # HKDF info: the 2-byte typo check appended to a generated recovery key.
    HKDF_RECOVERY_KEY_CHECK = b"hearth/v1/hkdf/recovery-key-check"
