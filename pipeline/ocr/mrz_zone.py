"""The machine-readable zone of an ID card's back, read again on its own.

Tesseract's Vietnamese model reads the zone (`IDVNM0790123456001079012345<<4`) as words: `<<<<`
becomes `«««`, `KKK` or nothing, `0` becomes `O`, and the check digits that would let
`pipeline.understand.mrz` trust the numbers are lost. The zone is found from the page's own OCR
words (long upper-case runs of letters, digits and fillers near each other), cropped with a margin
and read again with English, a [A-Z0-9<] whitelist and no dictionary; the page's zone lines are then
replaced by that reading, in its words and in its text layer (`relayer`). A card page costs one page
read and one small zone read.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pipeline.ocr import layer_lines
from pipeline.ocr.layer_lines import Line
from pipeline.ocr.tesseract import OcrResult, ocr_image
from pipeline.ocr.words import Word, words_to_text

ZONE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
LINE = 30  # characters of a line of an ID card's zone (ICAO 9303 TD1)
_FILLERS = re.compile(r"[«<‹≤]")


def _zone_like(text: str) -> bool:
    s = re.sub(r"\s+", "", text)
    if len(s) < 12:
        return False
    good = sum(1 for ch in s if (ch.isascii() and (ch.isupper() or ch.isdigit())) or _FILLERS.match(ch))
    fill = len(_FILLERS.findall(s)) + s.count("K<")
    return good >= 0.85 * len(s) and (fill >= 2 or s[:5].upper().replace("1", "I") in ("IDVNM",))


def fit_line(line: str) -> str:
    """Exactly 30 characters. OCR loses and adds fillers inside runs of `<`: the difference is made
    up in the longest run (a line ending in a digit keeps it last: it is a check digit)."""
    if len(line) == LINE:
        return line
    runs = [(m.end() - m.start(), m.start(), m.end()) for m in re.finditer(r"<+", line)]
    if not runs or (line.endswith("<") and len(line) < LINE):
        return (line + "<" * LINE)[:LINE] if len(line) < LINE else line[:LINE]
    _, a, b = max(runs)
    if len(line) < LINE:
        return line[:b] + "<" * (LINE - len(line)) + line[b:]
    cut = min(len(line) - LINE, b - a - 1)
    line = line[:a] + line[a + cut:]
    return line[:LINE]


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
    words: list[Word]  # the page's words, its zone lines replaced by the re-read (when `rows`)
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the zone crop in the OCR image
    rows: list[tuple[int, int, int, int]] = field(default_factory=list)  # the re-read lines kept, x, y, w, h (px)
    layer: list[Line] = field(default_factory=list)  # the re-read lines' text layer, in page points (y up)


def reread(image: np.ndarray, dpi: float, words: list[Word], *, timeout_s: float = 30) -> Zone | None:
    """The page's words with its zone re-read; None when the page has no zone (nothing was read). The
    one Tesseract run gives the zone's text layer too (`relayer`). A re-read no better than the page
    OCR's replaces nothing: the page's own words, no `rows`."""
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
    with tempfile.TemporaryDirectory(prefix="sohoa-zone-") as tmp:
        got = ocr_image(crop, dpi * scale, Path(tmp), "zone", lang="eng", psm=6, timeout_s=timeout_s,
                        chars=ZONE_CHARS, refine=False)
        layer = _zone_layer(got.textlayer_pdf, crop.shape, scale, (x0, y0), image.shape[0], dpi)
    rows: dict[tuple[int, int, int], list[Word]] = {}
    for wd in got.words:
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
        return Zone(words, (x0, y0, x1, y1))  # read, but no better than the page OCR: nothing replaced
    gone = {id(w) for ws in found for w in ws}
    block = max((w.block for w in words), default=0) + 1
    out = [w for w in words if id(w) not in gone]
    out += [Word(text, conf, box, block, 1, i + 1) for i, (text, conf, box) in enumerate(new_lines)]
    boxes_px = [box for _, _, box in new_lines]
    pt = 72.0 / dpi
    h_pt = image.shape[0] * pt
    kept = [ln for ln in layer if any(_on_row(ln, b, pt, h_pt) for b in boxes_px)]  # not a stray mark near the zone
    return Zone(out, (x0, y0, x1, y1), boxes_px, kept)


def _zone_layer(pdf: Path | None, shape: tuple[int, ...], scale: float, origin: tuple[int, int], page_h: int,
                dpi: float) -> list[Line]:
    """The zone read's text layer lines placed on the page (points, y up); none if it is not readable."""
    if pdf is None:
        return []
    from pypdf import PdfReader  # ~0.1 s: only for a page with a zone (the page's PDF needs it anyway)

    page = PdfReader(pdf).pages[0]
    contents = page.get_contents()
    parsed = layer_lines.parse(contents.get_data()) if contents is not None else None
    if parsed is None:
        return []
    # the crop's layer is the crop's size at its own dpi: drawn at the page's scale where the crop was
    pt = 72.0 / dpi
    s = shape[1] / scale * pt / float(page.mediabox.width)
    dx, dy = origin[0] * pt, (page_h - origin[1] - shape[0] / scale) * pt
    out = []
    for block in parsed.blocks:
        for ln in block:
            text = ln.text.strip()
            if len(text) >= 14 and len(text) != LINE and set(text) <= set(ZONE_CHARS):
                ln = ln.retext(fit_line(text)) or ln  # the fillers it lost, in the same width
            out.append(ln.placed(s, dx, dy))
    return out


