"""Uploads: a multipart body streamed to disk under a size limit, and the worker that digitises them.

`receive()` parses `multipart/form-data` as it arrives (python-multipart's streaming parser), writes
the `file` part straight to a temp file under `<home>/uploads/` and stops reading the moment the
file passes the limit, so neither a large nor an endless upload is ever held in memory or on disk
beyond the limit. A request whose Content-Length is already over the limit is refused unread.

`UploadQueue` is one background thread in the API process that digitises accepted uploads one at a
time with `pipeline.digitise.dossier.digitise` (which never raises for a bad dossier: the manifest says what
failed). An upload is kept as `<home>/uploads/<dossier_id><suffix>` until its manifest is recorded,
so uploads accepted but not yet done when the API stops are queued again when it starts. The web application
also queues folders of page images (`<home>/uploads/<dossier_id>/`), and a job counts its pages as
they are done (`pages_done` of `pages`) for the progress it shows.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import queue
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from pipeline.ingest.inputs import IMAGE_SUFFIXES, PDF_SUFFIXES

log = logging.getLogger(__name__)

TEMP_PREFIX = ".upload-"
FORM_OVERHEAD = 64 * 1024
"""Room for the multipart framing and small fields, on top of the file limit."""
MAX_FIELD_BYTES = 1024
MAX_PARTS = 8
ACCEPTED_SUFFIXES = IMAGE_SUFFIXES | PDF_SUFFIXES

_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"II*\x00", ".tif"),
    (b"MM\x00*", ".tif"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
    (b"BM", ".bmp"),
    (b"\x00\x00\x00\x0cjP  ", ".jp2"),
]


class UploadError(Exception):
    """The upload is refused; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def sniff_suffix(head: bytes, filename: str | None) -> str | None:
    """The file's kind from its first bytes (the name's extension only when they do not tell)."""
    for magic, suffix in _MAGIC:
        if head.startswith(magic):
            return suffix
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    suffix = Path(filename or "").suffix.lower()
    if suffix in {".pnm", ".pgm", ".ppm"} and head[:1] == b"P":
        return suffix
    return None


@dataclass
class Received:
    """A complete upload on disk: the temp file, what it is, and the form's fields."""

    path: Path
    size: int
    suffix: str
    filename: str
    dossier_id: str | None


