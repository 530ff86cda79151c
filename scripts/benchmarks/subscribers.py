"""A generator process holding many subscriber (or idle) connections.

Subscribers to Hearth are real members: each gets its own identity, joins the space
through an invite link and obtains a capability token with the real Python client
(hearth.client), then follows the channel over a lean ``wsload.Link`` authenticated
with the same device. Subscribers to the bare app just connect. Either way, every
received event is counted and its publish-to-deliver latency recorded, except in a
real-crypto run (``arm(sender_key=..., decrypting=n)``): there ``n`` Hearth subscribers
of this process, evenly spaced in joining order (so not only the first the relay writes
to), verify and decrypt every event (benchmarks.sender_key) and
record the latency when decryption is done; the others only count what they receive.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from collections.abc import Awaitable, Callable
from typing import Any

from nacl.signing import SigningKey

from benchmarks.envelope import EnvelopeCodec, OpaqueEnvelope, Stamper
from benchmarks.publisher import DIRECT_CHAN, DIRECT_SPACE
from benchmarks.sender_key import SenderKeyOpen, is_event
from benchmarks.wsload import Link, open_link
from hearth.auth import client_hello
from hearth.b64 import b64d
from hearth.client import Client
from hearth.frames import (
    Challenge,
    Error,
    Subscribe,
    Subscribed,
    Welcome,
    decode_frame,
    encode_frame,
)
from hearth.identity import Identity
from hearth.keys import now_ms
from hearth.limits import TOKEN_LIFETIME_MS
from hearth.token import READ, issue_token

SETUP_CONCURRENCY = 16
CONNECT_CONCURRENCY = 64


class SetupError(RuntimeError):
    """A subscriber could not join, authenticate or subscribe."""


async def hearth_link(relay_url: str, identity: Identity) -> Link:
    """A Link authenticated to the relay as ``identity``'s device (same proof as Client)."""
    link = await open_link(f"{relay_url}/ws/client")
    challenge = decode_frame(await link.recv(), Challenge)
    link.send_text(encode_frame(client_hello(identity.device, challenge)))
    reply = decode_frame(await link.recv(), Welcome | Error)
    if isinstance(reply, Error):
        link.close()
        raise SetupError(f"relay refused hello: {reply.code}: {reply.msg}")
    return link


async def _bounded(count: int, limit: int, make: Callable[[int], Awaitable[Link]]) -> list[Link]:
    gate = asyncio.Semaphore(limit)

    async def one(i: int) -> Link:
        async with gate:
            return await make(i)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


