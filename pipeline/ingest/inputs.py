"""Dossier input: what was handed in, how many pages, and one page image at a time.

A dossier is a PDF, one image file (multi-page TIFF included) or a folder of page images. Nothing
here holds more than one page bitmap: `load_page()` rasterises or decodes exactly the page asked for
(pdftoppm with a page range for PDFs, a seek for TIFF frames), and only after its size passed the
pixel budget (`pipeline.ingest.budget`) in `open_dossier()`.

A folder dossier is what is inside it (`pipeline.ingest.entries`): symbolic links, hard links shared
with files elsewhere, devices and FIFOs are refused unread, other files are pages, the sidecar, or
skipped with a reason; `DossierSource.entries` accounts for every one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import stat
import struct
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import InputError
from pipeline.ingest import poppler
from pipeline.ingest.budget import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MIN_DPI,
    Plan,
    plan_image,
    plan_pdf_page,
    too_large,
)
from pipeline.ingest.entries import SIDECAR, check_regular, scan_folder, stored_names
from pipeline.ingest.entries import safe_id as safe_id  # re-exported: ids are made here
from pipeline.ingest.pdf_layers import PageLayers
from pipeline.manifest import Signature
from pipeline.textnorm import nfc

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".jp2", ".pnm", ".pgm", ".ppm", ".gif"}
PDF_SUFFIXES = {".pdf"}
SIDECAR_NAMES = ("dossier.json",)
MIN_DPI, MAX_DPI = 70, 1200
# what PIL's decoders raise on crafted or damaged files besides OSError/ValueError (a TIFF without
# dimensions, a bad table index, a short struct): all mean "this image cannot be read"
DECODER_ERRORS: tuple[type[Exception], ...] = (TypeError, KeyError, IndexError, struct.error, ZeroDivisionError,
                                               AttributeError, MemoryError)


@dataclass(frozen=True)
class PageRef:
    """Where page `n` (1-based position in the dossier) lives: a file and the page or frame in it."""

    n: int
    file: Path
    index: int  # 0-based page (PDF) or frame (TIFF) within `file`
    kind: str  # "pdf" | "image"
    pdf_text: str = ""  # text layer of a PDF page, "" when none
    size_pt: tuple[float, float] | None = None  # PDF page size in points, as displayed
    turned: bool = False  # a PDF page whose /Rotate is a quarter turn
    layers: PageLayers | None = None  # image and text geometry of a PDF page, measured when needed
    size_px: tuple[int, int] | None = None  # image frame size in pixels (from its header)
    fmt: str | None = None  # PIL format of an image ("JPEG", "PNG", "TIFF", ...)
    declared_dpi: float | None = None  # the resolution an image declares


@dataclass(frozen=True)
class Entry:
    """One thing found in a dossier folder, and what became of it.

    status: `pages` (read as pages), `sidecar` (dossier.json), `skipped` (a regular file that is not a
    page: kept as an original, not read as a page), `refused` (not read at all: links, devices, FIFOs).
    """

    name: str
    status: str
    reason: str = ""
    file: Path | None = None  # the regular file, for pages and skipped files
    stored_name: str = ""  # unique, key-safe name its original is stored under


@dataclass
class DossierSource:
    path: Path
    dossier_id: str
    kind: str  # "pdf" | "image" | "folder"
    files: list[Path]
    pages: list[PageRef]
    sha256: str
    extra: dict = field(default_factory=dict)  # sidecar fields (owner, procedure, ...)
    signatures: list[Signature] = field(default_factory=list)  # digital signatures of its PDFs (ingest)
    entries: list[Entry] = field(default_factory=list)  # every file given, with what became of it

    @property
    def page_count(self) -> int:
        return len(self.pages)


@dataclass
class PageImage:
    """One decoded page: an RGB or grey uint8 array and its resolution."""

    pixels: np.ndarray
    dpi: float
    warnings: list[str] = field(default_factory=list)
    jpeg: bytes | None = None  # the page as its own JPEG (grey or RGB, upright), when the input holds one


def natural_key(name: str) -> list:
    """Sort key so `2.jpg` comes before `10.jpg`."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def sha256_file(path: Path, digest: hashlib._Hash | None = None) -> str:
    h = digest or hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_sidecar(path: Path) -> dict:
    cand = path / SIDECAR if path.is_dir() else path.with_name(path.name + ".dossier.json")
    try:
        st = cand.lstat()
    except OSError:
        return {}
    if not stat.S_ISREG(st.st_mode):
        raise InputError("the sidecar is not a regular file (a link, FIFO or device): not read", path=cand,
                         hint="Put a plain dossier.json file in the dossier, or remove it")
    try:
        data = json.loads(cand.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"sidecar {cand.name} is not valid JSON ({exc})", path=cand,
                         hint="Fix or remove the sidecar file") from exc
    if not isinstance(data, dict):
        raise InputError("sidecar must be a JSON object", path=cand, hint="Fix or remove the sidecar file")
    return data


