"""Rich messaging for one member on one host (docs/protocol.md section 13): replies,
edits, reactions, mentions, deletes, disappearing messages, read and delivery markers,
receipts and unread counts, over :class:`SecureClient`.

Invariants: what this member sends goes through :mod:`hearth.content` first, so a peer
never refuses it; an edit of another member's message is refused here (``not_author``)
before anything is sent; every message and host event taken in is folded into its
channel's :class:`Conversation`, which is therefore what this member would show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hearth import content
from hearth.client import ChannelEvent
from hearth.e2e.conversation import Conversation, Shown
from hearth.e2e.secure import Message, SecureClient
from hearth.errors import ErrorCode, ProtocolError
from hearth.keys import now_ms


@dataclass(frozen=True, slots=True)
class Deleted:
    """Host event ``del``: ``ids`` were erased; ``acct`` who did it ("" for a timer)."""

    space: str
    chan: str
    acct: str
    ts: int
    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Mark:
    """How far an account has read and received a channel (sequence numbers)."""

    acct: str
    read: int
    delivered: int
    ts: int | None = None


@dataclass(frozen=True, slots=True)
class Receipts:
    """Host event ``rcpt``: markers that moved."""

    space: str
    chan: str
    marks: tuple[Mark, ...]


@dataclass(frozen=True, slots=True)
class ChannelChanged:
    """Host event ``chan``: the channel's settings now (``ttl_s`` among them)."""

    space: str
    chan: str
    channel: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MemberChanged:
    """Host event ``mem``: ``acct`` joined, left or changed role in ``space``; ``role``
    is its role now, None once it is gone; ``by`` made the change."""

    space: str
    acct: str
    role: str | None
    by: str


@dataclass(frozen=True, slots=True)
class Unread:
    """One channel's count from ``space.unread`` (``unread`` is capped at 1,000)."""

    chan: str
    read: int
    last: int
    unread: int
    first_unread: int | None


Update = Message | Deleted | Receipts | ChannelChanged | MemberChanged


def _marks(items: list[dict[str, Any]]) -> tuple[Mark, ...]:
    return tuple(Mark(m["acct"], m["read"], m["delivered"], m.get("ts")) for m in items)


def as_update(event: ChannelEvent) -> Update | None:
    """A non-message host event in typed form; None for a kind this client ignores."""
    info = event.info or {}
    if event.kind == "del":
        return Deleted(event.space, event.chan, event.acct, event.ts, tuple(info["ids"]))
    if event.kind == "rcpt":
        return Receipts(event.space, event.chan, _marks(info["marks"]))
    if event.kind == "chan":
        return ChannelChanged(event.space, event.chan, info["channel"])
    if event.kind == "mem":
        return MemberChanged(event.space, info["acct"], info["role"], event.acct)
    return None


class Messaging:
    """One member's rich messaging on the host of ``secure``."""

    def __init__(self, secure: SecureClient) -> None:
        self.secure = secure
        self.me = secure.identity.account
        self.channels: dict[tuple[str, str], ChannelChat] = {}

    def channel(self, space: str, chan: str) -> ChannelChat:
        """The view of one channel (made on first use; the same object afterwards)."""
        key = (space, chan)
        if key not in self.channels:
            self.channels[key] = ChannelChat(self, space, chan)
        return self.channels[key]

    async def next_update(self, wait_s: float = 10.0) -> Update:
        """The next message or host event of a followed channel, already folded into its
        channel's conversation (kinds this client does not know are skipped)."""
        while True:
            got = await self.secure.receive_update(wait_s)
            update = got if isinstance(got, Message) else as_update(got)
            if update is None:
                continue
            if not isinstance(update, MemberChanged):  # a space's event, of no channel
                self.channel(update.space, update.chan).take(update)
            return update

    async def settings(self, *, receipts: bool | None = None) -> bool:
        """Whether this account shares its read and delivery markers (set it if given)."""
        args = {} if receipts is None else {"receipts": receipts}
        return bool((await self.secure.api.call("account.settings", **args))["receipts"])

    async def unread(self, space: str) -> dict[str, Unread]:
        """Unread counts of every channel of ``space``, by channel id."""
        listing = await self.secure.api.call("space.unread", space=space)
        return {c["chan"]: Unread(c["chan"], c["read"], c["last"], c["unread"],
                                  c["first_unread"]) for c in listing["channels"]}


MessageRef = Shown | Message | str
"""A message as shown, as sent or received, or its id."""


def _id_of(msg: MessageRef) -> str:
    return msg if isinstance(msg, str) else msg.id


