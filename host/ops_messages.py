"""Messages: capability tokens, publishing and history. Docstrings give the result ``r``.

A *message* is ``{seq, id, acct, dev, ts, env, sess, re, exp, del}``: ``env`` is the
sender's opaque envelope (base64url), never parsed by the host; ``acct``/``dev`` are the
sending device's certified keys; ``sess`` is the opaque sender-session id the publisher
named (or null), which lets history return the key shares that open a page; ``re`` the
message it annotates (or null); ``exp`` when the host erases it (ms, or null); ``del``
true for a tombstone (an erased message: ``env`` ``""``, ``sess`` null), kept so seqs
stay gap-free (docs/protocol.md §13.2).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, NamedTuple

from hearth.b64 import b64d, b64e
from hearth.errors import ErrorCode, ProtocolError
from hearth.limits import HISTORY_PAGE_BYTES, TOKEN_LIFETIME_MS
from hearth.rpc import EventBody, HistoryArgs, PublishArgs, TokenArgs
from hearth.token import ALL_CHANNELS, READ, issue_token
from host.context import Context, channel_row, fail
from host.ops_keys import shares_for
from host.store import TransactionLost


async def token(ctx: Context, args: TokenArgs) -> dict[str, Any]:
    """Member. A read token for the calling device, for ``chans`` (``["*"]``: all).
    r = ``{token, exp, chans}``."""
    await ctx.role_in(args.space)
    if args.chans != [ALL_CHANNELS]:
        for chan in args.chans:
            await ctx.require_channel(args.space, chan)
    wire, claims = issue_token(
        ctx.host_key, device=ctx.dev, account=ctx.acct, space=args.space, channels=args.chans,
        scopes=[READ], issued_at_ms=ctx.now, lifetime_ms=TOKEN_LIFETIME_MS,
    )
    return {"token": wire, "exp": claims.exp, "chans": claims.chans}


def _message(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "seq": row["seq"], "id": row["msg_id"], "acct": b64e(row["sender_acct"]),
        "dev": b64e(row["sender_dev"]), "ts": row["ts"], "env": b64e(row["env"]),
        "sess": row["sess"], "re": row["target"], "exp": row["expires_at"],
        "del": bool(row["deleted"]),
    }


class Stored(NamedTuple):
    """What ``store_message`` stored (or found stored): exp is 0 for none."""
    seq: int
    ts: int
    dup: bool
    exp: int


def check_target(conn: sqlite3.Connection, chan: str, target: str) -> None:
    """On the database thread: not_found / bad_request unless message ``target`` of
    ``chan`` may be annotated (it exists, is not deleted, is no annotation itself)."""
    row = conn.execute(
        "SELECT target, deleted FROM messages WHERE channel_id = ? AND msg_id = ?",
        (chan, target),
    ).fetchone()
    if row is None:
        raise fail(ErrorCode.NOT_FOUND, f"message {target!r} is not in channel {chan!r}")
    if row["deleted"]:
        raise fail(ErrorCode.NOT_FOUND, f"message {target!r} was deleted")
    if row["target"] is not None:
        raise fail(
            ErrorCode.BAD_REQUEST,
            f"message {target!r} is itself an annotation of {row['target']!r}",
        )


StoreItem = tuple[PublishArgs, bytes, bytes, bytes, int]
"""What ``store_messages`` stores: (args, envelope, acct, dev, now)."""


def store_message(
    conn: sqlite3.Connection, args: PublishArgs, env: bytes, acct: bytes, dev: bytes, now: int,
) -> Stored:
    """On the database thread, inside the caller's transaction: the message ``args.id``
    in ``args.chan``, stored under the channel's next seq (``exp`` from the channel's
    timer now) unless the same device already stored the same envelope under that id
    (then that one, ``dup``); conflict if the id holds anything else, not_found /
    bad_request for an ``args.re`` that cannot be annotated (check_target)."""
    (result,) = store_messages(conn, [(args, env, acct, dev, now)])
    if isinstance(result, Exception):
        raise result
    return result


def store_messages(
    conn: sqlite3.Connection, items: Sequence[StoreItem],
) -> list[Stored | Exception]:
    """``store_message`` for each item in order, as if each ran alone in its own
    savepoint: the result per item, or the exception it raised (having written
    nothing). Fewer statements for the same writes: a channel's row is read once per
    call, its seqs are counted here and written back by one UPDATE at the end, and a
    new message without ``re`` is ONE INSERT (the UNIQUE (channel_id, msg_id) index
    finds a reused id: then it is read back to tell dup from conflict), so an item
    writes with one statement and a failed statement undoes itself. TransactionLost
    if SQLite rolled the whole transaction back (nothing after it may run in it)."""
    ttls: dict[tuple[str, str], int] = {}
    seqs: dict[str, int] = {}
    results: list[Stored | Exception] = []
    for args, env, acct, dev, now in items:
        try:
            results.append(_store_one(conn, ttls, seqs, args, env, acct, dev, now))
        except Exception as exc:  # the caller decides what each one means
            if not conn.in_transaction:
                raise TransactionLost("the transaction was rolled back by SQLite") from exc
            results.append(exc)
    for chan, seq in seqs.items():
        conn.execute("UPDATE channels SET last_seq = ? WHERE id = ? AND last_seq < ?",
                     (seq, chan, seq))
    return results


def _store_one(
    conn: sqlite3.Connection, ttls: dict[tuple[str, str], int], seqs: dict[str, int],
    args: PublishArgs, env: bytes, acct: bytes, dev: bytes, now: int,
) -> Stored:
    if (args.space, args.chan) not in ttls:
        channel = channel_row(conn, args.space, args.chan)
        ttls[args.space, args.chan] = int(channel["ttl_s"])
        seqs.setdefault(args.chan, int(channel["last_seq"]))
    if args.re is not None:  # the stored copy first: a resend is dup whatever the target
        found = _stored_copy(conn, args, env, dev)
        if found is not None:
            return found
        check_target(conn, args.chan, args.re)
    ttl_s = ttls[args.space, args.chan]
    exp = now + ttl_s * 1000 if ttl_s else 0
    seq = seqs[args.chan] + 1
    try:
        conn.execute(
            "INSERT INTO messages (channel_id, seq, msg_id, sender_acct, sender_dev, env, "
            "ts, sess, target, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (args.chan, seq, args.id, acct, dev, env, now, args.sess, args.re, exp or None),
        )
    except sqlite3.IntegrityError:
        stored = _stored_copy(conn, args, env, dev)
        if stored is None:
            raise
        return stored
    seqs[args.chan] = seq
    return Stored(seq, now, False, exp)


def _stored_copy(
    conn: sqlite3.Connection, args: PublishArgs, env: bytes, dev: bytes,
) -> Stored | None:
    """The message already stored under ``args.id`` as a dup (None if there is none);
    conflict if it is not the same device's same envelope and target."""
    stored = conn.execute(
        "SELECT seq, ts, sender_dev, env, target, expires_at FROM messages "
        "WHERE channel_id = ? AND msg_id = ?",
        (args.chan, args.id),
    ).fetchone()
    if stored is None:
        return None
    if stored["sender_dev"] != dev or stored["env"] != env or stored["target"] != args.re:
        raise fail(
            ErrorCode.CONFLICT,
            f"message id {args.id!r} is already used in channel {args.chan!r} "
            "by another device or for another envelope",
        )
    return Stored(int(stored["seq"]), int(stored["ts"]), True, stored["expires_at"] or 0)