def _on_row(line: Line, row: tuple[int, int, int, int], pt: float, h_pt: float) -> bool:
    """A layer line (points, y up) is the zone row `row` (x, y, w, h in image pixels): its middle is
    within the row's height and it shares most of its width."""
    x, y, w, h = row
    top, bottom = h_pt - y * pt, h_pt - (y + h) * pt
    lx0, ly0, lx1, ly1 = line.box
    mid = (ly0 + ly1) / 2
    share = min(lx1, (x + w) * pt) - max(lx0, x * pt)
    return bottom - 0.25 * h * pt <= mid <= top + 0.25 * h * pt and share >= 0.5 * min(lx1 - lx0, w * pt)


def relayer(dpi: float, page_h: int, result: OcrResult, zone: Zone, workdir: Path, stem: str) -> OcrResult:
    """The page's result with the zone also right in its invisible text layer (the searchable PDF): the
    page OCR's lines on the zone's rows are replaced by the re-read's, where the first of them was, and
    the layer's blocks put in reading order (`layer_lines.reading_order`: Tesseract may put a card's
    motto after the block under it). No Tesseract run: the page was read once, the zone once. If the
    layer is not one this can take apart, the words are still the re-read ones and the layer stays
    the page OCR's."""
    fixed = OcrResult(words_to_text(zone.words), zone.words, result.confidence, result.textlayer_pdf,
                      result.error, list(result.warnings))
    if result.textlayer_pdf is None or not zone.rows or not zone.layer:
        return fixed
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject

    writer = PdfWriter(clone_from=str(result.textlayer_pdf))
    page = writer.pages[0]
    contents = page.get_contents()
    parsed = layer_lines.parse(contents.get_data()) if contents is not None else None
    if parsed is None:
        return fixed
    pt = 72.0 / dpi
    h_pt = page_h * pt
    blocks: list[list[Line]] = []
    placed = False
    for block in parsed.blocks:
        run: list[Line] = []
        for ln in block:
            if any(_on_row(ln, row, pt, h_pt) for row in zone.rows):
                if run:
                    blocks.append(run)
                    run = []
                if not placed:
                    blocks.append(zone.layer)
                    placed = True
            else:
                run.append(ln)
        if run:
            blocks.append(run)
    if not placed:
        blocks.append(zone.layer)
    stream = DecodedStreamObject()
    stream.set_data(layer_lines.write(parsed, layer_lines.reading_order(blocks)))
    page.replace_contents(stream)
    merged = workdir / f"{stem}.layer.pdf"
    with open(merged, "wb") as fh:
        writer.write(fh)
    result.textlayer_pdf.unlink(missing_ok=True)
    fixed.textlayer_pdf = merged
    return fixed


__all__ = ["LINE", "ZONE_CHARS", "Zone", "fit_line", "relayer", "reread", "zone_lines"]
