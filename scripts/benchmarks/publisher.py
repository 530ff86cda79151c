"""The generator process that publishes: closed-loop bursts or open-loop paced runs.

Three ways in (``via``):
- ``host``: a real member device using hearth.client: each publish is a device-signed
  request that the real host verifies, stores, acknowledges and then fans out.
- ``direct``: a stand-in host (its own host key, authenticated on the relay's host
  endpoint like any host) that replays one host-signed ``pub`` frame, re-stamped, with
  a ``ping`` after it; the relay's ``pong`` comes once the event is fanned out. This
  measures the relay alone, with no storage in front of it.
- ``bare``: the same event frames to the bare app's /pub, acknowledged by ``ack``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from nacl.signing import SigningKey

from benchmarks.envelope import OpaqueEnvelope, Sealer, stamp_text
from benchmarks.sender_key import SenderKeySeal
from benchmarks.wsload import Link, open_link
from hearth.auth import host_hello
from hearth.b64 import b64e
from hearth.client import Client, HostClient, RequestError, new_message_id
from hearth.frames import (
    Challenge,
    Error,
    Event,
    Frame,
    HostWelcome,
    Ping,
    Publish,
    decode_frame,
    encode_frame,
)
from hearth.identity import Identity
from hearth.rpc import EventBody, sign_host_body
from host.config import host_id_for

MAX_OUTSTANDING = 4096
"""An open-loop run gives up (and says so) once this many publishes await an answer."""
HOST_WAIT_S = 20.0
DIRECT_SPACE = "direct"
DIRECT_CHAN = "fanout"


class LinkSender:
    """Publishes ready-made frames on a Link and counts the answers that ack them."""

    def __init__(self, link: Link, frame: str, stamp0: str, ack: bytes, trailer: str = ""):
        self.link = link
        self.head, _, self.tail = frame.partition(stamp0)
        self.trailer = trailer
        self.acked = 0
        self.gate = asyncio.Semaphore(0)

        def on_text(data: bytes, _: int) -> None:
            if data.startswith(ack):
                self.acked += 1
                self.gate.release()

        link.on_text = on_text

    def send(self, stamp_ns: int) -> None:
        self.link.send_text(self.head + stamp_text(stamp_ns) + self.tail)
        if self.trailer:
            self.link.send_text(self.trailer)

    async def settle(self, sent: int, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        while self.acked < sent and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)  # acks arrive in a sync callback; polling is enough


def event_frame(key: SigningKey, space: str, chan: str, envelope: bytes, *, pub: bool) -> str:
    """A host-signed event: a ``pub`` frame as a host sends it, or the ``event`` a client
    receives."""
    host_id = host_id_for(key)
    body = EventBody(v=1, host=host_id, space=space, chan=chan, k="msg", seq=1,
                     id=b64e(b"\x00" * 16), acct=b64e(bytes(32)), dev=b64e(bytes(32)),
                     ts=0, env=b64e(envelope))
    text, sig = sign_host_body(key, body)
    frame: Frame = (Publish(space=space, chan=chan, body=text, sig=sig) if pub
                    else Event(host=host_id, space=space, chan=chan, body=text, sig=sig))
    return encode_frame(frame)


class Publisher:
    def __init__(self) -> None:
        self.opaque = OpaqueEnvelope()
        self.codec: Sealer = self.opaque
        self.client: Client | None = None
        self.api: HostClient | None = None
        self.space = self.chan = ""
        self.senders: dict[str, LinkSender] = {}

    # ---- setup -----------------------------------------------------------------------

    async def setup_hearth(self, relay_url: str, host_id: str, claim: str) -> dict[str, str]:
        """Become the host's owner, make a space and a link invite for the subscribers."""
        self.client = await Client(Identity.generate(), relay_url, request_timeout=60).connect()
        api = self.api = self.client.host(host_id)
        deadline = time.monotonic() + HOST_WAIT_S
        while True:
            try:
                await api.hello("publisher")
                break
            except RequestError as exc:
                if exc.wire_code != "host_offline" or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        await api.claim(claim)
        self.space = (await api.create_space("Bench"))["space"]["id"]
        channels = (await api.call("channel.list", space=self.space))["channels"]
        self.chan = next(c["id"] for c in channels if c["name"] == "general")
        invite = await api.invite_link(self.space, uses=10_000, ttl_s=3600)
        return {"space": self.space, "chan": self.chan, "secret": invite["secret"]}

    async def setup_direct(self, relay_url: str) -> str:
        """Authenticate a fresh host key on the relay; returns its seed (b64url) so the
        subscribers can issue themselves tokens for DIRECT_SPACE/DIRECT_CHAN."""
        key = SigningKey.generate()
        link = await open_link(f"{relay_url}/ws/host")
        challenge = decode_frame(await link.recv(), Challenge)
        link.send_text(encode_frame(host_hello(key, challenge)))
        welcome = decode_frame(await link.recv(), HostWelcome | Error)
        if isinstance(welcome, Error):
            raise RuntimeError(f"relay refused the host: {welcome.code}: {welcome.msg}")
        frame = event_frame(key, DIRECT_SPACE, DIRECT_CHAN, self.opaque.seal(0), pub=True)
        self.senders["direct"] = LinkSender(link, frame, stamp_text(0), b'{"t":"pong"',
                                            trailer=encode_frame(Ping(n=1)))
        return b64e(bytes(key))

    async def setup_bare(self, url: str) -> None:
        """Open /pub with one real host-signed event frame to re-stamp per message (the
        bare app never verifies, so one signature serves the whole run)."""
        link = await open_link(f"{url}/pub")
        frame = event_frame(SigningKey.generate(), "bench-space", "bench-chan",
                            self.opaque.seal(0), pub=False)
        self.senders["bare"] = LinkSender(link, frame, stamp_text(0), b"ack")

    async def sender_key(self, on: bool) -> str:
        """Seal the ``host`` publishes with a fresh real sender session (``on``) or go back
        to opaque envelopes; returns the session key (b64url) to hand to the receivers."""
        if not on:
            self.codec = self.opaque
            return ""
        assert self.client is not None and self.api is not None
        sealer = SenderKeySeal(self.client.identity.device.signing, self.api.host_id,
                               self.space, self.chan)
        self.codec = sealer
        return sealer.rotate()

    async def _publish_host(self, stamp_ns: int) -> None:
        assert self.api is not None
        msg_id = new_message_id()
        await self.api.publish(self.space, self.chan, self.codec.seal(stamp_ns, msg_id),
                               msg_id=msg_id)

    # ---- closed loop -----------------------------------------------------------------

    async def burst(self, via: str, count: int, window: int, max_s: float) -> dict[str, Any]:
        """Keep ``window`` publishes in flight until ``count`` are sent or ``max_s`` passed."""
        deadline = time.monotonic() + max_s
        first = time.monotonic_ns()
        if via == "host":
            sent, acked, errors = await self._burst_host(count, window, deadline)
        else:
            sent = await self._burst_link(self.senders[via], count, window, deadline)
            acked, errors = self.senders[via].acked, 0
        return {"sent": sent, "acked": acked, "errors": errors, "first_ns": first,
                "last_ns": time.monotonic_ns()}

    async def _burst_host(self, count: int, window: int, deadline: float) -> tuple[int, int, int]:
        sent = acked = errors = 0

        async def lane() -> None:
            nonlocal sent, acked, errors
            while sent < count and time.monotonic() < deadline:
                sent += 1
                try:
                    await self._publish_host(time.monotonic_ns())
                    acked += 1
                except RequestError:
                    errors += 1

        await asyncio.gather(*(lane() for _ in range(window)))
        return sent, acked, errors

    @staticmethod
    async def _burst_link(sender: LinkSender, count: int, window: int, deadline: float) -> int:
        sender.gate = asyncio.Semaphore(window)
        sender.acked = 0
        sent = 0
        while sent < count and time.monotonic() < deadline:
            await sender.gate.acquire()
            sender.send(time.monotonic_ns())
            sent += 1
        await sender.settle(sent, 10.0)
        return sent

    # ---- open loop -------------------------------------------------------------------

    async def paced(self, via: str, rate: float, count: int, max_s: float) -> dict[str, Any]:
        """Publish number i at t0 + i/rate whatever happened to the others; the stamp is
        that intended time, so a sender held up by a slow system shows up as latency."""
        period = 1e9 / rate
        start = time.monotonic_ns() + 20_000_000
        end = start + int(max_s * 1e9)
        sender = self.senders.get(via)
        if sender is not None:
            sender.acked = 0
        pending: set[asyncio.Task[None]] = set()
        errors = sent = 0
        overloaded = False

        def done(task: asyncio.Task[None]) -> None:
            nonlocal errors
            pending.discard(task)
            if not task.cancelled() and task.exception() is not None:
                errors += 1

        for i in range(count):
            due = start + int(i * period)
            if due > end:
                break
            wait = due - time.monotonic_ns()
            if wait > 0:
                await asyncio.sleep(wait / 1e9)
            outstanding = len(pending) if sender is None else sent - sender.acked
            if outstanding >= MAX_OUTSTANDING:
                overloaded = True
                break
            if sender is not None:
                sender.send(due)
            else:
                task = asyncio.create_task(self._publish_host(due))
                pending.add(task)
                task.add_done_callback(done)
            sent += 1
        if sender is not None:
            await sender.settle(sent, 10.0)
            acked = sender.acked
        else:
            if pending:
                await asyncio.wait(set(pending), timeout=10.0)
            acked = sent - errors - len(pending)
        return {"sent": sent, "acked": acked, "errors": errors, "overloaded": overloaded,
                "first_ns": start, "last_ns": time.monotonic_ns()}

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
        for sender in self.senders.values():
            sender.link.close()
