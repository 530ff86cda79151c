"""The sans-I/O pieces on their own: token bucket, outbox, in-process bus, settings."""

from __future__ import annotations

import pytest

from hearth.ratelimit import RateLimit, TokenBucket
from relay.bus import InProcessBus
from relay.outbox import Outbox
from relay.settings import RelaySettings


def test_token_bucket_bursts_refills_and_ignores_clock_steps_back() -> None:
    bucket = TokenBucket(RateLimit(2, 3), now=100.0)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(100.5) and not bucket.take(100.5)
    assert not bucket.take(50.0)  # a clock that steps back mints nothing
    assert bucket.is_full(200.0)


def test_outbox_bounds_frames_and_chars() -> None:
    box = Outbox(max_frames=2, max_chars=10)
    assert box.push("abcd") and box.push("efgh") and not box.push("i")
    box2 = Outbox(max_frames=10, max_chars=10)
    assert box2.push("123456") and not box2.push("12345") and len(box2) == 1


async def test_outbox_flush_close_sends_queue_first_abort_drops_it() -> None:
    box = Outbox(10, 100)
    box.push("a")
    assert box.close(4001, "bye", flush=True) and not box.close(4008, "x", flush=False)
    assert box.push("late") and box.dropped == 1
    assert box.pop() == "a" and box.pop() is None and box.close_code == 4001
    await box.wait()  # a close to act on: resolves at once
    aborted: list[bool] = []
    box = Outbox(10, 100)
    box.on_abort = lambda: aborted.append(True)
    box.push("a")
    box.close(4008, "slow", flush=False)
    assert aborted == [True] and box.pop() is None and box.dropped == 1 and box.chars == 0


async def test_outbox_wakes_its_writer_once_per_burst_and_frees_what_it_drained() -> None:
    box = Outbox(10, 100)
    waiting = box.wait()
    assert not waiting.done()
    assert box.push("ab") and box.push("cd") and waiting.done()
    assert box.wait().done()  # frames are queued: no sleep
    assert [box.pop(), box.pop(), box.pop()] == ["ab", "cd", None]
    assert len(box) == 0 and box.chars == 0
    waiting = box.wait()
    box.close(1000, "bye", flush=True)
    assert waiting.done()


async def test_in_process_bus_routes_by_subject_and_prefix() -> None:
    bus = InProcessBus()
    got: list[tuple[str, str, str]] = []

    def a(s: str, d: str) -> None:
        got.append(("a", s, d))

    def b(s: str, d: str) -> None:
        got.append(("b", s, d))

    def broken(s: str, d: str) -> None:
        raise RuntimeError("boom")

    await bus.subscribe("conn.x", broken)
    await bus.subscribe("conn.x", a)
    await bus.subscribe("ctl.*", b)
    await bus.publish("conn.x", "1")
    await bus.publish("ctl.h1", "2")
    await bus.publish("conn.y", "3")
    assert got == [("a", "conn.x", "1"), ("b", "ctl.h1", "2")]
    bus.unsubscribe("conn.x", a)
    bus.unsubscribe("conn.x", broken)
    bus.unsubscribe("ctl.*", b)
    assert bus.subject_count() == 0


async def test_presence_belongs_to_the_newest_owner() -> None:
    bus = InProcessBus()
    await bus.mark_online("h", "old")
    await bus.mark_online("h", "new")
    assert not await bus.mark_offline("h", "old") and await bus.is_online("h")
    assert await bus.mark_offline("h", "new") and not await bus.is_online("h")


def test_settings_require_a_rate_limit_for_every_inbound_frame_type() -> None:
    rates = dict(RelaySettings().client_rates)
    del rates["sub"]
    with pytest.raises(ValueError, match="'sub'"):
        RelaySettings(client_rates=rates)
    with pytest.raises(ValueError, match="rate > 0"):
        RateLimit(0, 1)
