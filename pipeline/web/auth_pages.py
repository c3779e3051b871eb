"""Log-in, log-out and the accounts page (admin only)."""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.catalog.accounts import ROLES, utc_now
from pipeline.web import sessions
from pipeline.web.context import PREFIX, Web
from pipeline.web.passwords import check_strength, hash_password, needs_rehash, new_password, verify_password
from pipeline.web.sessions import LOGIN_COOKIE, SESSION_COOKIE, User

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
"""User names: 2-40 lower-case ASCII letters, digits, `._-` (they appear in the audit log)."""


def safe_next(target: str | None) -> str:
    """Where to go after logging in: only a path of this application, never another site."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/"


def add_routes(router: APIRouter, web: Web) -> None:
    admin = Depends(web.need("admin"))
    admin_write = Depends(web.need("admin", write=True))
    anyone_write = Depends(web.need("viewer", write=True))

    def login_page(request: Request, next_url: str, error: str = "", status: int = 200) -> Response:
        token = secrets.token_urlsafe(24)
        response = web.page(request, "login.html", None, status=status, login_csrf=token, next=safe_next(next_url),
                            error=error)
        sessions.set_cookie(response, request, LOGIN_COOKIE, token, max_age=3600)
        return response

    @router.get("/login")
    def login_form(request: Request, next: str = "") -> Response:
        return login_page(request, next)

    @router.post("/login")
    def login(
        request: Request,
        name: Annotated[str, Form(max_length=100)] = "",
        password: Annotated[str, Form(max_length=1000)] = "",
        csrf: Annotated[str, Form(max_length=200)] = "",
        next: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        if not sessions.same(csrf, request.cookies.get(LOGIN_COOKIE)):
            return login_page(request, next, "Phiên đăng nhập đã hết hạn hoặc thiếu mã chống giả mạo. Hãy thử lại.", 403)
        name = name.strip().lower()
        client = f"ip:{request.client.host if request.client else '-'}"
        who = f"user:{name}"
        if web.limiter.blocked(who, client):
            return login_page(request, next, "Đăng nhập sai quá nhiều lần. Hãy đợi ít phút rồi thử lại.", 429)
        catalog = web.catalog(request)
        user = catalog.get_user(name) if NAME.match(name) else None
        ok = verify_password(user["password_hash"] if user else None, password)
        if not ok or user is None or not user["active"]:
            web.limiter.failed(who, client)
            return login_page(request, next, "Tên đăng nhập hoặc mật khẩu không đúng.", 401)
        web.limiter.succeeded(who)
        update: dict = {"last_login_at": utc_now()}
        if needs_rehash(user["password_hash"]):
            update["password_hash"] = hash_password(password)
        catalog.update_user(name, **update)
        response = RedirectResponse(safe_next(next), status_code=303)
        sessions.start_session(catalog, response, request, name, web.settings.web)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    @router.post("/logout")
    def logout(request: Request, user: User = anyone_write) -> Response:
        web.catalog(request).end_session(user.session_id)
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/users")
    def users(request: Request, user: User = admin) -> Response:
        return web.page(request, "users.html", user, users=web.catalog(request).users(), roles=ROLES,
                        created="", password="", error="")

    @router.post("/users")
    def create_user(
        request: Request,
        user: User = admin_write,
        name: Annotated[str, Form(max_length=100)] = "",
        role: Annotated[str, Form(max_length=20)] = "viewer",
        password: Annotated[str, Form(max_length=1000)] = "",
    ) -> Response:
        catalog = web.catalog(request)
        name = name.strip().lower()
        generated = not password
        password = password or new_password()
        problem = None
        if not NAME.match(name):
            problem = "Tên đăng nhập: 2–40 chữ thường không dấu, số, dấu chấm, gạch dưới hoặc gạch ngang."
        elif role not in ROLES:
            problem = "Vai trò không hợp lệ."
        else:
            problem = check_strength(password)
        if problem is None:
            try:
                catalog.add_user(name, role, hash_password(password))
            except ValueError:
                problem = f"Tài khoản {name} đã có."
        if problem:
            return web.page(request, "users.html", user, status=400, users=catalog.users(), roles=ROLES,
                            created="", password="", error=problem)
        catalog.add_audit(user.name, "user-create", detail={"name": name, "role": role})
        return web.page(request, "users.html", user, users=catalog.users(), roles=ROLES, created=name,
                        password=password if generated else "", error="")

    @router.post("/users/{name}")
    def change_user(
        request: Request,
        name: str,
        user: User = admin_write,
        role: Annotated[str, Form(max_length=20)] = "",
        active: Annotated[str, Form(max_length=5)] = "",
    ) -> Response:
        catalog = web.catalog(request)
        target = catalog.get_user(name)
        if target is None:
            return web.forbidden(request, "Không có tài khoản này.", 404)
        if name == user.name:
            return web.forbidden(request, "Không tự đổi vai trò hay khoá tài khoản của chính mình.", 400)
        changes: dict = {}
        if role in ROLES and role != target["role"]:
            changes["role"] = role
        if active in ("0", "1") and (active == "1") != target["active"]:
            changes["active"] = active == "1"
        if changes:
            catalog.update_user(name, **changes)
            catalog.add_audit(user.name, "user-change", detail={"name": name, **changes})
        return RedirectResponse(f"{PREFIX}/users", status_code=303)
