"""What a channel shows, folded from its messages and their annotations (docs/protocol.md
section 13.1); the twin of ``web/chat/conversation.js``.

Invariants:
- A message delivered without ``re`` is a row; one with ``re`` is an annotation of that
  message (an edit or a reaction) and never a row of its own. Content that contradicts
  the host-visible ``re`` is dropped with reason ``bad_content``.
- The fold depends only on what is held, never on the order it arrived in: history
  loads newest first, so annotations often arrive before their target; they are held
  until it comes (and kept if it never does).
- An edit counts only from the target's author (else dropped, ``not_author``); the
  latest by ``seq`` is shown and every version is kept. A reaction's state per
  (target, account, emoji) is that account's latest ``on`` by ``seq``; an account counts
  at most EMOJI_PER_ACCOUNT emoji on one message (another is ignored while that many
  are on).
- A deleted or expired message is gone for good, with its annotations; an id once gone
  is never shown again, whatever arrives later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from hearth import content
from hearth.e2e.reasons import Reason
from hearth.e2e.secure import Message
from hearth.errors import ProtocolError

EMOJI_PER_ACCOUNT = 20
DELETED_PARENT = "Original message was deleted"


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a message's body: the original, or an edit by its author."""

    body: str
    seq: int
    ts: int


@dataclass(frozen=True, slots=True)
class Reaction:
    """One emoji on a message: who has it on (in the order they first reacted to it)."""

    emoji: str
    accts: tuple[str, ...]
    mine: bool

    @property
    def count(self) -> int:
        return len(self.accts)


@dataclass(frozen=True, slots=True)
class ReplyShown:
    """The parent of a reply: ``held`` (as this client holds it now), ``quoted`` (the
    sender's quote: the parent is not held) or ``deleted``."""

    id: str
    acct: str
    state: Literal["held", "quoted", "deleted"]
    text: str


@dataclass(frozen=True, slots=True)
class Shown:
    """One row. ``body`` is None when it cannot be shown (``reason`` says why)."""

    id: str
    seq: int
    acct: str
    ts: int
    exp: int | None
    body: str | None
    reason: Reason | None
    edited: bool
    versions: tuple[Version, ...]
    """Every version, oldest first; the last is ``body``."""
    mentions: tuple[str, ...]
    """Of the latest applied version."""
    mentions_me: bool
    reply: ReplyShown | None
    reactions: tuple[Reaction, ...]
    """In the order each emoji was first put on."""


@dataclass(frozen=True, slots=True)
class Dropped:
    """A message that is neither a row nor applied, and why (``bad_content``, ``not_author``)."""

    id: str
    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class _Held:
    message: Message
    content: content.Content | None
    """None when it could not be opened or parsed (``reason`` is then set)."""
    reason: Reason | None


