"""The host's data directory: its signing key, its database, and first-owner claims.

Layout (directory mode 0700, files 0600)::

    DATA_DIR/host.key         the Ed25519 seed, base64url text (never leaves this file)
    DATA_DIR/hearth.sqlite3   the database (plus -wal/-shm files while open)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from nacl.signing import SigningKey

from hearth.b64 import b64d, b64e
from hearth.errors import ProtocolError
from hearth.invite_link import invite_public_key, new_invite_secret
from hearth.keys import host_id_from_public_key, now_ms
from host.errors import HostConfigError
from host.store import connect_sync, prepare_database

KEY_FILE = "host.key"
DB_FILE = "hearth.sqlite3"
OWNER_CLAIM_TTL_MS = 7 * 24 * 3600 * 1000


def key_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / KEY_FILE


def db_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / DB_FILE


def host_id_for(key: SigningKey) -> str:
    return host_id_from_public_key(bytes(key.verify_key))


def host_id_of(data_dir: Path | str) -> str:
    """The host id of an initialised data dir (HostConfigError otherwise)."""
    return host_id_for(load_host_key(data_dir))


def is_initialised(data_dir: Path | str) -> bool:
    """True once ``init_host`` created the key (the database may still need migrating)."""
    return key_path(data_dir).exists()


def init_host(data_dir: Path | str) -> str:
    """Create the data dir, host key and database; returns the new host id.

    Refuses (HostConfigError) a directory that already holds a key or a database, so an
    existing host's identity can never be overwritten by a second ``init``.
    """
    root = Path(data_dir)
    for existing in (key_path(root), db_path(root)):
        if existing.exists():
            raise HostConfigError(f"{str(root)!r} is already initialised ({existing.name} exists)")
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    root.chmod(0o700)  # mkdir's mode is filtered by the umask, and the dir may pre-exist
    key = SigningKey.generate()
    # O_EXCL: a concurrent init cannot both succeed; 0600 from creation, not after.
    fd = os.open(key_path(root), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(b64e(bytes(key)) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    db = db_path(root)
    db.touch(mode=0o600)
    db.chmod(0o600)
    prepare_database(db)
    return host_id_for(key)


def load_host_key(data_dir: Path | str) -> SigningKey:
    """The host's signing key; refuses a missing, malformed or group/world-readable file."""
    path = key_path(data_dir)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise HostConfigError(
            f"no host key at {str(path)!r}: run 'hearth host init --data {data_dir}' first"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HostConfigError(f"cannot read host key {str(path)!r}: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise HostConfigError(
            f"host key {str(path)!r} has mode {stat.S_IMODE(mode):04o}; "
            f"it must be readable by its owner only (chmod 600)"
        )
    try:
        return SigningKey(b64d(text, field="host key", size=32))
    except ProtocolError as exc:
        raise HostConfigError(f"host key {str(path)!r} is malformed: {exc.message}") from None


def create_owner_claim(data_dir: Path | str) -> str:
    """A single-use secret (7 days) that ``host.claim`` redeems to make its caller a
    host owner. Only its public key is stored; the secret is shown once, to the operator."""
    load_host_key(data_dir)  # refuses an uninitialised or unsafe data dir
    path = db_path(data_dir)
    if not path.exists():
        raise HostConfigError(f"no database at {str(path)!r}: run 'hearth host init' first")
    prepare_database(path)
    secret = new_invite_secret()
    now = now_ms()
    conn = connect_sync(path)
    try:
        with conn:  # sqlite3's context manager: commit, or roll back on error
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO owner_claims (pk, created_at, expires_at) VALUES (?, ?, ?)",
                (b64d(invite_public_key(secret)), now, now + OWNER_CLAIM_TTL_MS),
            )
    finally:
        conn.close()
    return secret


def has_owner(data_dir: Path | str) -> bool:
    """Whether any account has claimed ownership of this host yet."""
    path = db_path(data_dir)
    if not path.exists():
        raise HostConfigError(f"no database at {str(path)!r}: run 'hearth host init' first")
    prepare_database(path)
    conn = connect_sync(path)
    try:
        return conn.execute("SELECT 1 FROM host_owners LIMIT 1").fetchone() is not None
    finally:
        conn.close()
