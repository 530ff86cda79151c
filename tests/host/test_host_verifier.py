"""Request verification: every request verified exactly once, however the work is split
between the verification threads and the event loop, and results kept in order."""

from __future__ import annotations

import pytest

from hearth.errors import ProtocolError
from hearth.rpc import RequestBody, ResponseBody, open_host_body
from host import node, verifier
from host.node import Inbox
from host.verifier import Request, Verifier, reply_address
from tests.host.support import Community, count_verifications


@pytest.mark.parametrize("threads", [0, 1, 3])
async def test_open_all_verifies_each_request_whatever_the_split(
    community: Community, threads: int,
) -> None:
    requests = [community.publish(community.owner, f"m{i}")
                for i in range(3 * verifier.PARALLEL_VERIFY_MIN)]
    requests[5] = Request("conn", requests[5].text, "A" * 86)  # a bad signature
    pool = Verifier(threads)
    try:
        pool.prepare(requests[:4])
        await pool.open_all(requests)
    finally:
        pool.close()
    assert isinstance(requests[5].opened, ProtocolError)
    assert [r.opened.a["id"] for r in requests if isinstance(r.opened, RequestBody)] == \
        [f"m{i}" for i in range(len(requests)) if i != 5]


@pytest.mark.parametrize("threads", [0, 1, 3])
async def test_spread_keeps_the_order_of_its_items(threads: int) -> None:
    pool = Verifier(threads)
    try:
        for n in (0, 1, verifier.PARALLEL_VERIFY_MIN, 5 * verifier.PARALLEL_VERIFY_MIN + 3):
            assert await pool.spread(lambda i: i * i, list(range(n))) == \
                [i * i for i in range(n)]
    finally:
        pool.close()


def test_reply_address_is_read_only_from_a_well_formed_body() -> None:
    dev, nonce = "A" * 43, "B" * 22
    assert reply_address(f'{{"dev": "{dev}", "n": "{nonce}"}}') == (dev, nonce)
    assert reply_address(f'{{"dev": "{dev}", "n": "short"}}') == ("", "")
    assert reply_address(f'{{"dev": 1, "n": "{nonce}"}}') == ("", "")
    assert reply_address("[1, 2]") == ("", "")
    assert reply_address("not json") == ("", "")


async def test_a_large_batch_verifies_in_parallel_and_keeps_order(community: Community) -> None:
    host, owner = community.host, community.owner
    batch = [community.publish(owner, f"m{i}") for i in range(3 * verifier.PARALLEL_VERIFY_MIN)]
    batch[5] = Request("conn", batch[5].text, "A" * 86)  # a bad signature among them
    outcomes = await host.service.handle_batch(batch)
    codes = ["ok" if r.ok else (r.err.code if r.err else "?") for r, _ in outcomes]
    assert codes[5] == "bad_signature" and codes.count("ok") == len(batch) - 1
    assert [r.r["id"] for r, _ in outcomes if r.r] == [f"m{i}" for i in range(len(batch))
                                                       if i != 5]


async def test_requests_verified_ahead_are_verified_once_and_answered_in_order(
    community: Community, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The node verifies the requests queued behind the batch in hand on the
    verification thread (``answer_batch`` → ``Verifier.prepare``); the next batch uses
    that work: every request is verified exactly once, refusals included."""
    host, owner = community.host, community.owner
    opened = count_verifications(monkeypatch)
    requests = [community.publish(owner, f"m{i}") for i in range(40)]
    requests[25] = Request("conn", requests[25].text, "A" * 86)  # a bad signature
    inbox = Inbox()
    for request in requests:
        await inbox.put(request)
    first = await node.answer_batch(host.service, inbox, await inbox.take(10))
    assert len(inbox) == 30 and all(r.verifying is not None for r in requests[10:])
    rest = await node.answer_batch(host.service, inbox, await inbox.take(100))
    codes = [open_host_body(host.host_id, frames[0].body, frames[0].sig, ResponseBody)
             for frames in first + rest]
    assert [r.err.code if r.err else "ok" for r in codes] == \
        ["ok"] * 25 + ["bad_signature"] + ["ok"] * 14
    assert sorted(opened) == sorted(r.text for r in requests)  # each exactly once
    assert community.committed() == [(i + 1, f"m{i if i < 25 else i + 1}") for i in range(39)]
