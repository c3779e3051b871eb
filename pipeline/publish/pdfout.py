"""Searchable PDF output: the page image (JPEG) with Tesseract's invisible text layer on top.

img2pdf embeds the JPEG as is (no re-encoding) at the page's real size; pypdf lays the one-page
text-only PDF that Tesseract wrote over it, scaled to the same size, so `pdftotext` returns the OCR
text and selecting a word in a viewer selects that word. Pages that already carried real text are
copied from the source PDF untouched.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import img2pdf
import numpy as np
from pypdf import PdfReader, PdfWriter, Transformation

PDF_HEADER = b"%PDF-1.5"


@dataclass(frozen=True)
class PagePart:
    """What one output page is made of: a JPEG plus text layer, or a page of a source PDF."""

    jpeg: Path | None = None
    dpi: float = 300.0
    textlayer: Path | None = None
    source_pdf: Path | None = None
    source_index: int = 0


def write_jpeg(img: np.ndarray, path: Path, quality: int = 80) -> Path:
    """Encode the display image (RGB or grey) as a baseline JPEG."""
    bgr = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality), cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    if not ok:
        raise RuntimeError(f"JPEG encoding failed for {path}")
    path.write_bytes(buf.tobytes())
    return path


def _add_image_page(writer: PdfWriter, part: PagePart) -> None:
    layout = img2pdf.get_fixed_dpi_layout_fun((part.dpi, part.dpi))
    data = img2pdf.convert(part.jpeg.read_bytes(), layout_fun=layout, rotation=img2pdf.Rotation.ifvalid)
    page = writer.add_page(PdfReader(io.BytesIO(data)).pages[0])
    if part.textlayer is not None:
        text = PdfReader(part.textlayer).pages[0]
        sx = float(page.mediabox.width) / float(text.mediabox.width)
        sy = float(page.mediabox.height) / float(text.mediabox.height)
        page.merge_transformed_page(text, Transformation().scale(sx, sy))


def build_pdf(parts: list[PagePart], out: Path, info: dict[str, str]) -> Path:
    """Write one searchable PDF from `parts`, atomically (temp name, then rename)."""
    writer = PdfWriter()
    writer.pdf_header = PDF_HEADER
    readers: dict[Path, PdfReader] = {}
    for part in parts:
        if part.source_pdf is not None:
            reader = readers.setdefault(part.source_pdf, PdfReader(part.source_pdf))
            writer.add_page(reader.pages[part.source_index])
        else:
            _add_image_page(writer, part)
    writer.add_metadata({f"/{k}": v for k, v in info.items() if v})
    writer.compress_identical_objects()
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "wb") as fh:
        writer.write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, out)
    return out
