"""One log line per event, as logfmt: ``ts=… level=… logger=… event=… key=value …``.

Invariant: a record renders as exactly one line (newlines in values are escaped), so
``grep event=slow_consumer`` and log shippers see whole events. Messages already in
``event=… key=value`` form (the relay's and the host's) are kept as they are; any
other message (uvicorn's, a library's) becomes ``msg="…"``. What gets logged is the
caller's business: Hearth's own messages carry ids and codes, never keys or ciphertext.
"""

from __future__ import annotations

import logging
import sys
import time

LEVELS = ("debug", "info", "warning", "error")


def _quote(value: str) -> str:
    """A logfmt value: bare when safe, else double-quoted with escapes, on one line."""
    if value and not any(c in value for c in ' "=\\\n\r\t'):
        return value
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        head = (f"ts={stamp}.{int(record.msecs):03d}Z level={record.levelname.lower()} "
                f"logger={record.name}")
        message = record.getMessage()
        if message.startswith("event=") and "\n" not in message:
            body = message
        else:
            body = f"msg={_quote(message)}"
        if record.exc_info:
            body += f" exc={_quote(self.formatException(record.exc_info))}"
        return f"{head} {body}"


def _not_uvicorn_ws_chatter(record: logging.LogRecord) -> bool:
    """uvicorn logs every WebSocket handshake and open/close at INFO; the relay logs
    each connection itself (event=connect/disconnect), so these would be duplicates."""
    return not (record.name == "uvicorn.error" and record.levelno < logging.WARNING
                and "protocols/websockets" in record.pathname.replace("\\", "/"))


def setup_logging(level: str) -> None:
    """Send every logger's records at ``level`` and above to stderr, one line each."""
    if level not in LEVELS:
        raise ValueError(f"log level {level!r} is not one of {', '.join(LEVELS)}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    handler.addFilter(_not_uvicorn_ws_chatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    # websockets logs every handshake failure with a traceback at INFO/ERROR; the
    # relay and host log what matters about a connection themselves.
    logging.getLogger("websockets").setLevel(max(logging.WARNING, root.level))
