"""/v1/dossiers: a dossier's manifest or upload status; uploading a scan to digitise."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import PurePosixPath

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from pipeline.api.deps import (
    ERRORS,
    ID,
    ID_PATTERN,
    CatalogDep,
    LimitsDep,
    ReadKey,
    UploadsDep,
    WriteKey,
    check_id,
    prefix,
)
from pipeline.api.models import Problem, UploadAccepted, UploadStatus
from pipeline.api.uploads import Busy, receive
from pipeline.ingest.inputs import safe_id
from pipeline.manifest import Manifest

router = APIRouter(prefix="/v1", tags=["dossiers"])


def new_upload_id() -> str:
    return f"up_{datetime.now(UTC):%Y%m%d%H%M%S}_{secrets.token_hex(3)}"


@router.get("/dossiers/{dossier_id}", response_model=None, responses={
    **ERRORS, 200: {"model": UploadStatus | Manifest,
                    "description": "the manifest (schema sohoa/manifest/v1) of a processed dossier, or "
                                   "the status of an accepted upload not yet done"}},
            summary="a dossier's manifest, or its upload status")
def dossier_status(dossier_id: str, catalog: CatalogDep, uploads: UploadsDep, _key: ReadKey) -> JSONResponse:
    check_id(dossier_id, "dossier id")
    job = uploads.job(dossier_id)
    if job is not None:
        status = UploadStatus(**job.to_dict(), position=uploads.position(dossier_id) or None)
        return JSONResponse(status.model_dump(exclude_none=True))
    manifest = catalog.get_dossier(dossier_id)
    if manifest is None:
        raise HTTPException(404, "no such dossier")
    return JSONResponse(shown(manifest))


def shown(manifest: Manifest) -> dict:
    """The manifest as the API shows it: no file path of the machine that digitised it. A dossier
    run by the CLI records where its source was (`/srv/scans/hs_001`): the API names it
    `hs_001`, and wherever that directory appears in the manifest (the error, an input, a
    warning) the text reads relative to it. Uploads (`upload/…`) and object URLs are shown as
    recorded."""
    data = manifest.model_dump(mode="json", by_alias=True)
    path = manifest.source.path
    if not path or "://" in path or path.startswith("upload/"):
        return data
    local = PurePosixPath(path.replace("\\", "/"))
    data["source"]["path"] = local.name or path
    parent = str(local.parent)
    if parent in ("", ".", "/"):
        return data
    prefixes = [parent.rstrip("/") + "/", parent.replace("/", "\\").rstrip("\\") + "\\"]

    def scrub(value: object) -> object:
        if isinstance(value, str):
            for p in prefixes:
                value = value.replace(p, "")
            return value
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        return value

    return scrub(data)  # type: ignore[return-value]


@router.post("/dossiers", status_code=202, response_model=UploadAccepted,
             summary="upload a scanned dossier (PDF or page image) to digitise",
             responses={**ERRORS, 403: {"model": Problem, "description": "the key has scope read"},
                        409: {"model": Problem, "description": "that dossier id is already queued"},
                        413: {"model": Problem, "description": "the file is over the upload limit"},
                        415: {"model": Problem, "description": "not a PDF or a page image"}},
             openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["file"], "properties": {
                     "file": {"type": "string", "format": "binary",
                              "description": "the scan: PDF, JPEG, PNG, TIFF… at most the server's upload limit"},
                     "dossier_id": {"type": "string", "pattern": ID_PATTERN,
                                    "description": "the dossier's id (default: a new one); an existing "
                                                   "id is digitised again and replaced"}}}}}}})
async def upload(request: Request, uploads: UploadsDep, limits: LimitsDep, _key: WriteKey) -> JSONResponse:
    received = await receive(request, limits.uploads_dir, limits.max_upload_bytes)
    try:
        dossier_id = (received.dossier_id or "").strip() or new_upload_id()
        if not ID.match(dossier_id) or safe_id(dossier_id) != dossier_id:
            raise HTTPException(400, "bad dossier_id: use 1-120 letters, digits, '.', '_' or '-', "
                                     "not starting or ending with '.' or '_'")
        try:
            job = uploads.submit(dossier_id, received)
        except Busy:
            raise HTTPException(409, "that dossier id is already queued or being digitised") from None
    except BaseException:
        received.path.unlink(missing_ok=True)
        raise
    url = f"{prefix(request)}/dossiers/{dossier_id}"
    body = UploadAccepted(dossier_id=dossier_id, status=job.status, status_url=url,
                          position=uploads.position(dossier_id), size=received.size)
    return JSONResponse(body.model_dump(), status_code=202, headers={"Location": url})
