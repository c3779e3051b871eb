"""What every page of the web application shares: settings, templates, the guard, the responses.

`Web.need(role)` is the dependency every route declares: it finds the session (`sessions.py`),
refuses a role below `role`, and for a change (`write=True`) refuses a request without the
session's CSRF token. Refusals are exceptions turned into pages by the handlers `install()` adds:
no session -> the log-in page (303), a role or token refused -> 403 with the reason.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from pipeline.catalog.base import Catalog
from pipeline.settings import Settings
from pipeline.store.base import ObjectStore
from pipeline.understand.taxonomy import Taxonomy, load_taxonomy
from pipeline.web import sessions
from pipeline.web.sessions import Forbidden, LoginLimiter, LoginRequired, User

HERE = Path(__file__).resolve().parent
PREFIX = "/web"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'self'; "
                               "frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
ACTION_NAMES = {"set-type": "đổi loại", "split": "tách", "merge": "gộp với văn bản trước", "set-fields": "sửa trường",
                "accept": "chấp nhận", "upload": "tải lên", "retry": "chạy lại", "user-create": "tạo tài khoản",
                "user-change": "đổi tài khoản"}
ROLE_NAMES = {"viewer": "Người xem", "reviewer": "Người rà soát", "admin": "Quản trị"}


def highlight(snippet: str) -> Markup:
    """A catalog snippet (matches in `[...]`) as HTML with the matches in <mark>."""
    out: list[str] = []
    depth = 0
    for ch in snippet or "":
        if ch == "[" and depth == 0:
            out.append("<mark>")
            depth = 1
        elif ch == "]" and depth == 1:
            out.append("</mark>")
            depth = 0
        else:
            out.append(str(escape(ch)))
    if depth:
        out.append("</mark>")
    return Markup("".join(out))


def nfc(text: Any) -> str:
    return unicodedata.normalize("NFC", str(text))


class Web:
    """The web application's state; one per FastAPI app."""

    def __init__(self, settings: Settings, max_upload_bytes: int):
        self.settings = settings
        self.max_upload_bytes = max_upload_bytes
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        env = self.templates.env
        env.filters["highlight"] = highlight
        env.filters["urlq"] = lambda v: quote(str(v), safe="")
        env.globals["ROLE_NAMES"] = ROLE_NAMES
        env.globals["ACTION_NAMES"] = ACTION_NAMES
        env.globals["P"] = PREFIX
        self.limiter = LoginLimiter(settings.web.login_failures, settings.web.login_window_s)
        self.cache = settings.home / "web-cache" / "pages"
        self._taxonomy: Taxonomy | None = None
        self._dossier_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # -- shared objects --------------------------------------------------------------------------

    @staticmethod
    def catalog(request: Request) -> Catalog:
        return request.app.state.catalog

    @staticmethod
    def store(request: Request) -> ObjectStore:
        return request.app.state.store

    @property
    def taxonomy(self) -> Taxonomy:
        if self._taxonomy is None:
            self._taxonomy = load_taxonomy(self.settings.taxonomy)
        return self._taxonomy

    def type_name(self, code: str) -> str:
        return self.taxonomy.name(code) if self.taxonomy.get(code) is not None else code

    def dossier_lock(self, dossier_id: str) -> threading.Lock:
        """One correction at a time per dossier in this process (they rewrite the whole dossier)."""
        with self._guard:
            return self._dossier_locks.setdefault(dossier_id, threading.Lock())

    # -- the guard -------------------------------------------------------------------------------

    def need(self, role: str, write: bool = False) -> Callable:
        async def guard(request: Request) -> User:
            user = sessions.current_user(request, self.catalog(request), self.settings.web)
            if user is None:
                raise LoginRequired()
            request.state.web_user = user
            if not user.may(role):
                raise Forbidden(f"Tài khoản {user.name} ({ROLE_NAMES[user.role]}) không được làm việc này; "
                                f"cần quyền {ROLE_NAMES[role]}.")
            if write and not sessions.same(await sessions.csrf_token_of(request), user.csrf):
                raise Forbidden("Biểu mẫu thiếu mã chống giả mạo (CSRF) hoặc mã đã hết hạn. Hãy tải lại trang.")
            return user

        guard.__name__ = f"need_{role}{'_write' if write else ''}"
        return guard

    # -- responses -------------------------------------------------------------------------------

    def page(self, request: Request, template: str, user: User | None, status: int = 200, **values: Any) -> Response:
        context = {"request": request, "user": user, "csrf": user.csrf if user else "",
                   "type_name": self.type_name, **values}
        response = self.templates.TemplateResponse(request, template, context, status_code=status)
        response.headers.update(SECURITY_HEADERS)
        return response

    def forbidden(self, request: Request, message: str, status: int = 403) -> HTMLResponse:
        user = getattr(request.state, "web_user", None)
        return self.page(request, "error.html", user, status=status, message=message)  # type: ignore[return-value]
