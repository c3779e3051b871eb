"""Word errors of Tesseract that the OCR image settles.

- Two words glued into one (`Thôn9`, `Xóm12`, `LêCông`): Tesseract's line recogniser drops the
  space between a short word and the number after it in table cells (and, less often, between two
  capitalised words). A token is split where a lowercase word runs into a digit or a capital letter
  *and* the image shows a word space there (a gap over 0.3 of the line's height; letters of one
  word, `1cm`, `QĐ1`, `H31` are a fraction of that apart). Codes such as `QĐ-UBND`, `01BLP2-001` are
  not touched: no lowercase letter runs into their digits.
- A rule read inside a word (`số|Tờ`): a table border between two cells, never part of a word;
  a border right beside a word read as one more letter (`BĐỊ`), where the box holds fewer glyphs
  than the word has characters.
- Superscript units: the `vie` model has no `²` or `³`, so `m²` comes out as `m2`, `(m°)`, `mˆ`, `m‡`.
  Where the image shows the digit raised above the baseline, the word becomes `m²` (`m³`); an `m2`
  typed on the baseline stays `m2`.

Word boxes of split words are cut at the gap (or in proportion to the characters, at a `|`).
"""

from __future__ import annotations

import re
from dataclasses import replace

import cv2
import numpy as np

from pipeline.ocr.words import Word

SPACE_OF_LINE = 0.3  # a gap this share of the line's word height is a word space
_UNIT = re.compile(r"(?P<pre>\(?)(?P<unit>[cdk]?m)(?P<sup>[23]|(?:[^\w\s().,;:]|ˆ){1,3})(?P<post>\)?[.,;:]?)")


def refine_words(words: list[Word], image: np.ndarray | None) -> list[Word]:
    """The words of one page with glued words split and superscript units restored (see above)."""
    if image is None or not words:
        return words
    heights: dict[tuple[int, int, int], list[int]] = {}
    for w in words:
        heights.setdefault((w.block, w.par, w.line), []).append(w.box[3])
    line_h = {k: float(np.median(v)) for k, v in heights.items()}
    out: list[Word] = []
    for w in words:
        for part in _split_at_rules(_drop_rule_glyph(w, image)):
            for piece in _split_glued(part, image, line_h[(w.block, w.par, w.line)]):
                out.append(_superscript(piece, image))
    return out


def _drop_rule_glyph(w: Word, image: np.ndarray) -> Word:
    """`BĐỊ` -> `BĐ`: a column border right beside a word, read as one more `I`, `l` or `|`.

    Only when the image shows a vertical rule there (ink from well above the word to well below it)
    and the word's box holds fewer glyphs than the text has characters: a real `III` keeps its three.
    """
    t = w.text
    if len(t) < 2 or not (t[-1] in _RULE_LIKE or t[0] in _RULE_LIKE) or any(c.isdigit() for c in t):
        return w  # (a number beside a border is left alone: its `1` is too like a rule)
    found = _gaps(image, w.box)
    if found is None or len(found[2]) + 1 >= len(t):
        return w
    x, y, bw, bh = w.box
    reach = max(2, round(0.8 * bh))
    if t[-1] in _RULE_LIKE and _vertical_rule(image, x + bw - 1, x + bw + reach, y, bh):
        return replace(w, text=t[:-1])
    if t[0] in _RULE_LIKE and _vertical_rule(image, x - reach, x + 1, y, bh):
        return replace(w, text=t[1:])
    return w


_RULE_LIKE = set("|!lIỊịĩíì]")


def _vertical_rule(image: np.ndarray, x0: int, x1: int, y: int, h: int) -> bool:
    """True when a column of `image` between x0 and x1 is inked from 0.3 h above a word of height h
    at `y` down to 0.3 h below it."""
    ext = max(2, round(0.3 * h))
    top, bottom = max(0, y - ext), min(image.shape[0], y + h + ext)
    band = image[top:bottom, max(0, x0) : max(0, x1)]
    if band.size == 0 or bottom - top < h + 2 * ext:
        return False
    return bool(((band < 128).mean(axis=0) > 0.95).any())


