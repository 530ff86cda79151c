"""Device linking over the host's link slot (``link.*`` ops); crypto in crypto/linking.py.

The existing device opens a slot and shows its code; the new device, connected with a
throwaway identity (it has no account yet), types the code. Both then run the exchange;
the existing device shows an 8-digit code that the user types into the new device, and
confirms on the existing device once the new one accepted it. Only then does the
account secret travel, sealed to the new device's key.

Invariant: each side takes the first message of each type that fits its own state and
ignores its own posts; a message that does not fit is a man in the middle or a race,
and ends the exchange with link_mismatch before anything secret is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from nacl.signing import SigningKey

from hearth.b64 import b64d, b64e
from hearth.client import HostClient
from hearth.crypto.linking import ExistingDeviceLink, NewDeviceLink
from hearth.crypto.recovery import Recovery
from hearth.identity import Identity
from hearth.keys import new_device

POLL_S = 0.05


async def _next(api: HostClient, link: str, me: str, tag: int, timeout_s: float,
                fits: Callable[[bytes], bool] = lambda _: True) -> bytes:
    """The first message of type ``tag`` not posted by ``me`` that ``fits``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        for item in (await api.call("link.read", link=link))["msgs"]:
            msg = b64d(item["msg"], field="msg")
            if item["dev"] != me and msg[:1] == bytes([tag]) and fits(msg):
                return msg
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no link message of type {tag} in {timeout_s} s on {link!r}")
        await asyncio.sleep(POLL_S)


async def open_link(api: HostClient) -> str:
    """A fresh link code for the existing device to show."""
    return str((await api.call("link.open"))["link"])


async def link_existing_device(
    api: HostClient, identity: Identity, recovery: Recovery, link: str,
    show_code_and_confirm: Callable[[str], Awaitable[bool]], *, timeout_s: float = 60,
) -> None:
    """Run the existing device's side: ``show_code_and_confirm(code)`` shows the code and
    returns whether the user says the new device accepted it."""
    me = b64e(identity.device.public_key)
    side = ExistingDeviceLink(api.host_id, link)
    m1 = await _next(api, link, me, 1, timeout_s)
    await api.call("link.post", link=link, msg=b64e(side.on_commit(m1)))
    side.on_key(await _next(api, link, me, 3, timeout_s))
    confirmed = await show_code_and_confirm(side.code)
    # Unconfirmed, transfer() refuses (link_mismatch) before it looks at a confirmation.
    m4 = await _next(api, link, me, 4, timeout_s) if confirmed else b""
    m5 = side.transfer(confirmed, m4, bytes(identity.account_key), recovery)
    await api.call("link.post", link=link, msg=b64e(m5))


async def link_new_device(
    api: HostClient, link: str, type_code: Callable[[str], Awaitable[str]], *,
    timeout_s: float = 60,
) -> tuple[Identity, Recovery]:
    """Run the new device's side over a throwaway identity's ``api``; ``type_code(ours)``
    returns what the user typed from the existing device's screen. Returns the linked
    identity (fresh device keys certified by the account) and the recovery secret."""
    me = b64e(api.client.identity.device.public_key)
    side = NewDeviceLink(api.host_id, link)
    m1 = side.commit_message()
    await api.call("link.post", link=link, msg=b64e(m1))
    # The first answer to *our* commitment: anything else answers someone else.
    m2 = await _next(api, link, me, 2, timeout_s, fits=lambda m: m[1:33] == m1[1:])
    await api.call("link.post", link=link, msg=b64e(side.on_reveal(m2)))
    m4 = side.confirm(await type_code(side.code))
    await api.call("link.post", link=link, msg=b64e(m4))
    seed, recovery = side.on_secrets(await _next(api, link, me, 5, timeout_s))
    account_key = SigningKey(seed)
    return Identity(account_key, new_device(account_key)), recovery
