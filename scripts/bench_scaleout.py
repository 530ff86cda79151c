"""Fan-out through one relay process, then through two relays joined by Redis.

    .venv/bin/python scripts/bench_scaleout.py [--subscribers 100] [--seconds 3]

The same load both times: a stand-in host (signing real events) on the first relay
publishes bursts of WINDOW events to one channel; SUBSCRIBERS clients follow it, split
evenly over the relays. Each burst waits until every subscriber has every event, so the
numbers are closed-loop throughput and per-event delivery latency. Everything runs on
127.0.0.1 and stops after --seconds per configuration. On a small machine the relays,
Redis and this generator share the same cores: the table shows what the Redis hop costs,
not how far more machines would carry you (docs/scaling.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
from nacl.signing import SigningKey
from websockets.asyncio.client import ClientConnection, connect

from hearth.auth import client_hello, host_hello
from hearth.frames import Challenge, encode_frame
from hearth.keys import host_id_from_public_key, new_device, now_ms
from hearth.rpc import EventBody, sign_host_body
from hearth.token import issue_token

WINDOW = 20
"""Events per burst (the relay's default host publish burst is far above this)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"relay on port {port} exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise SystemExit(f"relay on port {port} not ready in 20 s")


async def challenge(ws: ClientConnection) -> Challenge:
    return Challenge(nonce=orjson.loads(await ws.recv())["nonce"])


@dataclass
class Result:
    setup: str
    events: int
    deliveries: int
    seconds: float
    latencies_ms: list[float]

    def row(self) -> str:
        lat = sorted(self.latencies_ms) or [0.0]
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        return (f"| {self.setup:<26} | {self.events / self.seconds:>9,.0f} | "
                f"{self.deliveries / self.seconds:>13,.0f} | {statistics.median(lat):>7.2f} | "
                f"{p99:>7.2f} |")


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


async def measure(subscribers: int, seconds: float) -> list[Result]:
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server is not installed: run scripts/bootstrap")
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        redis_port = free_port()
        redis = start([exe, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                       "--appendonly", "no", "--dir", tmp], work / "redis.log")
        procs = [redis]
        try:
            for setup, bus, count in (("1 relay, in-process bus", None, 1),
                                      ("2 relays, Redis bus", f"redis://127.0.0.1:{redis_port}/0",
                                       2)):
                ports = [free_port() for _ in range(count)]
                relays = [start([sys.executable, "-m", "hearth", "relay", "--port", str(p),
                                 *(["--bus", bus] if bus else [])], work / f"relay-{p}.log")
                          for p in ports]
                procs += relays
                for port, proc in zip(ports, relays, strict=True):
                    wait_ready(port, proc)
                results.append(await fan_out(setup, ports, subscribers, seconds))
                for proc in relays:
                    proc.terminate()
                    proc.wait(10)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait(10)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    if not 1 <= args.subscribers <= 2000 or not 0.5 <= args.seconds <= 60:
        raise SystemExit("--subscribers must be 1..2000 and --seconds 0.5..60")
    results = asyncio.run(measure(args.subscribers, args.seconds))
    print(f"Fan-out to {args.subscribers} subscribers, bursts of {WINDOW}, "
          f"{args.seconds:g} s each (closed loop, 127.0.0.1)")
    print("| setup                      | events/s  | deliveries/s  | p50 ms  | p99 ms  |")
    print("|----------------------------|-----------|---------------|---------|---------|")
    for result in results:
        print(result.row())


if __name__ == "__main__":
    main()