class Conversation:
    """One channel as this account (``me``) sees it."""

    def __init__(self, me: str) -> None:
        self.me = me
        self.rows: dict[str, _Held] = {}
        self.annotations: dict[str, dict[str, _Held]] = {}
        """target id -> annotation id -> the annotation (targets need not be held)."""
        self.gone: set[str] = set()
        self._dropped: dict[str, Dropped] = {}
        self._target_of: dict[str, str] = {}

    # ---- taking things in -----------------------------------------------------------

    def add(self, message: Message) -> None:
        """Take in one delivered message (again, once it could be opened): a tombstone
        removes it, anything else is a row or an annotation."""
        if message.deleted:
            self.remove([message.id])
            return
        if message.id in self.gone:
            return
        parsed: content.Content | None = None
        reason = message.reason
        if message.plaintext is not None:
            try:
                parsed = content.parse(message.plaintext)
            except ProtocolError as exc:
                reason = Reason.BAD_CONTENT
                if message.re is not None:
                    self._drop(message.id, Reason.BAD_CONTENT, exc.message)
                    return
        held = _Held(message, parsed, reason)
        if message.re is None:
            if parsed is not None and not isinstance(parsed, content.Text):
                self._drop(message.id, Reason.BAD_CONTENT,
                           f"{kind(parsed)} of {parsed.target!r} published without re")
                return
            self.rows[message.id] = held
            return
        if message.re in self.gone or parsed is None:
            return  # nothing to fold (yet: it may open later)
        if isinstance(parsed, content.Text):
            self._drop(message.id, Reason.BAD_CONTENT,
                       f"a text published as an annotation of {message.re!r}")
        elif parsed.target != message.re:
            self._drop(message.id, Reason.BAD_CONTENT,
                       f"{kind(parsed)} of {parsed.target!r} published as an annotation "
                       f"of {message.re!r}")
        else:
            self.annotations.setdefault(message.re, {})[message.id] = held
            self._target_of[message.id] = message.re

    def remove(self, ids: Iterable[str]) -> None:
        """Forget deleted or expired messages, each with its annotations; an annotation's
        id undoes only itself."""
        for msg_id in ids:
            if msg_id in self.gone:
                continue
            self.gone.add(msg_id)
            target = self._target_of.pop(msg_id, None)
            if target is not None:
                self.annotations.get(target, {}).pop(msg_id, None)
                continue
            for ann in self.annotations.pop(msg_id, {}):
                self.gone.add(ann)
                self._target_of.pop(ann, None)
            self.rows.pop(msg_id, None)

    def expire(self, now: int) -> list[str]:
        """Drop what expired by ``now`` (ms) whether or not the host's ``del`` came; the
        ids dropped."""
        due = [h.message.id for h in self._all()
               if h.message.exp is not None and h.message.exp <= now]
        self.remove(due)
        return due

    def next_expiry(self) -> int | None:
        return min((h.message.exp for h in self._all() if h.message.exp is not None),
                   default=None)

    # ---- what is shown ---------------------------------------------------------------

    def shown(self, msg_id: str) -> Shown | None:
        """What row ``msg_id`` shows now; None when it is no row (gone, an annotation,
        not held)."""
        held = self.rows.get(msg_id)
        if held is None:
            return None
        m, c = held.message, held.content
        reactions = self._reactions(msg_id)
        if not isinstance(c, content.Text):
            return Shown(m.id, m.seq, m.acct, m.ts, m.exp, None, held.reason, False, (), (),
                         False, None, reactions)
        versions, mentions = self._versions(held, c)
        return Shown(m.id, m.seq, m.acct, m.ts, m.exp, versions[-1].body, None,
                     len(versions) > 1, versions, mentions, self.me in mentions,
                     self._reply(c), reactions)

    def timeline(self) -> list[Shown]:
        """Every row, by seq."""
        shown = (self.shown(i) for i in sorted(self.rows, key=lambda i: self.rows[i].message.seq))
        return [s for s in shown if s is not None]

    @property
    def dropped(self) -> list[Dropped]:
        """Everything dropped so far (edits by another account are found when folded)."""
        for target in self.rows:
            self.shown(target)
        return list(self._dropped.values())

    def waiting(self) -> set[str]:
        """Targets with annotations held while the target itself is not."""
        return {t for t, anns in self.annotations.items() if anns and t not in self.rows}

    # ---- folding ---------------------------------------------------------------------

    def _all(self) -> Iterable[_Held]:
        yield from self.rows.values()
        for anns in self.annotations.values():
            yield from anns.values()

    def _drop(self, msg_id: str, reason: Reason, detail: str) -> None:
        self._dropped.setdefault(msg_id, Dropped(msg_id, reason, detail))

    def _annotations_of(self, target: str) -> list[_Held]:
        return sorted(self.annotations.get(target, {}).values(), key=lambda h: h.message.seq)

    def _versions(self, held: _Held, text: content.Text
                  ) -> tuple[tuple[Version, ...], tuple[str, ...]]:
        m = held.message
        versions = [Version(text.body, m.seq, m.ts)]
        mentions = text.mentions
        for ann in self._annotations_of(m.id):
            edit = ann.content
            if not isinstance(edit, content.Edit):
                continue
            if ann.message.acct != m.acct:
                self._drop(ann.message.id, Reason.NOT_AUTHOR,
                           f"an edit by {ann.message.acct} of a message by {m.acct}")
                continue
            versions.append(Version(edit.body, ann.message.seq, ann.message.ts))
            mentions = edit.mentions
        return tuple(versions), mentions

    def _reactions(self, target: str) -> tuple[Reaction, ...]:
        on_by_acct: dict[str, dict[str, None]] = {}
        order: dict[str, None] = {}
        for ann in self._annotations_of(target):
            react = ann.content
            if not isinstance(react, content.React):
                continue
            on = on_by_acct.setdefault(ann.message.acct, {})
            if not react.on:
                on.pop(react.emoji, None)
            elif react.emoji in on or len(on) < EMOJI_PER_ACCOUNT:
                on[react.emoji] = None
                order.setdefault(react.emoji)
        counts = []
        for emoji in order:
            accts = tuple(a for a, on in on_by_acct.items() if emoji in on)
            if accts:
                counts.append(Reaction(emoji, accts, self.me in accts))
        return tuple(counts)

    def _reply(self, text: content.Text) -> ReplyShown | None:
        if text.reply is None:
            return None
        r = text.reply
        if r.id in self.gone:
            return ReplyShown(r.id, r.acct, "deleted", DELETED_PARENT)
        parent = self.rows.get(r.id)
        if parent is not None and isinstance(parent.content, content.Text):
            versions, _ = self._versions(parent, parent.content)
            return ReplyShown(r.id, parent.message.acct, "held", versions[-1].body)
        return ReplyShown(r.id, r.acct, "quoted", r.quote)


def kind(c: content.Edit | content.React) -> str:
    return "an edit" if isinstance(c, content.Edit) else "a reaction"
