"""Group commit: a batch of requests in one transaction, one savepoint per request,
nothing reported done before the COMMIT, and cached authorisation that never outlives
the rows it came from."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import pytest

from hearth.b64 import b64e
from hearth.errors import ErrorCode
from hearth.frames import Frame, Publish
from hearth.keys import new_device
from hearth.rpc import EventBody, ResponseBody, open_host_body
from host import admin, context, service, store
from host.context import Context, fail
from host.service import HANDLERS, Outcome
from host.verifier import Request
from tests.host.support import Community, Host, User, add_member, count_verifications


def _request(host: Host, user: User, op: str, device: Any = None, **args: Any) -> Request:
    return host.request(user, op, device, **args)



def _codes(outcomes: list[Outcome]) -> list[str]:
    return ["ok" if r.ok else (r.err.code if r.err else "?") for r, _ in outcomes]



def _events(host: Host, outbound: list[Frame]) -> list[tuple[int, str]]:
    return [(e.seq, e.id) for e in (open_host_body(host.host_id, f.body, f.sig, EventBody)
                                    for f in outbound if isinstance(f, Publish))]


async def test_a_refused_request_changes_nothing_and_its_neighbours_are_kept(
    community: Community, monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, owner = community.host, community.owner

    async def writes_then_refuses(ctx: Context, args: Any) -> dict[str, Any]:
        await ctx.store.execute(
            "INSERT INTO messages (channel_id, seq, msg_id, sender_acct, sender_dev, env, ts) "
            "VALUES (?, 99, 'partial', ?, ?, x'00', 0)", (community.general, ctx.acct, ctx.dev))
        await ctx.store.execute("UPDATE channels SET last_seq = 99 WHERE id = ?",
                                (community.general,))
        raise fail(ErrorCode.FORBIDDEN, "refused after writing")

    async def writes_then_crashes(ctx: Context, args: Any) -> dict[str, Any]:
        await ctx.store.execute("UPDATE channels SET name = 'broken' WHERE id = ?",
                                (community.general,))
        raise RuntimeError("a bug")

    monkeypatch.setitem(HANDLERS, "backup.put", writes_then_refuses)
    monkeypatch.setitem(HANDLERS, "backup.get", writes_then_crashes)
    batch = [
        community.publish(owner, "m1"),
        _request(host, owner, "backup.put", version=1, blob=b64e(b"b")),
        community.publish(owner, "m1", b"another envelope"),  # conflict
        _request(host, owner, "backup.get"),
        community.publish(owner, "m2"),
        community.publish(owner, "m1"),  # the same message again: dup, no event
    ]
    outcomes = await host.service.handle_batch(batch)
    assert _codes(outcomes) == ["ok", "forbidden", "conflict", "internal", "ok", "ok"]
    results = [r.r for r, _ in outcomes]
    assert [(r["seq"], r["dup"]) for r in results if r] == [(1, False), (2, False), (1, True)]
    # Only the good requests' work was committed, in order, with no gap in seq.
    assert community.committed() == [(1, "m1"), (2, "m2")]
    channels = (await host.ok(owner, "channel.list", space=community.space))["channels"]
    assert [(c["name"], c["seq"]) for c in channels] == [("general", 2)]
    # Events only for what was stored, each after its own response.
    assert [_events(host, out) for _, out in outcomes] == [[(1, "m1")], [], [], [], [(2, "m2")],
                                                           []]


async def test_a_batch_that_cannot_commit_reports_nothing_done(
    community: Community, monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, owner = community.host, community.owner
    real_commit = store._commit

    def failing_commit(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "_commit", failing_commit)
    outcomes = await host.service.handle_batch([
        community.publish(owner, "m1"),
        _request(host, owner, "publish", space=community.space, chan="nope", id="m2",
                 env=b64e(b"x")),
        community.publish(owner, "m3"),
    ])
    # Successes become internal errors with no events; refusals stay refusals.
    assert _codes(outcomes) == ["internal", "not_found", "internal"]
    assert all(out == [] for _, out in outcomes)
    assert community.committed() == []
    monkeypatch.setattr(store, "_commit", real_commit)
    # The store is usable again, and the rolled-back seq was not consumed.
    again = await host.service.handle_batch([community.publish(owner, "m1")])
    assert _codes(again) == ["ok"] and again[0][0].r == {"id": "m1", "seq": 1, "ts": host.clock(),
                                                         "dup": False, "exp": None}


async def test_outcomes_arrive_only_once_their_rows_are_committed(
    community: Community, monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, owner = community.host, community.owner
    seen_at_commit: list[list[tuple[int, str]]] = []
    real_commit = store._commit

    def spying_commit(conn: sqlite3.Connection) -> None:
        seen_at_commit.append(community.committed())  # another connection, just before
        real_commit(conn)

    monkeypatch.setattr(store, "_commit", spying_commit)
    bob = await add_member(community, "bob")
    seen_at_commit.clear()
    outcomes = await host.service.handle_batch(
        [community.publish(u, f"m{i}") for i, u in enumerate([owner, bob] * 10)])
    assert _codes(outcomes) == ["ok"] * 20
    assert seen_at_commit == [[]]  # one commit for the batch; nothing visible before it
    events = [e for _, out in outcomes for e in _events(host, out)]
    assert events == [(i + 1, f"m{i}") for i in range(20)]  # seq order = request order
    assert community.committed() == events  # and all of it is durable now


async def test_the_time_budget_ends_a_batch_early_without_verifying_twice(
    community: Community, monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, owner = community.host, community.owner
    opened = count_verifications(monkeypatch)
    pending = [community.publish(owner, f"m{i}") for i in range(20)]
    sizes = []
    while pending:
        outcomes = await host.service.handle_batch(pending, budget_s=0.0)
        assert _codes(outcomes) == ["ok"] * len(outcomes)
        sizes.append(len(outcomes))
        pending = pending[len(outcomes):]
    assert sizes == [1] * 20  # a zero budget: one request per batch, never zero
    assert len(opened) == 20  # each signature verified once, however often deferred
    assert community.committed() == [(i + 1, f"m{i}") for i in range(20)]


# ---- cached authorisation is never stale ---------------------------------------------

async def test_a_revoked_device_is_refused_by_the_next_request_in_the_same_batch(
    community: Community,
) -> None:
    host, owner = community.host, community.owner
    second = new_device(owner.account_key)
    await host.ok(owner, "hello", device=second, cert=second.certificate.encode())
    await host.ok(owner, "publish", device=second, space=community.space,
                  chan=community.general, id="warm", env=b64e(b"x"))  # cached now
    outcomes = await host.service.handle_batch([
        _request(host, owner, "device.revoke", dev=b64e(second.public_key)),
        _request(host, owner, "publish", second, space=community.space, chan=community.general,
                 id="late", env=b64e(b"x")),
    ])
    assert _codes(outcomes) == ["ok", "device_revoked"]


async def test_removal_and_demotion_take_effect_within_the_batch(community: Community) -> None:
    host, owner = community.host, community.owner
    bob = await add_member(community, "bob")
    carol = await add_member(community, "carol", role="admin")
    await host.ok(bob, "publish", space=community.space, chan=community.general, id="b0",
                  env=b64e(b"x"))
    await host.ok(carol, "channel.create", space=community.space, name="c0")
    outcomes = await host.service.handle_batch([
        _request(host, owner, "member.remove", space=community.space, acct=bob.acct),
        community.publish(bob, "b1"),
        _request(host, owner, "member.role", space=community.space, acct=carol.acct,
                 role="member"),
        _request(host, carol, "channel.create", space=community.space, name="c1"),
        _request(host, bob, "space.leave", space=community.space),
    ])
    assert _codes(outcomes) == ["ok", "not_member", "ok", "forbidden", "not_member"]


async def test_a_member_removed_by_the_admin_command_is_refused_at_once(
    community: Community,
) -> None:
    host = community.host
    bob = await add_member(community, "bob")
    await host.ok(bob, "publish", space=community.space, chan=community.general, id="b0",
                  env=b64e(b"x"))  # bob's device and role are cached now
    await admin.remove_member(host.data, community.space, bob.acct)  # another connection
    assert await host.err(bob, "publish", space=community.space, chan=community.general,
                          id="b1", env=b64e(b"x")) == "not_member"


async def test_a_membership_rolled_back_with_its_request_is_not_remembered(
    community: Community, monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, owner = community.host, community.owner
    dave = User("dave")
    await host.join(dave)
    await host.ok(owner, "invite.key", space=community.space, acct=dave.acct)
    real_accept = HANDLERS["invite.accept"]

    async def accept_then_fail(ctx: Context, args: Any) -> dict[str, Any]:
        await real_accept(ctx, args)
        await ctx.role_in(args.space)  # the new membership is read (and cached) here
        raise fail(ErrorCode.CONFLICT, "changed my mind")

    monkeypatch.setitem(HANDLERS, "invite.accept", accept_then_fail)
    outcomes = await host.service.handle_batch([
        _request(host, dave, "invite.accept", space=community.space),
        community.publish(dave, "d1"),
    ])
    assert _codes(outcomes) == ["conflict", "not_member"]


async def test_consecutive_publishes_share_one_hop_and_keep_one_at_a_time_semantics(
    community: Community, monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, owner = community.host, community.owner
    bob = await add_member(community, "bob")
    hops: list[str] = []
    real_run = store.Store.run

    async def counting_run(self: store.Store, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(fn, "__name__", "?"))
        return await real_run(self, fn, *args, **kwargs)

    monkeypatch.setattr(store.Store, "run", counting_run)
    batch = [
        community.publish(owner, "m1"),
        community.publish(bob, "m1"),  # conflict: another device
        _request(host, owner, "publish", space=community.space, chan="nope", id="x",
                 env=b64e(b"x")),  # not_found, refused in the database hop
        _request(host, owner, "publish", space=community.space, chan=community.general,
                 id="bad", env="***"),  # bad_request, refused before it
        community.publish(bob, "m2"),
        community.publish(owner, "m1"),  # dup: the stored seq, no second event
        community.publish(owner, "m3"),
    ] + [community.publish(bob, f"n{i}") for i in range(service.PUBLISH_RUN)]
    outcomes = await host.service.handle_batch(batch)
    assert _codes(outcomes) == ["ok", "conflict", "not_found", "bad_request", "ok", "ok", "ok"] \
        + ["ok"] * service.PUBLISH_RUN
    assert [(r.r["seq"], r.r["dup"]) for r, _ in outcomes[:7] if r.r] == [
        (1, False), (2, False), (1, True), (3, False)]
    expected = [(1, "m1"), (2, "m2"), (3, "m3")] + [(4 + i, f"n{i}")
                                                   for i in range(service.PUBLISH_RUN)]
    assert [e for _, out in outcomes for e in _events(host, out)] == expected
    assert community.committed() == expected
    # The stores: one hop per run of PUBLISH_RUN publishes, none per publish (the other
    # hops are BEGIN, COMMIT and authorisation reads after the refusals' rollbacks).
    assert hops.count("store_messages") == 2 and "store_message" not in hops
    assert hops[0] == "_begin" and hops[-1] == "_commit" and len(hops) < 12, hops


async def test_annotations_in_a_run_of_publishes_keep_one_at_a_time_semantics(
    community: Community,
) -> None:
    host, owner = community.host, community.owner

    def annotate(msg_id: str, target: str, env: bytes = b"r") -> Request:
        return _request(host, owner, "publish", space=community.space, chan=community.general,
                        id=msg_id, env=b64e(env), re=target)

    batch = [
        community.publish(owner, "m1"),
        annotate("r1", "m1"),  # its target was stored earlier in the same run
        annotate("r1", "m1"),  # the same again: dup
        annotate("r1", "m1", b"other"),  # the id with another envelope: conflict
        annotate("r2", "r1"),  # an annotation of an annotation
        annotate("r3", "nope"),  # no such target
        community.publish(owner, "m2"),
    ]
    outcomes = await host.service.handle_batch(batch)
    assert _codes(outcomes) == ["ok", "ok", "ok", "conflict", "bad_request", "not_found", "ok"]
    assert [(r.r["seq"], r.r["dup"]) for r, _ in outcomes if r.r] == [
        (1, False), (2, False), (2, True), (3, False)]
    assert outcomes[4][0].err is not None and outcomes[4][0].err.msg == \
        "message 'r1' is itself an annotation of 'm1'"
    assert outcomes[5][0].err is not None and outcomes[5][0].err.msg == \
        f"message 'nope' is not in channel {community.general!r}"
    assert community.committed() == [(1, "m1"), (2, "r1"), (3, "m2")]
    # The channel's seq was written back once: the next publish, alone, follows on.
    (alone,) = await host.service.handle_batch([community.publish(owner, "m4")])
    assert alone[0].r is not None and alone[0].r["seq"] == 4


async def test_responses_and_events_are_signed_while_the_commit_runs(
    community: Community, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The COMMIT (on the database thread) waits here until every response and event of
    the batch has been signed: this completes only if the signing overlaps it."""
    host, owner = community.host, community.owner
    batch = [community.publish(owner, f"m{i}") for i in range(3)]
    signed = threading.Event()
    waited: list[bool] = []
    real_commit, real_sign = store._commit, service.sign_host_body
    count = 0

    def counting_sign(key: Any, body: Any) -> tuple[str, str]:
        nonlocal count
        count += 1
        if count == 2 * len(batch):  # 3 events and 3 responses
            signed.set()
        return real_sign(key, body)

    def waiting_commit(conn: sqlite3.Connection) -> None:
        waited.append(signed.wait(timeout=10))
        real_commit(conn)

    monkeypatch.setattr(service, "sign_host_body", counting_sign)
    monkeypatch.setattr(context, "sign_host_body", counting_sign)
    monkeypatch.setattr(store, "_commit", waiting_commit)
    answers = await host.service.respond_batch(batch)
    assert waited == [True]
    assert [_events(host, frames) for frames in answers] == [[(i + 1, f"m{i}")] for i in range(3)]


async def test_a_commit_that_fails_after_the_signing_answers_signed_internal_errors(
    community: Community, monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, owner = community.host, community.owner

    def failing_commit(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "_commit", failing_commit)
    answers = await host.service.respond_batch(
        [community.publish(owner, "m1"), community.publish(owner, "m2")])
    responses = [open_host_body(host.host_id, frames[0].body, frames[0].sig, ResponseBody)
                 for frames in answers]
    assert [len(frames) for frames in answers] == [1, 1]  # a response each, no event
    assert [(r.ok, r.err.code if r.err else "", r.err.msg if r.err else "")
            for r in responses] == [(False, "internal", "internal error")] * 2
    assert community.committed() == []