class SubscriberGroup:
    def __init__(self, codec: EnvelopeCodec | None = None) -> None:
        self.codec = codec or OpaqueEnvelope()
        self.links: list[Link] = []
        self.hearth_links: list[Link] = []
        self.openers: list[SenderKeyOpen] = []
        self.count = 0
        self.first_ns = 0
        self.last_ns = 0
        self.samples = array("q")
        self.sent = array("q")
        """The send stamp of each sample (same order): tells the samples of one message."""

    # ---- joining ---------------------------------------------------------------------

    async def join_hearth(self, relay_url: str, host_id: str, space: str, chan: str,
                          secret: str, direct_seed: str, count: int) -> int:
        """``count`` members following ``chan`` of the real host and, with a token they
        issue themselves with ``direct_seed``, the stand-in host's channel."""
        direct_key = SigningKey(b64d(direct_seed, field="direct_seed", size=32))

        async def make(i: int) -> Link:
            identity = Identity.generate()
            async with Client(identity, relay_url, request_timeout=60) as client:
                api = client.host(host_id)
                await api.hello(f"sub{i}")
                await api.redeem(secret)
                token = str((await api.call("token", space=space, chans=[chan]))["token"])
            direct, _ = issue_token(
                direct_key, device=identity.device.public_key,
                account=bytes(identity.account_key.verify_key), space=DIRECT_SPACE,
                channels=[DIRECT_CHAN], scopes=[READ], issued_at_ms=now_ms(),
                lifetime_ms=TOKEN_LIFETIME_MS,
            )
            link = await hearth_link(relay_url, identity)
            for wire, chans in ((token, [chan]), (direct, [DIRECT_CHAN])):
                link.send_text(encode_frame(Subscribe(token=wire, chans=chans)))
                reply = decode_frame(await link.recv(), Subscribed | Error)
                if isinstance(reply, Error):
                    raise SetupError(f"relay refused sub: {reply.code}: {reply.msg}")
            self._follow(link)
            return link

        joined = await _bounded(count, SETUP_CONCURRENCY, make)
        self.links += joined
        self.hearth_links += joined
        return len(self.links)

    async def join_bare(self, url: str, count: int) -> int:
        async def make(_: int) -> Link:
            link = await open_link(f"{url}/sub")
            if await link.recv() != b"ready":
                raise SetupError("the bare app did not say ready")
            self._follow(link)
            return link

        self.links += await _bounded(count, CONNECT_CONCURRENCY, make)
        return len(self.links)

    async def hold_hearth(self, relay_url: str, count: int) -> int:
        """``count`` more idle authenticated connections (fresh identities, no requests)."""
        self.links += await _bounded(
            count, CONNECT_CONCURRENCY, lambda _: hearth_link(relay_url, Identity.generate())
        )
        return len(self.links)

    async def hold_bare(self, url: str, count: int) -> int:
        async def make(_: int) -> Link:
            link = await open_link(f"{url}/idle")
            await link.recv()
            return link

        self.links += await _bounded(count, CONNECT_CONCURRENCY, make)
        return len(self.links)

    # ---- measuring -------------------------------------------------------------------

    def _follow(self, link: Link, codec: Stamper | None = None) -> None:
        """Count every event on ``link`` and record its latency: at the socket read for
        the opaque stamp, once ``codec`` is done (decrypted) when one is given."""
        stamp = (codec or self.codec).stamp
        clock = time.monotonic_ns if codec is not None else None

        def on_text(frame: bytes, arrived: int) -> None:
            sent = stamp(frame)
            if sent is None:
                return
            now = arrived if clock is None else clock()
            if not self.count:
                self.first_ns = now
            self.count += 1
            self.last_ns = now
            self.samples.append(now - sent)
            self.sent.append(sent)

        link.on_text = on_text

    def _count_only(self, link: Link) -> None:
        def on_text(frame: bytes, now: int) -> None:
            if not is_event(frame):
                return
            if not self.count:
                self.first_ns = now
            self.count += 1
            self.last_ns = now

        link.on_text = on_text

    async def arm(self, sender_key: str = "", decrypting: int = 0) -> None:
        """Forget what was received so far. With ``sender_key``, ``decrypting`` evenly
        spaced Hearth subscribers decrypt with it and the rest only count; without, every
        subscriber reads the opaque stamp."""
        self.count = self.first_ns = self.last_ns = 0
        self.samples = array("q")
        self.sent = array("q")
        self.openers = []
        step = max(1, len(self.hearth_links) // max(1, decrypting))
        for i, link in enumerate(self.hearth_links):
            if not sender_key:
                self._follow(link)
            elif i % step == 0 and i // step < decrypting:
                opener = SenderKeyOpen(sender_key)
                self.openers.append(opener)
                self._follow(link, opener)
            else:
                self._count_only(link)

    async def collect(self, expected: int, wait_s: float) -> dict[str, Any]:
        """Wait for ``expected`` events (or ``wait_s``, or 1 s without progress)."""
        deadline = time.monotonic() + wait_s
        seen, quiet_since = -1, time.monotonic()
        while self.count < expected and time.monotonic() < deadline:
            if self.count != seen:
                seen, quiet_since = self.count, time.monotonic()
            elif time.monotonic() - quiet_since > 1.0:
                break
            await asyncio.sleep(0.01)
        return {
            "count": self.count, "first_ns": self.first_ns, "last_ns": self.last_ns,
            "samples": self.samples.tobytes(), "sent": self.sent.tobytes(),
            "failures": sum(o.failures for o in self.openers),
            "closed": sum(1 for link in self.links if not link.is_open),
        }

    async def close(self) -> None:
        for link in self.links:
            link.close()
        await asyncio.sleep(0.1)
        self.links.clear()
