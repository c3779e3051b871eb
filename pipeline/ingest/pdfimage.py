"""A scanned PDF page's own image, taken as it is stored instead of rendering the page.

A scanner's PDF page is one image drawn over the whole page (`q W 0 0 H 0 0 cm /Im0 Do Q`). Its
pixels are the scan: decoding them is lossless, needs no resampling and no pdftoppm process, and
a JPEG can go into the output PDF unchanged (`pipeline.publish.pdfout`). Anything else (text, vector
drawing, annotations such as a signature box, several images, masks, a /Rotate, unusual colour) is
left to the renderer: `None` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from pypdf import PdfReader
from pypdf.generic import ContentStream

_ALLOWED_OPS = {b"q", b"Q", b"cm", b"Do"}
_PLAIN_SPACES = {"/DeviceGray": 1, "/DeviceRGB": 3}
_TOLERANCE_PT = 1.0  # how far the image may miss the page edges


@dataclass(frozen=True)
class EmbeddedImage:
    pixels: np.ndarray  # grey or RGB uint8
    dpi: float
    jpeg: bytes | None  # the stream itself when it is a plain JPEG (DCTDecode, grey or RGB, 8 bits)


def _matrix(ops: list) -> tuple[float, ...] | None:
    """The image's placement when the content is only q/cm/Do/Q with one Do, else None."""
    ctm = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    stack: list[tuple[float, ...]] = []
    placed = None
    for operands, op in ops:
        if op not in _ALLOWED_OPS:
            return None
        if op == b"q":
            stack.append(ctm)
        elif op == b"Q":
            if not stack:
                return None
            ctm = stack.pop()
        elif op == b"cm":
            a, b, c, d, e, f = (float(x) for x in operands)
            A, B, C, D, E, F = ctm
            ctm = (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)
        elif op == b"Do":
            if placed is not None:
                return None
            placed = ctm
    return placed


def _space_channels(cs) -> int | None:
    cs = cs.get_object() if hasattr(cs, "get_object") else cs
    if isinstance(cs, str):
        return _PLAIN_SPACES.get(cs)
    if isinstance(cs, list) and len(cs) == 2 and cs[0] == "/ICCBased":
        n = int(cs[1].get_object().get("/N", 0))
        return n if n in (1, 3) else None
    return None


def page_image(file: Path, index: int, max_pixels: int | None = None) -> EmbeddedImage | None:
    """The page's one full-page image, decoded from its stream; None when the page is more than that,
    or the image has more than `max_pixels` (checked before decoding: the renderer brings it down)."""
    try:
        reader = PdfReader(file)
        if reader.is_encrypted:
            return None
        page = reader.pages[index]
        if int(page.get("/Rotate", 0) or 0) % 360 or page.get("/Annots"):
            return None  # a turned page, or annotations (a signature box) drawn over the scan: rendered
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else {}
        if "/Font" in resources or "/Pattern" in resources or "/Shading" in resources:
            return None
        xobjects = resources.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else {}
        if len(xobjects) != 1:
            return None
        image = next(iter(xobjects.values())).get_object()
        if image.get("/Subtype") != "/Image":
            return None
        if any(k in image for k in ("/SMask", "/Mask", "/ImageMask", "/Decode", "/Alternates")):
            return None
        placed = _matrix(ContentStream(page.get_contents(), reader).operations)
        if placed is None:
            return None
        box = page.mediabox
        x0, y0, w_pt, h_pt = float(box.left), float(box.bottom), float(box.width), float(box.height)
        crop = page.cropbox
        if any(abs(float(a) - float(b)) > _TOLERANCE_PT for a, b in zip(crop, box, strict=True)):
            return None  # a crop box shows part of the scan: the renderer draws what is shown
        a, b, c, d, e, f = placed
        if (abs(b) > 1e-6 or abs(c) > 1e-6 or abs(a - w_pt) > _TOLERANCE_PT or abs(d - h_pt) > _TOLERANCE_PT
                or abs(e - x0) > _TOLERANCE_PT or abs(f - y0) > _TOLERANCE_PT):
            return None
        width, height = int(image["/Width"]), int(image["/Height"])
        if max_pixels is not None and width * height > max_pixels:
            return None
        dpi_x, dpi_y = width / (w_pt / 72), height / (h_pt / 72)
        if abs(dpi_x - dpi_y) > 0.02 * dpi_x:
            return None  # a fax's 200 x 100: the renderer makes the pixels square
        channels = _space_channels(image.get("/ColorSpace"))
        filters = image.get("/Filter")
        filters = [filters] if isinstance(filters, str) else list(filters or [])
        if filters == ["/DCTDecode"] and channels and int(image.get("/BitsPerComponent", 8)) == 8:
            data = image._data  # noqa: SLF001 - the JPEG as stored, not decoded by pypdf
            pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
            if pixels is None or pixels.shape[:2] != (height, width):
                return None
            if pixels.ndim == 3:
                if pixels.shape[2] != 3 or channels != 3:
                    return None
                pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
            elif channels != 1:
                return None
            return EmbeddedImage(pixels, round(dpi_x, 2), bytes(data))
        if filters in (["/FlateDecode"], ["/CCITTFaxDecode"]) and channels == 1 or (
                filters == ["/FlateDecode"] and channels == 3):
            pil = page.images[0].image
            if pil.size != (width, height):
                return None
            pil = pil.convert("L") if channels == 1 else pil.convert("RGB")
            return EmbeddedImage(np.asarray(pil), round(dpi_x, 2), None)
    except Exception:  # noqa: BLE001 - anything unexpected: the renderer will do it the slow, safe way
        return None
    return None
