"""Page images for the browser, taken from the component's stored PDF, never from the original.

A component PDF holds each page as the JPEG the pipeline made (`pipeline.publish.pdfout`): it is
read back from the PDF as it is (no rendering) and scaled down with Pillow to the size asked for.
A page copied from a source PDF with real text (no JPEG inside) is rendered through
`pipeline.ingest.inputs` (poppler). Results are cached under `<home>/web-cache/pages/`, keyed by
the PDF's SHA-256 — a correction that rebuilds the PDF gets new images, and nothing is stale.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import threading
from pathlib import Path

from PIL import Image
from pypdf import PdfReader

from pipeline.store.base import ObjectStore
from pipeline.store.keys import validate_key

WIDTHS = {"thumb": 220, "page": 1400}
JPEG_QUALITY = 78
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def _embedded_jpeg(reader: PdfReader, index: int) -> Image.Image | None:
    page = reader.pages[index]
    try:
        images = list(page.images)
    except Exception:  # noqa: BLE001 - an odd page: render it instead
        return None
    if not images:
        return None
    biggest = max(images, key=lambda im: len(im.data))
    try:
        return Image.open(io.BytesIO(biggest.data))
    except Exception:  # noqa: BLE001 - a filter Pillow cannot read
        return biggest.image if getattr(biggest, "image", None) is not None else None


def _rendered(pdf: Path, index: int) -> Image.Image:
    from pipeline.ingest.inputs import PageRef, load_page

    return Image.fromarray(load_page(PageRef(n=index + 1, file=pdf, index=index, kind="pdf"), 100).pixels)


def page_image(store: ObjectStore, key: str, sha256: str, index: int, size: str, cache: Path) -> bytes:
    """JPEG bytes of page `index` (0-based) of the PDF stored at `key`, `size` "thumb" or "page"."""
    width = WIDTHS[size]
    name = f"{sha256}-{index}-{width}.jpg"
    out = cache / sha256[:2] / name
    if out.is_file():
        return out.read_bytes()
    with _lock(name):
        if out.is_file():
            return out.read_bytes()
        work = Path(tempfile.mkdtemp(prefix="page-", dir=cache.parent if cache.parent.is_dir() else None))
        try:
            local = store.download(validate_key(key), work / "doc.pdf")
            reader = PdfReader(str(local))
            if not 0 <= index < len(reader.pages):
                raise IndexError(index)
            img = _embedded_jpeg(reader, index) or _rendered(local, index)
            img = img.convert("L") if img.mode in ("L", "1", "LA") else img.convert("RGB")
            if img.width > width:
                img = img.resize((width, max(1, round(img.height * width / img.width))), Image.Resampling.LANCZOS)
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
            data = buf.getvalue()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(out)
        return data
