"""/v1/documents: search or list documents, one document with its text, its PDF; /v1/owners/{cccd}/documents:
a citizen's documents to reuse instead of asking for paper again."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from pipeline.api import listing
from pipeline.api.deps import (
    CCCD_PATTERN,
    ERRORS,
    ID_PATTERN,
    MAX_PER_PAGE,
    TYPE_PATTERN,
    CatalogDep,
    LimitsDep,
    ReadKey,
    StoreDep,
    check_cccd,
    check_id,
    json_response,
    links,
    listed_json,
    summary,
)
from pipeline.api.models import (
    Document,
    DocumentPage,
    OwnerDocument,
    OwnerDocuments,
    PageText,
)
from pipeline.catalog.base import Catalog
from pipeline.manifest import Manifest
from pipeline.store import ObjectNotFound, validate_key

PDF_CHUNK = 256 * 1024
OWNER_SCAN = 10_000
"""At most this many of an owner's documents are gathered (from the catalog's owner index)."""

router = APIRouter(prefix="/v1", tags=["documents"])


@router.get("/documents", response_model=DocumentPage, responses=ERRORS,
            summary="search documents (with or without tone marks) or list them by filters")
def documents(
    request: Request,
    catalog: CatalogDep,
    _key: ReadKey,
    q: Annotated[str | None, Query(max_length=500, description="words to find, tone marks optional")] = None,
    type: Annotated[str | None, Query(pattern=TYPE_PATTERN, description="type code, e.g. quyet_dinh")] = None,
    owner: Annotated[str | None, Query(pattern=CCCD_PATTERN, description="a CCCD number in the metadata")] = None,
    dossier: Annotated[str | None, Query(pattern=ID_PATTERN, description="only this dossier")] = None,
    date_from: Annotated[date | None, Query(alias="from", description="metadata.ngay on or after")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="metadata.ngay on or before")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 20,
) -> Response:
    if date_from and date_to and date_from > date_to:
        raise HTTPException(400, "'from' is after 'to'")
    f = listing.Filters(type=type, dossier=dossier, owner=owner, date_from=date_from, date_to=date_to)
    offset = (page - 1) * per_page
    query = (q or "").strip()
    if query:
        result = listing.search(catalog, query, f, per_page, offset)
    else:
        result = listing.listed(catalog, f, per_page, offset)
    # the shape of DocumentPage (its model documents the answer), serialised once
    return json_response({"items": [listed_json(request, d) for d in result.items], "page": page,
                          "per_page": per_page, "has_more": result.has_more, "truncated": result.truncated})


def component(catalog: Catalog, component_id: str) -> tuple[Manifest, Any]:
    """The manifest and component of a document id, or 404."""
    check_id(component_id, "document id")
    row = catalog.get_component(component_id)
    manifest = catalog.get_dossier(row["dossier_id"]) if row else None
    comp = next((c for c in manifest.components if c.id == component_id), None) if manifest else None
    if comp is None:
        raise HTTPException(404, "no such document")
    return manifest, comp


@router.get("/documents/{document_id}", response_model=Document, responses=ERRORS,
            summary="one document: metadata, pages and text")
def document(request: Request, document_id: str, catalog: CatalogDep, _key: ReadKey) -> Document:
    manifest, comp = component(catalog, document_id)
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
        stored_as=comp.stored_as, signatures=[sig.model_dump(mode="json") for sig in comp.signatures],
        links=links(request, comp.id, manifest.dossier_id, comp.object is not None),
    )


def _iter_stream(stream: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := stream.read(PDF_CHUNK):
            yield chunk
    finally:
        stream.close()


@router.get("/documents/{document_id}/pdf",
            responses={**ERRORS, 200: {"content": {"application/pdf": {}}, "description": "the PDF"},
                       307: {"description": "S3 store: redirect to a short-lived presigned URL"}},
            summary="the document's PDF: searchable, or the signed original byte for byte",
            response_class=StreamingResponse)
def document_pdf(
    document_id: str,
    catalog: CatalogDep,
    store: StoreDep,
    limits: LimitsDep,
    _key: ReadKey,
    redirect: Annotated[bool, Query(description="S3 store: redirect to a presigned URL (false: "
                                                "stream through the API)")] = True,
    inline: Annotated[bool, Query(description="show the PDF in the browser (default: download it as "
                                              "an attachment)")] = False,
):
    _, comp = component(catalog, document_id)
    if comp.object is None:
        raise HTTPException(404, "this document has no stored PDF")
    key = validate_key(comp.object.key)
    filename = f"{comp.id}.pdf"
    if redirect and hasattr(store, "presigned_url"):
        url = store.presigned_url(key, expires_s=limits.presign_s, filename=filename)
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    try:
        stream = store.open(key)
    except ObjectNotFound:
        raise HTTPException(404, "the document's PDF is not in the store") from None
    disposition = "inline" if inline else "attachment"
    headers = {"Content-Disposition": f'{disposition}; filename="{filename}"', "Cache-Control": "private, no-cache"}
    # the size of the very bytes being sent, even if the object is replaced meanwhile; a stream
    # that is not a file (S3 with redirect=false) is sent chunked
    with contextlib.suppress(AttributeError, OSError, ValueError):
        headers["Content-Length"] = str(os.fstat(stream.fileno()).st_size)
    if comp.sha256:
        headers["ETag"] = f'"{comp.sha256}"'
    return StreamingResponse(_iter_stream(stream), media_type="application/pdf", headers=headers)


@router.get("/owners/{cccd}/documents", response_model=OwnerDocuments, responses=ERRORS, tags=["owners"],
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
