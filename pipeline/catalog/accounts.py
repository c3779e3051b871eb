"""Staff accounts, their sessions and the audit log, kept in the catalog beside the dossiers.

The web application (`pipeline/web/`) needs them wherever the catalog is — one SQLite file or one
PostgreSQL database shared by several servers — so they live in catalog tables (migration 4 in
SQLite, 3 in PostgreSQL) and every backend answers them with the same SQL, written here once:

    users     (name, role, password_hash, active, created_at, last_login_at)
    sessions  (id, user_name, csrf, created_at, seen_at)
              `id` is the SHA-256 of the cookie value: a copy of the table opens no session
    audit     (id, at, user_name, action, dossier_id, component_id, detail_json)
              who changed what and when; kept when a dossier is re-indexed or deleted

A backend provides `_rows(sql, args)` (a read) and `_change(sql, args)` (one write in its own
transaction, returning the row count) with `_mark` as its placeholder. Times are ISO-8601 UTC text
of one width, so comparing them as text compares the instants.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from datetime import UTC, datetime

ROLES = ("viewer", "reviewer", "admin")
"""Each role may do what the ones before it may."""

USER_COLUMNS = ("name", "role", "password_hash", "active", "created_at", "last_login_at")
AUDIT_COLUMNS = ("id", "at", "user_name", "action", "dossier_id", "component_id", "detail_json")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _user(row: tuple) -> dict:
    out = dict(zip(USER_COLUMNS, row, strict=True))
    out["active"] = bool(out["active"])
    return out


def _audit(row: tuple) -> dict:
    out = dict(zip(AUDIT_COLUMNS, row, strict=True))
    out["detail"] = json.loads(out.pop("detail_json") or "{}")
    return out


class Accounts:
    """Users, sessions and the audit log; mixed into `Catalog`."""

    _mark = "?"

    @abstractmethod
    def _rows(self, sql: str, args: tuple | list = ()) -> list[tuple]:
        """Run a read; all its rows."""

    @abstractmethod
    def _change(self, sql: str, args: tuple | list = ()) -> int:
        """Run one write in its own transaction; the number of rows it touched."""

    def _sql(self, sql: str) -> str:
        return sql.replace("?", self._mark)

    # -- users ---------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password_hash: str) -> None:
        """A new account; ValueError if the name is taken or the role unknown."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        added = self._change(self._sql(
            "INSERT INTO users (name, role, password_hash, active, created_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (name) DO NOTHING"), (name, role, password_hash, True, utc_now()))
        if not added:
            raise ValueError(f"user {name!r} already exists")

    def get_user(self, name: str) -> dict | None:
        rows = self._rows(self._sql(f"SELECT {', '.join(USER_COLUMNS)} FROM users WHERE name = ?"), (name,))
        return _user(rows[0]) if rows else None

    def users(self) -> list[dict]:
        return [_user(r) for r in self._rows(f"SELECT {', '.join(USER_COLUMNS)} FROM users ORDER BY name")]

    def update_user(self, name: str, *, role: str | None = None, password_hash: str | None = None,
                    active: bool | None = None, last_login_at: str | None = None) -> bool:
        """Change what is given; True if the user exists. Deactivating ends the user's sessions."""
        if role is not None and role not in ROLES:
            raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        sets, args = [], []
        for column, value in (("role", role), ("password_hash", password_hash), ("active", active),
                              ("last_login_at", last_login_at)):
            if value is not None:
                sets.append(f"{column} = ?")
                args.append(value)
        if not sets:
            return self.get_user(name) is not None
        changed = self._change(self._sql(f"UPDATE users SET {', '.join(sets)} WHERE name = ?"), (*args, name)) > 0
        if changed and (active is False or password_hash is not None):
            self.end_sessions(user=name)
        return changed

    # -- sessions ------------------------------------------------------------------------------

    def add_session(self, session_id: str, user: str, csrf: str) -> None:
        now = utc_now()
        self._change(self._sql("INSERT INTO sessions (id, user_name, csrf, created_at, seen_at) VALUES (?, ?, ?, ?, ?)"),
                     (session_id, user, csrf, now, now))

    def get_session(self, session_id: str) -> dict | None:
        """The session with its user's role and state, or None."""
        rows = self._rows(self._sql(
            "SELECT s.id, s.user_name, s.csrf, s.created_at, s.seen_at, u.role, u.active"
            " FROM sessions AS s JOIN users AS u ON u.name = s.user_name WHERE s.id = ?"), (session_id,))
        if not rows:
            return None
        out = dict(zip(("id", "user", "csrf", "created_at", "seen_at", "role", "active"), rows[0], strict=True))
        out["active"] = bool(out["active"])
        return out

    def touch_session(self, session_id: str, seen_at: str | None = None) -> None:
        self._change(self._sql("UPDATE sessions SET seen_at = ? WHERE id = ?"), (seen_at or utc_now(), session_id))

    def end_session(self, session_id: str) -> bool:
        return self._change(self._sql("DELETE FROM sessions WHERE id = ?"), (session_id,)) > 0

    def end_sessions(self, *, user: str | None = None, seen_before: str | None = None) -> int:
        """End a user's sessions, or those idle since before `seen_before` (or both filters)."""
        where, args = ["TRUE"], []
        if user is not None:
            where.append("user_name = ?")
            args.append(user)
        if seen_before is not None:
            where.append("seen_at < ?")
            args.append(seen_before)
        return self._change(self._sql(f"DELETE FROM sessions WHERE {' AND '.join(where)}"), args)

    # -- audit ---------------------------------------------------------------------------------

    def add_audit(self, user: str, action: str, *, dossier_id: str | None = None,
                  component_id: str | None = None, detail: dict | None = None) -> None:
        self._change(self._sql(
            "INSERT INTO audit (at, user_name, action, dossier_id, component_id, detail_json)"
            " VALUES (?, ?, ?, ?, ?, ?)"),
            (utc_now(), user, action, dossier_id, component_id, json.dumps(detail or {}, ensure_ascii=False)))

    def audit(self, *, dossier_id: str | None = None, limit: int = 100) -> list[dict]:
        """Newest first; one dossier's entries, or everyone's."""
        where, args = ("WHERE dossier_id = ?", [dossier_id]) if dossier_id is not None else ("", [])
        rows = self._rows(self._sql(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit {where} ORDER BY id DESC LIMIT ?"),
                          [*args, limit])
        return [_audit(r) for r in rows]
