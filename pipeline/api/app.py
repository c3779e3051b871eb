"""The HTTP API other systems use: search, documents and their PDFs, owners, uploads, figures.

`create_app(settings)` builds a FastAPI app (OpenAPI at /openapi.json, docs at /docs), versioned
under /v1; `sohoa api` serves it with uvicorn. Every endpoint but /v1/health needs an API key
(`pipeline/api/keys.py`); uploads need one with scope `write`. docs/api.md has the contract.

Ids in paths are checked against `^[A-Za-z0-9._-]{1,128}$` before anything is looked up, object
keys come only from manifests and pass the store's `validate_key`, so no request can name a file
outside the store.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse

from pipeline.api import listing
from pipeline.api.auth import require
from pipeline.api.keys import ApiKey, open_keys
from pipeline.api.models import (
    Document,
    DocumentPage,
    DocumentSummary,
    Health,
    Links,
    OwnerDocument,
    OwnerDocuments,
    PageText,
    Problem,
    UploadAccepted,
    UploadStatus,
)
from pipeline.api.uploads import Busy, UploadError, UploadQueue, receive
from pipeline.catalog import CatalogUnavailable, open_catalog
from pipeline.errors import TransientError, is_transient
from pipeline.ingest.inputs import safe_id
from pipeline.manifest import Manifest
from pipeline.settings import Settings
from pipeline.store import InvalidKey, ObjectNotFound, open_store, validate_key

log = logging.getLogger(__name__)

ID_PATTERN = r"^[A-Za-z0-9._-]{1,128}$"
CCCD_PATTERN = r"^\d{12}$"
TYPE_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
_ID = re.compile(ID_PATTERN)
_CCCD = re.compile(CCCD_PATTERN)

DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024
DEFAULT_PRESIGN_S = 300
MAX_PER_PAGE = 100
OWNER_SCAN = 10_000
"""At most this many of an owner's documents are gathered (from the catalog's owner index)."""
PDF_CHUNK = 256 * 1024

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "bad input (id, CCCD, dates, paging)"},
    401: {"model": Problem, "description": "no API key, or not a valid one"},
    404: {"model": Problem, "description": "no such document or dossier"},
}


ReadKey = Annotated[ApiKey, Depends(require("read"))]
WriteKey = Annotated[ApiKey, Depends(require("write"))]


def _version() -> str:
    try:
        return version("sohoa")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def check_id(value: str, what: str = "id") -> str:
    """Ids in paths and filters: ASCII letters, digits, `._-`, 1–128 characters, else 400."""
    if not isinstance(value, str) or not _ID.match(value) or value in (".", ".."):
        raise HTTPException(400, f"bad {what}: use 1-128 letters, digits, '.', '_' or '-'")
    return value


def check_cccd(value: str) -> str:
    if not _CCCD.match(value or ""):
        raise HTTPException(400, "a CCCD number is 12 digits")
    return value


def _prefix(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/") + "/v1"


def _links(request: Request, component_id: str, dossier_id: str, has_pdf: bool) -> Links:
    base = _prefix(request)
    return Links(self=f"{base}/documents/{component_id}",
                 pdf=f"{base}/documents/{component_id}/pdf" if has_pdf else None,
                 dossier=f"{base}/dossiers/{dossier_id}")


def _summary(request: Request, doc: listing.Doc) -> dict:
    out: dict[str, Any] = {
        "id": doc.id, "dossier_id": doc.dossier_id, "type": doc.type, "type_name": doc.type_name,
        "pages": doc.pages, "metadata": doc.metadata, "needs_review": doc.needs_review,
        "confidence": doc.confidence, "has_pdf": doc.has_pdf,
        "links": _links(request, doc.id, doc.dossier_id, doc.has_pdf),
    }
    if doc.hit is not None:
        out.update(page=doc.hit.page, snippet=doc.hit.snippet, score=doc.hit.score, exact=doc.hit.exact)
    return out


def _iter_stream(stream: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := stream.read(PDF_CHUNK):
            yield chunk
    finally:
        stream.close()


def _new_upload_id() -> str:
    return f"up_{datetime.now(UTC):%Y%m%d%H%M%S}_{secrets.token_hex(3)}"


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
    uploads_dir = settings.home / "uploads"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.home.mkdir(parents=True, exist_ok=True)
        store = open_store(settings)
        catalog = open_catalog(settings)
        keys = open_keys(settings.home)

        def process(path):
            from pipeline.digitise.dossier import digitise

            return digitise(path, settings, store, catalog)

        uploads = UploadQueue(uploads_dir, process)
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
    )

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

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        if is_transient(exc):  # a locked or unreachable database, a time-out
            return await unavailable(request, exc)
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    v1 = APIRouter(prefix="/v1")

    @v1.get("/health", response_model=Health, tags=["service"], summary="liveness (no key needed)")
    def health() -> Health:
        return Health(version=app.version)

    @v1.get("/documents", response_model=DocumentPage, tags=["documents"], responses=ERRORS,
            summary="search documents (with or without tone marks) or list them by filters")
    def documents(
        request: Request,
        _key: ReadKey,
        q: Annotated[str | None, Query(max_length=500, description="words to find, tone marks optional")] = None,
        type: Annotated[str | None, Query(pattern=TYPE_PATTERN, description="type code, e.g. quyet_dinh")] = None,
        owner: Annotated[str | None, Query(pattern=CCCD_PATTERN, description="a CCCD number in the metadata")] = None,
        dossier: Annotated[str | None, Query(pattern=ID_PATTERN, description="only this dossier")] = None,
        date_from: Annotated[date | None, Query(alias="from", description="metadata.ngay on or after")] = None,
        date_to: Annotated[date | None, Query(alias="to", description="metadata.ngay on or before")] = None,
        page: Annotated[int, Query(ge=1, le=10_000)] = 1,
        per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 20,
    ) -> DocumentPage:
        if date_from and date_to and date_from > date_to:
            raise HTTPException(400, "'from' is after 'to'")
        f = listing.Filters(type=type, dossier=dossier, owner=owner, date_from=date_from, date_to=date_to)
        offset = (page - 1) * per_page
        query = (q or "").strip()
        if query:
            result = listing.search(request.app.state.catalog, query, f, per_page, offset)
        else:
            result = listing.listed(request.app.state.catalog, f, per_page, offset)
        return DocumentPage(items=[DocumentSummary(**_summary(request, d)) for d in result.items], page=page,
                            per_page=per_page, has_more=result.has_more, truncated=result.truncated)

    def _component(request: Request, component_id: str) -> tuple[Manifest, Any]:
        check_id(component_id, "document id")
        catalog = request.app.state.catalog
        row = catalog.get_component(component_id)
        manifest = catalog.get_dossier(row["dossier_id"]) if row else None
        comp = next((c for c in manifest.components if c.id == component_id), None) if manifest else None
        if comp is None:
            raise HTTPException(404, "no such document")
        return manifest, comp

    @v1.get("/documents/{document_id}", response_model=Document, tags=["documents"], responses=ERRORS,
            summary="one document: metadata, pages and text")
    def document(request: Request, document_id: str, _key: ReadKey) -> Document:
        manifest, comp = _component(request, document_id)
        by_n = {p.n: p for p in manifest.pages}
        pages = [by_n[n] for n in comp.pages if n in by_n]
        return Document(
            id=comp.id, dossier_id=manifest.dossier_id, type=comp.type, type_name=comp.type_name,
            confidence=comp.confidence, needs_review=comp.needs_review,
            metadata=comp.metadata.model_dump(mode="json"), sha256=comp.sha256, reused_from=comp.reused_from,
            created_at=manifest.created_at,
            pages=[PageText(n=p.n, blank=p.blank, text=p.text, ocr_confidence=p.ocr_confidence,
                            needs_review=p.needs_review) for p in pages],
            text="\n\n".join(p.text for p in pages),
            links=_links(request, comp.id, manifest.dossier_id, comp.object is not None),
        )

    @v1.get("/documents/{document_id}/pdf", tags=["documents"],
            responses={**ERRORS, 200: {"content": {"application/pdf": {}}, "description": "the PDF"},
                       307: {"description": "S3 store: redirect to a short-lived presigned URL"}},
            summary="the document's searchable PDF", response_class=StreamingResponse)
    def document_pdf(
        request: Request,
        document_id: str,
        _key: ReadKey,
        redirect: Annotated[bool, Query(description="S3 store: redirect to a presigned URL (false: "
                                                    "stream through the API)")] = True,
    ):
        _, comp = _component(request, document_id)
        if comp.object is None:
            raise HTTPException(404, "this document has no stored PDF")
        key = validate_key(comp.object.key)
        store = request.app.state.store
        filename = f"{comp.id}.pdf"
        if redirect and hasattr(store, "presigned_url"):
            url = store.presigned_url(key, expires_s=presign_s, filename=filename)
            return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
        try:
            stream = store.open(key)
        except ObjectNotFound:
            raise HTTPException(404, "the document's PDF is not in the store") from None
        headers = {"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "private, no-cache"}
        # the size of the very bytes being sent, even if the object is replaced meanwhile; a stream
        # that is not a file (S3 with redirect=false) is sent chunked
        with contextlib.suppress(AttributeError, OSError, ValueError):
            headers["Content-Length"] = str(os.fstat(stream.fileno()).st_size)
        if comp.sha256:
            headers["ETag"] = f'"{comp.sha256}"'
        return StreamingResponse(_iter_stream(stream), media_type="application/pdf", headers=headers)

    @v1.get("/owners/{cccd}/documents", response_model=OwnerDocuments, tags=["owners"], responses=ERRORS,
            summary="an owner's reusable documents, newest valid first")
    def owner_documents(
        request: Request,
        cccd: str,
        _key: ReadKey,
        type: Annotated[str | None, Query(pattern=TYPE_PATTERN)] = None,
        page: Annotated[int, Query(ge=1, le=10_000)] = 1,
        per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
    ) -> OwnerDocuments:
        check_cccd(cccd)
        catalog = request.app.state.catalog
        found = listing.all_listed(catalog, listing.Filters(type=type, owner=cccd), OWNER_SCAN)
        docs: list[tuple[listing.Doc, bool]] = []
        seen: set[str] = set()
        for doc in found.items:
            if not doc.has_pdf:
                continue  # nothing to reuse without the stored PDF
            docs.append((doc, not doc.needs_review))
        # newest valid first: valid before to-review, then by the document's date, then when digitised
        docs.sort(key=lambda d: ((d[0].metadata.get("ngay") or ""), d[0].created_at or ""), reverse=True)
        docs.sort(key=lambda d: d[1], reverse=True)
        unique: list[tuple[listing.Doc, bool]] = []
        for doc, valid in docs:
            same = doc.sha256 or doc.id
            if same in seen or (doc.reused_from and doc.reused_from in seen):
                continue  # the same document reused in a later dossier: list it once
            seen.update({same, doc.id})
            unique.append((doc, valid))
        start = (page - 1) * per_page
        items = [OwnerDocument(**_summary(request, d), valid=v, created_at=d.created_at, sha256=d.sha256,
                               reused_from=d.reused_from) for d, v in unique[start:start + per_page]]
        return OwnerDocuments(cccd=cccd, items=items, page=page, per_page=per_page, total=len(unique),
                              truncated=found.truncated)

    @v1.get("/dossiers/{dossier_id}", tags=["dossiers"], response_model=None, responses={
        **ERRORS, 200: {"model": UploadStatus | Manifest,
                        "description": "the manifest (schema sohoa/manifest/v1) of a processed dossier, or "
                                       "the status of an accepted upload not yet done"}},
            summary="a dossier's manifest, or its upload status")
    def dossier_status(request: Request, dossier_id: str, _key: ReadKey) -> JSONResponse:
        check_id(dossier_id, "dossier id")
        uploads: UploadQueue = request.app.state.uploads
        job = uploads.job(dossier_id)
        if job is not None:
            status = UploadStatus(**job.to_dict(), position=uploads.position(dossier_id) or None)
            return JSONResponse(status.model_dump(exclude_none=True))
        manifest = request.app.state.catalog.get_dossier(dossier_id)
        if manifest is None:
            raise HTTPException(404, "no such dossier")
        return JSONResponse(manifest.model_dump(mode="json", by_alias=True))

    @v1.post("/dossiers", status_code=202, response_model=UploadAccepted, tags=["dossiers"],
             summary="upload a scanned dossier (PDF or page image) to digitise",
             responses={**ERRORS, 403: {"model": Problem, "description": "the key has scope read"},
                        409: {"model": Problem, "description": "that dossier id is already queued"},
                        413: {"model": Problem, "description": "the file is over the upload limit"},
                        415: {"model": Problem, "description": "not a PDF or a page image"}},
             openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["file"], "properties": {
                     "file": {"type": "string", "format": "binary",
                              "description": f"the scan: PDF, JPEG, PNG, TIFF… at most {max_upload_bytes} bytes"},
                     "dossier_id": {"type": "string", "pattern": ID_PATTERN,
                                    "description": "the dossier's id (default: a new one); an existing "
                                                   "id is digitised again and replaced"}}}}}}})
    async def upload(request: Request, _key: WriteKey) -> JSONResponse:
        received = await receive(request, uploads_dir, max_upload_bytes)
        try:
            dossier_id = (received.dossier_id or "").strip() or _new_upload_id()
            if not _ID.match(dossier_id) or safe_id(dossier_id) != dossier_id:
                raise HTTPException(400, "bad dossier_id: use 1-120 letters, digits, '.', '_' or '-', "
                                         "not starting or ending with '.' or '_'")
            uploads: UploadQueue = request.app.state.uploads
            try:
                job = uploads.submit(dossier_id, received)
            except Busy:
                raise HTTPException(409, "that dossier id is already queued or being digitised") from None
        except BaseException:
            received.path.unlink(missing_ok=True)
            raise
        url = f"{_prefix(request)}/dossiers/{dossier_id}"
        body = UploadAccepted(dossier_id=dossier_id, status=job.status, status_url=url,
                              position=uploads.position(dossier_id), size=received.size)
        return JSONResponse(body.model_dump(), status_code=202, headers={"Location": url})

    @v1.get("/stats", tags=["service"], responses=ERRORS,
            summary="the centre's figures, catalog counts and the upload queue")
    def stats(
        request: Request,
        _key: ReadKey,
        since: Annotated[date | None, Query(description="first day, YYYY-MM-DD")] = None,
        until: Annotated[date | None, Query(description="last day, YYYY-MM-DD")] = None,
    ) -> dict:
        from pipeline.publish.report import figures

        return {"figures": figures(request.app.state.store, since, until, request.app.state.catalog),
                "catalog": request.app.state.catalog.stats(),
                "uploads": request.app.state.uploads.counts()}

    app.include_router(v1)

    def openapi() -> dict:
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

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(UploadError)
    async def upload_error(_request: Request, exc: UploadError) -> JSONResponse:
        # when the body was not read to its end, the server closes the connection after answering
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    return app