class _Form:
    """State of one multipart body while python-multipart calls back into it."""

    def __init__(self, tmp_dir: Path, max_bytes: int):
        self.tmp_dir = tmp_dir
        self.max_bytes = max_bytes
        self.parts = 0
        self.header_name = b""
        self.header_value = b""
        self.disposition = b""
        self.field: str | None = None
        self.is_file = False
        self.value = bytearray()
        self.fields: dict[str, str] = {}
        self.file: BinaryIO | None = None
        self.file_path: Path | None = None
        self.file_done = False
        self.filename = ""
        self.size = 0
        self.head = b""

    # python-multipart callbacks -----------------------------------------------------------------
    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise UploadError(400, f"too many form fields (at most {MAX_PARTS})")
        self.disposition = b""
        self.field = None
        self.is_file = False
        self.value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_name.strip().lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name = b""
        self.header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        self.field = options.get(b"name", b"").decode("utf-8", "replace")
        self.is_file = b"filename" in options
        if self.is_file:
            if self.field != "file":
                raise UploadError(400, "send the scan as the form field 'file'")
            if self.file is not None or self.file_done:
                raise UploadError(400, "send one file per upload")
            self.filename = options.get(b"filename", b"").decode("utf-8", "replace")[:255]
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            self.file_path = self.tmp_dir / f"{TEMP_PREFIX}{secrets.token_hex(8)}.part"
            self.file = open(self.file_path, "xb")  # noqa: SIM115 - closed in on_part_end / cleanup

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.is_file and self.file is not None:
            self.size += len(chunk)
            if self.size > self.max_bytes:
                raise UploadError(413, f"the file is larger than the limit of {self.max_bytes} bytes")
            if len(self.head) < 16:
                self.head += chunk[:16 - len(self.head)]
            self.file.write(chunk)
        else:
            self.value += chunk
            if len(self.value) > MAX_FIELD_BYTES:
                raise UploadError(400, f"form field {self.field!r} is longer than {MAX_FIELD_BYTES} bytes")

    def on_part_end(self) -> None:
        if self.is_file and self.file is not None:
            self.file.close()
            self.file = None
            self.file_done = True
        elif self.field:
            self.fields[self.field] = self.value.decode("utf-8", "replace")

    def callbacks(self) -> dict[str, Callable]:
        return {name: getattr(self, name) for name in (
            "on_part_begin", "on_part_data", "on_part_end", "on_header_field", "on_header_value",
            "on_header_end", "on_headers_finished")}

    def cleanup(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        if self.file_path is not None:
            self.file_path.unlink(missing_ok=True)


async def receive(request: Request, tmp_dir: Path, max_bytes: int, *, allow_zip: bool = False) -> Received:
    """Stream the request's multipart body; the `file` part goes to disk. Raises `UploadError`.
    `allow_zip`: a ZIP archive is accepted too (suffix `.zip`; the web application unpacks it)."""
    content_type, params = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise UploadError(415, "send the scan as multipart/form-data with a 'file' field")
    length = request.headers.get("content-length")
    if length is not None:
        try:
            declared = int(length)
        except ValueError:
            raise UploadError(400, "bad Content-Length") from None
        if declared > max_bytes + FORM_OVERHEAD:
            raise UploadError(413, f"the upload is larger than the limit of {max_bytes} bytes")
    form = _Form(tmp_dir, max_bytes)
    parser = MultipartParser(params[b"boundary"], form.callbacks())
    total = 0
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            total += len(chunk)
            if total > max_bytes + FORM_OVERHEAD:
                raise UploadError(413, f"the upload is larger than the limit of {max_bytes} bytes")
            # parsing and writing are blocking: keep them off the event loop
            await run_in_threadpool(parser.write, chunk)
        await run_in_threadpool(parser.finalize)
        if not form.file_done or form.file_path is None:
            raise UploadError(400, "no file: send the scan as the form field 'file'")
        if form.size == 0:
            raise UploadError(400, "the file is empty")
        suffix = sniff_suffix(form.head, form.filename)
        if suffix is None and allow_zip and form.head.startswith(b"PK\x03\x04"):
            suffix = ".zip"
        if suffix is None:
            raise UploadError(415, "not a PDF or a page image (PDF, JPEG, PNG, TIFF, ...)")
        return Received(form.file_path, form.size, suffix, form.filename, form.fields.get("dossier_id"))
    except UploadError:
        form.cleanup()
        raise
    except Exception as exc:  # a malformed body: the parser's own errors
        form.cleanup()
        if type(exc).__name__ in {"ClientDisconnect"}:
            raise UploadError(400, "the client went away before the upload was complete") from exc
        if "multipart" in type(exc).__module__:
            raise UploadError(400, "malformed multipart body") from exc
        raise


# -- the worker ----------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    dossier_id: str
    path: Path
    status: str = "queued"  # queued | processing | error
    accepted_at: str = ""
    started_at: str | None = None
    error: str | None = None
    pages: int | None = None  # the dossier's page count, once known
    pages_done: int = 0
    by: str | None = None  # who uploaded it (the web application's user)

    def to_dict(self) -> dict:
        out = {"dossier_id": self.dossier_id, "status": self.status, "accepted_at": self.accepted_at}
        if self.started_at:
            out["started_at"] = self.started_at
        if self.error:
            out["error"] = self.error
        return out


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _is_upload(p: Path) -> bool:
    """A queued upload: a page image or PDF, or a folder of page images (the web application's)."""
    return not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() in ACCEPTED_SUFFIXES)


def _upload_id(p: Path) -> str:
    return p.name if p.is_dir() else p.stem


class Busy(Exception):
    """That dossier id is already queued or being digitised."""


