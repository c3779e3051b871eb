"""/v1/owners/{cccd}/documents: a citizen's documents to reuse instead of asking for paper again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from pipeline.api import listing
from pipeline.api.deps import ERRORS, MAX_PER_PAGE, TYPE_PATTERN, CatalogDep, ReadKey, check_cccd, summary
from pipeline.api.models import OwnerDocument, OwnerDocuments

OWNER_SCAN = 10_000
"""At most this many of an owner's documents are gathered (from the catalog's owner index)."""

router = APIRouter(prefix="/v1", tags=["owners"])


@router.get("/owners/{cccd}/documents", response_model=OwnerDocuments, responses=ERRORS,
            summary="an owner's reusable documents, newest valid first")
def owner_documents(
    request: Request,
    cccd: str,
    catalog: CatalogDep,
    _key: ReadKey,
    type: Annotated[str | None, Query(pattern=TYPE_PATTERN)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
) -> OwnerDocuments:
    check_cccd(cccd)
    found = listing.all_listed(catalog, listing.Filters(type=type, owner=cccd), OWNER_SCAN)
    # nothing to reuse without the stored PDF; valid ones before those to review
    docs = [(doc, not doc.needs_review) for doc in found.items if doc.has_pdf]
    # newest valid first: valid before to-review, then by the document's date, then when digitised
    docs.sort(key=lambda d: ((d[0].metadata.get("ngay") or ""), d[0].created_at or ""), reverse=True)
    docs.sort(key=lambda d: d[1], reverse=True)
    unique: list[tuple[listing.Doc, bool]] = []
    seen: set[str] = set()
    for doc, valid in docs:
        same = doc.sha256 or doc.id
        if same in seen or (doc.reused_from and doc.reused_from in seen):
            continue  # the same document reused in a later dossier: list it once
        seen.update({same, doc.id})
        unique.append((doc, valid))
    start = (page - 1) * per_page
    items = [OwnerDocument(**summary(request, d), valid=v, created_at=d.created_at, sha256=d.sha256,
                           reused_from=d.reused_from) for d, v in unique[start:start + per_page]]
    return OwnerDocuments(cccd=cccd, items=items, page=page, per_page=per_page, total=len(unique),
                          truncated=found.truncated)
