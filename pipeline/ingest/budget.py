"""The pixel budget: how big a page may be decoded, decided from its header before any decoding.

Memory follows pixels: a page of P pixels costs about 12-16 P bytes while it is decoded, cleaned and
OCRed (RGB, grey, warped and display copies). So every way a page arrives is measured first and
checked against one budget, `limits.max_pixels`:

- an image: its header (PIL opens lazily: size and mode, no pixel data), each TIFF frame on its own;
- a PDF page: its size in points (pdfinfo) x the OCR dpi; a page too big at that dpi is rendered at
  the dpi that fits, with a warning, as long as that is at least `limits.min_dpi` (150: text still
  reads); under that it is refused;
- a JPEG too big is decoded at 1/2, 1/4 or 1/8 scale (libjpeg does that while decoding) on the same
  terms; other images too big are refused.

A refusal is an `InputError` naming the file, the page and the limit. `PixelBudget` then bounds the
pixels decoded at once across the page pool, so several big pages do not add up.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError

DEFAULT_MAX_PIXELS = 80_000_000
DEFAULT_MIN_DPI = 150
A4_LONG_IN = 11.69
JPEG_SCALES = (2, 4, 8)


@dataclass(frozen=True)
class Plan:
    """How one page is decoded: at `dpi` (PDF) or reduced by `scale` (JPEG), `pixels` in the end."""

    pixels: int
    dpi: float
    scale: int = 1
    warning: str | None = None


def mpx(pixels: float) -> str:
    return f"{pixels / 1e6:.0f} Mpx"


def too_large(path: Path | str, page: int | None, what: str, max_pixels: int, hint: str) -> InputError:
    return InputError(f"{what}: too large, over the limit of {mpx(max_pixels)} (limits.max_pixels)",
                      path=path, page=page, hint=hint)


def plan_pdf_page(path: Path | str, page: int, size_pt: tuple[float, float] | None, dpi: float,
                  max_pixels: int, min_dpi: float = DEFAULT_MIN_DPI) -> Plan:
    """The dpi to render a PDF page at: `dpi`, or lower down to `min_dpi` to stay in `max_pixels`."""
    if not size_pt or size_pt[0] <= 0 or size_pt[1] <= 0:
        raise InputError("the page has no size (a damaged page tree)", path=path, page=page,
                         hint="Repair the PDF (e.g. qpdf) or rescan the dossier")
    w_in, h_in = size_pt[0] / 72, size_pt[1] / 72
    area = w_in * h_in
    if area * dpi * dpi <= max_pixels:
        return Plan(_pdf_pixels(w_in, h_in, dpi), float(dpi))
    fit = math.floor(math.sqrt(max_pixels / area))
    what = f"the page is {w_in:.0f} x {h_in:.0f} in"
    if fit < min_dpi:
        raise too_large(path, page, f"{what} ({mpx(area * min_dpi**2)} even at {min_dpi:.0f} dpi)", max_pixels,
                        "Check the page size (a mistaken size makes a huge page), or raise limits.max_pixels")
    return Plan(_pdf_pixels(w_in, h_in, fit), float(fit),
                warning=f"{what}: rendered at {fit} dpi instead of {dpi:.0f} to stay within the pixel limit "
                        f"({mpx(max_pixels)})")


def _pdf_pixels(w_in: float, h_in: float, dpi: float) -> int:
    return max(1, round(w_in * dpi)) * max(1, round(h_in * dpi))


def image_dpi(declared: float | None, size_px: tuple[int, int]) -> float:
    """The resolution an image declares, or the A4 guess `sane_dpi` makes (kept in step with it)."""
    if declared and 70 <= declared <= 1200:
        return float(declared)
    return min(max(max(size_px) / A4_LONG_IN, 100.0), 600.0)


def plan_image(path: Path | str, page: int | None, size_px: tuple[int, int], fmt: str | None,
               declared_dpi: float | None, max_pixels: int, min_dpi: float = DEFAULT_MIN_DPI) -> Plan:
    """Decode an image frame whole, or a JPEG at a reduced scale, or refuse it (`InputError`)."""
    w, h = size_px
    if w <= 0 or h <= 0:
        raise InputError(f"the image says it is {w} x {h} pixels", path=path, page=page,
                         hint="The file is damaged; rescan the page")
    dpi = image_dpi(declared_dpi, size_px)
    if w * h <= max_pixels:
        return Plan(w * h, dpi)
    what = f"the image is {w} x {h} pixels ({mpx(w * h)})"
    if fmt == "JPEG":
        for scale in JPEG_SCALES:
            pixels = math.ceil(w / scale) * math.ceil(h / scale)
            if pixels <= max_pixels and dpi / scale >= min_dpi:
                return Plan(pixels, dpi / scale, scale,
                            f"{what}: decoded at 1/{scale} scale ({dpi / scale:.0f} dpi) to stay within the "
                            f"pixel limit ({mpx(max_pixels)})")
    raise too_large(path, page, what, max_pixels,
                    "Rescan at 300 dpi, or raise limits.max_pixels if the page really is that big")


class PixelBudget:
    """Pixels decoded at once in this process: a page waits until its pixels fit in `limit`.

    A page bigger than the whole limit still runs, alone (the per-page check refused anything over
    `limits.max_pixels` before, so that only happens when the two limits differ).
    """

    def __init__(self, limit: int):
        self.limit = max(1, int(limit))
        self.used = 0
        self._cond = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        pixels = max(0, int(pixels))
        with self._cond:
            while self.used and self.used + pixels > self.limit:
                self._cond.wait()
            self.used += pixels
        try:
            yield
        finally:
            with self._cond:
                self.used -= pixels
                self._cond.notify_all()


_budgets: dict[int, PixelBudget] = {}
_budgets_lock = threading.Lock()


def process_budget(limit: int) -> PixelBudget:
    """The one budget of this process for `limit` (every dossier and the API's uploads share it)."""
    with _budgets_lock:
        return _budgets.setdefault(int(limit), PixelBudget(limit))