class ChannelChat:
    """One channel: what it shows (``conversation``) and what this member can do in it."""

    def __init__(self, messaging: Messaging, space: str, chan: str) -> None:
        self.messaging = messaging
        self.secure = messaging.secure
        self.space = space
        self.chan = chan
        self.conversation = Conversation(messaging.me)
        self.last_seq = 0
        """The highest seq taken in (markers default to it)."""
        self.marks: dict[str, Mark] = {}
        """Other members' markers as the host last announced them (``rcpt``)."""
        self.ttl_s: int | None = None
        """The disappearing-message timer, once a ``chan`` event or set_ttl told it."""

    # ---- what is shown -----------------------------------------------------------------

    def timeline(self) -> list[Shown]:
        """Every row now, expired ones dropped first."""
        self.conversation.expire(now_ms())
        return self.conversation.timeline()

    def shown(self, msg_id: str) -> Shown | None:
        self.conversation.expire(now_ms())
        return self.conversation.shown(msg_id)

    def take(self, update: Update) -> None:
        """Fold a message or event of this channel into the conversation."""
        if isinstance(update, Message):
            self.last_seq = max(self.last_seq, update.seq)
            self.conversation.add(update)
        elif isinstance(update, Deleted):
            self.conversation.remove(update.ids)
        elif isinstance(update, Receipts):
            self.marks |= {m.acct: m for m in update.marks}
        elif isinstance(update, ChannelChanged):
            self.ttl_s = int(update.channel["ttl_s"])

    async def load(self, **page: Any) -> list[Message]:
        """Fold one history page in (``before``/``after``/``limit`` as the ``history``
        op takes them); the page's messages, oldest first."""
        messages = await self.secure.history(self.space, self.chan, **page)
        for m in messages:
            self.take(m)
        return messages

    # ---- sending -----------------------------------------------------------------------

    async def _send(self, made: content.Content) -> Message:
        plaintext = content.encode(made)
        re = content.target_of(made)
        ack = await self.secure.send(self.space, self.chan, plaintext, re=re)
        sent = Message(ack["seq"], ack["id"], self.messaging.me, self.secure.identity.device_id,
                       ack["ts"], plaintext, re=re, exp=ack["exp"], space=self.space,
                       chan=self.chan)
        self.take(sent)
        return sent

    def _target(self, msg: MessageRef) -> Shown:
        if isinstance(msg, Shown):
            return msg
        msg = _id_of(msg)
        shown = self.shown(msg)
        if shown is None:
            raise ProtocolError(ErrorCode.NOT_FOUND,
                                f"message {msg!r} is not shown in channel {self.chan!r}")
        return shown

    async def send_text(self, body: str, reply_to: MessageRef | None = None,
                        mentions: Sequence[str] = ()) -> Message:
        """Send a text; a reply quotes the first 200 characters of its parent as shown."""
        parent = None if reply_to is None else self._target(reply_to)
        quoted = None if parent is None else (parent.id, parent.acct, parent.body or "")
        return await self._send(content.text(body, reply_to=quoted, mentions=list(mentions)))

    async def edit(self, msg: MessageRef, body: str, mentions: Sequence[str] = ()) -> Message:
        """Publish a new version of one of this account's messages; ProtocolError
        ``not_author`` for anyone else's (peers would drop it)."""
        target = self._target(msg)
        if target.acct != self.messaging.me:
            raise ProtocolError(ErrorCode.NOT_AUTHOR,
                                f"message {target.id!r} was sent by another member: only its "
                                "author can edit it")
        return await self._send(content.Edit(target.id, body, tuple(mentions)))

    async def react(self, msg: MessageRef, emoji: str, on: bool = True) -> Message:
        """Put a reaction on (or take it off) a message."""
        return await self._send(content.React(_id_of(msg), emoji, on))

    async def delete(self, msg: MessageRef) -> list[str]:
        """Erase a message (this account's, or anyone's for an admin) and its
        annotations; the ids the host erased."""
        msg_id = _id_of(msg)
        result = await self.secure.api.call("message.delete", space=self.space,
                                            chan=self.chan, id=msg_id)
        deleted: list[str] = result["deleted"]
        self.conversation.remove(deleted)
        return deleted

    # ---- markers, receipts, settings ----------------------------------------------------

    async def mark_read(self, seq: int | None = None) -> Mark:
        """This account has read up to ``seq`` (default: the last seq taken in)."""
        return await self._mark(read=self.last_seq if seq is None else seq)

    async def mark_delivered(self, seq: int | None = None) -> Mark:
        """This account's devices received up to ``seq`` (default: the last taken in)."""
        return await self._mark(delivered=self.last_seq if seq is None else seq)

    async def _mark(self, **marks: int) -> Mark:
        stored = await self.secure.api.call("channel.mark", space=self.space, chan=self.chan,
                                            **marks)
        return Mark(self.messaging.me, stored["read"], stored["delivered"])

    async def receipts(self) -> dict[str, Mark]:
        """Markers of every member sharing receipts, and this account's, by account."""
        listing = await self.secure.api.call("channel.receipts", space=self.space,
                                             chan=self.chan)
        return {m.acct: m for m in _marks(listing["marks"])}

    async def unread(self) -> Unread:
        return (await self.messaging.unread(self.space))[self.chan]

    async def set_ttl(self, ttl_s: int) -> dict[str, Any]:
        """Messages published from now on disappear ``ttl_s`` seconds after (0: never)."""
        changed: dict[str, Any] = (await self.secure.api.call(
            "channel.ttl", space=self.space, chan=self.chan, ttl_s=ttl_s))["channel"]
        self.ttl_s = int(changed["ttl_s"])
        return changed

    def mentions_me(self, after: int = 0) -> list[Shown]:
        """Rows after seq ``after`` (e.g. the read marker) that mention this account."""
        return [s for s in self.timeline() if s.seq > after and s.mentions_me]
