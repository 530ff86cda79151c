"""A connection's bounded send queue, drained by exactly one writer task."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable


class Outbox:
    """FIFO of encoded frames. Invariants: at most ``max_frames`` frames and
    ``max_chars`` characters are queued; ``push`` never blocks. A push that would break a
    bound is refused (the caller closes the connection as a slow consumer). Once a close
    is requested, further pushes are dropped and counted in ``dropped``."""

    __slots__ = (
        "_items", "_wake", "aborted", "chars", "close_code", "close_reason", "dropped",
        "max_chars", "max_frames", "on_abort",
    )

    def __init__(self, max_frames: int, max_chars: int) -> None:
        self.max_frames = max_frames
        self.max_chars = max_chars
        self._items: deque[str] = deque()
        self.chars = 0
        self._wake = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""
        self.aborted = False
        self.dropped = 0
        self.on_abort: Callable[[], object] | None = None
        """Set by the I/O shell: interrupts a writer blocked on a socket that is not read."""

    def __len__(self) -> int:
        return len(self._items)

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    def push(self, text: str) -> bool:
        """Queue ``text``; False only if it would overflow (nothing is queued then)."""
        if self.close_code is not None:
            self.dropped += 1
            return True
        if len(self._items) >= self.max_frames or self.chars + len(text) > self.max_chars:
            return False
        self._items.append(text)
        self.chars += len(text)
        self._wake.set()
        return True

    def close(self, code: int, reason: str, *, flush: bool) -> bool:
        """Ask the writer to close with ``code`` after sending what is queued (``flush``)
        or at once, dropping the queue. The first request wins; returns whether this was it."""
        if self.close_code is not None:
            return False
        self.close_code = code
        self.close_reason = reason
        if not flush:
            self.dropped += len(self._items)
            self._items.clear()
            self.chars = 0
            self.aborted = True
            if self.on_abort is not None:
                self.on_abort()
        self._wake.set()
        return True

    async def next(self) -> str | None:
        """The next frame to send, or None once a close is requested and nothing is left."""
        while not self._items:
            if self.close_code is not None:
                return None
            self._wake.clear()
            await self._wake.wait()
        text = self._items.popleft()
        self.chars -= len(text)
        return text