def list_entries(path: Path) -> list[Entry]:
    """Every entry of a folder dossier (natural order) with its fate and unique stored name."""
    found = sorted(scan_folder(path, IMAGE_SUFFIXES | PDF_SUFFIXES), key=lambda e: natural_key(e[0]))
    names = stored_names([name for name, _, _, file in found if file is not None])
    return [Entry(name, status, reason, file, names.get(name, "") if file is not None else "")
            for name, status, reason, file in found]


def open_dossier(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_pages: int = 2000,
                 dpi: float = 300, min_dpi: float = DEFAULT_MIN_DPI) -> DossierSource:
    """Validate a dossier and list its pages without decoding any page image.

    Every page's size is checked here against the pixel budget (at `dpi` for PDF pages, see
    `pipeline.ingest.budget`), so a page too big fails the dossier before anything is decoded.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", path=path, hint="Check the path")
    check_regular(path)
    sidecar = _read_sidecar(path)
    dossier_id = safe_id(str(sidecar.get("dossier_id") or (path.name if path.is_dir() else path.stem)))
    Image.MAX_IMAGE_PIXELS = max_pixels
    if path.is_dir():
        entries = list_entries(path)
        files = [e.file for e in entries if e.status == "pages" and e.file is not None]
        if not files:
            raise InputError("folder holds no page images or PDFs", path=path,
                             hint="Put the scanned pages (JPEG, PNG, TIFF or PDF) in the folder")
        h = hashlib.sha256()
        for e in entries:
            if e.file is not None and e.status in ("pages", "skipped") and not e.name.startswith("."):
                h.update(e.name.encode("utf-8", "surrogateescape") + b"\0")
                sha256_file(e.file, h)
        digest = h.hexdigest()
        kind = "folder"
    else:
        files = [path]
        digest = sha256_file(path)
        kind = "pdf" if _is_pdf(path) else "image"
        entries = [Entry(path.name, "pages", "", path, stored_names([path.name])[path.name])]
    pages: list[PageRef] = []
    for f in files:
        refs = _pdf_pages(f) if _is_pdf(f) else _image_pages(f)
        for ref in refs:
            pages.append(dataclasses.replace(ref, n=len(pages) + 1))
            if len(pages) > max_pages:
                raise InputError(f"more than {max_pages} pages", path=path,
                                 hint="Split the dossier or raise limits.max_pages")
    if not pages:
        raise InputError("the dossier has no pages", path=path, hint="Rescan the dossier")
    for ref in pages:
        page_plan(ref, dpi, max_pixels, min_dpi)  # raises for a page over the budget
    return DossierSource(path=path, dossier_id=dossier_id, kind=kind, files=files, pages=pages,
                         sha256=digest, extra=sidecar, entries=entries)


def page_plan(ref: PageRef, dpi: float, max_pixels: int, min_dpi: float = DEFAULT_MIN_DPI) -> Plan:
    """How `ref` is decoded within the pixel budget (see `pipeline.ingest.budget`); raises if it cannot be."""
    if ref.kind == "pdf":
        return plan_pdf_page(ref.file, ref.n, ref.size_pt, dpi, max_pixels, min_dpi)
    if ref.size_px is None:
        raise InputError("the image's size is unknown", path=ref.file, page=ref.n, hint="Rescan the page")
    return plan_image(ref.file, ref.n, ref.size_px, ref.fmt, ref.declared_dpi, max_pixels, min_dpi)


def _is_pdf(path: Path) -> bool:
    if path.stat().st_size == 0:
        raise InputError("the file is empty (0 bytes)", path=path, hint="Rescan or copy the file again")
    with open(path, "rb") as fh:
        head = fh.read(1024)
    return b"%PDF-" in head


def _pdf_pages(path: Path) -> list[PageRef]:
    count = poppler.page_count(path)
    if count == 0:
        raise InputError("the PDF has zero pages", path=path, hint="Rescan the dossier")
    sizes, turned = poppler.page_sizes(path, count)
    texts = [nfc(t) for t in poppler.page_texts(path, count)]
    return [PageRef(i + 1, path, i, "pdf", texts[i] if i < len(texts) else "", sizes.get(i + 1),
                    turned=i + 1 in turned) for i in range(count)]


def _declared_dpi(img: Image.Image) -> float | None:
    try:
        value = img.info.get("dpi", (None, None))[0]
        return float(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def _image_pages(path: Path) -> list[PageRef]:
    """One PageRef per frame with its size from the header: nothing is decoded here."""
    refs: list[PageRef] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # sizes are checked by the budget
            with Image.open(path) as img:
                frames = getattr(img, "n_frames", 1)
                for i in range(frames):
                    if i:
                        img.seek(i)  # reads this frame's header (a TIFF IFD), not its pixels
                    refs.append(PageRef(i + 1, path, i, "image", size_px=img.size, fmt=img.format,
                                        declared_dpi=_declared_dpi(img)))
                img.verify() if frames == 1 else None
    except Image.DecompressionBombError as exc:  # PIL's own check (twice the limit) came first
        m = re.search(r"\((\d+) pixels\)", str(exc))
        what = f"the image is {int(m.group(1)) / 1e6:.0f} Mpx" if m else "the image"
        raise too_large(path, None, what, Image.MAX_IMAGE_PIXELS,
                        "Rescan at 300 dpi, or raise limits.max_pixels if the page really is that big") from exc
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, *DECODER_ERRORS) as exc:
        raise InputError(f"not a readable PDF or image ({exc.__class__.__name__}: {exc})", path=path,
                         hint="Give a PDF, JPEG, PNG or TIFF scan; the file may be truncated") from exc
    return refs


def sane_dpi(declared: float | None, size_px: tuple[int, int]) -> tuple[float, str | None]:
    """The image's resolution, or an estimate (A4 assumed) when it declares none or a silly one."""
    if declared and MIN_DPI <= declared <= MAX_DPI:
        return float(declared), None
    long_side = max(size_px)
    estimate = min(max(long_side / 11.69, 100.0), 600.0)  # A4 is 11.69 in long
    return round(estimate), f"no usable resolution declared ({declared}); assumed {round(estimate)} dpi"


