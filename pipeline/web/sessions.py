"""Who is asking: log-in sessions, roles, CSRF tokens and the log-in rate limit.

* The session cookie holds a random token; the catalog keeps only its SHA-256 (`sessions.id`), so
  a copy of the database opens no session. The cookie is HttpOnly, SameSite=Strict, Path=/, and
  Secure when the request came over HTTPS (directly or through the TLS proxy).
* Idle expiry: a session not used for `web.idle_minutes` is deleted at its next use (and all such
  sessions at every log-in); use is written at most once a minute.
* CSRF: each session has its own random token, sent back in every form (`csrf` field) or, from the
  page's scripts, in the `X-CSRF-Token` header, and compared in constant time. The log-in form,
  before there is a session, uses a double-submit cookie instead.
* Roles: viewer (read), reviewer (+ corrections, uploads, retries), admin (+ accounts). Checked
  on the server for every request by `Guard`; the pages only hide what a role cannot do.
* Log-in rate limit: at most `web.login_failures` failures per user name, and four times as many
  per client address (an office behind one NAT address shares it), within `web.login_window_s`;
  further attempts are refused without checking the password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from fastapi.responses import Response

from pipeline.catalog.accounts import ROLES
from pipeline.catalog.base import Catalog
from pipeline.settings import WebSettings

SESSION_COOKIE = "sohoa_session"
LOGIN_COOKIE = "sohoa_login"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
TOUCH_EVERY_S = 60


@dataclass(frozen=True)
class User:
    name: str
    role: str
    csrf: str
    session_id: str

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


class LoginRequired(Exception):
    """No valid session: the browser is sent to the log-in page."""


class Forbidden(Exception):
    """Logged in, but the role (or a missing CSRF token) does not allow this."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=is_https(request))


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def start_session(catalog: Catalog, response: Response, request: Request, name: str, web: WebSettings) -> None:
    """A new session for `name`; also ends every session idle for too long."""
    catalog.end_sessions(seen_before=_iso(datetime.now(UTC) - timedelta(minutes=web.idle_minutes)))
    token = secrets.token_urlsafe(32)
    catalog.add_session(session_id(token), name, secrets.token_urlsafe(32))
    set_cookie(response, request, SESSION_COOKIE, token)


def current_user(request: Request, catalog: Catalog, web: WebSettings) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    sid = session_id(token)
    row = catalog.get_session(sid)
    if row is None or not row["active"]:
        return None
    now = datetime.now(UTC)
    seen = datetime.fromisoformat(row["seen_at"])
    if now - seen > timedelta(minutes=web.idle_minutes):
        catalog.end_session(sid)
        return None
    if (now - seen).total_seconds() >= TOUCH_EVERY_S:
        catalog.touch_session(sid, _iso(now))
    return User(row["user"], row["role"], row["csrf"], sid)


ADDRESS_FACTOR = 4


class LoginLimiter:
    """Failed log-ins per key (`user:NAME`, `ip:ADDRESS`) in a sliding window, in this process."""

    def __init__(self, failures: int, window_s: float):
        self.failures = failures
        self.window_s = window_s
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.failures * (ADDRESS_FACTOR if k.startswith("ip:") else 1)
                       for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)
            if len(self._seen) > 10_000:  # forget keys with nothing recent
                for k in [k for k, v in self._seen.items() if not v or now - v[-1] > self.window_s]:
                    del self._seen[k]

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()

    def succeeded(self, name_key: str) -> None:
        with self._lock:
            self._seen.pop(name_key, None)


async def csrf_token_of(request: Request) -> str | None:
    """The token a request carries: the header (scripts), else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None
