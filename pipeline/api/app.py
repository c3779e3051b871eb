"""The HTTP API other systems use: search, documents and their PDFs, owners, uploads, figures.

`create_app(settings)` builds a FastAPI app (OpenAPI at /openapi.json, docs at /docs), versioned
under /v1, from one router per resource (`pipeline/api/routes/`), each handed its store, catalog and
upload queue as dependencies (`pipeline/api/deps.py`); `sohoa api` serves it with uvicorn. Every
endpoint but /v1/health needs an API key (`pipeline/api/keys.py`); uploads need one with scope
`write`. docs/api.md has the contract.

Ids in paths are checked against `^[A-Za-z0-9._-]{1,128}$` before anything is looked up, object
keys come only from manifests and pass the store's `validate_key`, so no request can name a file
outside the store.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from pipeline.api.deps import Limits
from pipeline.api.hygiene import HygieneMiddleware, add_docs, limit_threads
from pipeline.api.keys import open_keys
from pipeline.api.routes import documents, dossiers, service
from pipeline.api.uploads import UploadError, UploadQueue
from pipeline.catalog import CatalogUnavailable, open_catalog
from pipeline.errors import TransientError, is_transient
from pipeline.settings import Settings
from pipeline.store import InvalidKey, open_store

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024
DEFAULT_PRESIGN_S = 300
ROUTERS = (service.router, documents.router, dossiers.router)


def _version() -> str:
    try:
        return version("sohoa")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def create_app(
    settings: Settings,
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    presign_s: int = DEFAULT_PRESIGN_S,
    worker: bool = True,
) -> FastAPI:
    """The API over `settings`' store and catalog. `max_upload_bytes`: larger uploads get 413.
    `presign_s`: life of the presigned URLs an S3 store's PDFs are redirected to. `worker=False`
    accepts uploads but leaves them queued (for tests and read-only replicas)."""
    if max_upload_bytes < 1:
        raise ValueError("max_upload_bytes must be positive")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.home.mkdir(parents=True, exist_ok=True)
        limit_threads()  # few request threads per process: the catalog serialises them anyway
        store = open_store(settings)
        catalog = open_catalog(settings)
        keys = open_keys(settings.home)

        def process(path, on_page=None):
            from pipeline.digitise.dossier import digitise

            # recorded and told under the upload's name, never the server's file path
            return digitise(path, settings, store, catalog, origin=f"upload/{path.name}", on_page=on_page)

        def count_pages(path) -> int:
            from pipeline.ingest.inputs import open_dossier

            return open_dossier(path, max_pixels=settings.limits.max_pixels,
                                max_pages=settings.limits.max_pages).page_count

        uploads = UploadQueue(settings.home / "uploads", process, count_pages=count_pages)
        app.state.store, app.state.catalog, app.state.keys = store, catalog, keys
        app.state.uploads = uploads
        if worker:
            uploads.start()
        try:
            yield
        finally:
            uploads.stop()
            keys.close()
            catalog.close()

    app = FastAPI(
        title="sohoa API",
        version=_version(),
        summary="Search and fetch digitised dossiers; upload scans to digitise.",
        description="Digitised Vietnamese dossiers: their documents (components), searchable text, "
                    "metadata and PDFs. Every endpoint but `/v1/health` needs an API key "
                    "(`Authorization: Bearer …` or `X-API-Key`). See docs/api.md.",
        lifespan=lifespan,
        docs_url=None,  # served by pipeline/api/hygiene.py from vendored assets, no CDN
        redoc_url=None,
    )
    app.add_middleware(HygieneMiddleware)
    add_docs(app, app.title)
    app.state.limits = Limits(max_upload_bytes, presign_s, settings.home / "uploads")
    _add_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # 400 (not 422) for any bad input; the message names the field, without echoing the value
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "invalid")} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=400)

    @app.exception_handler(CatalogUnavailable)
    @app.exception_handler(TransientError)
    async def unavailable(_request: Request, exc: Exception) -> JSONResponse:
        log.error("backend unavailable: %s", exc)
        return JSONResponse({"detail": "the store or catalog is unavailable; try again later"},
                            status_code=503, headers={"Retry-After": "30"})

    @app.exception_handler(InvalidKey)
    async def invalid_key(_request: Request, _exc: InvalidKey) -> JSONResponse:
        return JSONResponse({"detail": "bad id"}, status_code=400)

    @app.exception_handler(UploadError)
    async def upload_error(_request: Request, exc: UploadError) -> JSONResponse:
        # when the body was not read to its end, the server closes the connection after answering
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        if is_transient(exc):  # a locked or unreachable database, a time-out
            return await unavailable(request, exc)
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse({"detail": "internal error"}, status_code=500)


def _openapi(app: FastAPI) -> dict:
    """The generated schema, less FastAPI's 422 answers: bad input is 400 here."""
    if app.openapi_schema is None:
        spec = get_openapi(title=app.title, version=app.version, summary=app.summary,
                           description=app.description, routes=app.routes, servers=app.servers or None,
                           openapi_version=app.openapi_version)
        for item in spec.get("paths", {}).values():
            for operation in item.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            spec.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = spec
    return app.openapi_schema
