"""Envelope size and sender CPU versus member count: sender keys against per-recipient keys.

*Hearth* (hearth.crypto, the code the client runs): every message is
``envelope.seal`` (one HKDF ratchet step, one AES-256-GCM seal, one Ed25519 signature),
whatever the group size. Every ``ROTATE_MESSAGES`` messages (the client's default,
``hearth.e2e.secure``) the sender starts a new session and shares it with each other
member's device: per device one prekey verify (Prekey.from_bytes, as the client does
for the prekeys it claims) and one ``key_share.seal`` (HPKE SealBase + Ed25519, 235 bytes).
Both the per-message and the amortised (message + 1/100 of a rotation) numbers are rows.

*Per-recipient* (the reference design, written here over the same primitives): every
message draws a fresh 32-byte content key, seals the body with AES-256-GCM, HPKE-seals
the content key to each recipient device (SealBase to its prekey, already verified and
cached: the baseline gets the benefit), and signs the whole envelope once with Ed25519.

One device per member; the sender seals to the other ``members - 1``. Sender CPU is
process CPU time (``time.process_time_ns``), not wall time, so a busy machine moves it
less; Hearth and the baseline alternate in batches and the better batch of each counts.
"""

from __future__ import annotations

import secrets
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from nacl.signing import SigningKey

from benchmarks.results import Row
from hearth.crypto import aead, envelope, hpke, key_share, x25519
from hearth.crypto.prekeys import Kind, Prekey, make_prekey
from hearth.crypto.sender_session import OutboundSession
from hearth.signing import Context, sign

MEMBERS = (2, 10, 100, 1_000)
PLAINTEXT_BYTES = 200
"""A short chat message with its JSON wrapping."""
ROTATE_MESSAGES = 100
"""hearth.e2e.secure.SecureChannel's default rotate_messages."""
SECTION = "Envelope vs members"
HOST, SPACE, CHAN = "host-bench", "space-bench", "chan-bench"
WRAP_INFO = b"hearth/bench/hpke/per-recipient-content-key"
_PR_HEADER = struct.Struct(">B32sQH")
"""Per-recipient envelope header: version, sender device key, sent at (ms), recipient count."""
PR_ENTRY_BYTES = 32 + hpke.N_ENC + 32 + aead.TAG_SIZE
"""Per recipient: device public key (as Hearth's key shares name it), enc, wrapped key."""
BATCHES = 3


@dataclass(frozen=True)
class Recipient:
    device: bytes
    prekey: bytes
    """The signed prekey as the host hands it out (verified by the sender before use)."""
    public: bytes


def _recipients(count: int) -> list[Recipient]:
    out = []
    for n in range(count):
        dev = SigningKey.generate()
        pre = make_prekey(dev, Kind.ONE_TIME, n + 1, 1_700_000_000_000, x25519.generate())
        out.append(Recipient(bytes(dev.verify_key), pre.to_bytes(), pre.public))
    return out


def per_recipient_seal(device: SigningKey, recipients: list[Recipient], place: bytes,
                       plaintext: bytes, sent_at: int) -> bytes:
    """The reference design's envelope: fresh content key, wrapped once per recipient.

    header || entries (device key, enc, HPKE(content key)) || nonce || AES-GCM(body)
    || Ed25519 over "hearth/v1/message" 0x00 || place || all of the above.
    """
    content_key, nonce = secrets.token_bytes(32), secrets.token_bytes(12)
    header = _PR_HEADER.pack(1, bytes(device.verify_key), sent_at, len(recipients))
    aad = header + place
    parts = [header]
    for r in recipients:
        enc, wrapped = hpke.seal_base(r.public, WRAP_INFO, aad + r.device, content_key)
        parts += (r.device, enc, wrapped)
    parts += (nonce, aead.seal(content_key, nonce, plaintext, aad))
    body = b"".join(parts)
    return body + sign(device, Context.MESSAGE, place + body)


def _cpu_us(fn: Callable[[], object], repeat: int) -> float:
    """Mean process CPU µs per call of ``fn`` over ``repeat`` calls."""
    start = time.process_time_ns()
    for _ in range(repeat):
        fn()
    return (time.process_time_ns() - start) / repeat / 1000


