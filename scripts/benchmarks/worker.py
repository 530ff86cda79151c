"""Load-generator processes driven by commands over a pipe.

The runner starts each generator with ``Worker.start(kind)``; the child builds the
named handler object and serves ``(method, kwargs)`` commands on a uvloop event loop
until ``close``. Results travel back pickled, so they must stay small and plain.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import multiprocessing
import resource
import traceback
from multiprocessing.connection import Connection
from typing import Any

_CTX = multiprocessing.get_context("spawn")

HANDLERS = {
    "subscribers": "benchmarks.subscribers:SubscriberGroup",
    "publisher": "benchmarks.publisher:Publisher",
}


class WorkerError(RuntimeError):
    """A command failed inside a generator process (the message holds its traceback)."""


def raise_file_limit() -> int:
    """Lift RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _child(pipe: Connection, kind: str) -> None:
    import uvloop

    raise_file_limit()
    module_name, _, class_name = HANDLERS[kind].partition(":")
    handler = getattr(importlib.import_module(module_name), class_name)()
    uvloop.run(_serve(pipe, handler))


async def _serve(pipe: Connection, handler: Any) -> None:
    while True:
        method, kwargs = await asyncio.to_thread(pipe.recv)
        try:
            result = await getattr(handler, method)(**kwargs)
        except Exception:
            pipe.send(("error", traceback.format_exc()))
        else:
            pipe.send(("ok", result))
        if method == "close":
            return


class Worker:
    """The parent's handle on one generator process."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._pipe, child_end = _CTX.Pipe()
        self.process = _CTX.Process(target=_child, args=(child_end, kind), daemon=True)
        self.process.start()
        child_end.close()
        self._busy = False

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def send(self, method: str, **kwargs: Any) -> None:
        """Start a command; collect its result with ``result()``."""
        assert not self._busy, f"{self.kind} worker is still busy"
        self._busy = True
        self._pipe.send((method, kwargs))

    def result(self, wait_s: float) -> Any:
        if not self._pipe.poll(wait_s):
            raise WorkerError(f"{self.kind} worker (pid {self.pid}) gave no answer in {wait_s} s")
        try:
            status, value = self._pipe.recv()
        except EOFError:
            raise WorkerError(f"{self.kind} worker (pid {self.pid}) died") from None
        self._busy = False
        if status != "ok":
            raise WorkerError(f"{self.kind} worker (pid {self.pid}) failed:\n{value}")
        return value

    def call(self, method: str, wait_s: float, **kwargs: Any) -> Any:
        self.send(method, **kwargs)
        return self.result(wait_s)

    def close(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(WorkerError, OSError, EOFError):
                self.call("close", 10)
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
