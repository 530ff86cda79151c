"""The end-to-end layer over one host: encrypted send, verified and decrypted receive.

Sending (per message: one AES-256-GCM seal and one Ed25519 signature): refresh the
space's roster (at most every ``roster_ttl_ms``; 0 = before every message), rotate the
channel's outbound session if a device it was shared with is gone, or after
``rotate_messages`` messages or ``rotate_ms``; share the session with every certified
device not yet holding it (one prekey claim, one HPKE seal each, one ``keys.put``);
then seal and publish.

Receiving: the sender device must be certified by the account the host names, not
revoked when it sent, and that account a member then; the signature must cover the
place the message was delivered; the session key comes from the shares stored beside
the message (fetched again whenever a message is shown without one). Every failure is
an :class:`E2EError` with a plain-words :class:`Reason`.

Catching up: :meth:`SecureClient.receive` hands out each channel's messages in sequence
order, each once. When a live message jumps past the last one it handed out, or when
the Client resumes a subscription after a reconnection, the ones in between are fetched
from history by sequence number and go the same way as live ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from hearth.b64 import b64d, b64e
from hearth.client import ChannelEvent, Client, RequestError, Resumed, new_message_id
from hearth.crypto import backup as key_backup
from hearth.crypto import envelope, key_share
from hearth.crypto.prekeys import Kind, Prekey
from hearth.crypto.recovery import Recovery
from hearth.crypto.sender_session import OutboundSession, ratchet_to
from hearth.e2e.keystore import ChannelRef, InboundRef, KeyStore, Outbound
from hearth.e2e.reasons import E2EError, Reason, reason_for
from hearth.e2e.roster import Roster, verify_roster
from hearth.ephemeral import EphemeralBody, check_sender
from hearth.errors import ErrorCode, ProtocolError
from hearth.keys import now_ms
from hearth.limits import KEY_SHARES_PER_PUT, PREKEYS_LOW, PREKEYS_PER_PUT

DAY_MS = 24 * 3600 * 1000
EPHEMERAL_ROSTER_TTL_MS = 10_000
"""Presence and typing are judged against a roster at most this old (one ``space.devices``
per space per 10 s, not one per update); a device it does not know forces a fresh one,
at most every EPHEMERAL_ROSTER_RETRY_MS."""
EPHEMERAL_ROSTER_RETRY_MS = 2_000
CATCH_UP_PAGE = 200
"""Messages per history page when catching up after a gap (the host's maximum)."""

log = logging.getLogger("hearth.e2e")


@dataclass(frozen=True, slots=True)
class Message:
    """A channel message as delivered: its plaintext, or why it cannot be shown.

    ``re``: the message it annotates (host-visible; None for none), ``exp``: when the
    host erases it (ms; None for never), ``deleted``: a tombstone (no plaintext, no
    reason) kept so sequence numbers stay gap-free (docs/protocol.md section 13.2).
    ``space`` and ``chan``: where it was delivered."""

    seq: int
    id: str
    acct: str
    dev: str
    ts: int
    plaintext: bytes | None
    reason: Reason | None = None
    detail: str = ""
    re: str | None = None
    exp: int | None = None
    deleted: bool = False
    space: str = ""
    chan: str = ""


class SecureClient:
    """End-to-end encryption for one device (``client``) on one host."""

    def __init__(self, client: Client, host_id: str, *, rotate_messages: int = 100,
                 rotate_ms: int = 7 * DAY_MS, roster_ttl_ms: int = 0,
                 one_time_prekeys: int = 50) -> None:
        self.client = client
        self.host_id = host_id
        self.api = client.host(host_id)
        self.identity = client.identity
        self.me = client.identity.device.public_key
        self.rotate_messages = rotate_messages
        self.rotate_ms = rotate_ms
        self.roster_ttl_ms = roster_ttl_ms
        self.one_time_prekeys = one_time_prekeys
        self.keys = KeyStore()
        self.recovery: Recovery | None = None
        self.rosters: dict[str, Roster] = {}
        self._delivered: dict[tuple[str, str, str], int] = {}
        self._last_seq: dict[tuple[str, str, str], int] = {}
        """(host, space, chan) -> the highest seq receive() handed out on that channel."""
        self._backlog: deque[ChannelEvent] = deque()
        """Messages receive() fetched to fill a gap, in order, handed out before any other."""
        client.resume_hooks.append(self._catch_up)

    # ---- setup -------------------------------------------------------------------

    async def start(self, name: str | None = None) -> dict[str, Any]:
        """Say hello and publish this device's prekeys."""
        hello = await self.api.hello(name)
        await self.replenish_prekeys()
        return hello

    async def replenish_prekeys(self) -> dict[str, Any]:
        """Upload a signed prekey if the host has none and one-time prekeys when fewer
        than PREKEYS_LOW are left; the first call of a process replaces everything the
        host held for this device. r = the host's counts after the upload."""
        args: dict[str, Any] = {}
        device = self.identity.device.signing
        fresh = not self.keys.prekeys.keys
        # A fresh process holds no private halves: replace whatever the host still has.
        counts = {"signed": False, "one_time": 0} if fresh else await self._call("prekey.put")
        if fresh:
            args["reset"] = True
        if not counts["signed"]:
            args["signed"] = b64e(self.keys.prekeys.make(device, Kind.SIGNED, now_ms()).to_bytes())
        if counts["one_time"] < PREKEYS_LOW:
            wanted = min(self.one_time_prekeys - counts["one_time"], PREKEYS_PER_PUT)
            args["one_time"] = [
                b64e(self.keys.prekeys.make(device, Kind.ONE_TIME, now_ms()).to_bytes())
                for _ in range(max(wanted, 0))
            ]
        return await self._call("prekey.put", **args) if args else counts

    def use_recovery(self, recovery: Recovery) -> None:
        """The account's recovery secret: required before the first message is sent."""
        self.recovery = recovery

    # ---- roster --------------------------------------------------------------------

    async def roster(self, space: str, *, fresh: bool = False) -> Roster:
        held = self.rosters.get(space)
        if held is None or fresh or now_ms() - held.fetched_at >= self.roster_ttl_ms:
            listing = await self._call("space.devices", space=space)
            held = verify_roster(space, listing, now_ms())
            self.rosters[space] = held
        return held

    # ---- presence and typing ---------------------------------------------------------

    async def next_ephemeral(self, wait_s: float = 10.0) -> EphemeralBody:
        """The next presence or typing update on this host from a certified, unrevoked
        device of a current member of its space; anything else is dropped and logged.
        Reads the client's ``ephemerals``: one SecureClient per Client consumes them."""
        async with asyncio.timeout(wait_s):
            while True:
                body = await self.client.ephemerals.get()
                if body.host != self.host_id:
                    log.info("dropped an ephemeral update for another host %s", body.host)
                    continue
                try:
                    check_sender(body, await self._ephemeral_roster(body))
                except ProtocolError as exc:
                    log.info("dropped an ephemeral update: %s", exc)
                    continue
                return body

    async def _ephemeral_roster(self, body: EphemeralBody) -> Roster:
        held = self.rosters.get(body.space)
        age = now_ms() - held.fetched_at if held is not None else None
        unknown = held is not None and b64d(body.dev, field="dev") not in held.devices
        if (age is None or age >= EPHEMERAL_ROSTER_TTL_MS
                or (unknown and age >= EPHEMERAL_ROSTER_RETRY_MS)):
            return await self.roster(body.space, fresh=True)
        assert held is not None
        return held

    # ---- sending -------------------------------------------------------------------

    async def send(self, space: str, chan: str, plaintext: bytes,
                   msg_id: str | None = None, *, re: str | None = None) -> dict[str, Any]:
        """Encrypt and publish (as an annotation of message ``re`` if given); r = the
        host's ``{id, seq, ts, dup, exp}``."""
        if self.recovery is None:
            raise ValueError("set up recovery (use_recovery) before sending the first message")
        out = await self._outbound(space, chan)
        msg_id = msg_id or new_message_id()
        place = envelope.Place(self.host_id, space, chan, msg_id)
        sealed = envelope.seal(self.identity.device.signing, out.session, place, plaintext,
                               now_ms())
        extra = {} if re is None else {"re": re}
        return await self._call("publish", space=space, chan=chan, id=msg_id,
                                env=b64e(sealed), sess=b64e(out.session.session_id), **extra)

    def rotate(self, space: str, chan: str | None = None) -> None:
        """Drop the outbound session(s) of ``space`` (or one channel): the next message
        starts a new one, shared only with the devices present then."""
        for ref in [r for r in self.keys.outbound if r[1] == space and chan in (None, r[2])]:
            del self.keys.outbound[ref]

    async def _outbound(self, space: str, chan: str) -> Outbound:
        roster = await self.roster(space)
        recipients = roster.recipients() - {self.me}
        ref: ChannelRef = (self.host_id, space, chan)
        out = self.keys.outbound.get(ref)
        now = now_ms()
        if out is not None and (
            set(out.shared_with) - recipients
            or out.session.index >= self.rotate_messages
            or now - out.session.created_at >= self.rotate_ms
        ):
            out = None
        if out is None:
            out = Outbound.start(OutboundSession.create(now))
            self.keys.outbound[ref] = out
            # Our own inbound copy: this device reads its own messages in history too.
            self.keys.add_inbound((*ref, self.me, out.session.session_id), out.session.export())
        missing = recipients - set(out.shared_with)
        if missing:
            await self._share(space, chan, out, missing)
        return out

    async def _share(self, space: str, chan: str, out: Outbound, devices: set[bytes]) -> None:
        """Share the session with ``devices``: from the current index, or from the index a
        device was owed when it had no prekey left (it was a recipient then)."""
        claimed = await self._call("prekey.claim", devs=sorted(b64e(d) for d in devices))
        place = key_share.ChannelPlace(self.host_id, space, chan)
        current = out.session.export()
        shares: dict[str, str] = {}
        given: dict[bytes, int] = {}
        for item in claimed["prekeys"]:
            dev = b64d(item["dev"], field="dev", size=32)
            # Verified against the device itself: the host cannot slip in its own key.
            prekey = Prekey.from_bytes(b64d(item["prekey"], field="prekey"), dev)
            owed = out.owed.get(dev)
            key = current if owed is None else ratchet_to(out.origin, owed)
            shares[item["dev"]] = b64e(key_share.seal(self.identity.device.signing, dev, prekey,
                                                      place, key))
            given[dev] = key.index
        items = sorted(shares.items())
        for start in range(0, len(items), KEY_SHARES_PER_PUT):
            await self._call("keys.put", space=space, chan=chan,
                             sess=b64e(out.session.session_id),
                             shares=dict(items[start : start + KEY_SHARES_PER_PUT]))
        for dev, index in given.items():
            out.shared_with[dev] = index
            out.owed.pop(dev, None)
        for text in claimed["missing"]:
            out.owed.setdefault(b64d(text, field="dev", size=32), current.index)

    # ---- receiving -----------------------------------------------------------------

    async def receive(self, wait_s: float = 10.0) -> Message:
        """The next message of a followed channel, opened (other event kinds are skipped;
        see :meth:`receive_update`)."""
        async with asyncio.timeout(wait_s):
            while True:
                update = await self.receive_update(None)
                if isinstance(update, Message):
                    return update

    async def receive_update(self, wait_s: float | None = 10.0) -> Message | ChannelEvent:
        """The next message of a followed channel, opened, or the next other verified
        host event as it came (``del``, ``rcpt``, ``chan``, ``mem``; docs/protocol.md 13.2).

        Per channel, messages come in sequence order and each once: one at or below the
        last handed out is dropped (a catch-up and live delivery overlapped); one past it
        first brings in the gap from history (tombstones included, as deleted messages).
        Filling a gap is best effort: if history cannot be had, the gap is logged and
        left. Reads the client's ``events``: one SecureClient per Client consumes them."""
        async with asyncio.timeout(wait_s):
            while True:
                event = self._backlog.popleft() if self._backlog else await self.client.events.get()
                if event.kind != "msg":
                    return event
                ref = (event.host, event.space, event.chan)
                last = self._last_seq.get(ref)
                if last is not None and event.seq <= last:
                    continue
                if last is not None and event.seq > last + 1:
                    missed = await self._missed(event.space, event.chan, last, event.seq)
                    if missed:
                        self._backlog.extendleft(reversed([*missed, event]))
                        continue
                self._last_seq[ref] = event.seq
                return await self.open_event(event)

    async def _catch_up(self, resumed: Resumed) -> None:
        """Resume hook: queue, as events, what each channel of ``resumed`` that receive()
        has handed out messages of missed while the connection was down."""
        if resumed.host != self.host_id:
            return
        for host, space, chan in list(self._last_seq):
            if (host, space) == (resumed.host, resumed.space) and (
                    "*" in resumed.chans or chan in resumed.chans):
                for event in await self._missed(space, chan, self._last_seq[host, space, chan]):
                    self.client.events.put_nowait(event)

    async def _missed(self, space: str, chan: str, after: int,
                      before: int | None = None) -> list[ChannelEvent]:
        """The stored messages of ``chan`` with ``after < seq < before``, in order, as
        channel events (the key shares beside them accepted); [] if history fails."""
        events: list[ChannelEvent] = []
        try:
            while before is None or after + 1 < before:
                page = await self._call("history", space=space, chan=chan, after=after,
                                        limit=CATCH_UP_PAGE,
                                        **({} if before is None else {"before": before}))
                await self._accept_shares(space, chan, page["keys"])
                events += [
                    ChannelEvent(self.host_id, space, chan, "msg", m["seq"], m["id"],
                                 m["acct"], m["dev"], m["ts"],
                                 b"" if m.get("del") else b64d(m["env"], field="env"),
                                 None, m.get("re") or "", m.get("exp") or 0)
                    for m in page["messages"]
                ]
                if not page["more"] or not page["messages"]:
                    break
                after = page["messages"][-1]["seq"]
        except (ProtocolError, E2EError) as exc:
            log.warning("could not catch up %s/%s after seq %d: %s", space, chan, after, exc)
        return events

    async def open_event(self, event: ChannelEvent) -> Message:
        """A ``msg`` event opened; an empty envelope is a tombstone (only catch-up makes
        those: the host never sends one live)."""
        return await self._show(event.space, event.chan, event.seq, event.id, event.acct,
                                event.dev, event.ts, event.envelope, [], event.re or None,
                                event.exp or None)

    async def history(self, space: str, chan: str, **page: Any) -> list[Message]:
        """A history page, opened in order with the key shares the host sent beside it
        (tombstones come as deleted messages)."""
        result = await self._call("history", space=space, chan=chan, **page)
        return [
            await self._show(space, chan, m["seq"], m["id"], m["acct"], m["dev"], m["ts"],
                             b"" if m.get("del") else b64d(m["env"], field="env"),
                             result["keys"], m.get("re"), m.get("exp"))
            for m in result["messages"]
        ]

    async def _show(self, space: str, chan: str, seq: int, msg_id: str, acct: str, dev: str,
                    ts: int, env: bytes, shares: list[dict[str, Any]], re: str | None,
                    exp: int | None) -> Message:
        base = Message(seq, msg_id, acct, dev, ts, None, re=re, exp=exp, space=space, chan=chan)
        if not env:
            return replace(base, deleted=True)
        try:
            if shares:
                await self._accept_shares(space, chan, shares)
            plaintext = await self.decrypt(space, chan, seq, msg_id, acct, dev, ts, env)
        except E2EError as exc:
            return replace(base, reason=exc.reason, detail=exc.detail)
        return replace(base, plaintext=plaintext)

    async def decrypt(self, space: str, chan: str, seq: int, msg_id: str, acct: str,
                      dev: str, ts: int, env: bytes) -> bytes:
        """The plaintext of one delivered message, or E2EError naming why not."""
        try:
            parsed = envelope.parse(env)
        except ProtocolError as exc:
            raise reason_for(exc) from None
        header = parsed.header
        if b64e(header.sender) != dev:
            raise E2EError(Reason.TAMPERED, f"envelope names device {b64e(header.sender)!r}, "
                                            f"the host says {dev!r} sent it")
        await self._check_sender(space, acct, header.sender, header.sent_at)
        place = envelope.Place(self.host_id, space, chan, msg_id)
        try:
            envelope.verify_signature(parsed, place)
        except ProtocolError as exc:
            raise reason_for(exc) from None
        delivered = self._delivered.get((space, chan, msg_id))
        if delivered is not None and delivered != seq:
            raise E2EError(Reason.REPLAY, f"message {msg_id!r} was already delivered as "
                                          f"seq {delivered}, now again as seq {seq}")
        ref: InboundRef = (self.host_id, space, chan, header.sender, header.session_id)
        if ref not in self.keys.inbound:
            fetched = await self._call("keys.fetch", space=space, chan=chan,
                                       sess=[b64e(header.session_id)])
            await self._accept_shares(space, chan, fetched["keys"])
        session = self.keys.inbound.get(ref)
        if session is None:
            raise await self._missing_key(space, ts, header.session_id)
        try:
            plaintext = envelope.open(parsed, place, session)
        except ProtocolError as exc:
            raise reason_for(exc) from None
        self._delivered[(space, chan, msg_id)] = seq
        return plaintext

    async def _check_sender(self, space: str, acct: str, sender: bytes, sent_at: int) -> None:
        roster = await self.roster(space)
        device = roster.devices.get(sender)
        if device is None or b64e(device.acct) != acct:
            roster = await self.roster(space, fresh=True)
            device = roster.devices.get(sender)
        if device is None or b64e(device.acct) != acct:
            why = next((u.why for u in roster.uncertified if u.dev == b64e(sender)),
                       "not listed for that account")
            raise E2EError(Reason.UNCERTIFIED_DEVICE,
                           f"device {b64e(sender)!r} of account {acct!r}: {why}")
        if device.revoked_at is not None and sent_at >= device.revoked_at:
            raise E2EError(Reason.SENDER_DEVICE_REMOVED,
                           f"device {b64e(sender)!r} was revoked at {device.revoked_at}, "
                           f"the message says it was sent at {sent_at}")
        if device.acct not in roster.members:
            left = roster.departed.get(device.acct)
            if left is None or sent_at >= left:
                raise E2EError(Reason.SENDER_REMOVED,
                               f"account {acct!r} left at {left}, message sent at {sent_at}")

    async def _missing_key(self, space: str, ts: int, session_id: bytes) -> E2EError:
        roster = await self.roster(space)
        joined = roster.members.get(self.identity.device.account)
        if joined is not None and ts < joined:
            return E2EError(Reason.BEFORE_JOIN, f"sent at {ts}, you joined at {joined}")
        mine = roster.devices.get(self.me)
        if mine is not None and ts < mine.created_at:
            return E2EError(Reason.BEFORE_DEVICE,
                            f"sent at {ts}, this device was added at {mine.created_at}")
        return E2EError(Reason.NOT_SHARED_YET,
                        f"no key share for session {session_id.hex()} reached this device yet")

    async def _accept_shares(self, space: str, chan: str, items: list[dict[str, Any]]) -> int:
        """Open the shares addressed to this device; returns how many taught us something."""
        place = key_share.ChannelPlace(self.host_id, space, chan)
        learned = 0
        for item in items:
            try:
                share, key = key_share.open(b64d(item["share"], field="share"), self.me, place,
                                            self.keys.prekeys.lookup)
            except ProtocolError:
                continue  # an already-used one-time prekey, or junk: the next share may do
            self.keys.prekeys.used(share.kind, share.prekey_id)
            if b64e(key.session_id) != item["sess"] or b64e(share.sender) != item["from_dev"]:
                continue  # the host mislabelled it; the key still counts only for its sender
            roster = await self.roster(space)
            if share.sender not in roster.devices:
                roster = await self.roster(space, fresh=True)
                if share.sender not in roster.devices:
                    continue  # shared by a device no member certified: ignored
            learned += self.keys.add_inbound(
                (self.host_id, space, chan, share.sender, key.session_id), key)
        return learned

    # ---- membership changes that force a new session ---------------------------------

    async def remove_member(self, space: str, acct: str) -> dict[str, Any]:
        result = await self._call("member.remove", space=space, acct=acct)
        self.rotate(space)
        self.rosters.pop(space, None)
        return result

    async def revoke_device(self, dev: str) -> dict[str, Any]:
        result = await self._call("device.revoke", dev=dev)
        self.keys.outbound.clear()
        self.rosters.clear()
        return result

    # ---- key backup ------------------------------------------------------------------

    async def backup(self) -> int:
        """Merge this device's inbound sessions into the account's backup; the new version."""
        if self.recovery is None:
            raise ValueError("no recovery secret: use_recovery() first")
        account = self.identity.device.account
        for _ in range(3):
            version = 0
            try:
                stored = await self._call("backup.get")
            except RequestError as exc:
                if exc.wire_code != ErrorCode.NOT_FOUND:
                    raise
            else:
                version = int(stored["version"])
                self.keys.restore(key_backup.open(b64d(stored["blob"], field="blob"),
                                                  self.recovery, account))
            blob = key_backup.seal(self.recovery, account, self.keys.backed_up())
            try:
                await self._call("backup.put", blob=b64e(blob), version=version + 1)
            except RequestError as exc:
                if exc.wire_code != ErrorCode.CONFLICT:
                    raise
                continue  # another device backed up meanwhile: merge theirs and retry
            return version + 1
        raise RuntimeError("key backup kept conflicting with other devices; try again")

    async def restore_backup(self, recovery: Recovery) -> int:
        """Adopt ``recovery`` and import the account's backed-up sessions; how many."""
        stored = await self._call("backup.get")
        sessions = key_backup.open(b64d(stored["blob"], field="blob"), recovery,
                                   self.identity.device.account)
        self.recovery = recovery
        return self.keys.restore(sessions)

    # ---- plumbing --------------------------------------------------------------------

    async def _call(self, op: str, **args: Any) -> dict[str, Any]:
        try:
            return await self.api.call(op, **args)
        except RequestError as exc:
            if exc.wire_code == ErrorCode.DEVICE_REVOKED and "was revoked" in exc.message \
                    and b64e(self.me) in exc.message:
                raise E2EError(Reason.DEVICE_REMOVED, exc.message) from None
            raise
