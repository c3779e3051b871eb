"""What the API's routes are handed: the store, the catalog, the upload queue and the app's limits
(FastAPI dependencies over `app.state`, set once by `create_app`'s lifespan), API-key checks, and the
checks of ids in paths."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import Depends, HTTPException, Request, Response

from pipeline.api import listing
from pipeline.api.auth import require
from pipeline.api.keys import ApiKey
from pipeline.api.models import Links, Problem
from pipeline.api.uploads import UploadQueue
from pipeline.catalog.base import Catalog
from pipeline.store.base import ObjectStore

ID_PATTERN = r"^[A-Za-z0-9._-]{1,128}$"
CCCD_PATTERN = r"^\d{12}$"
TYPE_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
ID = re.compile(ID_PATTERN)
_CCCD = re.compile(CCCD_PATTERN)
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Limits:
    """Per-app settings of the API: upload size, presigned URL life, where uploads wait."""

    max_upload_bytes: int
    presign_s: int
    uploads_dir: Path


def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def _store(request: Request) -> ObjectStore:
    return request.app.state.store


def _uploads(request: Request) -> UploadQueue:
    return request.app.state.uploads


def _limits(request: Request) -> Limits:
    return request.app.state.limits


CatalogDep = Annotated[Catalog, Depends(_catalog)]
StoreDep = Annotated[ObjectStore, Depends(_store)]
UploadsDep = Annotated[UploadQueue, Depends(_uploads)]
LimitsDep = Annotated[Limits, Depends(_limits)]
ReadKey = Annotated[ApiKey, Depends(require("read"))]
WriteKey = Annotated[ApiKey, Depends(require("write"))]

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "bad input (id, CCCD, dates, paging)"},
    401: {"model": Problem, "description": "no API key, or not a valid one"},
    404: {"model": Problem, "description": "no such document or dossier"},
}


def check_id(value: str, what: str = "id") -> str:
    """Ids in paths and filters: ASCII letters, digits, `._-`, 1–128 characters, else 400."""
    if not isinstance(value, str) or not ID.match(value) or value in (".", ".."):
        raise HTTPException(400, f"bad {what}: use 1-128 letters, digits, '.', '_' or '-'")
    return value


def check_cccd(value: str) -> str:
    if not _CCCD.match(value or ""):
        raise HTTPException(400, "a CCCD number is 12 digits")
    return value


def prefix(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/") + "/v1"


def links(request: Request, component_id: str, dossier_id: str, has_pdf: bool) -> Links:
    base = prefix(request)
    return Links(self=f"{base}/documents/{component_id}",
                 pdf=f"{base}/documents/{component_id}/pdf" if has_pdf else None,
                 dossier=f"{base}/dossiers/{dossier_id}")


def listed_json(request: Request, doc: listing.Doc) -> dict:
    """A listed document as `DocumentSummary` serialises it (same fields, order and nulls), built
    directly: the search answers with it without a model built and validated per hit."""
    base = prefix(request)
    hit = doc.hit
    return {
        "id": doc.id, "dossier_id": doc.dossier_id, "type": doc.type, "type_name": doc.type_name,
        "pages": doc.pages, "metadata": doc.metadata, "needs_review": doc.needs_review,
        "confidence": doc.confidence, "has_pdf": doc.has_pdf,
        "page": hit.page if hit else None, "snippet": hit.snippet if hit else None,
        "score": hit.score if hit else None, "exact": hit.exact if hit else None,
        "links": {"self": f"{base}/documents/{doc.id}",
                  "pdf": f"{base}/documents/{doc.id}/pdf" if doc.has_pdf else None,
                  "dossier": f"{base}/dossiers/{doc.dossier_id}"},
    }


def json_response(body: Any) -> Response:
    """`body` (plain JSON data: dicts, lists, str, numbers) as a JSON response, serialised once by
    orjson: no response model validates again what the catalog and `listed_json` already shaped."""
    return Response(orjson.dumps(body), media_type="application/json")


def summary(request: Request, doc: listing.Doc) -> dict:
    """A listed document as the API shows it (search hit fields when it is one)."""
    out: dict[str, Any] = {
        "id": doc.id, "dossier_id": doc.dossier_id, "type": doc.type, "type_name": doc.type_name,
        "pages": doc.pages, "metadata": doc.metadata, "needs_review": doc.needs_review,
        "confidence": doc.confidence, "has_pdf": doc.has_pdf,
        "links": links(request, doc.id, doc.dossier_id, doc.has_pdf),
    }
    if doc.hit is not None:
        out.update(page=doc.hit.page, snippet=doc.hit.snippet, score=doc.hit.score, exact=doc.hit.exact)
    return out
