"""The host's store: publishes stored per second and history page latency.

Measured through the real host.service.Service (real signed requests, no network),
each against raw sqlite3 doing the same rows with the same PRAGMAs (host.store).
Publishes are measured twice: one request at a time (``Service.handle``: one
transaction each), and batched exactly as the node does (requests put into the node's
``Inbox`` by a reader task while the server loop answers batches of up to
host.node.MAX_BATCH with ``host.node.answer_batch``, BATCH_BUDGET_S each): that is the
path a loaded host runs, and its baseline is raw sqlite3 committing the same rows in
transactions of the same sizes.
The history table is filled by a direct bulk insert into a database whose schema
host.migrations made (through host.config.init_host); the history op is the real one.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from benchmarks.envelope import OpaqueEnvelope
from benchmarks.results import Row
from hearth.b64 import b64e
from hearth.client import new_message_id
from hearth.identity import Identity
from hearth.invite_link import invite_public_key, prove_invite
from hearth.keys import now_ms
from hearth.rpc import sign_request
from host.config import create_owner_claim, db_path, init_host, load_host_key
from host.node import BATCH_BUDGET_S, MAX_BATCH, Inbox, answer_batch
from host.service import Service
from host.store import PRAGMAS, Store
from host.verifier import Request

PUBLISHES = 3000
PUBLISH_MAX_S = 6.0
BATCHED_PUBLISHES = 10_000
RAW_ROWS = 3000
BATCH = 1000
HISTORY_SIZES = (10_000, 1_000_000)
HISTORY_PAGES = 200
PAGE = 50
INSERT_SQL = ("INSERT INTO messages (channel_id, seq, msg_id, sender_acct, sender_dev, env, ts) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)")
HISTORY_SQL = ("SELECT seq, msg_id, sender_acct, sender_dev, env, ts FROM messages "
               "WHERE channel_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?")


class Refused(RuntimeError):
    """The host answered a setup request with an error."""


@dataclass
class Bench:
    """A host data dir served by a Service, with an owner, a space and its channel."""

    data: Path
    service: Service
    owner: Identity
    space: str = ""
    chan: str = ""

    @classmethod
    async def create(cls, data: Path) -> Bench:
        init_host(data)
        store = await Store.open(db_path(data))
        bench = cls(data, Service(store, load_host_key(data)), Identity.generate())
        owner = bench.owner
        await bench.call("hello", cert=owner.device.certificate.encode(), name="owner")
        secret = create_owner_claim(data)
        await bench.call("host.claim", pk=invite_public_key(secret),
                         proof=prove_invite(secret, bench.host_id, owner.device.public_key))
        bench.space = (await bench.call("space.create", name="Bench"))["space"]["id"]
        channels = (await bench.call("channel.list", space=bench.space))["channels"]
        bench.chan = next(c["id"] for c in channels if c["name"] == "general")
        return bench

    @property
    def host_id(self) -> str:
        return self.service.host_id

    def sign(self, op: str, **args: Any) -> tuple[str, str]:
        _, text, sig = sign_request(self.owner.device, self.host_id, op, args)
        return text, sig

    async def call(self, op: str, **args: Any) -> dict[str, Any]:
        response, _ = await self.service.handle(*self.sign(op, **args))
        if not response.ok:
            assert response.err is not None
            raise Refused(f"{op}: {response.err.code}: {response.err.msg}")
        return response.r or {}

    def row(self, seq: int, envelope: bytes) -> tuple[Any, ...]:
        return (self.chan, seq, new_message_id(), bytes(self.owner.account_key.verify_key),
                self.owner.device.public_key, envelope, now_ms())

    async def close(self) -> None:
        await self.service.store.close()


def _raw_connection(path: Path) -> sqlite3.Connection:
    """Autocommit sqlite3 with the host's PRAGMAs (WAL is already set on the file)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return conn


