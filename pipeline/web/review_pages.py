"""The review queue: least confident component first, its page image beside its text and fields.

Every action is a call of `pipeline.understand.review.Review` — the desk behind `sohoa review` —
handed the app's store and catalog and the reviewer's name, so a correction rebuilds the PDFs,
stores the manifest, re-indexes the catalog and is kept as training data exactly as on the command
line, its audit log entry included.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.api import listing
from pipeline.errors import SohoaError
from pipeline.understand import review
from pipeline.web.context import ACTION_NAMES, PREFIX, Web
from pipeline.web.search_pages import find_component
from pipeline.web.sessions import User

QUEUE_SHOWN = 50
FIELD_LABELS = {
    "so_ky_hieu": "Số, ký hiệu", "ngay": "Ngày (YYYY-MM-DD)", "co_quan": "Cơ quan ban hành",
    "trich_yeu": "Trích yếu", "cccd": "Số CCCD (mỗi số một dòng)", "ho_ten": "Họ tên (mỗi người một dòng)",
    "ma_ho_so": "Mã hồ sơ",
}


def add_routes(router: APIRouter, web: Web) -> None:
    reviewer_page = Depends(web.need("viewer"))
    reviewer = Depends(web.need("reviewer", write=True))

    @router.get("/review")
    def queue(request: Request, user: User = reviewer_page, item: str = "", page: int = 0, done: str = "",
              skip: int = 0) -> Response:
        catalog = web.catalog(request)
        skip = min(max(skip, 0), 10_000)
        rows = catalog.review_queue(limit=QUEUE_SHOWN, offset=0)
        items = [listing.Doc.from_row(r) for r in rows]
        current = None
        if item:
            found = find_component(web, request, item)
            current = found
        elif len(items) > skip:
            current = find_component(web, request, items[skip].id)
        manifest = comp = None
        index = 0
        if current is not None:
            manifest, comp = current
            index = next((i for i, c in enumerate(manifest.components) if c.id == comp.id), 0)
        selected = page if comp is not None and page in comp.pages else (comp.pages[0] if comp and comp.pages else 0)
        pages = {p.n: p for p in manifest.pages} if manifest else {}
        return web.page(request, "review.html", user, items=items, total=catalog.review_count(), manifest=manifest,
                        comp=comp, index=index, selected=selected, pages=pages, done=done, skip=skip,
                        types=[(c, web.type_name(c)) for c in web.taxonomy.codes], labels=FIELD_LABELS)

    def run(request: Request, user: User, component_id: str, action: str, call) -> Response:
        found = find_component(web, request, component_id)
        if found is None:
            return web.forbidden(request, "Văn bản này không còn (có thể vừa được sửa). Hãy tải lại hàng đợi.", 404)
        manifest, comp = found
        desk = review.Review(web.store(request), web.catalog(request), web.taxonomy, web.settings.home)
        try:
            with web.dossier_lock(manifest.dossier_id):
                call(desk, manifest, comp)
        except SohoaError as exc:
            return web.forbidden(request, f"Không sửa được: {exc}", 400)
        query = urlencode({"done": f"{ACTION_NAMES.get(action, action)} {comp.id}"})
        return RedirectResponse(f"{PREFIX}/review?{query}", status_code=303)

    @router.post("/review/{component_id}/type")
    def set_type(request: Request, component_id: str, type: Annotated[str, Form(max_length=64)],
                 user: User = reviewer) -> Response:
        return run(request, user, component_id, "set-type",
                   lambda desk, m, c: desk.set_type(c.id, type, by=user.name))

    @router.post("/review/{component_id}/split")
    def split(request: Request, component_id: str, page: Annotated[int, Form()], user: User = reviewer) -> Response:
        return run(request, user, component_id, "split",
                   lambda desk, m, c: desk.split(m.dossier_id, page, by=user.name))

    @router.post("/review/{component_id}/merge")
    def merge(request: Request, component_id: str, user: User = reviewer) -> Response:
        def call(desk: review.Review, m, c):
            if not c.pages:
                raise review.ReviewError("this component has no page")
            return desk.merge(m.dossier_id, c.pages[0], by=user.name)

        return run(request, user, component_id, "merge", call)

    @router.post("/review/{component_id}/fields")
    async def fields(request: Request, component_id: str, user: User = reviewer) -> Response:
        form = await request.form()
        values = {k: str(form.get(k) or "") for k in review.EDITABLE_FIELDS if k in form}
        for k in ("cccd", "ho_ten"):
            if k in values:
                values[k] = values[k].replace("\r", "")
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(
            run, request, user, component_id, "set-fields",
            lambda desk, m, c: desk.set_fields(c.id, values, by=user.name))

    @router.post("/review/{component_id}/accept")
    def accept(request: Request, component_id: str, user: User = reviewer) -> Response:
        return run(request, user, component_id, "accept",
                   lambda desk, m, c: desk.accept(c.id, by=user.name))
