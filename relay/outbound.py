"""Everything the relay says to a peer: frames, refusals and closes (sans-I/O).

Invariants: nothing here blocks, awaits or touches a socket: frames go into the
connection's bounded outbox and the connection's writer (relay.endpoint) sends them. A
full outbox closes only that connection (SLOW_CONSUMER). Nothing here changes the
routing state (connections, hosts, subscriptions): a close only marks the outbox, which
then silently drops what is pushed to it, and the hub forgets the connection in
``Hub.closed`` once its socket is gone; so these may run in the middle of a fan-out over
the subscriber table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hearth.errors import ErrorCode
from hearth.frames import CloseCode, Error, Frame, encode_frame
from relay.connection import Connection, Kind
from relay.labelled import Children
from relay.metrics import RelayMetrics
from relay.settings import RelaySettings

log = logging.getLogger("hearth.relay")

_MAX_ERROR_TEXT = 500
"""Error.msg is capped at 500 characters by the frame schema."""
_MAX_CLOSE_REASON = 120
"""A close reason must fit a control frame (123 bytes)."""


class Outbound:
    """The relay's outbound side, shared by every connection of one hub."""

    def __init__(
        self, settings: RelaySettings, metrics: RelayMetrics, clock: Callable[[], float]
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.frames_out = Children(metrics.frames_out)
        """``frames_out(kind, type)``: the labelled counter, looked up once per label pair."""

    def deliver(self, conn: Connection, subject: str, data: str) -> None:
        """Bus handler of ``conn.<id>`` / ``host.<id>`` (bound to ``conn`` with a
        ``partial``): wire text for one connection."""
        self.push(conn, data, "resp" if conn.kind is Kind.CLIENT else "fwd")

    def send(self, conn: Connection, frame: Frame) -> None:
        self.push(conn, encode_frame(frame), str(frame.__struct_config__.tag))

    def push(self, conn: Connection, text: str, frame_type: str) -> None:
        if self.queue(conn, text):
            self.frames_out(conn.kind, frame_type).inc()

    def queue(self, conn: Connection, text: str) -> bool:
        """Queue ``text`` for ``conn``; on overflow close it SLOW_CONSUMER and return
        False (counting frames out is the caller's: a fan-out counts once)."""
        if conn.outbox.push(text):
            return True
        box = conn.outbox
        log.warning(
            "event=slow_consumer conn=%s queued_frames=%d queued_chars=%d",
            conn, len(box), box.chars,
        )
        self.metrics.slow_consumers.labels(conn.kind).inc()
        self.close(
            conn, CloseCode.SLOW_CONSUMER,
            f"send queue full ({len(box)} frames, {box.chars} chars): not reading fast enough",
            flush=False,
        )
        return False

    def refuse(
        self, conn: Connection, code: ErrorCode, message: str, ref: str | None,
        *, flood: bool = True,
    ) -> None:
        """Answer a refused frame with an ``error``; a peer that keeps sending refused
        frames faster than settings.flood allows is closed FLOODING."""
        self.metrics.refusals.labels(conn.kind, code.value).inc()
        log.info("event=refused conn=%s code=%s ref=%s", conn, code.value, ref)
        self.send(conn, Error(code=code.value, msg=message[:_MAX_ERROR_TEXT], ref=ref))
        if flood and not conn.flood.take(self.clock()):
            limit = self.settings.flood
            log.warning("event=flooding conn=%s", conn)
            self.close(
                conn, CloseCode.FLOODING,
                f"too many refused frames (limit {limit.rate:g}/s, burst {limit.burst:g})",
                flush=True,
            )

    def close(self, conn: Connection, code: int, reason: str, *, flush: bool) -> None:
        """Ask the connection's writer to close, after sending what is queued (``flush``)
        or at once. Routing state is only dropped in ``Hub.closed`` (this may run in the
        middle of a fan-out over the subscriber table); until then the closing outbox
        silently drops what is pushed to it."""
        if conn.outbox.close(code, reason[:_MAX_CLOSE_REASON], flush=flush):
            self.metrics.closes.labels(conn.kind, str(code)).inc()
            if code not in (CloseCode.NORMAL, CloseCode.GOING_AWAY):
                log.info("event=close conn=%s code=%d reason=%r", conn, code, reason)
