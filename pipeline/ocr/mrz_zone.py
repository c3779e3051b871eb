"""The machine-readable zone of an ID card's back, read again on its own.

Tesseract's Vietnamese model reads the zone (`IDVNM0790123456001079012345<<4`) as words: `<<<<`
becomes `«««`, `KKK` or nothing, `0` becomes `O`, and the check digits that would let
`pipeline.understand.mrz` trust the numbers are lost. The zone is found from the page's own OCR
words (long upper-case runs of letters, digits and fillers near each other), cropped with a margin
and read again with English, a [A-Z0-9<] whitelist and no dictionary; the page's zone lines are then
replaced by that reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.ocr.tesseract import OcrResult, ocr_crop, ocr_image
from pipeline.ocr.words import Word, words_to_text

ZONE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
_FILLERS = re.compile(r"[«<‹≤]")


def _zone_like(text: str) -> bool:
    s = re.sub(r"\s+", "", text)
    if len(s) < 12:
        return False
    good = sum(1 for ch in s if (ch.isascii() and (ch.isupper() or ch.isdigit())) or _FILLERS.match(ch))
    fill = len(_FILLERS.findall(s)) + s.count("K<")
    return good >= 0.85 * len(s) and (fill >= 2 or s[:5].upper().replace("1", "I") in ("IDVNM",))


def zone_lines(words: list[Word]) -> list[list[Word]]:
    """The page's OCR lines that look like zone lines, top to bottom."""
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        lines.setdefault((w.block, w.par, w.line), []).append(w)
    found = [ws for ws in lines.values() if _zone_like("".join(w.text for w in ws))]
    return sorted(found, key=lambda ws: min(w.box[1] for w in ws))


def _box(ws: list[Word]) -> tuple[int, int, int, int]:
    return (min(w.box[0] for w in ws), min(w.box[1] for w in ws), max(w.box[0] + w.box[2] for w in ws),
            max(w.box[1] + w.box[3] for w in ws))


@dataclass
class Zone:
    words: list[Word]  # the page's words, its zone lines replaced by the re-read
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the zone in the OCR image


def reread(image: np.ndarray, dpi: float, words: list[Word], *, timeout_s: float = 30) -> Zone | None:
    """The page's words with its zone re-read (None when the page has no zone, or the re-read is no
    better than the page OCR's)."""
    found = zone_lines(words)
    if not found:
        return None
    boxes = [_box(ws) for ws in found]
    # the zone is three lines of ~equal height under each other; a line the page OCR missed is in reach
    lh = float(np.median([b[3] - b[1] for b in boxes]))
    x0 = min(b[0] for b in boxes) - 2 * lh
    x1 = max(b[2] for b in boxes) + 2 * lh
    y0 = min(b[1] for b in boxes) - (1.0 + 1.4 * (3 - min(3, len(found)))) * lh
    y1 = max(b[3] for b in boxes) + (1.0 + 1.4 * (3 - min(3, len(found)))) * lh
    h, w = image.shape[:2]
    x0, y0, x1, y1 = max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1))
    if x1 - x0 < 20 or y1 - y0 < 10:
        return None
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    scale = 1.0
    if lh < 28:  # Tesseract reads best with capitals ~30 px tall
        scale = min(3.0, 32.0 / max(1.0, lh))
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    got = ocr_crop(crop, dpi * scale, chars=ZONE_CHARS, timeout_s=timeout_s)
    rows: dict[tuple[int, int, int], list[Word]] = {}
    for wd in got:
        rows.setdefault((wd.block, wd.par, wd.line), []).append(wd)
    new_lines = []
    for ws in sorted(rows.values(), key=lambda ws: min(w.box[1] for w in ws)):
        text = "".join(w.text for w in ws)
        if len(text) >= 14 and set(text) <= set(ZONE_CHARS) and ("<" in text or text.startswith("ID")):
            bx0, by0, bx1, by1 = _box(ws)
            box = (x0 + round(bx0 / scale), y0 + round(by0 / scale), round((bx1 - bx0) / scale),
                   round((by1 - by0) / scale))
            conf = sum(w.conf for w in ws) / len(ws)
            new_lines.append((text, conf, box))
    if len(new_lines) < min(2, len(found)):
        return None
    gone = {id(w) for ws in found for w in ws}
    block = max((w.block for w in words), default=0) + 1
    out = [w for w in words if id(w) not in gone]
    out += [Word(text, conf, box, block, 1, i + 1) for i, (text, conf, box) in enumerate(new_lines)]
    return Zone(out, (x0, y0, x1, y1))


def relayer(image: np.ndarray, dpi: float, result: OcrResult, zone: Zone, workdir: Path, stem: str, *,
            lang: str, psm: int, timeout_s: float) -> OcrResult:
    """The page's result with the zone also right in its invisible text layer (the searchable PDF), in
    reading order: the page above the zone and the page below it read again (the zone blanked), the
    zone read alone with its alphabet (enlarged like the re-read), the three layers stacked in that
    order. If a read fails, the words are still the re-read ones and the layer stays the page OCR's."""
    x0, y0, x1, y1 = zone.box
    fixed = OcrResult(words_to_text(zone.words), zone.words, result.confidence, result.textlayer_pdf,
                      result.error, list(result.warnings))
    above, below = image.copy(), image.copy()
    above[y0:] = 255
    below[:y1] = 255
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    scale = min(3.0, max(1.0, 96.0 / max(1, y1 - y0)))  # three lines of capitals ~30 px tall
    crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) if scale > 1 else crop
    parts = [ocr_image(above, dpi, workdir, f"{stem}.above", lang=lang, psm=psm, timeout_s=timeout_s),
             ocr_image(crop, dpi * scale, workdir, f"{stem}.zone", lang="eng", psm=6, timeout_s=timeout_s,
                       chars=ZONE_CHARS),
             ocr_image(below, dpi, workdir, f"{stem}.below", lang=lang, psm=psm, timeout_s=timeout_s)]
    try:
        if any(p.error or p.textlayer_pdf is None for p in parts):
            return fixed
        from pypdf import PdfReader, PdfWriter, Transformation  # ~0.1 s: only for a page with a zone

        writer = PdfWriter(clone_from=parts[0].textlayer_pdf)
        page = writer.pages[0]
        # the zone's layer is the crop's size in points; it goes where the crop was (PDF y runs up)
        h_pt = image.shape[0] / dpi * 72.0
        zone_page = PdfReader(parts[1].textlayer_pdf).pages[0]
        page.merge_transformed_page(zone_page, Transformation().translate(x0 / dpi * 72.0, h_pt - y1 / dpi * 72.0))
        page.merge_page(PdfReader(parts[2].textlayer_pdf).pages[0])
        merged = workdir / f"{stem}.layer.pdf"
        with open(merged, "wb") as fh:
            writer.write(fh)
        fixed.textlayer_pdf = merged
        return fixed
    finally:
        for p in parts:
            if p.textlayer_pdf is not None:
                p.textlayer_pdf.unlink(missing_ok=True)


__all__ = ["ZONE_CHARS", "Zone", "relayer", "reread", "zone_lines"]