async def publish_admit(ctx: Context, args: PublishArgs) -> bytes:
    """``publish`` before its database write: the caller's membership and the envelope
    (decoded). Writes nothing."""
    await ctx.role_in(args.space)
    try:
        return b64d(args.env, field="env")
    except ProtocolError as exc:
        raise fail(ErrorCode.BAD_REQUEST, exc.message) from None


def publish_event(ctx: Context, args: PublishArgs, stored: Stored) -> EventBody:
    """The ``msg`` event of a message ``publish`` stored (unsigned)."""
    return EventBody(
        v=1, host=ctx.host_id, space=args.space, chan=args.chan, k="msg", seq=stored.seq,
        id=args.id, acct=ctx.acct_b64, dev=ctx.dev_b64, ts=ctx.now, env=args.env,
        re=args.re or "", exp=stored.exp,
    )


def publish_result(args: PublishArgs, stored: Stored) -> dict[str, Any]:
    return {"id": args.id, "seq": stored.seq, "ts": stored.ts, "dup": stored.dup,
            "exp": stored.exp or None}


def publish_done(ctx: Context, args: PublishArgs, stored: Stored) -> dict[str, Any]:
    """``publish`` after ``store_message`` returned: queue the event (unless a
    duplicate) and give the result."""
    if not stored.dup:
        ctx.emit_event(publish_event(ctx, args, stored))
    return publish_result(args, stored)


