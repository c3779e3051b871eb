"""Uploads from the browser into the API's upload queue (`pipeline.api.uploads`), and their progress.

One PDF or page image goes through `receive()` exactly as `POST /v1/dossiers` does. Several page
images are sent one request each into a staging folder (`<home>/uploads/.upload-<token>/`), then
queued as one dossier, a folder of page images. A ZIP archive is unpacked into such a folder: only
its page images (or its one PDF), in natural order of their names, never a path from the archive,
within the member and size limits. The queue digitises them one at a time and counts pages.
"""

from __future__ import annotations

import re
import secrets
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from pipeline.api.uploads import TEMP_PREFIX, Busy, Received, UploadError, UploadQueue, receive
from pipeline.ingest.inputs import IMAGE_SUFFIXES, PDF_SUFFIXES, natural_key, safe_id
from pipeline.web.context import PREFIX, Web
from pipeline.web.sessions import User

MAX_ZIP_MEMBERS = 2000
_ID = re.compile(r"^[A-Za-z0-9._-]{1,120}$")
_BATCH = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def new_dossier_id() -> str:
    return f"web_{datetime.now(UTC):%Y%m%d%H%M%S}_{secrets.token_hex(3)}"


def check_dossier_id(value: str | None) -> str:
    dossier_id = (value or "").strip() or new_dossier_id()
    if not _ID.match(dossier_id) or safe_id(dossier_id) != dossier_id:
        raise Refused(400, "Mã hồ sơ chỉ gồm chữ không dấu, số, '.', '_' hoặc '-' (không bắt đầu hay kết thúc "
                           "bằng '.' hoặc '_').")
    return dossier_id


