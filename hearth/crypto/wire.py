"""Byte layouts of the end-to-end formats: length-prefixed ASCII fields and a strict reader.

Invariants: ``fields(a, b, ...)`` is ``len(a) (1 byte) || a || len(b) || b || ...`` with
each text ASCII and at most 255 bytes, so two different tuples never encode to the same
bytes. ``Reader`` refuses a short read and leftover bytes with
ProtocolError(``code``) naming the format and offset: a parser either consumes its
input exactly or fails.
"""

from __future__ import annotations

from hearth.errors import ErrorCode, ProtocolError


def fields(*texts: str) -> bytes:
    """Each text as 1 length byte then its ASCII bytes (host ids, space/channel/message ids)."""
    out = bytearray()
    for text in texts:
        try:
            raw = text.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError(f"field {text[:64]!r} is not ASCII") from None
        if len(raw) > 255:
            raise ValueError(f"field {text[:64]!r}... is {len(raw)} bytes, max 255")
        out.append(len(raw))
        out += raw
    return bytes(out)


MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer a layout may carry (JavaScript's Number.MAX_SAFE_INTEGER)."""


class Reader:
    """Reads a fixed binary layout front to back; any misfit is ProtocolError(code)."""

    def __init__(self, data: bytes, what: str, code: ErrorCode) -> None:
        self.data = data
        self.what = what
        self.code = code
        self.pos = 0

    def fail(self, message: str) -> ProtocolError:
        return ProtocolError(self.code, f"{self.what}: {message}")

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise self.fail(
                f"needs {size} bytes at offset {self.pos}, only {len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def uint(self, size: int) -> int:
        """A big-endian unsigned integer; above 2**53 - 1 is refused so that every
        value means the same in JavaScript, where larger ones lose precision."""
        at = self.pos
        value = int.from_bytes(self.take(size), "big")
        if value > MAX_SAFE_INTEGER:
            raise self.fail(f"integer {value} at offset {at} exceeds 2**53 - 1")
        return value

    def version(self, expected: int) -> None:
        got = self.uint(1)
        if got != expected:
            raise self.fail(f"version {got} is not {expected}")

    def text(self) -> str:
        raw = self.take(self.uint(1))
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise self.fail(f"field {raw[:64]!r} is not ASCII") from None

    def rest(self, keep: int = 0) -> bytes:
        """Everything left except the last ``keep`` bytes."""
        size = len(self.data) - self.pos - keep
        if size < 0:
            raise self.fail(f"needs {keep} more bytes at offset {self.pos}")
        return self.take(size)

    def end(self) -> None:
        if self.pos != len(self.data):
            raise self.fail(f"{len(self.data) - self.pos} unexpected bytes at offset {self.pos}")
