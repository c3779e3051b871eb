"""Searchable PDF/A-2b output: the page image (JPEG) with Tesseract's invisible text layer on top.

The JPEG goes in as it is (DCTDecode, no re-encoding): the display image the cleaning chain made
or, when the scan was a JPEG, the scan's own bytes, drawn turned upright and straight by the page's
matrix (`placement`) instead of resampled. pypdf lays the one-page text-only PDF Tesseract wrote
over it, scaled to the page, so `pdftotext` returns the OCR text and selecting a word in a viewer
selects that word. Pages that already carried real text are copied from the source PDF untouched.
The document is PDF/A-2b (`pipeline.publish.pdfa`); one whose copied pages break a rule it checks
(a font not embedded) is written without claiming it.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image

if TYPE_CHECKING:  # pypdf (~0.1 s to import) when a PDF is written, not when a page is read
    from pypdf import PdfWriter
    from pypdf.generic import StreamObject

    from pipeline.publish.pdfa import ArchivalRecord


@dataclass(frozen=True)
class PagePart:
    """What one output page is made of: a JPEG plus text layer, or a page of a source PDF.

    `rotation` and `skew_deg` are the turn and skew the cleaning undid on the JPEG's pixels (0 for a
    display image, which is already upright and straight); `dpi` is the JPEG's resolution.
    """

    jpeg: Path | None = None
    dpi: float = 300.0
    textlayer: Path | None = None
    source_pdf: Path | None = None
    source_index: int = 0
    rotation: int = 0
    skew_deg: float = 0.0


def write_jpeg(img: np.ndarray, path: Path, quality: int = 80) -> Path:
    """Encode the display image (RGB or grey) as a baseline JPEG."""
    bgr = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality), cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    if not ok:
        raise RuntimeError(f"JPEG encoding failed for {path}")
    path.write_bytes(buf.tobytes())
    return path


def placement(w: int, h: int, rotation: int, skew_deg: float, dpi: float) -> tuple[float, float, tuple[float, ...]]:
    """(page width pt, page height pt, image matrix) that draw a w x h image turned back by `rotation`
    (its content's clockwise quarter turn) and `skew_deg` as `imaging.rotate_quadrant` and
    `imaging.rotate_small` would have resampled it: upright, straight, same page size."""
    big_w, big_h = (h, w) if rotation in (90, 270) else (w, h)
    alpha, beta = math.cos(math.radians(skew_deg)), math.sin(math.radians(skew_deg))
    cx, cy = big_w / 2, big_h / 2
    k = 72.0 / dpi

    def to_pt(u: float, v: float) -> tuple[float, float]:
        x, y = u * w, (1.0 - v) * h  # the image's unit square, row 0 at the top
        if rotation == 90:
            x, y = y, w - x
        elif rotation == 180:
            x, y = w - x, h - y
        elif rotation == 270:
            x, y = h - y, x
        x, y = (alpha * x + beta * y + (1 - alpha) * cx - beta * cy,
                -beta * x + alpha * y + beta * cx + (1 - alpha) * cy)
        return x * k, (big_h - y) * k

    e, f = to_pt(0, 0)
    ax, ay = to_pt(1, 0)
    bx, by = to_pt(0, 1)
    return big_w * k, big_h * k, (ax - e, ay - f, bx - e, by - f, e, f)


def _image_xobject(jpeg: bytes) -> tuple[StreamObject, int, int]:
    from pypdf.generic import NameObject, NumberObject, StreamObject

    with Image.open(io.BytesIO(jpeg)) as im:  # the header only
        w, h, mode = im.width, im.height, im.mode
    if mode not in ("L", "RGB"):
        raise ValueError(f"JPEG in {mode} mode: only grey or RGB JPEGs go in as they are")
    image = StreamObject()
    image._data = jpeg  # noqa: SLF001 - the JPEG as it is: DCTDecode data, not re-encoded
    image.update({
        NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
        NameObject("/Width"): NumberObject(w), NameObject("/Height"): NumberObject(h),
        NameObject("/ColorSpace"): NameObject("/DeviceGray" if mode == "L" else "/DeviceRGB"),
        NameObject("/BitsPerComponent"): NumberObject(8), NameObject("/Filter"): NameObject("/DCTDecode"),
    })
    return image, w, h


def _add_image_page(writer: PdfWriter, part: PagePart) -> bytes:
    """One page: the JPEG placed upright, the text layer over it. Returns the JPEG (for the file ID)."""
    from pypdf import PageObject, PdfReader, Transformation
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    jpeg = part.jpeg.read_bytes()
    image, w, h = _image_xobject(jpeg)
    width, height, (a, b, c, d, e, f) = placement(w, h, part.rotation, part.skew_deg, part.dpi)
    page = PageObject.create_blank_page(writer, width, height)
    drawing = f"q {a:.5f} {b:.5f} {c:.5f} {d:.5f} {e:.4f} {f:.4f} cm /Im0 Do Q".encode()
    resources = DictionaryObject({
        NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(image)}),  # noqa: SLF001
    })
    text = PdfReader(part.textlayer).pages[0] if part.textlayer is not None else None
    own = text.get("/Resources") if text is not None else None
    if text is not None and own is not None and "/XObject" not in own.get_object():
        # The text layer's operators go in as they are, scaled to the page by one `cm`: pypdf's
        # merge_transformed_page parses every operator of it (~15 ms a page) to the same effect.
        sx, sy = width / float(text.mediabox.width), height / float(text.mediabox.height)
        for key, value in own.get_object().items():
            resources[NameObject(key)] = value.clone(writer)
        drawing += f"\nq {sx:.6f} 0 0 {sy:.6f} 0 0 cm\n".encode() + _content_bytes(text) + b"\nQ"
        text = None
    contents = DecodedStreamObject()
    contents.set_data(drawing)
    page[NameObject("/Resources")] = resources
    page[NameObject("/Contents")] = writer._add_object(contents)  # noqa: SLF001
    page = writer.add_page(page)
    if text is not None:  # a layer with images of its own: merged by pypdf, names kept apart
        sx = float(page.mediabox.width) / float(text.mediabox.width)
        sy = float(page.mediabox.height) / float(text.mediabox.height)
        page.merge_transformed_page(text, Transformation().scale(sx, sy))
    page.compress_content_streams()
    return jpeg


def _content_bytes(page) -> bytes:
    """A page's content stream(s), decoded and joined, without parsing them into operators."""
    contents = page.get("/Contents")
    if contents is None:
        return b""
    contents = contents.get_object()
    streams = [s.get_object() for s in contents] if isinstance(contents, list) else [contents]
    return b"\n".join(s.get_data() for s in streams)


def as_record(info: dict[str, str] | ArchivalRecord) -> ArchivalRecord:
    """An Info-style dict (Title, Subject, Author, Keywords) as an archival record."""
    from pipeline.publish.pdfa import ArchivalRecord

    if isinstance(info, ArchivalRecord):
        return info
    return ArchivalRecord(title=info.get("Title") or "", dossier_id="", type_name=info.get("Subject") or None,
                          co_quan=info.get("Author") or None,
                          keywords=[k.strip() for k in (info.get("Keywords") or "").split(",") if k.strip()])


def _write(parts: list[PagePart], out: Path, record: ArchivalRecord, claim: bool) -> None:
    from pypdf import PdfReader, PdfWriter

    from pipeline.publish.pdfa import make_archival

    writer = PdfWriter()
    readers: dict[Path, PdfReader] = {}
    fingerprint = hashlib.sha256()
    for part in parts:
        if part.source_pdf is not None:
            reader = readers.setdefault(part.source_pdf, PdfReader(part.source_pdf))
            writer.add_page(reader.pages[part.source_index])
            fingerprint.update(hashlib.sha256(reader.pages[part.source_index].get_contents().get_data()).digest()
                               if reader.pages[part.source_index].get_contents() is not None else b"")
        else:
            fingerprint.update(hashlib.sha256(_add_image_page(writer, part)).digest())
    if claim:
        make_archival(writer, record, fingerprint.digest())
    else:
        writer.add_metadata(record.info())
    writer.compress_identical_objects()
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "wb") as fh:
        writer.write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, out)


def build_pdf(parts: list[PagePart], out: Path, info: dict[str, str] | ArchivalRecord) -> Path:
    """Write one searchable PDF/A-2b from `parts`, atomically (temp name, then rename)."""
    from pipeline.publish.pdfa import problems

    record = as_record(info)
    _write(parts, out, record, claim=True)
    if any(p.source_pdf is not None for p in parts) and problems(out):
        _write(parts, out, record, claim=False)  # a copied page is not PDF/A: do not claim it
    return out
