"""Dossier input: what was handed in, how many pages, and one page image at a time.

A dossier is a PDF, one image file (multi-page TIFF included) or a folder of page images. Nothing
here holds more than one page bitmap: `load_page()` rasterises or decodes exactly the page asked for
(pdftoppm with a page range for PDFs, a seek for TIFF frames).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import InputError
from pipeline.ingest import poppler
from pipeline.ingest.pdf_layers import PageLayers
from pipeline.manifest import Signature
from pipeline.textnorm import nfc, strip_marks

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".jp2", ".pnm", ".pgm", ".ppm", ".gif"}
PDF_SUFFIXES = {".pdf"}
SIDECAR_NAMES = ("dossier.json",)
MIN_DPI, MAX_DPI = 70, 1200
# Rasterised PDF pages are capped at this many pixels; larger pages are rendered at a lower dpi.
MAX_RENDER_PIXELS = 60_000_000


@dataclass(frozen=True)
class PageRef:
    """Where page `n` (1-based position in the dossier) lives: a file and the page or frame in it."""

    n: int
    file: Path
    index: int  # 0-based page (PDF) or frame (TIFF) within `file`
    kind: str  # "pdf" | "image"
    pdf_text: str = ""  # text layer of a PDF page, "" when none
    size_pt: tuple[float, float] | None = None  # PDF page size in points
    layers: PageLayers | None = None  # image and text geometry of a PDF page, measured when needed


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

    @property
    def page_count(self) -> int:
        return len(self.pages)


@dataclass
class PageImage:
    """One decoded page: an RGB or grey uint8 array and its resolution."""

    pixels: np.ndarray
    dpi: float
    warnings: list[str] = field(default_factory=list)


def natural_key(name: str) -> list:
    """Sort key so `2.jpg` comes before `10.jpg`."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def safe_id(name: str) -> str:
    """A dossier id usable as an object-store key segment: ASCII letters, digits, `._-`."""
    ident = re.sub(r"[^A-Za-z0-9._-]+", "_", strip_marks(nfc(name)).strip()).strip("._")
    return ident[:120] or "dossier"


def sha256_file(path: Path, digest: hashlib._Hash | None = None) -> str:
    h = digest or hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_sidecar(path: Path) -> dict:
    candidates = [path / "dossier.json"] if path.is_dir() else [path.with_name(path.name + ".dossier.json")]
    for cand in candidates:
        if cand.is_file():
            try:
                data = json.loads(cand.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(f"sidecar {cand.name} is not valid JSON ({exc})", path=cand,
                                 hint="Fix or remove the sidecar file") from exc
            if not isinstance(data, dict):
                raise InputError("sidecar must be a JSON object", path=cand, hint="Fix or remove the sidecar file")
            return data
    return {}


def open_dossier(path: str | Path, *, max_pixels: int = 200_000_000, max_pages: int = 2000) -> DossierSource:
    """Validate a dossier and list its pages without decoding any page image."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", path=path, hint="Check the path")
    sidecar = _read_sidecar(path)
    dossier_id = safe_id(str(sidecar.get("dossier_id") or (path.name if path.is_dir() else path.stem)))
    Image.MAX_IMAGE_PIXELS = max_pixels
    if path.is_dir():
        files = sorted(
            (p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
             and p.suffix.lower() in IMAGE_SUFFIXES | PDF_SUFFIXES),
            key=lambda p: natural_key(p.name),
        )
        if not files:
            raise InputError("folder holds no page images or PDFs", path=path,
                             hint="Put the scanned pages (JPEG, PNG, TIFF or PDF) in the folder")
        h = hashlib.sha256()
        for f in files:
            h.update(f.name.encode() + b"\0")
            sha256_file(f, h)
        digest = h.hexdigest()
        kind = "folder"
    else:
        files = [path]
        digest = sha256_file(path)
        kind = "pdf" if _is_pdf(path) else "image"
    pages: list[PageRef] = []
    for f in files:
        refs = _pdf_pages(f) if _is_pdf(f) else _image_pages(f)
        for ref in refs:
            pages.append(PageRef(len(pages) + 1, ref.file, ref.index, ref.kind, ref.pdf_text, ref.size_pt))
            if len(pages) > max_pages:
                raise InputError(f"more than {max_pages} pages", path=path,
                                 hint="Split the dossier or raise limits.max_pages")
    if not pages:
        raise InputError("the dossier has no pages", path=path, hint="Rescan the dossier")
    return DossierSource(path=path, dossier_id=dossier_id, kind=kind, files=files, pages=pages,
                         sha256=digest, extra=sidecar)


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
    sizes = poppler.page_sizes(path, count)
    texts = [nfc(t) for t in poppler.page_texts(path, count)]
    return [PageRef(i + 1, path, i, "pdf", texts[i] if i < len(texts) else "", sizes.get(i + 1))
            for i in range(count)]


def _image_pages(path: Path) -> list[PageRef]:
    try:
        with Image.open(path) as img:
            frames = getattr(img, "n_frames", 1)
            img.verify() if frames == 1 else None
    except Image.DecompressionBombError as exc:
        raise InputError("the image is too large (over the pixel limit)", path=path,
                         hint="Rescan at 300 dpi, or raise limits.max_pixels if the page really is that big") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"not a readable PDF or image ({exc.__class__.__name__}: {exc})", path=path,
                         hint="Give a PDF, JPEG, PNG or TIFF scan; the file may be truncated") from exc
    return [PageRef(i + 1, path, i, "image") for i in range(frames)]


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
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        return Image.fromarray(((arr - lo) * scale).clip(0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if img.mode in ("1", "L"):
        return img.convert("L")
    return img.convert("RGB")


def load_page(ref: PageRef, dpi: int, *, max_pixels: int = 200_000_000) -> PageImage:
    """Decode exactly one page. PDFs are rendered at `dpi` (lowered for huge pages)."""
    if ref.kind == "pdf":
        return _render_pdf_page(ref, dpi)
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with Image.open(ref.file) as img:
            img.seek(ref.index)
            declared = img.info.get("dpi", (None, None))[0]
            frame = ImageOps.exif_transpose(img)  # a copy of this frame, turned as the camera meant
            pixels = np.asarray(_to_uint8(frame))
    except Image.DecompressionBombError as exc:
        raise InputError("the image is too large (over the pixel limit)", path=ref.file, page=ref.n,
                         hint="Rescan at 300 dpi, or raise limits.max_pixels") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InputError(f"the image cannot be decoded ({exc})", path=ref.file, page=ref.n,
                         hint="The file may be truncated; copy or rescan it") from exc
    try:
        declared = float(declared) if declared else None
    except (TypeError, ValueError):
        declared = None
    dpi_used, warning = sane_dpi(declared, pixels.shape[1::-1])
    return PageImage(pixels=pixels, dpi=dpi_used, warnings=[warning] if warning else [])


def _render_pdf_page(ref: PageRef, dpi: int) -> PageImage:
    warnings: list[str] = []
    render_dpi = float(dpi)
    if ref.size_pt:
        w_in, h_in = ref.size_pt[0] / 72, ref.size_pt[1] / 72
        if w_in * h_in * render_dpi**2 > MAX_RENDER_PIXELS:
            render_dpi = max(10.0, (MAX_RENDER_PIXELS / (w_in * h_in)) ** 0.5)
            warnings.append(f"page is {w_in:.0f}x{h_in:.0f} in; rendered at {render_dpi:.0f} dpi")
    img = poppler.render_page(ref.file, ref.index, render_dpi, page=ref.n)
    return PageImage(pixels=np.asarray(_to_uint8(img)), dpi=render_dpi, warnings=warnings)
