"""Scale-out: fan-out through one relay process, then through two joined by Redis.

Part of ``scripts/bench`` (``scripts/bench --only scaleout --no-write`` runs just this).

The same load both times: a stand-in host (signing real events) on the first relay
publishes bursts of WINDOW events to one channel; SUBSCRIBERS clients follow it, split
evenly over the relays. Each burst waits until every subscriber has every event, so the
numbers are closed-loop throughput and per-event delivery latency. Everything runs on
127.0.0.1 and stops after SECONDS per configuration. On a small machine the relays,
Redis and this generator share the same cores: the table shows what the Redis hop costs,
not how far more machines would carry you (docs/scaling.md).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
from nacl.signing import SigningKey
from websockets.asyncio.client import ClientConnection, connect

from benchmarks.results import Row
from hearth.auth import client_hello, host_hello
from hearth.frames import Challenge, encode_frame
from hearth.keys import host_id_from_public_key, new_device, now_ms
from hearth.processes import free_port, start_relay
from hearth.rpc import EventBody, sign_host_body
from hearth.token import issue_token

SECTION = "Scale-out"
SUBSCRIBERS = 100
SECONDS = 3.0
REPEATS = 2
ONE, TWO = "1 relay", "2 relays + Redis"
ONE_NAME = "1 relay, in-process bus"
WINDOW = 20
"""Events per burst (the relay's default host publish burst is far above this)."""


async def challenge(ws: ClientConnection) -> Challenge:
    return Challenge(nonce=orjson.loads(await ws.recv())["nonce"])


@dataclass
class Result:
    setup: str
    events: int
    deliveries: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        """Deliveries per second."""
        return self.deliveries / self.seconds

    def p(self, q: float) -> float:
        lat = sorted(self.latencies_ms) or [0.0]
        return lat[min(len(lat) - 1, int(len(lat) * q / 100))]


async def fan_out(setup: str, ports: list[int], subscribers: int, seconds: float) -> Result:
    key = SigningKey.generate()
    host_id = host_id_from_public_key(bytes(key.verify_key))
    host = await connect(f"ws://127.0.0.1:{ports[0]}/ws/host", compression=None)
    await host.send(encode_frame(host_hello(key, await challenge(host))))
    assert orjson.loads(await host.recv())["t"] == "host_welcome"
    clients: list[ClientConnection] = []
    for i in range(subscribers):
        device = new_device(SigningKey.generate())
        ws = await connect(f"ws://127.0.0.1:{ports[i % len(ports)]}/ws/client",
                           compression=None, max_size=2**21)
        await ws.send(encode_frame(client_hello(device, await challenge(ws))))
        assert orjson.loads(await ws.recv())["t"] == "welcome"
        token, _ = issue_token(key, device=device.public_key, account=device.account,
                               space="s1", channels=["general"], scopes=["read"],
                               issued_at_ms=now_ms(), lifetime_ms=600_000)
        await ws.send(orjson.dumps({"t": "sub", "token": token, "chans": ["general"]}).decode())
        assert orjson.loads(await ws.recv())["t"] == "subbed"
        clients.append(ws)

    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    received = [0] * subscribers

    async def read(i: int, ws: ClientConnection) -> None:
        async for raw in ws:
            frame = orjson.loads(raw)
            if frame["t"] == "event":
                received[i] += 1
                if i == 0:  # one probe subscriber measures latency (always a remote one
                    # when the relays are two: subscriber 0 is on the host's relay)
                    seq = orjson.loads(frame["body"])["seq"]
                    latencies.append((time.perf_counter() - sent_at[seq]) * 1000)

    readers = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(clients)]
    seq = 0
    started = time.perf_counter()
    deadline = started + seconds
    try:
        while time.perf_counter() < deadline:
            for _ in range(WINDOW):
                seq += 1
                body, sig = sign_host_body(key, EventBody(
                    v=1, host=host_id, space="s1", chan="general", k="msg", seq=seq,
                    id=f"m{seq}", ts=now_ms(), env="AAAA"))
                sent_at[seq] = time.perf_counter()
                await host.send(orjson.dumps({"t": "pub", "space": "s1", "chan": "general",
                                              "body": body, "sig": sig}).decode())
            burst_deadline = time.perf_counter() + 10
            while min(received) < seq:
                if time.perf_counter() > burst_deadline:
                    raise SystemExit(f"{setup}: events lost ({min(received)} of {seq})")
                await asyncio.sleep(0.0005)
        elapsed = time.perf_counter() - started
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for ws in [host, *clients]:
            await ws.close()
    return Result(setup, seq, sum(received), elapsed, latencies)


def _measure(work: Path, subscribers: int, seconds: float) -> dict[str, Result]:
    """The best run (by deliveries/s) of each setup, alternating REPEATS times."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server is not installed: run scripts/bootstrap")
    redis_port = free_port()
    redis = subprocess.Popen(
        [exe, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(work)],
        stdout=(work / "redis.log").open("wb"), stderr=subprocess.STDOUT)
    best: dict[str, Result] = {}
    try:
        for _ in range(REPEATS):
            for setup, bus, count in ((ONE, None, 1),
                                      (TWO, f"redis://127.0.0.1:{redis_port}/0", 2)):
                relays = [start_relay(work, *(["--bus", bus] if bus else []))
                          for _ in range(count)]
                try:
                    run = asyncio.run(fan_out(setup, [r.port for r in relays], subscribers,
                                              seconds))
                finally:
                    for relay in relays:
                        relay.process.stop()
                if setup not in best or run.rate > best[setup].rate:
                    best[setup] = run
    finally:
        redis.terminate()
        redis.wait(10)
    return best


def measure(tmp: Path) -> list[Row]:
    """Rows: two relays joined by Redis against one relay, same load, same run."""
    work = tmp / "scaleout"
    work.mkdir(parents=True, exist_ok=True)
    runs = _measure(work, SUBSCRIBERS, SECONDS)
    one, two = runs[ONE], runs[TWO]
    note = (f"{SUBSCRIBERS} subscribers split over the relays, bursts of {WINDOW} from a "
            f"stand-in host on the first relay, {SECONDS:g} s closed loop, best of {REPEATS} "
            "alternating runs; relays, Redis and the generator share this machine's cores")
    return [
        Row(SECTION, "deliveries/s, 2 relays joined by Redis", two.rate, one.rate,
            "deliveries/s", ONE_NAME, note=note),
        Row(SECTION, "p99 publish-to-deliver, 2 relays joined by Redis (a remote subscriber)",
            two.p(99), one.p(99), "ms", ONE_NAME, better="lower",
            note=f"p50 {two.p(50):.1f} ms (1 relay {one.p(50):.1f} ms)"),
    ]