async def publish(ctx: Context, args: PublishArgs) -> dict[str, Any]:
    """Member. Stores the envelope under the channel's next seq, answers, then fans
    out a ``msg`` event. With ``re`` it is an annotation of that message (check_target).
    Idempotent per (chan, id): the same device resending the same
    envelope gets the stored seq/ts with ``dup: true`` and no second event; anything
    else reusing the id is a conflict. r = ``{id, seq, ts, dup}``.

    The event is only queued here; the pipeline sends it after the response, and only
    once the transaction that stored the row has committed (host-first delivery).

    ``Service`` runs consecutive publishes of a batch as these steps (``publish_admit``
    each, ``store_message`` for all of them in one round trip, one savepoint each, then
    ``publish_result`` and, unless a duplicate, ``publish_event`` each, the events
    signed on two cores): the same checks, writes, results and events."""
    env = await publish_admit(ctx, args)
    async with ctx.store.transaction():  # one round trip: see store_message
        stored = await ctx.store.run(store_message, args, env, ctx.acct, ctx.dev, ctx.now)
    return publish_done(ctx, args, stored)


def _page_rows(conn: sqlite3.Connection, args: HistoryArgs) -> list[sqlite3.Row]:
    """On the database thread: up to ``limit + 1`` rows of the page ``args`` asks for,
    in paging order (ascending for ``after``, else descending); not_found if the
    channel is not in the space."""
    channel_row(conn, args.space, args.chan)
    clauses: list[str] = ["channel_id = ?"]
    params: list[Any] = [args.chan]
    if args.after is not None:
        clauses.append("seq > ?")
        params.append(args.after)
    if args.before is not None:
        clauses.append("seq < ?")
        params.append(args.before)
    order = "ASC" if args.after is not None else "DESC"
    return conn.execute(
        "SELECT seq, msg_id, sender_acct, sender_dev, env, ts, sess, target, expires_at, "
        "deleted FROM messages "
        f"WHERE {' AND '.join(clauses)} ORDER BY seq {order} LIMIT ?",
        [*params, args.limit + 1],
    ).fetchall()


async def history(ctx: Context, args: HistoryArgs) -> dict[str, Any]:
    """Member. Keyset pages by seq, always returned in ascending seq:
    ``after`` → the oldest ``limit`` with seq > after (and < ``before`` if given);
    ``before`` alone → the newest ``limit`` with seq < before; neither → the newest.
    A page also stops before its envelopes exceed HISTORY_PAGE_BYTES (base64url
    characters; at least one message is always returned). ``more`` says whether
    messages remain in the paging direction (newer for ``after``, older otherwise).
    ``keys`` are the key shares addressed to the calling device for the sender sessions
    the page's messages name (ops_keys.shares_for), so a page always arrives with what
    opens it. r = ``{messages: [message...], more, keys: [share...]}``."""
    await ctx.role_in(args.space)
    ascending = args.after is not None
    rows = await ctx.store.run(_page_rows, args)
    more = len(rows) > args.limit
    page: list[dict[str, Any]] = []
    size = 0
    for row in rows[: args.limit]:
        message = _message(row)
        size += len(message["env"])
        if page and size > HISTORY_PAGE_BYTES:
            more = True
            break
        page.append(message)
    if not ascending:
        page.reverse()
    sessions = sorted({m["sess"] for m in page if m["sess"] is not None})
    keys = await shares_for(ctx, args.chan, sessions)
    return {"messages": page, "more": more, "keys": keys}
