"""Where the memory of an idle connection goes: tracemalloc in the server process.

Serves the relay (or the bare app) in this process with the relay's own uvicorn Config,
has a generator process open N idle authenticated client connections (``hold_hearth``,
as the connection benchmark does; ``hold_bare`` for the bare app), and prints the
Python-heap bytes per connection and the biggest allocation sites. RSS includes more
(allocator slack, uvloop's C buffers), so read this next to ``scripts/bench --only
connections``.

Run: ``PYTHONPATH=scripts .venv/bin/python -m benchmarks.memtrace [--bare] [-n 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tracemalloc

import uvicorn
import uvloop
from benchlib.procs import free_port

from benchmarks.worker import Worker, raise_file_limit
from relay.server import build_server
from relay.settings import RelaySettings

HOLDERS = 2
TOP = 25


async def _measure(bare: bool, count: int, dump: str | None) -> None:
    port = free_port()
    server: uvicorn.Server = build_server(RelaySettings(port=port), handle_signals=False)
    if bare:
        from benchmarks.bare_app import create_app

        config = server.config
        config.app = create_app()
        server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
        await asyncio.sleep(0.05)
    holders = [Worker("subscribers") for _ in range(HOLDERS)]
    url = f"ws://127.0.0.1:{port}"
    method, key = ("hold_bare", "url") if bare else ("hold_hearth", "relay_url")
    try:
        # Warm up (first-use caches, imports), then measure from a clean baseline.
        await asyncio.to_thread(holders[0].call, method, 60, **{key: url, "count": 20})
        gc.collect()
        tracemalloc.start(8)
        before = tracemalloc.take_snapshot()
        share = count // HOLDERS
        for holder in holders:
            holder.send(method, **{key: url, "count": share})
        for holder in holders:
            await asyncio.to_thread(holder.result, 120)
        await asyncio.sleep(1.0)
        gc.collect()
        after = tracemalloc.take_snapshot()
        if dump:
            before.dump(f"{dump}.before")
            after.dump(f"{dump}.after")
        held = share * HOLDERS
        stats = after.compare_to(before, "lineno")
        total = sum(s.size_diff for s in stats)
        print(f"{'bare app' if bare else 'relay'}: {held} idle connections, "
              f"{total / held:,.0f} B of Python heap each")
        for stat in stats[:TOP]:
            frame = stat.traceback[0]
            print(f"{stat.size_diff / held:8.0f} B {stat.count_diff / held:6.2f} blocks  "
                  f"{frame.filename.split('site-packages/')[-1]}:{frame.lineno}")
    finally:
        tracemalloc.stop()
        for holder in holders:
            await asyncio.to_thread(holder.close)
        server.should_exit = True
        await serving


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bare", action="store_true", help="measure the bare app instead")
    parser.add_argument("-n", type=int, default=2000, help="idle connections to open")
    parser.add_argument("--dump", help="also save both snapshots as DUMP.before/.after")
    args = parser.parse_args()
    raise_file_limit()
    uvloop.run(_measure(args.bare, args.n, args.dump))


if __name__ == "__main__":
    main()
