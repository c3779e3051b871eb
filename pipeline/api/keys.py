"""API keys for the HTTP API (`pipeline/api/`), kept hashed in `<home>/apikeys.sqlite`.

A key reads `sohoa_<id>_<secret>`: `id` (10 lower-case letters and digits) names the key in lists
and logs, `secret` is 32 random bytes (URL-safe base64). Only the SHA-256 of the whole key is
stored, so a copy of the file grants nothing; a key is shown once, when it is created. The secret
carries 256 bits of entropy, so a fast hash is enough (no password stretching needed), and the
stored and computed digests are compared with `hmac.compare_digest`.

Scopes: `read` (search, documents, PDFs, status, stats) and `write` (all of `read`, plus uploads).
A revoked key stays listed (who had access, until when) but never verifies again.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCOPES = ("read", "write")
PREFIX = "sohoa"
ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
ID_LENGTH = 10
SECRET_BYTES = 32
MAX_KEY_CHARS = 200
"""Longer presented keys are refused before any hashing or lookup."""

LAST_USED_EVERY_S = 60.0
"""`last_used_at` is written at most this often per key, so reads do not turn into writes."""

_KEY = re.compile(rf"^{PREFIX}_([a-z0-9]{{{ID_LENGTH}}})_([A-Za-z0-9_-]{{20,100}})$")
_DUMMY_HASH = hashlib.sha256(b"sohoa: no such key").hexdigest()

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL DEFAULT '',
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    key_sha256   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    last_used_at TEXT
)
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """What is known about a key; never its secret."""

    id: str
    name: str
    scope: str
    created_at: str
    revoked_at: str | None = None
    last_used_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        """`write` keys may do everything `read` keys may."""
        return self.active and (self.scope == scope or self.scope == "write")

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "scope": self.scope, "created_at": self.created_at,
                "revoked_at": self.revoked_at, "last_used_at": self.last_used_at, "active": self.active}


class ApiKeyStore:
    """The key file. Safe to share between threads; several processes may open the same file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._last_touch: dict[str, float] = {}
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            str(self.path), timeout=10, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout = 10000")
        self._conn.execute(SCHEMA)
        with contextlib.suppress(OSError):  # key hashes are not secrets, but nobody else needs them
            self.path.chmod(0o600)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError(f"{self.path}: key store is closed")
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> ApiKeyStore:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    # -- management ---------------------------------------------------------------------------

    def create(self, scope: str, name: str = "") -> tuple[ApiKey, str]:
        """A new key: its record and the key itself, which is not stored and cannot be shown again."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)} (got {scope!r})")
        name = (name or "").strip()
        if len(name) > 200 or any(ord(c) < 0x20 for c in name):
            raise ValueError("name: at most 200 printable characters")
        with self._lock:
            for _ in range(10):
                key_id = "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))
                secret = secrets.token_urlsafe(SECRET_BYTES)
                key = f"{PREFIX}_{key_id}_{secret}"
                created = _now()
                try:
                    self.conn.execute(
                        "INSERT INTO api_keys (id, name, scope, key_sha256, created_at) VALUES (?, ?, ?, ?, ?)",
                        (key_id, name, scope, hash_key(key), created))
                except sqlite3.IntegrityError:  # id already taken: draw again
                    continue
                return ApiKey(key_id, name, scope, created), key
        raise RuntimeError("could not draw an unused key id")

    def list(self) -> list[ApiKey]:
        with self._lock:
            rows = self.conn.execute(
                "SELECT id, name, scope, created_at, revoked_at, last_used_at FROM api_keys ORDER BY created_at, rowid"
            ).fetchall()
        return [ApiKey(*row) for row in rows]

    def get(self, key_id: str) -> ApiKey | None:
        with self._lock:
            row = self.conn.execute(
                "SELECT id, name, scope, created_at, revoked_at, last_used_at FROM api_keys WHERE id = ?",
                (key_id,)).fetchone()
        return ApiKey(*row) if row else None

    def revoke(self, key_id: str) -> bool:
        """True if an active key was revoked now; False if unknown or already revoked."""
        with self._lock:
            cur = self.conn.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                                    (_now(), key_id))
        return cur.rowcount > 0

    # -- checking -----------------------------------------------------------------------------

    def verify(self, presented: str | None) -> ApiKey | None:
        """The active key `presented` is, or None. Malformed, unknown, revoked and wrong keys all give
        None, and unknown ids cost a hash comparison too, so callers cannot tell them apart."""
        if not presented or len(presented) > MAX_KEY_CHARS:
            return None
        match = _KEY.match(presented)
        if match is None:
            return None
        key_id = match.group(1)
        with self._lock:
            row = self.conn.execute(
                "SELECT id, name, scope, created_at, revoked_at, last_used_at, key_sha256 FROM api_keys WHERE id = ?",
                (key_id,)).fetchone()
        stored = row[6] if row else _DUMMY_HASH
        same = hmac.compare_digest(stored, hash_key(presented))
        if row is None or not same or row[4] is not None:
            return None
        key = ApiKey(*row[:6])
        self._touch(key_id)
        return key

    def _touch(self, key_id: str) -> None:
        now = time.monotonic()
        if now - self._last_touch.get(key_id, -LAST_USED_EVERY_S) < LAST_USED_EVERY_S:
            return
        self._last_touch[key_id] = now
        try:
            with self._lock:
                self.conn.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (_now(), key_id))
        except sqlite3.OperationalError:  # busy: the timestamp is a convenience, not worth a failed request
            pass


def open_keys(home: str | Path) -> ApiKeyStore:
    """The key store of a data home: `<home>/apikeys.sqlite`."""
    return ApiKeyStore(Path(home) / "apikeys.sqlite")
