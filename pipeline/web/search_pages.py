"""The search page, one document at one of its pages, its PDF and its page images.

Search and filters are the API's (`pipeline.api.listing`): one box with or without tone marks, the
type, date range, owner CCCD and dossier filters, plus "needs review". Counts per type: for a
query, over the components of its newest `COUNT_CAP` matching pages (the page says when more
matched); without one, over every component (or one dossier's) from the catalog's index. Before
anything is asked the page lists the newest dossiers (an index walk, not a sort of every document),
and "needs review" alone lists the review queue, least confident first.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from pipeline.api import listing
from pipeline.manifest import Component, Manifest
from pipeline.store import ObjectNotFound
from pipeline.web.context import PREFIX, Web
from pipeline.web.images import page_image
from pipeline.web.sessions import User

COUNT_CAP = 1000
_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_TYPE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_CCCD = re.compile(r"^\d{12}$")


def _date(value: str, problems: list[str], label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(f"{label}: ngày không hợp lệ (dạng YYYY-MM-DD).")
        return None


def find_component(web: Web, request: Request, component_id: str) -> tuple[Manifest, Component] | None:
    if not _ID.match(component_id or ""):
        return None
    catalog = web.catalog(request)
    row = catalog.get_component(component_id)
    manifest = catalog.get_dossier(row["dossier_id"]) if row else None
    comp = next((c for c in manifest.components if c.id == component_id), None) if manifest else None
    return (manifest, comp) if comp is not None and manifest is not None else None


def add_routes(router: APIRouter, web: Web) -> None:
    reader = Depends(web.need("viewer"))

    @router.get("/")
    def home(_user: User = reader) -> Response:
        return RedirectResponse(f"{PREFIX}/search", status_code=303)

    @router.get("/search")
    def search(request: Request, user: User = reader, q: str = "", type: str = "", owner: str = "",
               dossier: str = "", review: str = "", page: int = 1) -> Response:
        params = request.query_params
        date_from_text, date_to_text = params.get("from", ""), params.get("to", "")
        problems: list[str] = []
        q = q.strip()[:500]
        if type and not _TYPE.match(type):
            problems.append("Loại văn bản không hợp lệ.")
        if owner and not _CCCD.match(owner.strip()):
            problems.append("Số CCCD gồm 12 chữ số.")
        if dossier and not _ID.match(dossier.strip()):
            problems.append("Mã hồ sơ chỉ gồm chữ, số, '.', '_' hoặc '-'.")
        date_from = _date(date_from_text, problems, "Từ ngày")
        date_to = _date(date_to_text, problems, "Đến ngày")
        if date_from and date_to and date_from > date_to:
            problems.append("'Từ ngày' đứng sau 'Đến ngày'.")
        page = min(max(page, 1), 10_000)
        per_page = web.settings.web.page_size
        values = {"q": q, "type": type, "owner": owner.strip(), "dossier": dossier.strip(), "review": review,
                  "from": date_from_text, "to": date_to_text}
        result = None
        recent: list[dict] = []
        counts: dict[str, int] = {}
        capped = False
        if not problems:
            catalog = web.catalog(request)
            f = listing.Filters(type=type or None, dossier=dossier.strip() or None, owner=owner.strip() or None,
                                date_from=date_from, date_to=date_to, needs_review=True if review else None)
            offset = (page - 1) * per_page
            if q:
                result = listing.search(catalog, q, f, per_page, offset)
                counts, capped = catalog.search_type_counts(q, dossier=f.dossier, cap=COUNT_CAP)
            elif f == listing.Filters():  # nothing asked yet: the newest dossiers, the counts
                recent = catalog.recent_dossiers(per_page)
                counts = catalog.type_counts()
            elif f == listing.Filters(needs_review=True):  # the review queue, least confident first
                rows = catalog.review_queue(limit=per_page + 1, offset=offset)
                docs = [listing.Doc.from_row(r) for r in rows]
                result = listing.Page(docs[:per_page], len(docs) > per_page)
                counts = catalog.type_counts()
            else:
                result = listing.listed(catalog, f, per_page, offset)
                counts = catalog.type_counts(dossier=f.dossier)
        facets = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

        def link(**changes: object) -> str:
            """This search's URL with some parameters changed (None drops one)."""
            params = {**{k: v for k, v in values.items() if v}, "page": page, **changes}
            return "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})

        return web.page(request, "search.html", user, values=values, problems=problems, result=result, link=link,
                        recent=recent,
                        facets=facets, capped=capped, page_no=page, per_page=per_page,
                        types=[(c, web.type_name(c)) for c in web.taxonomy.codes])

    @router.get("/documents/{component_id}")
    def document(request: Request, component_id: str, user: User = reader, page: int = 0) -> Response:
        found = find_component(web, request, component_id)
        if found is None:
            return web.forbidden(request, "Không tìm thấy văn bản này.", 404)
        manifest, comp = found
        current = page if page in comp.pages else (comp.pages[0] if comp.pages else 0)
        by_n = {p.n: p for p in manifest.pages}
        return web.page(request, "document.html", user, manifest=manifest, comp=comp, current=current,
                        page=by_n.get(current), index=comp.pages.index(current) if current in comp.pages else 0)

    @router.get("/documents/{component_id}/pdf")
    def document_pdf(request: Request, component_id: str, _user: User = reader) -> Response:
        found = find_component(web, request, component_id)
        if found is None or found[1].object is None:
            return web.forbidden(request, "Văn bản này không có tệp PDF.", 404)
        comp = found[1]
        try:
            stream = web.store(request).open(comp.object.key)
        except ObjectNotFound:
            return web.forbidden(request, "Tệp PDF không còn trong kho.", 404)

        def chunks():
            try:
                while chunk := stream.read(256 * 1024):
                    yield chunk
            finally:
                stream.close()

        return StreamingResponse(chunks(), media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{comp.id}.pdf"', "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff"})

    @router.get("/documents/{component_id}/pages/{n}.jpg")
    def document_page(request: Request, component_id: str, n: int, _user: User = reader,
                      size: str = "thumb") -> Response:
        found = find_component(web, request, component_id)
        if found is None or found[1].object is None or n not in found[1].pages or size not in ("thumb", "page"):
            return Response(status_code=404)
        comp = found[1]
        data = page_image(web.store(request), comp.object.key, comp.sha256 or comp.object.key.replace("/", "_"),
                          comp.pages.index(n), size, web.cache)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600",
                                                                "X-Content-Type-Options": "nosniff"})
