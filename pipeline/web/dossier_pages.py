"""The dossier page: its components in order with type, confidence, fields and page thumbnails,
the reuse links both ways, and the audit log of every change made to it."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.web.context import PREFIX, Web
from pipeline.web.sessions import User

_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def add_routes(router: APIRouter, web: Web) -> None:
    reader = Depends(web.need("viewer"))

    @router.get("/dossiers/{dossier_id}")
    def dossier(request: Request, dossier_id: str, user: User = reader) -> Response:
        if not _ID.match(dossier_id):
            return web.forbidden(request, "Mã hồ sơ không hợp lệ.", 400)
        catalog = web.catalog(request)
        manifest = catalog.get_dossier(dossier_id)
        if manifest is None:
            if request.app.state.uploads.job(dossier_id) is not None:
                return RedirectResponse(f"{PREFIX}/uploads/{dossier_id}", status_code=303)
            return web.forbidden(request, "Không tìm thấy hồ sơ này.", 404)
        # "same paper as": components of this dossier that point at another's PDF, and those of
        # other dossiers that point at this one's
        uris = [c.object.uri for c in manifest.components if c.object is not None and c.reused_from is None]
        reused_by = catalog.references(uris, exclude_dossier=dossier_id) if uris else {}
        by_uri = {c.object.uri: c.id for c in manifest.components if c.object is not None}
        used_elsewhere: dict[str, list[str]] = {}
        for uri, ids in reused_by.items():
            if uri in by_uri:
                used_elsewhere[by_uri[uri]] = ids
        texts = {p.n: p for p in manifest.pages}
        return web.page(request, "dossier.html", user, manifest=manifest, used_elsewhere=used_elsewhere,
                        pages=texts, audit=catalog.audit(dossier_id=dossier_id, limit=200))