def unpack_zip(archive: Path, into: Path, max_bytes: int) -> None:
    """The archive's page images (or its single PDF) as `into/0001.jpg`…, in natural name order."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) > MAX_ZIP_MEMBERS:
                raise Refused(413, f"Tệp ZIP có quá nhiều tệp (tối đa {MAX_ZIP_MEMBERS}).")
            usable = []
            for m in members:
                name = PurePosixPath(m.filename.replace("\\", "/"))
                if any(part.startswith(".") or part == "__MACOSX" for part in name.parts):
                    continue
                suffix = name.suffix.lower()
                if suffix in IMAGE_SUFFIXES or suffix in PDF_SUFFIXES:
                    usable.append((m, suffix))
            pdfs = [u for u in usable if u[1] in PDF_SUFFIXES]
            images = [u for u in usable if u[1] in IMAGE_SUFFIXES]
            if pdfs and (images or len(pdfs) > 1):
                raise Refused(415, "Tệp ZIP cần chứa các ảnh trang của một hồ sơ, hoặc một tệp PDF.")
            chosen = pdfs or images
            if not chosen:
                raise Refused(415, "Tệp ZIP không có ảnh trang hay tệp PDF nào.")
            if sum(m.file_size for m, _ in chosen) > max_bytes * 4:
                raise Refused(413, "Nội dung tệp ZIP quá lớn.")
            chosen.sort(key=lambda u: natural_key(u[0].filename))
            into.mkdir(parents=True, exist_ok=True)
            written = 0
            for i, (m, suffix) in enumerate(chosen, start=1):
                with zf.open(m) as src, open(into / f"{i:04d}{suffix}", "xb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > max_bytes * 4:
                            raise Refused(413, "Nội dung tệp ZIP quá lớn.")
                        dst.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise Refused(415, f"Không mở được tệp ZIP ({type(exc).__name__}).") from None


def add_routes(router: APIRouter, web: Web) -> None:
    reader = Depends(web.need("viewer"))
    uploader = Depends(web.need("reviewer", write=True))
    uploader_page = Depends(web.need("reviewer"))

    def queue(request: Request) -> UploadQueue:
        return request.app.state.uploads

    def uploads_dir() -> Path:
        return web.settings.home / "uploads"

    def submit(request: Request, dossier_id: str, received: Received, user: User, detail: dict) -> JSONResponse:
        try:
            job = queue(request).submit(dossier_id, received, by=user.name)
        except Busy:
            raise Refused(409, "Hồ sơ có mã này đang chờ hoặc đang được số hoá.") from None
        web.catalog(request).add_audit(user.name, "upload", dossier_id=dossier_id, detail=detail)
        return JSONResponse({"dossier_id": dossier_id, "status": job.status,
                             "progress_url": f"{PREFIX}/uploads/{dossier_id}"}, status_code=202)

    def refused(exc: Refused | UploadError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @router.get("/upload")
    def upload_page(request: Request, user: User = uploader_page) -> Response:
        return web.page(request, "upload.html", user, jobs=queue(request).jobs(),
                        max_mb=web.max_upload_bytes // (1024 * 1024))

    @router.post("/upload")
    async def upload(request: Request, user: User = uploader) -> Response:
        """One file: a PDF, a page image, or a ZIP of page images."""
        try:
            received = await receive(request, uploads_dir(), web.max_upload_bytes, allow_zip=True)
        except UploadError as exc:
            return refused(exc)
        staging: Path | None = None
        try:
            dossier_id = check_dossier_id(received.dossier_id)
            detail = {"file": received.filename, "bytes": received.size}
            if received.suffix == ".zip":
                staging = uploads_dir() / f"{TEMP_PREFIX}zip-{secrets.token_hex(8)}"
                unpack_zip(received.path, staging, web.max_upload_bytes)
                received.path.unlink(missing_ok=True)
                files = sorted(staging.iterdir())
                if len(files) == 1 and files[0].suffix == ".pdf":  # a ZIP holding one PDF
                    received = Received(files[0], files[0].stat().st_size, ".pdf", received.filename, dossier_id)
                else:
                    received = Received(staging, received.size, "", received.filename, dossier_id)
            return submit(request, dossier_id, received, user, detail)
        except Refused as exc:
            return refused(exc)
        finally:
            if received.path.is_file():
                received.path.unlink(missing_ok=True)
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)

    @router.post("/upload/pages")
    def start_pages(_request: Request, _user: User = uploader) -> JSONResponse:
        """A staging folder for several page images, sent one request each."""
        batch = secrets.token_urlsafe(18)
        (uploads_dir() / f"{TEMP_PREFIX}pages-{batch}").mkdir(parents=True, exist_ok=True)
        return JSONResponse({"batch": batch})

    @router.post("/upload/pages/{batch}")
    async def add_page(request: Request, batch: str, seq: int = 0, _user: User = uploader) -> JSONResponse:
        folder = uploads_dir() / f"{TEMP_PREFIX}pages-{batch}"
        if not _BATCH.match(batch) or not folder.is_dir():
            return JSONResponse({"detail": "Không có lô tải lên này."}, status_code=404)
        if not 0 <= seq < 10_000:
            return JSONResponse({"detail": "Số thứ tự trang không hợp lệ."}, status_code=400)
        try:
            received = await receive(request, uploads_dir(), web.max_upload_bytes)
        except UploadError as exc:
            return refused(exc)
        if received.suffix not in IMAGE_SUFFIXES:
            received.path.unlink(missing_ok=True)
            return JSONResponse({"detail": "Nhiều tệp cùng lúc: chỉ nhận ảnh trang (PDF: từng tệp một)."},
                                status_code=415)
        received.path.replace(folder / f"{seq:04d}{received.suffix}")
        return JSONResponse({"ok": True})

    @router.post("/upload/pages/{batch}/done")
    async def finish_pages(request: Request, batch: str, user: User = uploader) -> Response:
        folder = uploads_dir() / f"{TEMP_PREFIX}pages-{batch}"
        if not _BATCH.match(batch) or not folder.is_dir():
            return JSONResponse({"detail": "Không có lô tải lên này."}, status_code=404)
        form = await request.form()
        try:
            dossier_id = check_dossier_id(str(form.get("dossier_id") or ""))
            files = sorted(folder.iterdir())
            if not files:
                raise Refused(400, "Chưa có trang nào được tải lên.")
            size = sum(f.stat().st_size for f in files)
            return submit(request, dossier_id, Received(folder, size, "", f"{len(files)} ảnh", dossier_id), user,
                          {"pages": len(files), "bytes": size})
        except Refused as exc:
            shutil.rmtree(folder, ignore_errors=True)
            return refused(exc)

    @router.get("/uploads/{dossier_id}")
    def progress_page(request: Request, dossier_id: str, user: User = reader) -> Response:
        if not _ID.match(dossier_id):
            return web.forbidden(request, "Mã hồ sơ không hợp lệ.", 400)
        return web.page(request, "progress.html", user, dossier_id=dossier_id, state=status_of(request, dossier_id))

    def status_of(request: Request, dossier_id: str) -> dict:
        job = queue(request).job(dossier_id)
        if job is not None:
            return {"state": job.status, "pages": job.pages, "pages_done": job.pages_done, "error": job.error,
                    "position": queue(request).position(dossier_id) or None}
        manifest = web.catalog(request).get_dossier(dossier_id)
        if manifest is None:
            return {"state": "unknown"}
        return {"state": manifest.status, "pages": manifest.source.pages,
                "pages_done": manifest.source.pages if manifest.status == "done" else 0,
                "error": manifest.error, "components": len(manifest.components),
                "url": f"{PREFIX}/dossiers/{dossier_id}"}

    @router.get("/uploads/{dossier_id}/status")
    def progress(request: Request, dossier_id: str, _user: User = reader) -> JSONResponse:
        if not _ID.match(dossier_id):
            return JSONResponse({"detail": "bad id"}, status_code=400)
        return JSONResponse(status_of(request, dossier_id), headers={"Cache-Control": "no-store"})
