"""Tesseract's words as data: parsing its TSV, reading order, page text, confidence.

Pure functions on `Word` lists, shared by the OCR wrapper (`pipeline.ocr.tesseract`), the word
fixes (`pipeline.ocr.fixes`) and the page step.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from pipeline.textnorm import nfc


@dataclass
class Word:
    text: str
    conf: float  # 0..1
    box: tuple[int, int, int, int]  # left, top, width, height in OCR-image pixels
    block: int
    par: int
    line: int


_FURNITURE_EDGES = re.compile(r"^[_|]+|[_|]+$")


def word_text(raw: str) -> str:
    """A word as Tesseract read it, NFC, without the `_` and `|` it reads at a wide gap or a rule."""
    return _FURNITURE_EDGES.sub("", nfc(raw).strip())


def parse_tsv(tsv: str) -> list[Word]:
    words: list[Word] = []
    reader = csv.reader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if not header:
        return words
    for row in reader:
        if len(row) < 12 or row[0] != "5":
            continue
        text = word_text(row[11])
        if not text:
            continue  # a bare `_` or `|`: what Tesseract makes of a wide gap or a rule, not text
        conf = float(row[10])
        words.append(Word(text, max(0.0, conf) / 100.0, (int(row[6]), int(row[7]), int(row[8]), int(row[9])),
                          int(row[2]), int(row[3]), int(row[4])))
    return words


def reading_rows(words: list[Word]) -> list[list[list[Word]]]:
    """Tesseract's lines (words in its order) put in rows: lines side by side on one baseline are
    one row, left to right; rows top to bottom.

    Tesseract lays a form out in blocks and may cut one printed row in two — a field's value put in
    a block of its own, read before its label (`040089268110` / `Số định danh cá nhân:`), the right
    half of a row read before the left half. Its header rows it already reads across both columns
    (`ỦY BAN NHÂN DÂN  CỘNG HÒA XÃ HỘI …`), which extraction expects; this reads every row so.
    """
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        lines.setdefault((w.block, w.par, w.line), []).append(w)
    boxes = []
    for ws in lines.values():
        x0 = min(w.box[0] for w in ws)
        y0 = min(w.box[1] for w in ws)
        boxes.append((x0, y0, max(w.box[0] + w.box[2] for w in ws), max(w.box[1] + w.box[3] for w in ws), ws))
    rows: list[list[tuple]] = []
    for box in sorted(boxes, key=lambda b: (b[1] + b[3]) / 2):
        h = box[3] - box[1]
        for row in rows:
            r0, r1 = min(b[1] for b in row), max(b[3] for b in row)
            rh = min(h, min(b[3] - b[1] for b in row))
            side_by_side = all(box[0] >= b[2] or box[2] <= b[0] for b in row)
            if side_by_side and min(r1, box[3]) - max(r0, box[1]) >= 0.5 * rh:
                row.append(box)
                break
        else:
            rows.append([box])
    rows.sort(key=lambda row: min(b[1] for b in row))
    return [[b[4] for b in sorted(row, key=lambda b: b[0])] for row in rows]


def words_to_text(words: list[Word]) -> str:
    """The page text row by row (`reading_rows`); a blank line where a new paragraph starts."""
    out: list[str] = []
    para = None
    for row in reading_rows(words):
        first = (row[0][0].block, row[0][0].par)
        if out:
            out.append("\n\n" if first != para else "\n")
        out.append(" ".join(w.text for line in row for w in line))
        para = (row[-1][-1].block, row[-1][-1].par)
    return "".join(out)


def mean_confidence(words: list[Word]) -> float:
    total = sum(len(w.text) for w in words)
    return sum(w.conf * len(w.text) for w in words) / total if total else 0.0
