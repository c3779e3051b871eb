"""/v1/health and /v1/stats: is it up, and the centre's figures."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from pipeline.api.deps import ERRORS, CatalogDep, ReadKey, StoreDep, UploadsDep
from pipeline.api.models import Health

router = APIRouter(prefix="/v1", tags=["service"])


@router.get("/health", response_model=Health, summary="liveness (no key needed)")
def health(request: Request) -> Health:
    return Health(version=request.app.version)


@router.get("/stats", responses=ERRORS, summary="the centre's figures, catalog counts and the upload queue")
def stats(
    catalog: CatalogDep,
    store: StoreDep,
    uploads: UploadsDep,
    _key: ReadKey,
    since: Annotated[date | None, Query(description="first day, YYYY-MM-DD")] = None,
    until: Annotated[date | None, Query(description="last day, YYYY-MM-DD")] = None,
) -> dict:
    from pipeline.publish.report import figures

    return {"figures": figures(store, since, until, catalog), "catalog": catalog.stats(), "uploads": uploads.counts()}
