"""The host's authority: admits a verified request and acts on it. No network I/O.

Pipeline, in order (each refusal is a signed error response to the requester):
device signature over the exact body bytes (checked by ``host.verifier``) → addressed
to this host → fresh ts → unseen (dev, n) → the device is registered and not revoked
(``hello`` registers it from its certificate) → op arguments → the op, which authorises
by membership and role. The caller's account always comes from its stored certificate.

Requests come in batches (``handle_batch``; the node forms them from whatever arrived
while the previous batch was being committed): one transaction per batch, one savepoint
per request (a run of publishes: one statement per message, ``store_messages``), and
nothing reported done before the COMMIT returned. See ``Service``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from nacl.signing import SigningKey

from hearth.errors import ErrorCode, ProtocolError
from hearth.frames import Frame, HostResponse, Revoke
from hearth.keys import now_ms
from hearth.limits import REQUEST_MAX_SKEW_MS
from hearth.rpc import (
    ErrorInfo,
    EventBody,
    HelloArgs,
    PublishArgs,
    RequestBody,
    ResponseBody,
    parse_args,
    sign_host_body,
)
from host import (
    ops_account,
    ops_invites,
    ops_keys,
    ops_link,
    ops_mailbox,
    ops_messages,
    ops_prekeys,
    ops_receipts,
    ops_retention,
    ops_roster,
    ops_spaces,
)
from host.authz import AuthzCache
from host.config import host_id_for
from host.context import Context, Shared, decode_key, event_frame, fail, member_event
from host.expiry import any_due, expire_due, expiry_events
from host.replay import ReplayCache
from host.store import Store, TransactionLost
from host.verifier import VERIFY_THREADS, Request, Verifier, reply_address

log = logging.getLogger("hearth.host")

PUBLISH_RUN = 32
"""Most consecutive publishes of a batch whose database work shares one round trip (the
batch's time budget is checked between such runs, so this bounds the overshoot)."""

Handler = Callable[[Context, Any], Awaitable[dict[str, Any]]]

HANDLERS: dict[str, Handler] = {
    "hello": ops_account.hello,
    "host.claim": ops_account.host_claim,
    "space.create": ops_spaces.space_create,
    "space.list": ops_spaces.space_list,
    "space.rename": ops_spaces.space_rename,
    "space.delete": ops_spaces.space_delete,
    "space.leave": ops_spaces.space_leave,
    "channel.create": ops_spaces.channel_create,
    "channel.list": ops_spaces.channel_list,
    "channel.rename": ops_spaces.channel_rename,
    "channel.delete": ops_spaces.channel_delete,
    "member.list": ops_spaces.member_list,
    "member.remove": ops_spaces.member_remove,
    "member.role": ops_spaces.member_role,
    "invite.key": ops_invites.invite_key,
    "invite.link": ops_invites.invite_link,
    "invite.list": ops_invites.invite_list,
    "invite.revoke": ops_invites.invite_revoke,
    "invite.accept": ops_invites.invite_accept,
    "invite.redeem": ops_invites.invite_redeem,
    "token": ops_messages.token,
    "publish": ops_messages.publish,
    "history": ops_messages.history,
    "message.delete": ops_retention.message_delete,
    "channel.ttl": ops_retention.channel_ttl,
    "channel.mark": ops_receipts.channel_mark,
    "channel.receipts": ops_receipts.channel_receipts,
    "space.unread": ops_receipts.space_unread,
    "account.settings": ops_receipts.account_settings,
    "device.list": ops_account.device_list,
    "device.revoke": ops_account.device_revoke,
    "mailbox.put": ops_mailbox.mailbox_put,
    "mailbox.fetch": ops_mailbox.mailbox_fetch,
    "mailbox.ack": ops_mailbox.mailbox_ack,
    "backup.put": ops_account.backup_put,
    "backup.get": ops_account.backup_get,
    "prekey.put": ops_prekeys.prekey_put,
    "prekey.claim": ops_prekeys.prekey_claim,
    "keys.put": ops_keys.keys_put,
    "keys.fetch": ops_keys.keys_fetch,
    "space.devices": ops_roster.space_devices,
    "link.open": ops_link.link_open,
    "link.post": ops_link.link_post,
    "link.read": ops_link.link_read,
}


Outcome = tuple[ResponseBody, list[Frame]]
Signed = tuple[str, str]
"""A host-signed body: (text, signature)."""


class Service:
    """Answers requests in batches, one batch at a time, in arrival order.

    Durability and ordering invariants (``handle_batch``):

    - A batch runs in ONE write transaction (BEGIN IMMEDIATE ... COMMIT, WAL,
      ``synchronous = FULL``); each request in it runs in its own savepoint (a
      publish of a run writes with one statement, which undoes itself), so a
      refused or failed request's partial writes are rolled back and no other
      request's work is.
    - Outcomes are returned only after the COMMIT returned: whoever sends them (a
      response, then the events and revocations it caused) can never make live what
      is not durably stored (host-first delivery). They may be *signed* while the
      COMMIT runs; signing releases nothing.
    - Requests are handled, and outcomes returned, in order; each request sees every
      earlier request's writes, exactly as if they had run one at a time.
    - If the transaction cannot commit, nothing of the batch is reported done: every
      success becomes an ``internal`` error with no events (refusals stay as they are,
      since they changed nothing).
    """

    def __init__(
        self, store: Store, host_key: SigningKey, *, clock: Callable[[], int] = now_ms,
        verify_threads: int = VERIFY_THREADS,
    ) -> None:
        self.store = store
        self.host_key = host_key
        self.host_id = host_id_for(host_key)
        self._clock = clock
        self._replays = ReplayCache(REQUEST_MAX_SKEW_MS)
        # The replay cache is in memory: refusing requests signed before this process
        # started closes the window in which a restart would make them replayable.
        self._started_at = clock()
        self._lock = asyncio.Lock()
        self._authz = AuthzCache()
        self.shared = Shared()
        self.verifier = Verifier(verify_threads)
        """Verifies requests (the node hands it the requests waiting behind a batch)."""

    def close(self) -> None:
        """Stop the signature-verification threads (the store is closed by its owner)."""
        self.verifier.close()

    async def handle(self, text: str, sig: str) -> Outcome:
        """The response to one request and the frames to send after it, in order."""
        (outcome,) = await self.handle_batch([Request("", text, sig)])
        return outcome

    async def handle_batch(
        self, requests: Sequence[Request], *, budget_s: float | None = None,
    ) -> list[Outcome]:
        """Outcomes of ``requests[:n]``, in order, after their transaction committed
        (see the class docstring). ``n`` is all of them unless ``budget_s`` seconds
        passed: then the batch stops after the request in hand (at least one is always
        handled) and the caller hands the rest to a later batch. Consecutive publishes
        are handled PUBLISH_RUN at a time in one database round trip
        (``_handle_publishes``), so the budget may be overrun by one such run."""
        return [outcome for outcome, _ in await self._run_batch(requests, budget_s, False)]

    async def respond_batch(
        self, requests: Sequence[Request], *, budget_s: float | None = None,
    ) -> list[list[Frame]]:
        """``handle_batch`` as frames for the relay, one list per handled request: its
        signed ``resp_to`` first, then the events and revocations it caused (nothing
        for a body naming no requester)."""
        answers: list[list[Frame]] = []
        done = await self._run_batch(requests, budget_s, True)
        for request, ((_, outbound), signed) in zip(requests, done, strict=False):
            if signed is None:
                # Nobody can be told: the body does not say who asked, so no client could
                # match (or even parse) a response; the requester's call times out instead.
                log.debug("dropping a response to an unreadable request")
                answers.append([])
                continue
            body, body_sig = signed
            answers.append([HostResponse(to=request.reply_to, body=body, sig=body_sig),
                            *outbound])
        return answers

    async def _run_batch(
        self, requests: Sequence[Request], budget_s: float | None, respond: bool,
    ) -> list[tuple[Outcome, Signed | None]]:
        """``handle_batch``; with ``respond``, each outcome's response signed too (None
        for a response with no ``re``). The publishes' events and the responses are
        signed while the COMMIT runs (``Store.transaction(while_committing=...)``): the
        signatures are ready when it returns, and nothing is released before."""
        if not requests:
            return []
        async with self._lock:
            deadline = None if budget_s is None else time.monotonic() + budget_s
            await self.verifier.open_all(requests)
            outcomes: list[Outcome] = []
            unsigned: list[tuple[list[Frame], EventBody]] = []
            signed: list[Signed | None] = []

            async def sign_all() -> None:
                for outbound, event in unsigned:
                    outbound.append(event_frame(self.host_key, event))
                if respond:
                    signed.extend(self._sign_response(response) for response, _ in outcomes)

            try:
                async with self.store.transaction(while_committing=sign_all):
                    at = 0
                    while at < len(requests):
                        late = deadline is not None and time.monotonic() >= deadline
                        run = self._publish_run(requests, at, 1 if late else PUBLISH_RUN)
                        if run > 1:
                            await self._handle_publishes(requests[at:at + run], outcomes,
                                                         unsigned)
                            at += run
                        else:
                            outcomes.append(await self._handle_one(requests[at]))
                            at += 1
                        if deadline is not None and time.monotonic() >= deadline:
                            break
            except Exception:
                log.exception("event=batch_failed requests=%d", len(outcomes))
                undone = [self._undone(response) for response, _ in outcomes]
                return [(outcome, self._sign_response(outcome[0]) if respond else None)
                        for outcome in undone]
            return list(zip(outcomes, signed if respond else [None] * len(outcomes),
                            strict=True))

    def _sign_response(self, response: ResponseBody) -> Signed | None:
        return sign_host_body(self.host_key, response) if response.re else None

    async def respond(self, reply_to: str, text: str, sig: str) -> list[Frame]:
        """``respond_batch`` for a single request."""
        (frames,) = await self.respond_batch([Request(reply_to, text, sig)])
        return frames

    async def tick(self) -> list[Frame]:
        """The host's periodic work (the node calls it about every TICK_S): erase what
        expired (at most EXPIRY_BATCH messages, in one transaction), then the signed
        ``del`` events of that erase and the coalesced ``rcpt`` events due, to send in
        that order. Events only after the erase committed (host-first); after any erase,
        the write-ahead log is checkpointed so the erased bytes leave the disk."""
        async with self._lock:
            now = self._clock()
            erased: dict[tuple[str, str], list[str]] = {}
            if await self.store.run(any_due, now):
                async with self.store.transaction():
                    erased = await self.store.run(expire_due, now)
            if erased:
                self.shared.erased = True
            events = expiry_events(self.host_id, now, erased)
            events += await self.shared.receipts.flush(self.store, self.host_id, now)
            if self.shared.erased:
                self.shared.erased = False
                await self.store.checkpoint()
        return list(await self.verifier.spread(partial(event_frame, self.host_key), events))

    async def announce_departures(self, revocations: Sequence[Revoke]) -> list[Frame]:
        """Signed ``mem`` events for members removed from a space outside any request
        (``hearth host remove-member``, found by the node's revocation poll): one per
        revocation of an account in a space that it is no longer a member of."""
        now, events = self._clock(), []
        for revoke in revocations:
            if revoke.acct is None or revoke.space is None or revoke.dev is not None:
                continue
            acct = decode_key(revoke.acct)
            if await self.store.fetchval("SELECT 1 FROM members WHERE space = ? AND acct = ?",
                                         (revoke.space, acct)) is None:
                events.append(member_event(self.host_id, revoke.space, "", now, acct, None))
        return [event_frame(self.host_key, event) for event in events]

    async def _handle_one(self, request: Request) -> Outcome:
        """One request of a batch, in its own savepoint. ``TransactionLost`` propagates:
        the batch is then undone as a whole."""
        now = self._clock()
        body = request.opened
        if isinstance(body, ProtocolError) or body is None:
            exc = body or ProtocolError(ErrorCode.INTERNAL, "request was not verified")
            dev, nonce = reply_address(request.text)
            return self._error(dev, nonce, exc), []
        try:
            async with self.store.savepoint():
                ctx = await self._admit(body, now)
                args = parse_args(body.op, body.a)
                result = await HANDLERS[body.op](ctx, args)
        except ProtocolError as exc:
            return self._error(body.dev, body.n, exc), []
        except TransactionLost:
            raise
        except Exception:
            log.exception("op %r failed", body.op[:40])
            return self._error(
                body.dev, body.n, ProtocolError(ErrorCode.INTERNAL, "internal error")
            ), []
        response = ResponseBody(v=1, host=self.host_id, dev=body.dev, re=body.n, ok=True, r=result)
        return response, ctx.outbound

    @staticmethod
    def _publish_run(requests: Sequence[Request], at: int, most: int) -> int:
        """How many requests from ``at`` on are verified publishes (at most ``most``)
        that can share one database round trip (``_handle_publishes``)."""
        if HANDLERS["publish"] is not ops_messages.publish:
            return 0  # a replaced handler (tests) runs as written
        end = at
        while end < len(requests) and end - at < most:
            body = requests[end].opened
            if not isinstance(body, RequestBody) or body.op != "publish":
                break
            end += 1
        return end - at

    async def _handle_publishes(
        self, run: Sequence[Request], outcomes: list[Outcome],
        unsigned: list[tuple[list[Frame], EventBody]],
    ) -> None:
        """Consecutive publishes, exactly as ``_handle_one`` would answer them one after
        the other, with their database work in ONE round trip: admission, arguments and
        membership for each (the same checks; publishes change nothing they read), then
        every store in one ``ops_messages.store_messages`` hop (a refused one writes
        nothing), then each result and event. Appends one outcome per request;
        each event goes to ``unsigned`` with the outbound list its signed frame joins.
        If the hop fails the transaction is lost: the run's outcomes are appended as
        internal errors and the exception propagates (the batch is undone)."""
        done: list[Outcome | None] = [None] * len(run)
        staged: list[tuple[int, RequestBody, Context, PublishArgs, bytes]] = []
        for k, request in enumerate(run):
            body = request.opened
            assert isinstance(body, RequestBody)
            try:
                ctx = await self._admit(body, self._clock())
                args = parse_args(body.op, body.a)
                assert isinstance(args, PublishArgs)
                env = await ops_messages.publish_admit(ctx, args)
            except ProtocolError as exc:
                done[k] = self._error(body.dev, body.n, exc), []
                continue
            except TransactionLost:
                self._fill_internal(run, done, outcomes)
                raise
            except Exception:
                log.exception("op %r failed", body.op[:40])
                done[k] = self._error(
                    body.dev, body.n, ProtocolError(ErrorCode.INTERNAL, "internal error")), []
                continue
            staged.append((k, body, ctx, args, env))
        try:
            stored = await self.store.run(
                ops_messages.store_messages,
                [(args, env, ctx.acct, ctx.dev, ctx.now) for _, _, ctx, args, env in staged])
        except BaseException:
            self._fill_internal(run, done, outcomes)
            raise
        for (k, body, ctx, args, _), result in zip(staged, stored, strict=True):
            if isinstance(result, ProtocolError):
                done[k] = self._error(body.dev, body.n, result), []
            elif isinstance(result, Exception):
                log.error("op 'publish' failed", exc_info=result)
                done[k] = self._error(
                    body.dev, body.n, ProtocolError(ErrorCode.INTERNAL, "internal error")), []
            else:
                if not result.dup:
                    unsigned.append((ctx.outbound, ops_messages.publish_event(ctx, args, result)))
                r = ops_messages.publish_result(args, result)
                done[k] = ResponseBody(v=1, host=self.host_id, dev=body.dev, re=body.n,
                                       ok=True, r=r), ctx.outbound
        for outcome in done:
            assert outcome is not None
            outcomes.append(outcome)

    def _fill_internal(self, run: Sequence[Request], done: list[Outcome | None],
                       outcomes: list[Outcome]) -> None:
        """Append ``run``'s outcomes for a run whose work was lost: refusals as they
        are, everything else ``internal`` (``handle_batch`` then undoes the batch)."""
        for request, outcome in zip(run, done, strict=True):
            body = request.opened
            assert isinstance(body, RequestBody)
            outcomes.append(outcome or (self._error(
                body.dev, body.n, ProtocolError(ErrorCode.INTERNAL, "internal error")), []))

    def _undone(self, response: ResponseBody) -> Outcome:
        """What to answer for a request whose transaction did not commit."""
        if not response.ok:
            return response, []
        return self._error(
            response.dev, response.re, ProtocolError(ErrorCode.INTERNAL, "internal error")
        ), []

    async def _admit(self, body: RequestBody, now: int) -> Context:
        """Checks that do not depend on the op; returns the verified caller's context."""
        if body.host != self.host_id:
            raise fail(
                ErrorCode.WRONG_HOST, f"request is for host {body.host!r}, this is {self.host_id!r}"
            )
        if body.v != 1:
            raise fail(ErrorCode.BAD_REQUEST, f"request version {body.v} is not 1")
        if abs(body.ts - now) > REQUEST_MAX_SKEW_MS:
            raise fail(
                ErrorCode.STALE_REQUEST,
                f"request ts {body.ts} is {body.ts - now:+d} ms from host time {now} "
                f"(max ±{REQUEST_MAX_SKEW_MS})",
            )
        if body.ts < self._started_at - 1:
            raise fail(
                ErrorCode.STALE_REQUEST,
                f"request ts {body.ts} predates this host's start at {self._started_at}",
            )
        if not self._replays.add(body.dev, body.n, body.ts, now):
            raise fail(
                ErrorCode.REPLAY, f"nonce {body.n!r} of device {body.dev!r} was already used"
            )
        dev = decode_key(body.dev, field="dev")
        if body.op == "hello":
            args = parse_args(body.op, body.a)
            assert isinstance(args, HelloArgs)
            acct = await ops_account.register_device(self.store, args, body.dev, now)
        else:
            acct = await self._device_account(dev, body.dev)
        return Context(self.store, self.host_key, self.host_id, body.op, now, dev, acct,
                       authz=self._authz, shared=self.shared)

    async def _device_account(self, dev: bytes, shown: str) -> bytes:
        row = await self._authz.device(self.store, dev)
        if row is None:
            raise fail(ErrorCode.UNKNOWN_DEVICE, f"device {shown!r} is not registered: send hello")
        if row.revoked_at is not None:
            raise fail(ErrorCode.DEVICE_REVOKED, f"device {shown!r} was revoked")
        return row.acct

    def _error(self, dev: str, nonce: str, exc: ProtocolError) -> ResponseBody:
        return ResponseBody(
            v=1, host=self.host_id, dev=dev, re=nonce, ok=False,
            err=ErrorInfo(code=str(exc.code), msg=exc.message),
        )
