"""Tells the relay about revocations that admin commands wrote into the database.

``hearth host remove-member`` runs in its own process and cannot reach the node's relay
connection; it commits the membership change and its row in ``revocations`` together
(as the ``member.remove`` op does), and the running node polls that table.

Invariant: within one relay session every row of ``revocations`` is sent once — the
rows present at session start are sent then; later rows are sent by ``poll`` unless the
node already sent the same revocation itself (an op's own ``revoke`` frame), which
``note`` records. A revocation the relay hears twice is harmless; one it never hears
would leave a removed member subscribed, so on doubt the feed sends.
"""

from __future__ import annotations

from hearth.frames import Revoke
from host.context import pending_revocations, revoke_frame
from host.store import Store

Key = tuple[int, str | None, str | None, str | None]


def _key(frame: Revoke) -> Key:
    return frame.before, frame.acct, frame.dev, frame.space


class RevocationFeed:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.mark = 0
        """Rows with ``id <= mark`` were sent in this session."""
        self._sent: set[Key] = set()

    async def start(self, now: int) -> list[Revoke]:
        """Every revocation still in force, to send first on a new relay session."""
        # Read the mark first: a row committed in between is sent twice, never missed.
        self.mark = int(await self.store.fetchval("SELECT coalesce(max(id), 0) FROM revocations"))
        frames = await pending_revocations(self.store, now)
        self._sent = {_key(f) for f in frames}
        return frames

    def note(self, frame: Revoke) -> None:
        """The node sent ``frame`` itself (an op's result): ``poll`` must not repeat it."""
        self._sent.add(_key(frame))

    async def poll(self) -> list[Revoke]:
        """Revocations committed since the last look that nobody sent yet."""
        rows = await self.store.fetchall(
            "SELECT id, acct, dev, space, before FROM revocations WHERE id > ? ORDER BY id",
            (self.mark,),
        )
        fresh: list[Revoke] = []
        for row in rows:
            self.mark = max(self.mark, int(row["id"]))
            frame = revoke_frame(row)
            if _key(frame) in self._sent:
                self._sent.discard(_key(frame))
            else:
                fresh.append(frame)
        return fresh
