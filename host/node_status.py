"""The running node's status file, ``DATA_DIR/node.json``: how admin commands learn
whether a node is running and which relay it is connected to.

Invariant: the file is replaced atomically (write, fsync, rename), so a reader sees a
whole old or a whole new status, never half of one; it holds no secret (pid, host id,
relay URL, state and times only). A status whose pid is gone means "not running",
whatever its state says (the node may have been killed).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from host.errors import HostConfigError

STATUS_FILE = "node.json"

CONNECTING = "connecting"
CONNECTED = "connected"
STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class NodeStatus:
    pid: int
    host_id: str
    relay: str
    state: str
    """``connecting`` (dialling or waiting to redial), ``connected`` or ``stopped``."""
    since: int
    """ms since the epoch at which ``state`` began."""
    detail: str = ""
    """Why the last connection ended, if it did."""

    @property
    def running(self) -> bool:
        return self.state != STOPPED and pid_alive(self.pid)


def status_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / STATUS_FILE


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user (the service account)
    return True


def write_status(data_dir: Path | str, status: NodeStatus) -> None:
    path = status_path(data_dir)
    tmp = path.with_name(f".{STATUS_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(orjson.dumps(asdict(status)))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_status(data_dir: Path | str) -> NodeStatus | None:
    """The last status a node wrote here, or None if none ever ran (or it is unreadable)."""
    try:
        raw = orjson.loads(status_path(data_dir).read_bytes())
        return NodeStatus(**raw)
    except (OSError, orjson.JSONDecodeError, TypeError):
        return None


def refuse_if_running(data_dir: Path | str, what: str) -> None:
    """HostConfigError if a live node serves ``data_dir`` (``what``: the refused act)."""
    status = read_status(data_dir)
    if status is not None and status.running:
        raise HostConfigError(
            f"a host node (pid {status.pid}) is running on {str(data_dir)!r}; "
            f"stop it before you {what}")
