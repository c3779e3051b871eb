"""The staff's web application: search, dossiers, the review queue, uploads and the centre's figures.

Server-rendered HTML (Jinja2 templates in `templates/`) with a little vanilla JavaScript, every
asset in `static/` (no CDN, nothing built with Node: government networks are often offline), the
UI in Vietnamese. It lives in the API's process: `create_site()` is the API app
(`pipeline.api.create_app`) with the web application installed on it (`install()`: routes under
/web sharing the app's store, catalog and upload queue), which `sohoa api` and `sohoa web` serve.
The web is the layer above the API: it uses the API's search listing and upload queue; the API
knows nothing of it. Staff accounts, sessions and the audit log are catalog tables
(`pipeline.catalog.accounts`); docs/web.md describes the pages.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from pipeline.api.app import DEFAULT_MAX_UPLOAD_BYTES, create_app
from pipeline.api.serve import ENV
from pipeline.settings import Settings
from pipeline.web import auth_pages, dossier_pages, review_pages, runs_pages, search_pages, upload_pages
from pipeline.web.context import HERE, PREFIX, Web
from pipeline.web.sessions import Forbidden, LoginRequired

STATIC = HERE / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml", ".png": "image/png", ".woff2": "font/woff2"}

__all__ = ["PREFIX", "create_site", "install", "site_from_env"]


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "text/html")


def create_site(settings: Settings, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES, presign_s: int = 300,
                worker: bool = True) -> FastAPI:
    """The API (under /v1) and the web application (under /web) in one app, for one server."""
    app = create_app(settings, max_upload_bytes=max_upload_bytes, presign_s=presign_s, worker=worker)
    install(app, settings, max_upload_bytes)
    return app


def site_from_env() -> FastAPI:
    """`create_site` in a uvicorn worker process (`sohoa api --workers N`), from `SOHOA_API_APP`."""
    spec = json.loads(os.environ[ENV])
    settings = Settings.load(config=spec.get("config_file"), home=spec["home"])
    return create_site(settings, max_upload_bytes=spec["max_upload_bytes"], presign_s=spec["presign_s"],
                       worker=spec["worker"])


def install(app: FastAPI, settings: Settings, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> None:
    """Add the web application to `app` (routes under /web, `/` sends browsers there)."""
    web = Web(settings, max_upload_bytes)
    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    for module in (auth_pages, search_pages, dossier_pages, review_pages, upload_pages, runs_pages):
        module.add_routes(router, web)

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        path = STATIC / name
        if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
            return Response(status_code=404)
        return Response(Path(path).read_bytes(), media_type=STATIC_TYPES[path.suffix],
                        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})

    app.include_router(router)

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        if _wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{PREFIX}/login?next={quote(target, safe='')}", status_code=303)
        return JSONResponse({"detail": "Phiên đăng nhập đã hết hạn: hãy đăng nhập lại."}, status_code=401)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if request.headers.get("x-csrf-token") is not None or "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"detail": exc.message}, status_code=403)
        return web.forbidden(request, exc.message, 403)

    app.state.web = web