async def publish_rows(tmp: Path) -> list[Row]:
    codec = OpaqueEnvelope()
    bench = await Bench.create(tmp / "store-service")
    try:
        requests = [bench.sign("publish", space=bench.space, chan=bench.chan,
                               id=new_message_id(), env=b64e(codec.seal(i)))
                    for i in range(PUBLISHES)]
        deadline = time.monotonic() + PUBLISH_MAX_S
        started = time.perf_counter()
        done = 0
        for text, sig in requests:
            response, _ = await bench.service.handle(text, sig)
            if not response.ok:
                raise Refused(f"publish: {response.err}")
            done += 1
            if time.monotonic() > deadline:
                break
        service_rate = done / (time.perf_counter() - started)
        rows = [bench.row(PUBLISHES + i + 1, codec.seal(i)) for i in range(RAW_ROWS * 2)]
    finally:
        await bench.close()
    conn = _raw_connection(db_path(bench.data))
    try:
        started = time.perf_counter()
        for row in rows[:RAW_ROWS]:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(INSERT_SQL, row)
            conn.execute("COMMIT")
        per_row = RAW_ROWS / (time.perf_counter() - started)
        started = time.perf_counter()
        for at in range(RAW_ROWS, 2 * RAW_ROWS, BATCH):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT_SQL, rows[at:at + BATCH])
            conn.execute("COMMIT")
        batched = RAW_ROWS / (time.perf_counter() - started)
    finally:
        conn.close()
    return [
        Row("Host store", "publishes stored/s, host.service.Service (WAL, synchronous=FULL)",
            service_rate, per_row, "msg/s", "raw sqlite3, 1 txn/row", target=">= 10,000/s",
            note=f"{done} signed publish requests, one at a time; raw sqlite3 batched "
                 f"({BATCH} rows/txn): {batched:,.0f} rows/s",
            extra={"batched": batched}),
    ]


THREAD_ROLES = (("hearth-verify", "verification thread"),
                ("_connection_worker_thread", "database thread"), ("MainThread", "event loop"))
"""Thread name fragment -> what the thread does in the host (threading names)."""


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) so far of this process's threads, by THREAD_ROLES
    (anything else under "other"), from /proc/self/task/<tid>/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}
    used: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        name = names.get(int(tid), "")
        role = next((r for part, r in THREAD_ROLES if part in name), "other")
        used[role] = used.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return used


def _cpu_note(before: dict[str, float], after: dict[str, float], count: int) -> str:
    """CPU µs per publish by thread role, and in all."""
    per = {role: (after.get(role, 0.0) - before.get(role, 0.0)) / count * 1e6
           for role in after}
    shown = [f"{role} {per[role]:.0f}" for _, role in (*THREAD_ROLES, ("", "other"))
             if per.get(role, 0) >= 0.5]
    return f"CPU per publish {sum(per.values()):.0f} µs ({', '.join(shown)})"


async def _serve_batched(bench: Bench, requests: list[Request]) -> tuple[float, list[int]]:
    """Publishes/s as host.node serves them when they arrive faster than it stores them
    (the node under saturating load): a reader task puts every request into the node's
    bounded ``Inbox`` and the server loop takes batches of at most MAX_BATCH and
    answers them with ``host.node.answer_batch`` (which verifies the next batch on the
    verification thread meanwhile), as ``_serve_forever`` does. Returns the rate and
    the batch sizes."""
    inbox = Inbox()
    sizes: list[int] = []
    answers: list[list[Any]] = []

    async def read() -> None:
        for request in requests:
            await inbox.put(request)

    started = time.perf_counter()
    reader = asyncio.create_task(read())
    while len(answers) < len(requests):
        frames = await answer_batch(bench.service, inbox, await inbox.take(MAX_BATCH))
        sizes.append(len(frames))
        answers += frames
    rate = len(requests) / (time.perf_counter() - started)
    await reader
    for sent in answers:  # outside the timing: every publish was stored and fanned out
        body = orjson.loads(sent[0].body)
        if not body["ok"] or body["r"]["dup"] or len(sent) != 2:
            raise Refused(f"publish: {body.get('err')}")
    return rate, sizes


def _raw_batched(conn: sqlite3.Connection, rows: list[tuple[Any, ...]], sizes: list[int]) -> float:
    """Rows/s committing ``rows`` in transactions of ``sizes`` rows, in order."""
    started = time.perf_counter()
    at = 0
    for size in sizes:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT_SQL, rows[at:at + size])
        conn.execute("COMMIT")
        at += size
    return at / (time.perf_counter() - started)