def _to_uint8(img: Image.Image) -> Image.Image:
    """RGB or L for any PIL mode: 16-bit scaled, CMYK converted, alpha flattened on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        lo, hi = float(arr.min()), float(arr.max())
        arr -= lo
        arr *= 255.0 / (hi - lo) if hi > lo else 0.0
        return Image.fromarray(arr.clip(0, 255, out=arr).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if img.mode in ("L", "RGB"):
        return img
    if img.mode == "1":
        return img.convert("L")
    return img.convert("RGB")


def measured(ref: PageRef) -> PageRef:
    """An image page made without `open_dossier` (a worker's copy of a file) gets its frame's size from
    the header; nothing is decoded, and a file that is no image is said to be one."""
    if ref.kind != "image" or ref.size_px is not None:
        return ref
    try:
        with Image.open(ref.file) as img:
            img.seek(ref.index)
            return replace(ref, size_px=img.size, fmt=img.format)
    except (OSError, ValueError, SyntaxError, EOFError, *DECODER_ERRORS) as exc:
        raise InputError(f"the image cannot be decoded ({exc})", path=ref.file, page=ref.n,
                         hint="The file may be truncated; copy or rescan it") from exc


def load_page(ref: PageRef, dpi: float, *, max_pixels: int = DEFAULT_MAX_PIXELS,
              min_dpi: float = DEFAULT_MIN_DPI) -> PageImage:
    """Decode exactly one page, within the pixel budget (`page_plan`): PDFs rendered at `dpi` or lower."""
    ref = measured(ref)
    plan = page_plan(ref, dpi, max_pixels, min_dpi)
    if ref.kind == "pdf":
        from pipeline.ingest.pdfimage import page_image

        # a scan's own pixels (no rendering, no resampling) when they are no more than the plan's
        embedded = page_image(ref.file, ref.index, max_pixels=round(plan.pixels * 1.05))
        if embedded is not None:
            return PageImage(pixels=embedded.pixels, dpi=embedded.dpi, jpeg=embedded.jpeg)
        return _render_pdf_page(ref, plan)
    Image.MAX_IMAGE_PIXELS = max_pixels
    jpeg = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(ref.file) as img:
                img.seek(ref.index)
                if img.size != ref.size_px:
                    raise InputError("the image changed since the dossier was opened", path=ref.file,
                                     page=ref.n, hint="Submit the dossier again")
                if plan.scale > 1:
                    img.draft(img.mode, (img.size[0] // plan.scale, img.size[1] // plan.scale))
                img.load()
                if (img.format == "JPEG" and img.mode in ("L", "RGB") and plan.scale == 1
                        and getattr(img, "n_frames", 1) == 1 and not _turned(img)):
                    jpeg = ref.file.read_bytes()  # upright as stored: it can go into the PDF unchanged
                frame = ImageOps.exif_transpose(img, in_place=False) if _turned(img) else img
                pixels = np.asarray(_to_uint8(frame))
    except Image.DecompressionBombError as exc:
        raise too_large(ref.file, ref.n, "the image", max_pixels, "Rescan at 300 dpi, or raise limits.max_pixels") from exc
    except InputError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, *DECODER_ERRORS) as exc:
        raise InputError(f"the image cannot be decoded ({exc})", path=ref.file, page=ref.n,
                         hint="The file may be truncated; copy or rescan it") from exc
    notes = [plan.warning] if plan.warning else []
    if plan.scale > 1:
        return PageImage(pixels=pixels, dpi=plan.dpi, warnings=notes)
    dpi_used, warning = sane_dpi(ref.declared_dpi, pixels.shape[1::-1])
    return PageImage(pixels=pixels, dpi=dpi_used, warnings=notes + ([warning] if warning else []), jpeg=jpeg)


def _turned(img: Image.Image) -> bool:
    """True when the EXIF orientation asks for a turn (exif_transpose copies the frame only then)."""
    try:
        return img.getexif().get(0x0112, 1) not in (1, None)
    except Exception:  # noqa: BLE001 - a broken EXIF block is no orientation
        return False


def _render_pdf_page(ref: PageRef, plan: Plan) -> PageImage:
    assert ref.size_pt is not None  # page_plan refused pages without a size
    # the crop box (what pdfinfo measured) at exactly the planned size: a media box larger than the
    # crop box cannot make pdftoppm draw more pixels than were budgeted
    size = (max(1, round(ref.size_pt[0] / 72 * plan.dpi)), max(1, round(ref.size_pt[1] / 72 * plan.dpi)))
    img = poppler.render_page(ref.file, ref.index, plan.dpi, page=ref.n, size=size, turned=ref.turned)
    return PageImage(pixels=np.asarray(_to_uint8(img)), dpi=plan.dpi, warnings=[plan.warning] if plan.warning else [])
