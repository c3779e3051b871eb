"""Runs and figures: backlog and nightly run reports with pages/min, failed dossiers with their reason
and a retry button, the upload queue, and the monthly report with its chart.

Run reports are the JSON files `flows/backlog.py` stores under `reports/` in the object store.
A retry puts the dossier's source back into the upload queue under the same id — the file or
folder it came from if it is still there, else the original kept in the store (`originals/…`,
or `quarantine/…/original/…` for an input that could not be opened).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.api.uploads import TEMP_PREFIX, Busy, Received
from pipeline.publish.report import ROWS, chart
from pipeline.web.context import PREFIX, Web
from pipeline.web.sessions import User

RUNS_SHOWN = 30
_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_chart_lock = threading.Lock()  # pyplot is not thread-safe


def month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, last


def run_reports(store, limit: int = RUNS_SHOWN) -> list[dict]:
    keys = sorted((k for k in store.list("reports/") if k.endswith(".json")), reverse=True)
    out = []
    for key in keys[:limit]:
        try:
            report = json.loads(store.get_bytes(key))
        except (ValueError, OSError):
            continue
        report["kind"] = "đêm" if key.split("/")[-1].startswith("ingest-") else "tồn đọng"
        out.append(report)
    out.sort(key=lambda r: r.get("started_at") or "", reverse=True)
    return out


def add_routes(router: APIRouter, web: Web) -> None:
    reader = Depends(web.need("viewer"))
    retrier = Depends(web.need("reviewer", write=True))

    @router.get("/runs")
    def runs(request: Request, user: User = reader, month: str = "", retried: str = "") -> Response:
        catalog = web.catalog(request)
        today = date.today()
        month = month if _MONTH.match(month) else f"{today:%Y-%m}"
        try:
            since, until = month_bounds(month)
        except ValueError:
            since, until = month_bounds(f"{today:%Y-%m}")
            month = f"{today:%Y-%m}"
        fig = catalog.figures(since, until)
        failed = catalog.figures()["failures"]
        return web.page(request, "runs.html", user, reports=run_reports(web.store(request)), fig=fig, rows=ROWS,
                        month=month, failed=failed[:200], jobs=request.app.state.uploads.jobs(), retried=retried)

    @router.get("/report/chart.png")
    def report_chart(request: Request, _user: User = reader, month: str = "") -> Response:
        if not _MONTH.match(month):
            return Response(status_code=400)
        try:
            since, until = month_bounds(month)
        except ValueError:
            return Response(status_code=400)
        fig = web.catalog(request).figures(since, until)
        digest = hashlib.sha256(json.dumps(fig, sort_keys=True).encode()).hexdigest()[:16]
        out = web.settings.home / "web-cache" / "charts" / f"{month}-{digest}.png"
        if not out.is_file():
            with _chart_lock:
                tmp = out.with_name(f".{secrets.token_hex(4)}.png")
                chart(fig, tmp)
                tmp.replace(out)
        return Response(out.read_bytes(), media_type="image/png", headers={"Cache-Control": "private, max-age=60"})

    @router.post("/runs/retry")
    def retry(request: Request, dossier_id: Annotated[str, Form(max_length=128)], user: User = retrier) -> Response:
        if not _ID.match(dossier_id):
            return web.forbidden(request, "Mã hồ sơ không hợp lệ.", 400)
        manifest = web.catalog(request).get_dossier(dossier_id)
        staging = web.settings.home / "uploads" / f"{TEMP_PREFIX}retry-{secrets.token_hex(8)}"
        try:
            source = fetch_source(web, request, dossier_id, manifest.source.path if manifest else None, staging)
            if source is None:
                return web.forbidden(request, f"Không còn bản gốc của hồ sơ {dossier_id} để chạy lại.", 404)
            size = sum(f.stat().st_size for f in source.rglob("*") if f.is_file()) if source.is_dir() \
                else source.stat().st_size
            suffix = "" if source.is_dir() else source.suffix.lower()
            try:
                request.app.state.uploads.submit(dossier_id, Received(source, size, suffix, source.name, dossier_id),
                                                 by=user.name)
            except Busy:
                return web.forbidden(request, "Hồ sơ này đang chờ hoặc đang được số hoá.", 409)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        web.catalog(request).add_audit(user.name, "retry", dossier_id=dossier_id,
                                       detail={"source": manifest.source.path if manifest else None})
        return RedirectResponse(f"{PREFIX}/uploads/{dossier_id}", status_code=303)


def fetch_source(web: Web, request: Request, dossier_id: str, path: str | None, staging: Path) -> Path | None:
    """A copy of the dossier's source in `staging`: the local file or folder, else the stored original."""
    staging.mkdir(parents=True, exist_ok=True)
    local = Path(path) if path and not path.startswith("s3://") else None
    if local is not None and local.is_file():
        return Path(shutil.copy2(local, staging / f"source{local.suffix.lower()}"))
    if local is not None and local.is_dir():
        return Path(shutil.copytree(local, staging / "source"))
    store = web.store(request)
    for prefix in (f"originals/{dossier_id}/", f"quarantine/{dossier_id}/original/"):
        keys = sorted(store.list(prefix))
        if not keys:
            continue
        if len(keys) == 1 and "/" not in keys[0][len(prefix):]:
            name = keys[0].rsplit("/", 1)[-1]
            return store.download(keys[0], staging / f"source{Path(name).suffix.lower()}")
        folder = staging / "source"
        for key in keys:
            store.download(key, folder / key.rsplit("/", 1)[-1])
        return folder
    return None