async def batched_publish_rows(tmp: Path) -> list[Row]:
    codec = OpaqueEnvelope()
    bench = await Bench.create(tmp / "store-batched")
    try:
        requests = [Request("bench", *bench.sign(
            "publish", space=bench.space, chan=bench.chan, id=new_message_id(),
            env=b64e(codec.seal(i)))) for i in range(BATCHED_PUBLISHES)]
        cpu_before = thread_cpu()
        service_rate, sizes = await _serve_batched(bench, requests)
        cpu = _cpu_note(cpu_before, thread_cpu(), len(requests))
        first = BATCHED_PUBLISHES + 1
        rows = [bench.row(first + i, codec.seal(i)) for i in range(BATCHED_PUBLISHES + RAW_ROWS)]
    finally:
        await bench.close()
    conn = _raw_connection(db_path(bench.data))
    try:
        raw_rate = _raw_batched(conn, rows[:BATCHED_PUBLISHES], sizes)
        started = time.perf_counter()
        for row in rows[BATCHED_PUBLISHES:]:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(INSERT_SQL, row)
            conn.execute("COMMIT")
        per_row = RAW_ROWS / (time.perf_counter() - started)
    finally:
        conn.close()
    mean = sum(sizes) / len(sizes)
    return [
        Row("Host store", "publishes stored/s, batched as the node does (respond_batch)",
            service_rate, raw_rate, "msg/s", "raw sqlite3, same batch sizes",
            target=">= 10,000/s",
            note=(f"{BATCHED_PUBLISHES:,} signed publishes through the node's inbox, "
                  f"{len(sizes)} batches (mean {mean:.0f}, max {max(sizes)}; MAX_BATCH "
                  f"{MAX_BATCH}, budget {BATCH_BUDGET_S * 1e3:.0f} ms), each one "
                  f"transaction, WAL, synchronous=FULL; {cpu}; raw sqlite3 1 txn/row: "
                  f"{per_row:,.0f} rows/s"),
            extra={"per_row": per_row, "mean_batch": mean}),
    ]


def _bulk_fill(bench: Bench, first: int, last: int, envelope: bytes) -> None:
    """Rows first..last (seq) straight into the messages table, one transaction."""
    conn = sqlite3.connect(db_path(bench.data), isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")
        acct = bytes(bench.owner.account_key.verify_key)
        dev = bench.owner.device.public_key
        ts = now_ms()
        # Ids in seq order keep the unique (channel_id, msg_id) index append-only, which
        # makes the fill several times faster; history pages never read that index.
        salt = secrets.token_hex(5)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT_SQL, (
            (bench.chan, seq, f"{salt}{seq:012d}", acct, dev, envelope, ts)
            for seq in range(first, last + 1)))
        conn.execute("UPDATE channels SET last_seq = ? WHERE id = ?", (last, bench.chan))
        conn.execute("COMMIT")
    finally:
        conn.close()


def _ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.array(samples), q)) * 1e3


async def history_rows(tmp: Path) -> list[Row]:
    codec = OpaqueEnvelope()
    bench = await Bench.create(tmp / "store-history")
    rows: list[Row] = []
    try:
        filled = 0
        for size in HISTORY_SIZES:
            started = time.perf_counter()
            _bulk_fill(bench, filled + 1, size, codec.seal(0))
            fill_s = time.perf_counter() - started
            filled = size
            deep = size // 2
            op_times: list[float] = []
            for i in range(HISTORY_PAGES):
                before = size + 1 if i % 2 == 0 else deep
                text, sig = bench.sign("history", space=bench.space, chan=bench.chan,
                                       before=before, limit=PAGE)
                t0 = time.perf_counter()
                response, _ = await bench.service.handle(text, sig)
                op_times.append(time.perf_counter() - t0)
                if not response.ok or len((response.r or {})["messages"]) != PAGE:
                    raise Refused(f"history: {response.err or 'short page'}")
            raw_times: list[float] = []
            conn = _raw_connection(db_path(bench.data))
            try:
                for i in range(HISTORY_PAGES):
                    before = size + 1 if i % 2 == 0 else deep
                    t0 = time.perf_counter()
                    conn.execute(HISTORY_SQL, (bench.chan, before, PAGE + 1)).fetchall()
                    raw_times.append(time.perf_counter() - t0)
            finally:
                conn.close()
            for q in (50, 99):
                rows.append(Row(
                    "Host store", f"history page of {PAGE}, p{q}, {size:,} messages stored",
                    _ms(op_times, q), _ms(raw_times, q), "ms", "raw sqlite3 SELECT",
                    better="lower",
                    note=(f"{HISTORY_PAGES} signed history requests, newest and middle pages "
                          f"alternating; table bulk-filled in {fill_s:.1f} s"),
                ))
    finally:
        await bench.close()
    return rows
