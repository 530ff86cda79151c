"""Request verification: a forwarded request's device signature checked and its body
parsed, spread over a small thread pool beside the event loop. No network I/O, no store.

Invariants:

- Each ``Request`` is verified at most once: ``Request.opened`` is set exactly once (to
  the verified body or to the ``ProtocolError`` refusing it), and a request already
  handed to the pool (``Request.verifying``) is waited for, never verified again.
- Verifying is pure (``open_request``) and safe in any thread; a refusal is recorded on
  the request, never raised. Only a crash in a verification thread propagates.
- Results never depend on how the work was split: ``open_all`` returns only when every
  request given has been opened, and ``spread`` returns its results in input order.
- With no threads (``Verifier(0)``) everything runs on the calling thread.

Work is split with the pool only where it pays: PyNaCl releases the GIL while it
verifies or signs, so the threads run in parallel with the event loop.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import orjson

from hearth.errors import ProtocolError
from hearth.rpc import RequestBody, open_request

VERIFY_THREADS = 1
"""Threads verifying signatures beside the event loop's own (one per spare core)."""
PARALLEL_VERIFY_MIN = 8
"""Below this many requests, handing half to a thread costs more than it saves."""

_KEY = re.compile(r"[A-Za-z0-9_-]{43}")
_NONCE = re.compile(r"[A-Za-z0-9_-]{22}")


@dataclass(slots=True)
class Request:
    """A forwarded request: the relay connection to answer and the signed body."""

    reply_to: str
    text: str
    sig: str
    opened: RequestBody | ProtocolError | None = None
    """The verified body (or why it was refused), once ``Verifier.open_all`` ran."""
    verifying: Future[None] | None = None
    """Set by ``Verifier.prepare``: the verification thread's work including this request."""


def reply_address(text: str) -> tuple[str, str]:
    """Best-effort (dev, n) of a body that failed to open, so the refusal still
    reaches the requester's pending call; empty strings if even that is unreadable."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return "", ""
    if not isinstance(obj, dict):
        return "", ""
    dev, nonce = obj.get("dev"), obj.get("n")
    if isinstance(dev, str) and isinstance(nonce, str) and _KEY.fullmatch(dev) \
            and _NONCE.fullmatch(nonce):
        return dev, nonce
    return "", ""


def _open(request: Request) -> None:
    """Verify the device signature and parse the body (pure; safe in any thread)."""
    try:
        request.opened = open_request(request.text, request.sig)
    except ProtocolError as exc:
        request.opened = exc


X = TypeVar("X")
Y = TypeVar("Y")


def _map(fn: Callable[[X], Y], items: Sequence[X]) -> list[Y]:
    return [fn(item) for item in items]


def _open_each(requests: Sequence[Request]) -> None:
    for request in requests:
        _open(request)


class Verifier:
    """Owns the verification threads (``threads`` of them; none: all on the caller's).

    ``prepare`` starts verifying requests ahead of their batch; ``open_all`` makes sure
    every request of a batch is verified; ``spread`` lends the same threads to other
    GIL-releasing work (signing). ``close`` stops the threads.
    """

    def __init__(self, threads: int = VERIFY_THREADS) -> None:
        self._threads = threads
        self._pool = ThreadPoolExecutor(threads, "hearth-verify") if threads > 0 else None
        self._ahead: Future[None] | None = None
        """The latest ``prepare`` work."""

    def close(self) -> None:
        """Stop the signature-verification threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    def prepare(self, requests: Sequence[Request]) -> None:
        """Start verifying ``requests`` (those not verified or being verified yet) on the
        verification thread, as one piece of work, while this thread does other work:
        the node calls it for the requests waiting behind the batch in hand;
        ``open_all`` then waits for them instead of verifying them again."""
        todo = [r for r in requests if r.opened is None and r.verifying is None]
        if self._pool is None or not todo:
            return
        work = self._ahead = self._pool.submit(_open_each, todo)
        for request in todo:
            request.verifying = work

    async def open_all(self, requests: Sequence[Request]) -> None:
        """Verify every request not verified yet: wait for those ``prepare`` handed to
        the verification thread; the others are split between it and this thread
        (PyNaCl releases the GIL while it verifies, so they run in parallel)."""
        todo = [r for r in requests if r.opened is None and r.verifying is None]
        await self._open_now(todo)
        waits = {id(r.verifying): r.verifying for r in requests if r.verifying is not None}
        for work in waits.values():
            if not work.done():
                await asyncio.wrap_future(work)
            work.result()  # _open catches refusals; this re-raises a crash

    async def _open_now(self, todo: list[Request]) -> None:
        ahead = self._ahead is not None and not self._ahead.done()
        if self._pool is None or len(todo) < PARALLEL_VERIFY_MIN or ahead:
            _open_each(todo)  # with work ahead, the thread is busy already
            return
        loop = asyncio.get_running_loop()
        shares = self._threads + 1
        chunks = [todo[i::shares] for i in range(shares)]
        pending = [loop.run_in_executor(self._pool, _open_each, c) for c in chunks[1:]]
        _open_each(chunks[0])
        await asyncio.gather(*pending)

    async def spread(self, fn: Callable[[X], Y], items: Sequence[X]) -> list[Y]:
        """``[fn(item) for item in items]``, split like ``open_all`` between the
        verification threads and this one (for signing: PyNaCl releases the GIL)."""
        if self._pool is None or len(items) < PARALLEL_VERIFY_MIN:
            return [fn(item) for item in items]
        loop = asyncio.get_running_loop()
        shares = self._threads + 1
        size = -(-len(items) // shares)
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        pending = [loop.run_in_executor(self._pool, _map, fn, c) for c in chunks[1:]]
        results = _map(fn, chunks[0])
        for more in await asyncio.gather(*pending):
            results += more
        return results
