"""A connection's bounded send queue, drained by exactly one writer task."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable


class Outbox:
    """FIFO of encoded frames. Invariants: at most ``max_frames`` frames and
    ``max_chars`` characters are queued (a frame counts until the writer ``pop``s it to
    send it); ``push`` never blocks. A push that would break a bound is refused (the
    caller closes the connection as a slow consumer). Once a close is requested, further
    pushes are dropped and counted in ``dropped``.

    The writer drains with ``pop`` until it returns None, then awaits ``wait()``: one
    wake-up per burst of frames, not per frame. An empty, idle outbox holds no deque and
    no future (an empty deque alone is 760 bytes, times every idle connection).
    """

    __slots__ = (
        "_items", "_waiter", "aborted", "chars", "close_code", "close_reason", "dropped",
        "max_chars", "max_frames", "on_abort",
    )

    def __init__(self, max_frames: int, max_chars: int) -> None:
        self.max_frames = max_frames
        self.max_chars = max_chars
        self._items: deque[str] | None = None
        """None while empty."""
        self.chars = 0
        self._waiter: asyncio.Future[None] | None = None
        """The writer's pending ``wait()``, if it is waiting."""
        self.close_code: int | None = None
        self.close_reason = ""
        self.aborted = False
        self.dropped = 0
        self.on_abort: Callable[[], object] | None = None
        """Set by the I/O shell: interrupts a writer blocked on a socket that is not read."""

    def __len__(self) -> int:
        return 0 if self._items is None else len(self._items)

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    def push(self, text: str) -> bool:
        """Queue ``text``; False only if it would overflow (nothing is queued then)."""
        if self.close_code is not None:
            self.dropped += 1
            return True
        items = self._items
        queued = 0 if items is None else len(items)
        if queued >= self.max_frames or self.chars + len(text) > self.max_chars:
            return False
        if items is None:
            items = self._items = deque()
        items.append(text)
        self.chars += len(text)
        if self._waiter is not None:
            self._wake()
        return True

    def close(self, code: int, reason: str, *, flush: bool) -> bool:
        """Ask the writer to close with ``code`` after sending what is queued (``flush``)
        or at once, dropping the queue. The first request wins; returns whether this was it."""
        if self.close_code is not None:
            return False
        self.close_code = code
        self.close_reason = reason
        if not flush:
            self.dropped += len(self)
            self._items = None
            self.chars = 0
            self.aborted = True
            if self.on_abort is not None:
                self.on_abort()
        self._wake()
        return True

    def pop(self) -> str | None:
        """The oldest queued frame, which stops counting against the bounds; None if the
        queue is empty."""
        items = self._items
        if items is None:
            return None
        text = items.popleft()
        if not items:
            self._items = None
        self.chars -= len(text)
        return text

    def wait(self) -> asyncio.Future[None]:
        """Resolves once there is a frame to ``pop`` or a close to act on (at once if there
        is one already). Only the writer waits, so there is at most one waiter."""
        waiter = asyncio.get_running_loop().create_future()
        if self._items is not None or self.close_code is not None:
            waiter.set_result(None)
        else:
            self._waiter = waiter
        return waiter

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
