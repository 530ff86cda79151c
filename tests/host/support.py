"""Helpers for the host's tests: real keys, real signed requests, a hand-moved clock."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from hearth.b64 import b64e
from hearth.frames import Frame, Publish
from hearth.invite_link import invite_public_key, new_invite_secret, prove_invite
from hearth.keys import DeviceKeys, new_device, now_ms
from hearth.rpc import EventBody, ResponseBody, open_host_body, sign_host_body, sign_request
from host import verifier
from host.config import create_owner_claim, db_path
from host.service import Service
from host.verifier import Request


class Clock:
    """The host's clock, moved by hand so expiry can be tested without sleeping."""

    def __init__(self) -> None:
        self.now = now_ms()

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@dataclass
class User:
    name: str
    account_key: SigningKey = field(default_factory=SigningKey.generate)
    devices: list[DeviceKeys] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.devices.append(new_device(self.account_key))

    @property
    def device(self) -> DeviceKeys:
        return self.devices[0]

    def add_device(self) -> DeviceKeys:
        """Another device certified by this account (it still has to say hello)."""
        device = new_device(self.account_key)
        self.devices.append(device)
        return device

    @property
    def acct(self) -> str:
        return b64e(bytes(self.account_key.verify_key))

    @property
    def dev(self) -> str:
        return b64e(self.device.public_key)


class CallError(Exception):
    def __init__(self, code: str, msg: str) -> None:
        super().__init__(f"{code}: {msg}")
        self.code, self.msg = code, msg


@dataclass
class Host:
    data: Path
    service: Service
    clock: Clock
    sent: list[Frame] = field(default_factory=list)
    """Every outbound frame (events, revocations) in the order the host produced them."""

    @property
    def host_id(self) -> str:
        return self.service.host_id

    async def raw(self, text: str, sig: str) -> ResponseBody:
        """Hand a request to the host; returns the response after checking its signature."""
        response, outbound = await self.service.handle(text, sig)
        body_text, body_sig = sign_host_body(self.service.host_key, response)
        checked = open_host_body(self.host_id, body_text, body_sig, ResponseBody)
        self.sent.extend(outbound)
        return checked

    async def send(self, user: User, op: str, *, device: DeviceKeys | None = None,
                   **args: Any) -> ResponseBody:
        device = device or user.device
        body, text, sig = sign_request(device, self.host_id, op, args, ts=self.clock())
        response = await self.raw(text, sig)
        assert (response.dev, response.re) == (body.dev, body.n)  # bound to the request
        return response

    async def ok(self, user: User, op: str, *, device: DeviceKeys | None = None,
                 **args: Any) -> dict[str, Any]:
        response = await self.send(user, op, device=device, **args)
        if not response.ok:
            assert response.err is not None
            raise CallError(response.err.code, response.err.msg)
        assert response.r is not None
        return response.r

    async def err(self, user: User, op: str, *, device: DeviceKeys | None = None,
                  **args: Any) -> str:
        """The error code of a call that must fail."""
        response = await self.send(user, op, device=device, **args)
        assert not response.ok, f"{op} unexpectedly succeeded: {response.r}"
        assert response.err is not None and response.err.msg
        return response.err.code

    async def join(self, user: User) -> dict[str, Any]:
        return await self.ok(user, "hello", cert=user.device.certificate.encode(),
                             name=user.name)

    def claim(self) -> str:
        return create_owner_claim(self.data)

    def proof(self, user: User, secret: str) -> dict[str, str]:
        """The ``pk`` and ``proof`` args that redeem ``secret`` as ``user``'s device."""
        return {"pk": invite_public_key(secret),
                "proof": prove_invite(secret, self.host_id, user.device.public_key)}

    async def link(self, user: User, space: str, **args: Any) -> dict[str, Any]:
        """Create a link invite as ``user``; the result adds the link's ``secret``."""
        secret = new_invite_secret()
        created = await self.ok(user, "invite.link", space=space,
                                pk=invite_public_key(secret), **args)
        return {**created, "secret": secret}

    def request(self, user: User, op: str, device: DeviceKeys | None = None,
                **args: Any) -> Request:
        """A signed request as the node would hand it to ``Service.handle_batch``."""
        _, text, sig = sign_request(device or user.device, self.host_id, op, args,
                                    ts=self.clock())
        return Request("conn", text, sig)

    def events(self, kind: str | None = None, frames: list[Frame] | None = None,
               ) -> list[EventBody]:
        """The verified channel events among ``frames`` (default: everything sent), of
        ``kind`` if given."""
        opened = [open_host_body(self.host_id, f.body, f.sig, EventBody)
                  for f in (self.sent if frames is None else frames) if isinstance(f, Publish)]
        return [e for e in opened if kind is None or e.k == kind]

    async def tick(self) -> list[EventBody]:
        """Run the node's periodic work once (``Service.tick``); its events."""
        frames = await self.service.tick()
        self.sent.extend(frames)
        return self.events(frames=frames)

    async def store_count(self, table: str) -> int:
        return int(await self.service.store.fetchval(f"SELECT count(*) FROM {table}"))


@dataclass
class Community:
    host: Host
    owner: User
    space: str
    general: str

    def publish(self, user: User, msg_id: str, env: bytes = b"x") -> Request:
        """A signed ``publish`` of ``env`` as ``msg_id`` by ``user`` in general."""
        return self.host.request(user, "publish", space=self.space, chan=self.general,
                                 id=msg_id, env=b64e(env))

    def committed(self) -> list[tuple[int, str]]:
        """(seq, id) of general's messages as another connection sees the host's file."""
        conn = sqlite3.connect(db_path(self.host.data))
        try:
            rows = conn.execute(
                "SELECT seq, msg_id FROM messages WHERE channel_id = ? ORDER BY seq",
                (self.general,)).fetchall()
        finally:
            conn.close()
        return [(int(s), str(i)) for s, i in rows]


async def add_member(c: Community, name: str, role: str = "member") -> User:
    """A new user who joined ``c.space`` by key invite with ``role``."""
    user = User(name)
    await c.host.join(user)
    await c.host.ok(c.owner, "invite.key", space=c.space, acct=user.acct, role=role)
    await c.host.ok(user, "invite.accept", space=c.space)
    return user


def count_verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The body text of every request the host verifies from now on, in order."""
    opened: list[str] = []
    real_open = verifier.open_request

    def counting_open(text: str, sig: str) -> Any:
        opened.append(text)
        return real_open(text, sig)

    monkeypatch.setattr(verifier, "open_request", counting_open)
    return opened
