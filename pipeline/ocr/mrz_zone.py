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

import cv2
import numpy as np

from pipeline.ocr.tesseract import ocr_crop
from pipeline.ocr.words import Word

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


def reread(image: np.ndarray, dpi: float, words: list[Word], *, timeout_s: float = 30) -> list[Word] | None:
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
        if len(text) >= 24 and set(text) <= set(ZONE_CHARS):
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
    return out


__all__ = ["ZONE_CHARS", "reread", "zone_lines"]
