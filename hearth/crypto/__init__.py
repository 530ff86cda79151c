"""Hearth's cryptographic primitives, thin wrappers over ``cryptography`` and PyNaCl.

Every module here has a twin in ``web/crypto/`` (WebCrypto) with the same inputs, the
same outputs and the same error codes; ``tests/vectors/hearth_primitives.json`` holds the
two to byte-for-byte equality and the official vectors (RFC 5869, 7748, 8032, 9180 and
Wycheproof) hold both to the standards.

Nothing here invents a primitive: HKDF-SHA256, HMAC-SHA256, PBKDF2-HMAC-SHA256,
AES-256-GCM, X25519, Ed25519 and RFC 9180 HPKE (DHKEM(X25519, HKDF-SHA256),
HKDF-SHA256, AES-256-GCM; base and auth modes).

Errors: anything that comes from an untrusted peer (ciphertext, public key, signature)
fails with :class:`hearth.errors.ProtocolError` carrying a specific code
(``decrypt_failed``, ``bad_key``, ``low_order_key``, ``bad_signature``); a caller's own
mistake (a 31-byte AEAD key, an HKDF output longer than 8160 bytes) is a ``ValueError``.
"""

from __future__ import annotations
