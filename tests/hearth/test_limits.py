"""hearth.limits: the documented relations between the limits hold."""

from __future__ import annotations

from nacl.signing import SigningKey

from hearth.b64 import b64e
from hearth.frames import HostResponse, encode_frame
from hearth.limits import (
    MAX_BACKUP_BLOB,
    MAX_BODY,
    MAX_CLIENT_FRAME,
    MAX_ENVELOPE,
    MAX_HOST_FRAME,
    TOKEN_LIFETIME_MS,
    TOKEN_MAX_LIFETIME_MS,
)
from hearth.rpc import ResponseBody, sign_host_body


def test_basic_relations() -> None:
    assert MAX_BODY < MAX_CLIENT_FRAME < MAX_HOST_FRAME
    assert len(b64e(bytes(MAX_ENVELOPE))) < MAX_BODY
    assert TOKEN_LIFETIME_MS <= TOKEN_MAX_LIFETIME_MS


def test_backup_blob_fits_a_host_frame(host_key: SigningKey, host_id: str) -> None:
    """limits.py documents MAX_BACKUP_BLOB as fitting "a host frame after base64url and
    JSON overhead".

    BUG (hearth/limits.py:14): 4*1024*1024//4*3//4 = 786432 bytes, whose base64url is
    1048576 chars = MAX_HOST_FRAME exactly, so the ``backup.get`` response frame carrying
    it is ~300 bytes over MAX_HOST_FRAME. (Also: rpc.BackupPutArgs caps ``blob`` at
    80*1024 chars, ~60 KiB, and does not use MAX_BACKUP_BLOB at all.)
    """
    blob = b64e(bytes(MAX_BACKUP_BLOB))
    body = ResponseBody(v=1, host=host_id, dev=b64e(bytes(32)), re="A" * 22, ok=True,
                        r={"blob": blob, "version": 1})
    text, sig = sign_host_body(host_key, body)
    frame = encode_frame(HostResponse(to="c" * 64, body=text, sig=sig))
    assert len(frame.encode()) <= MAX_HOST_FRAME
