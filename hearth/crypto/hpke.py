"""RFC 9180 HPKE, modes base (0x00) and auth (0x02), one suite only.

Suite: DHKEM(X25519, HKDF-SHA256) (kem_id 0x0020), HKDF-SHA256 (kdf_id 0x0001),
AES-256-GCM (aead_id 0x0002); written over ``hearth.crypto`` primitives because
``cryptography``'s built-in HPKE takes no AAD. Checked against the RFC's own vectors
(``tests/vectors/rfc9180_hpke_x25519_sha256_aes256gcm.json``).

Invariants:
- ``enc`` is the 32-byte ephemeral X25519 public key; a sealed message is enc plus
  AEAD ciphertexts, each len(plaintext) + 16 bytes.
- The i-th seal/open of a context uses nonce base_nonce XOR I2OSP(i, 12); a context
  seals (or opens) at most 2**96 - 1 messages, then refuses (OverflowError).
- A failed open raises ProtocolError(DECRYPT_FAILED) and does not advance the sequence
  number, so the next genuine ciphertext still opens (RFC 9180 section 5.2).
- A small-order peer or ephemeral key raises ProtocolError(LOW_ORDER_KEY); a key of the
  wrong length ProtocolError(BAD_KEY).
- ``ephemeral`` arguments exist for deterministic test vectors only; production code
  passes nothing and gets a fresh ephemeral key per setup.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hearth.crypto import aead, hkdf, x25519

KEM_ID = 0x0020
KDF_ID = 0x0001
AEAD_ID = 0x0002
MODE_BASE = 0x00
MODE_AUTH = 0x02

N_SECRET = 32
N_ENC = 32
N_PK = 32
N_SK = 32
N_K = 32
N_N = 12
N_H = 32

KEM_SUITE_ID = b"KEM" + KEM_ID.to_bytes(2, "big")
HPKE_SUITE_ID = b"HPKE" + KEM_ID.to_bytes(2, "big") + KDF_ID.to_bytes(2, "big") + (
    AEAD_ID.to_bytes(2, "big")
)
_VERSION = b"HPKE-v1"
_SEQ_LIMIT = (1 << (8 * N_N)) - 1
MAX_EXPORT = 255 * N_H


def labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    """LabeledExtract (RFC 9180 section 4)."""
    return hkdf.extract(salt, _VERSION + suite_id + label + ikm)


def labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    """LabeledExpand (RFC 9180 section 4); ``length`` is at most 255 * 32."""
    if not 0 < length <= MAX_EXPORT:
        raise ValueError(f"HPKE expand length must be 1..{MAX_EXPORT}, got {length}")
    labeled_info = length.to_bytes(2, "big") + _VERSION + suite_id + label + info
    return hkdf.expand(prk, labeled_info, length)


# --- DHKEM(X25519, HKDF-SHA256), RFC 9180 section 4.1 -------------------------------


def generate_key_pair() -> X25519PrivateKey:
    """A fresh random HPKE key pair (the public half is ``x25519.public_key(sk)``)."""
    return x25519.generate()


def derive_key_pair(ikm: bytes) -> X25519PrivateKey:
    """DeriveKeyPair(ikm) for X25519 (RFC 9180 section 7.1.3); ``ikm`` >= 32 bytes."""
    if len(ikm) < N_SK:
        raise ValueError(f"DeriveKeyPair needs at least {N_SK} bytes of ikm, got {len(ikm)}")
    dkp_prk = labeled_extract(KEM_SUITE_ID, b"", b"dkp_prk", ikm)
    sk = labeled_expand(KEM_SUITE_ID, dkp_prk, b"sk", b"", N_SK)
    return x25519.private_key_from_bytes(sk)


def _extract_and_expand(dh: bytes, kem_context: bytes) -> bytes:
    eae_prk = labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", dh)
    return labeled_expand(KEM_SUITE_ID, eae_prk, b"shared_secret", kem_context, N_SECRET)


def encap(
    pk_r: bytes, *, ephemeral: X25519PrivateKey | None = None
) -> tuple[bytes, bytes]:
    """Encap(pkR): (shared_secret, enc)."""
    sk_e = ephemeral if ephemeral is not None else generate_key_pair()
    dh = x25519.shared_secret(sk_e, pk_r)
    enc = x25519.public_key(sk_e)
    return _extract_and_expand(dh, enc + pk_r), enc


def decap(enc: bytes, sk_r: X25519PrivateKey) -> bytes:
    """Decap(enc, skR): the shared secret."""
    dh = x25519.shared_secret(sk_r, enc)
    return _extract_and_expand(dh, enc + x25519.public_key(sk_r))


def auth_encap(
    pk_r: bytes, sk_s: X25519PrivateKey, *, ephemeral: X25519PrivateKey | None = None
) -> tuple[bytes, bytes]:
    """AuthEncap(pkR, skS): (shared_secret, enc), bound to the sender's static key."""
    sk_e = ephemeral if ephemeral is not None else generate_key_pair()
    dh = x25519.shared_secret(sk_e, pk_r) + x25519.shared_secret(sk_s, pk_r)
    enc = x25519.public_key(sk_e)
    kem_context = enc + pk_r + x25519.public_key(sk_s)
    return _extract_and_expand(dh, kem_context), enc