def _split_at_rules(w: Word) -> list[Word]:
    if "|" not in w.text:
        return [w]
    x, y, bw, bh = w.box
    out: list[Word] = []
    start = 0
    n = len(w.text)
    for piece in w.text.split("|"):
        if piece:
            a, b = x + round(bw * start / n), x + round(bw * (start + len(piece)) / n)
            out.append(replace(w, text=piece, box=(a, y, max(1, b - a), bh)))
        start += len(piece) + 1
    return out or [w]


def _joins(t: str) -> list[int]:
    """Where a lowercase word runs into a digit or a capital letter: candidate word boundaries."""
    out = []
    for i in range(1, len(t)):
        a, b = t[i - 1], t[i]
        if (a.isalpha() and b.isdigit() and any(c.islower() for c in t[:i])) or (a.islower() and b.isupper()):
            out.append(i)
    return out


def _gaps(image: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, list[tuple[int, int]]] | None:
    """(first ink column, last ink column, [(gap start, gap width)]) inside a word box, columns
    relative to the box; None when the box holds no clear ink."""
    x, y, w, h = box
    crop = image[max(0, y) : y + h, max(0, x) : x + w]
    if crop.size == 0:
        return None
    lo, hi = int(crop.min()), int(crop.max())
    if hi - lo < 60:
        return None
    cols = (crop < (lo + hi) / 2).any(axis=0)
    ink = np.flatnonzero(cols)
    x0, x1 = int(ink[0]), int(ink[-1])
    d = np.diff(np.concatenate(([1], cols[x0 : x1 + 1].astype(np.int8), [1])))
    starts, ends = np.flatnonzero(d == -1), np.flatnonzero(d == 1)
    return x0, x1, [(x0 + int(s), int(e - s)) for s, e in zip(starts, ends, strict=True)]


def _split_glued(w: Word, image: np.ndarray, line_h: float) -> list[Word]:
    joins = _joins(w.text)
    if not joins:
        return [w]
    found = _gaps(image, w.box)
    if found is None:
        return [w]
    x0, x1, gaps = found
    cw = (x1 - x0 + 1) / len(w.text)
    cuts: list[tuple[int, int, int]] = []  # (text index, gap start, gap end), box-relative
    for i in joins:
        expected = x0 + cw * i
        near = [g for g in gaps if abs(g[0] + g[1] / 2 - expected) <= 1.2 * cw]
        if near:
            s, width = max(near, key=lambda g: g[1])
            if width >= SPACE_OF_LINE * line_h and (not cuts or s > cuts[-1][2]):
                cuts.append((i, s, s + width))
    if not cuts:
        return [w]
    x, y, _, h = w.box
    out: list[Word] = []
    prev_i, prev_x = 0, x0
    for i, s, e in [*cuts, (len(w.text), x1 + 1, x1 + 1)]:
        out.append(replace(w, text=w.text[prev_i:i], box=(x + prev_x, y, max(1, s - prev_x), h)))
        prev_i, prev_x = i, e
    return out


def _superscript(w: Word, image: np.ndarray) -> Word:
    m = _UNIT.fullmatch(w.text)
    if m is None or not _raised_tail(image, w.box):
        return w
    sup = "³" if m["sup"] == "3" else "²"
    return replace(w, text=f"{m['pre']}{m['unit']}{sup}{m['post']}")


def _raised_tail(image: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """True when, right of the widest glyph (the `m`), a glyph sits above its baseline: an exponent."""
    x, y, w, h = box
    crop = image[max(0, y) : y + h, max(0, x) : x + w]
    if crop.size == 0 or int(crop.max()) - int(crop.min()) < 60:
        return False
    ink = (crop < (int(crop.max()) + int(crop.min())) / 2).astype(np.uint8)
    n, _, st, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n < 3:
        return False
    st = st[1:]
    i = int(np.argmax(st[:, 2]))  # the m: the widest glyph
    mx, my, mw, mh = (int(v) for v in st[i, :4])
    base, right = my + mh, mx + mw
    for gx, gy, _, gh, _ in st:
        if gx >= right - 1 and gh >= 0.25 * mh and gy < my and gy + gh <= base - 0.4 * mh:
            return True
    return False