class UploadQueue:
    """Accepted uploads, digitised one at a time by one background thread among all API processes.

    With several API worker processes (`sohoa api --workers N`), any of them accepts an upload (the
    file under `<home>/uploads/`), and the one holding the lock file `.state/worker.lock` digitises them in
    turn, picking up files the others accepted; if it dies, another takes over. A job's state while
    it is worked on is a small JSON file under `.state/`, so every process answers status requests.
    """

    def __init__(self, uploads_dir: Path, process: Callable[..., object], poll_s: float = 1.0,
                 count_pages: Callable[[Path], int | None] | None = None):
        """`process(path, on_page=callback)` digitises one upload and calls `on_page(output)` per
        page; `count_pages(path)` tells a job's page count before it starts (None: unknown)."""
        self.dir = Path(uploads_dir)
        self.process = process
        self.poll_s = poll_s
        self.count_pages = count_pages
        self._jobs: dict[str, Job] = {}
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock_fd: int | None = None

    # -- state ------------------------------------------------------------------------------------
    def job(self, dossier_id: str) -> Job | None:
        """The job's state: this process's own when it is the digitising one, else from disk."""
        with self._lock:
            job = self._jobs.get(dossier_id) if self._lock_fd is not None else None
            if job:
                return Job(**vars(job))
        return self._job_on_disk(dossier_id)

    def _job_on_disk(self, dossier_id: str) -> Job | None:
        """A job another API process accepted or works on, from its file and state file."""
        files = self._files_for(dossier_id)
        if not files:
            return None
        state = self._read_state(dossier_id)
        try:
            accepted = datetime.fromtimestamp(files[0].stat().st_mtime, UTC).isoformat(timespec="seconds")
        except OSError:
            return None
        return Job(dossier_id, files[0], state.get("status", "queued"), state.get("accepted_at", accepted),
                   state.get("started_at"), state.get("error"), state.get("pages"), int(state.get("pages_done") or 0),
                   state.get("by"))

    def _waiting_on_disk(self) -> list[Job]:
        if not self.dir.is_dir():
            return []
        jobs = []
        for p in self.dir.iterdir():
            if not _is_upload(p):
                continue
            job = self.job(_upload_id(p))
            if job is not None:
                jobs.append(job)
        return jobs

    def jobs(self) -> list[Job]:
        """The jobs queued or in work (any API process's), oldest first."""
        return sorted(self._waiting_on_disk(), key=lambda j: (j.accepted_at, j.dossier_id))

    def counts(self) -> dict[str, int]:
        states = [j.status for j in self._waiting_on_disk()]
        return {"queued": states.count("queued"), "processing": states.count("processing"),
                "error": states.count("error")}

    def position(self, dossier_id: str) -> int:
        """1 for the next one to start, 0 when not waiting."""
        waiting = [j for j in self._waiting_on_disk() if j.status == "queued"]
        waiting.sort(key=lambda j: (j.accepted_at, j.dossier_id))
        ids = [j.dossier_id for j in waiting]
        return ids.index(dossier_id) + 1 if dossier_id in ids else 0

    def _state_path(self, dossier_id: str) -> Path:
        return self.dir / ".state" / f"{dossier_id}.json"

    def _read_state(self, dossier_id: str) -> dict:
        try:
            data = json.loads(self._state_path(dossier_id).read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _write_state(self, job: Job) -> None:
        path = self._state_path(job.dossier_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps({**job.to_dict(), "pages": job.pages, "pages_done": job.pages_done,
                                   "by": job.by}), encoding="utf-8")
        os.replace(tmp, path)

    def _files_for(self, dossier_id: str) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return [p for p in self.dir.iterdir() if _is_upload(p) and _upload_id(p) == dossier_id]

    # -- submitting -------------------------------------------------------------------------------
    def submit(self, dossier_id: str, received: Received, by: str | None = None) -> Job:
        """Move the temp file (or folder of page images, `suffix` "") into place and queue it;
        raises `Busy` if the id is already in work."""
        with self._lock:
            current = self._jobs.get(dossier_id) or self._job_on_disk(dossier_id)
            if current is not None and current.status in ("queued", "processing"):
                raise Busy(dossier_id)
            for old in self._files_for(dossier_id):  # an earlier upload that could not be digitised
                _remove(old)
            self._state_path(dossier_id).unlink(missing_ok=True)
            final = self.dir / f"{dossier_id}{received.suffix}"
            os.replace(received.path, final)
            job = Job(dossier_id, final, "queued", _now(), by=by)
            if by:
                self._write_state(job)  # who uploaded it, for every process
            if self._lock_fd is None:
                return job  # the digitising process picks it up from disk
            self._jobs[dossier_id] = job
        self._queue.put(dossier_id)
        return job

    def requeue_leftovers(self, drop_temp_after_s: float | None = 0) -> int:
        """Queue uploads on disk this process does not know yet (left by a previous run, or accepted
        by another API process); temp files older than `drop_temp_after_s` are dropped (None: kept)."""
        if not self.dir.is_dir():
            return 0
        n = 0
        now = time.time()
        for p in sorted(self.dir.iterdir(), key=lambda p: p.stat().st_mtime):
            if p.name.startswith(TEMP_PREFIX):
                if drop_temp_after_s is not None and now - p.stat().st_mtime >= drop_temp_after_s:
                    _remove(p)
                continue
            if not _is_upload(p):
                continue
            name = _upload_id(p)
            with self._lock:
                known = self._jobs.get(name)
                if known is not None and not (known.status == "error" and not self._state_path(name).exists()):
                    continue  # known; an errored job whose state file is gone was uploaded again
                self._jobs[name] = Job(name, p, "queued", _now(), by=self._read_state(name).get("by"))
            self._queue.put(name)
            n += 1
        return n

    # -- the thread -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sohoa-upload-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to stop after its current dossier; unfinished uploads stay on disk."""
        if self._thread is None:
            return
        self._stop.set()
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock: another process may take over
            self._lock_fd = None

    def _take_lock(self) -> bool:
        """Become the one digitising process (non-blocking); True when this process is it."""
        if self._lock_fd is not None:
            return True
        (self.dir / ".state").mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / ".state" / "worker.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        # uploads other processes are still receiving are recent: only old temp files are dropped
        requeued = self.requeue_leftovers(drop_temp_after_s=3600)
        if requeued:
            log.info("re-queued %d upload(s) left by a previous run", requeued)
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._take_lock():
                self._stop.wait(2.0)  # another API process digitises; take over if it goes
                continue
            try:
                dossier_id = self._queue.get(timeout=self.poll_s)
            except queue.Empty:
                self.requeue_leftovers(drop_temp_after_s=None)  # accepted by other processes
                continue
            if dossier_id is None:
                return
            with self._lock:
                job = self._jobs.get(dossier_id)
                if job is None or job.status != "queued" or not job.path.exists():
                    continue
                job.status = "processing"
                job.started_at = _now()
                path = job.path
            if self.count_pages is not None:
                try:
                    total = self.count_pages(path)
                except Exception:  # noqa: BLE001 - digitising says what is wrong with it
                    total = None
                with self._lock:
                    job.pages = total
            self._write_state(job)

            def on_page(_output: object, job: Job = job) -> None:
                with self._lock:
                    job.pages_done += 1
                self._write_state(job)  # every API process shows the progress

            t0 = time.perf_counter()
            try:
                self.process(path, on_page=on_page)
            except Exception as exc:  # noqa: BLE001 - store or catalog down: keep the upload, say so
                log.exception("upload %s: digitising stopped", dossier_id)
                with self._lock:
                    job.status = "error"
                    job.error = (f"digitising stopped ({type(exc).__name__}); the upload is kept and "
                                 "is retried when the API restarts, or upload it again")
                self._write_state(job)
                continue
            log.info("upload %s digitised in %.1f s", dossier_id, time.perf_counter() - t0)
            _remove(path)  # its original is in the store now (or in quarantine)
            self._state_path(dossier_id).unlink(missing_ok=True)
            with self._lock:
                if self._jobs.get(dossier_id) is job:
                    del self._jobs[dossier_id]