def auth_decap(enc: bytes, sk_r: X25519PrivateKey, pk_s: bytes) -> bytes:
    """AuthDecap(enc, skR, pkS): the shared secret, only if pkS's owner made ``enc``."""
    dh = x25519.shared_secret(sk_r, enc) + x25519.shared_secret(sk_r, pk_s)
    kem_context = enc + x25519.public_key(sk_r) + pk_s
    return _extract_and_expand(dh, kem_context)


# --- Key schedule and contexts, RFC 9180 sections 5.1-5.3 --------------------------


@dataclass(frozen=True, slots=True)
class ScheduledKeys:
    """KeySchedule's outputs for the empty PSK: AEAD key, base nonce, exporter secret."""

    key: bytes
    base_nonce: bytes
    exporter_secret: bytes


def key_schedule(mode: int, shared_secret: bytes, info: bytes) -> ScheduledKeys:
    """KeySchedule(mode, shared_secret, info, psk="", psk_id="") for modes base and auth."""
    if mode not in (MODE_BASE, MODE_AUTH):
        raise ValueError(f"only HPKE modes base (0) and auth (2) are supported, got {mode}")
    psk_id_hash = labeled_extract(HPKE_SUITE_ID, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(HPKE_SUITE_ID, b"", b"info_hash", info)
    context = bytes([mode]) + psk_id_hash + info_hash
    secret = labeled_extract(HPKE_SUITE_ID, shared_secret, b"secret", b"")
    return ScheduledKeys(
        key=labeled_expand(HPKE_SUITE_ID, secret, b"key", context, N_K),
        base_nonce=labeled_expand(HPKE_SUITE_ID, secret, b"base_nonce", context, N_N),
        exporter_secret=labeled_expand(HPKE_SUITE_ID, secret, b"exp", context, N_H),
    )


@dataclass(slots=True)
class _Context:
    keys: ScheduledKeys
    seq: int = field(default=0)

    def _nonce(self) -> bytes:
        if self.seq >= _SEQ_LIMIT:
            raise OverflowError("HPKE context has used all 2**96 - 1 sequence numbers")
        seq = self.seq.to_bytes(N_N, "big")
        return bytes(a ^ b for a, b in zip(self.keys.base_nonce, seq, strict=True))

    def export(self, exporter_context: bytes, length: int) -> bytes:
        """Context.Export: ``length`` bytes bound to this context and ``exporter_context``."""
        return labeled_expand(
            HPKE_SUITE_ID, self.keys.exporter_secret, b"sec", exporter_context, length
        )


class SenderContext(_Context):
    """The sender's side of an HPKE context: seal only."""

    __slots__ = ()

    def seal(self, aad: bytes, plaintext: bytes) -> bytes:
        """Seal the next message; AES-256-GCM ciphertext || tag."""
        ciphertext = aead.seal(self.keys.key, self._nonce(), plaintext, aad)
        self.seq += 1
        return ciphertext


class RecipientContext(_Context):
    """The recipient's side of an HPKE context: open only."""

    __slots__ = ()

    def open(self, aad: bytes, ciphertext: bytes) -> bytes:
        """Open the next message; ProtocolError(DECRYPT_FAILED) leaves the sequence as is."""
        plaintext = aead.open(self.keys.key, self._nonce(), ciphertext, aad)
        self.seq += 1
        return plaintext


def setup_base_s(
    pk_r: bytes, info: bytes, *, ephemeral: X25519PrivateKey | None = None
) -> tuple[bytes, SenderContext]:
    """SetupBaseS(pkR, info): (enc, sender context)."""
    shared_secret, enc = encap(pk_r, ephemeral=ephemeral)
    return enc, SenderContext(key_schedule(MODE_BASE, shared_secret, info))


def setup_base_r(enc: bytes, sk_r: X25519PrivateKey, info: bytes) -> RecipientContext:
    """SetupBaseR(enc, skR, info)."""
    return RecipientContext(key_schedule(MODE_BASE, decap(enc, sk_r), info))


def setup_auth_s(
    pk_r: bytes,
    info: bytes,
    sk_s: X25519PrivateKey,
    *,
    ephemeral: X25519PrivateKey | None = None,
) -> tuple[bytes, SenderContext]:
    """SetupAuthS(pkR, info, skS): (enc, sender context)."""
    shared_secret, enc = auth_encap(pk_r, sk_s, ephemeral=ephemeral)
    return enc, SenderContext(key_schedule(MODE_AUTH, shared_secret, info))


def setup_auth_r(
    enc: bytes, sk_r: X25519PrivateKey, info: bytes, pk_s: bytes
) -> RecipientContext:
    """SetupAuthR(enc, skR, info, pkS)."""
    return RecipientContext(key_schedule(MODE_AUTH, auth_decap(enc, sk_r, pk_s), info))


def seal_base(
    pk_r: bytes,
    info: bytes,
    aad: bytes,
    plaintext: bytes,
    *,
    ephemeral: X25519PrivateKey | None = None,
) -> tuple[bytes, bytes]:
    """Single-shot SealBase: (enc, ciphertext)."""
    enc, ctx = setup_base_s(pk_r, info, ephemeral=ephemeral)
    return enc, ctx.seal(aad, plaintext)


def open_base(
    enc: bytes, sk_r: X25519PrivateKey, info: bytes, aad: bytes, ciphertext: bytes
) -> bytes:
    """Single-shot OpenBase."""
    return setup_base_r(enc, sk_r, info).open(aad, ciphertext)


def seal_auth(
    pk_r: bytes,
    info: bytes,
    aad: bytes,
    plaintext: bytes,
    sk_s: X25519PrivateKey,
    *,
    ephemeral: X25519PrivateKey | None = None,
) -> tuple[bytes, bytes]:
    """Single-shot SealAuth: (enc, ciphertext)."""
    enc, ctx = setup_auth_s(pk_r, info, sk_s, ephemeral=ephemeral)
    return enc, ctx.seal(aad, plaintext)


def open_auth(
    enc: bytes,
    sk_r: X25519PrivateKey,
    info: bytes,
    aad: bytes,
    ciphertext: bytes,
    pk_s: bytes,
) -> bytes:
    """Single-shot OpenAuth."""
    return setup_auth_r(enc, sk_r, info, pk_s).open(aad, ciphertext)