@dataclass
class Point:
    members: int
    hearth_bytes: int
    share_bytes: int
    """All key shares of one rotation."""
    baseline_bytes: int
    hearth_us: float
    rotation_us: float
    baseline_us: float

    @property
    def hearth_amortised_bytes(self) -> float:
        return self.hearth_bytes + self.share_bytes / ROTATE_MESSAGES

    @property
    def hearth_amortised_us(self) -> float:
        return self.hearth_us + self.rotation_us / ROTATE_MESSAGES


def measure_point(members: int) -> Point:
    device = SigningKey.generate()
    recipients = _recipients(members - 1)
    body = secrets.token_bytes(PLAINTEXT_BYTES)
    channel = key_share.ChannelPlace(HOST, SPACE, CHAN)
    place = envelope.Place(HOST, SPACE, CHAN, "m-0000000001")
    place_bytes = place.to_bytes()
    session = OutboundSession.create(0)
    hearth_env = envelope.seal(device, session, place, body, 1)
    baseline_env = per_recipient_seal(device, recipients, place_bytes, body, 1)

    def rotate() -> int:
        key = OutboundSession.create(0).export()
        size = 0
        for r in recipients:
            prekey = Prekey.from_bytes(r.prekey, r.device)
            size += len(key_share.seal(device, r.device, prekey, channel, key))
        return size

    share_bytes = rotate()
    # Enough calls per batch for ~0.1-0.3 s of CPU whatever the group size.
    n_hearth = 400
    n_base = max(2, min(400, 1200 // members))
    n_rot = max(1, min(20, 200 // members))
    hearth_us = rotation_us = baseline_us = float("inf")
    for _ in range(BATCHES):
        hearth_us = min(hearth_us, _cpu_us(
            lambda: envelope.seal(device, session, place, body, 1), n_hearth))
        baseline_us = min(baseline_us, _cpu_us(
            lambda: per_recipient_seal(device, recipients, place_bytes, body, 1), n_base))
        rotation_us = min(rotation_us, _cpu_us(rotate, n_rot))
    return Point(members, len(hearth_env), share_bytes, len(baseline_env), hearth_us,
                 rotation_us, baseline_us)


def _rows(p: Point) -> list[Row]:
    m = f"{p.members:,} members"
    devices = f"{p.members - 1:,} device{'s' if p.members > 2 else ''}"
    base = "per-recipient wrapped key"
    rot = f"key shares to {devices} every {ROTATE_MESSAGES} messages"
    return [
        Row(SECTION, f"{m}: envelope bytes per message", p.hearth_bytes, p.baseline_bytes,
            "bytes", base, better="lower",
            note=(f"{PLAINTEXT_BYTES}-byte message; Hearth = 61 header + ciphertext + 16 tag "
                  f"+ 64 signature, any group size; per-recipient = {_PR_HEADER.size} header "
                  f"+ {PR_ENTRY_BYTES} per recipient + 12 nonce + ciphertext + 16 tag + 64 "
                  "signature")),
        Row(SECTION, f"{m}: bytes per message, with key shares amortised",
            p.hearth_amortised_bytes, p.baseline_bytes, "bytes", base, better="lower",
            note=f"{rot}: {p.share_bytes:,} bytes of {key_share.SIZE}-byte shares per rotation"),
        Row(SECTION, f"{m}: sender CPU per message", p.hearth_us, p.baseline_us, "µs", base,
            better="lower",
            note="Hearth: ratchet step + AES-256-GCM + Ed25519; per-recipient: content key, "
                 f"AES-256-GCM, HPKE seals to {devices}, Ed25519"),
        Row(SECTION, f"{m}: sender CPU per message, with key shares amortised",
            p.hearth_amortised_us, p.baseline_us, "µs", base, better="lower",
            note=(f"{rot}: {p.rotation_us / 1000:,.2f} ms per rotation (prekey verify + HPKE "
                  "seal + Ed25519 per device)")),
    ]


def measure() -> tuple[list[Row], list[Point]]:
    points = [measure_point(n) for n in MEMBERS]
    return [row for p in points for row in _rows(p)], points
