"""Where a header blank is, from the printed words around it.

Tesseract reads the printed labels of "Số:      /QĐ-UBND" and "ngày    tháng 01 năm 2025" well, but
its boxes for the handwritten digits in the blanks are unreliable: a digit glued to a label widens the
label's box ("ngày" 170 px wide for 100 px of print), or the number is glued to the code ("4/UBND-KTTH").
A crop that follows those boxes cuts a digit, misses the day, or takes the code's "/". So the blank is
placed from the printed anchors only: the end of the left label (its box when the box has the label's
printed width, else the printed width from the row's printed height), the start of the right label, or
for the number the slash stroke found in the image at the code's left edge; the band is the printed
row's height plus a margin (handwriting rises above and drops below the line).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.ocr.words import Word
from pipeline.textnorm import fold

# width / height of each printed label word (Times-like faces at any size: measured 2.0-2.2 for
# "ngày", 2.2-2.6 for "tháng", 1.0-1.3 for "Số:")
LABEL_RATIO = {"so": 1.3, "ngay": 2.1, "thang": 2.45}
WIDE = 1.3  # a label box wider than this × its printed width has swallowed handwriting
NAM_HEIGHT = 1.37  # the height of "ngày"/"tháng" over that of "năm" (measured 1.34-1.42)
MARGIN = 0.5  # of the printed height, above and below the printed row
_CLEAN = {"so": ("so:", "so"), "ngay": ("ngay",), "thang": ("thang",)}


@dataclass(frozen=True)
class Band:
    """The printed row: top and bottom of its clean anchor words, and their height."""

    top: float
    bottom: float
    height: float

    def crop_rows(self, shape: tuple[int, ...]) -> tuple[int, int]:
        y0 = int(max(0, self.top - MARGIN * self.height))
        y1 = int(min(shape[0], self.bottom + MARGIN * self.height))
        return y0, y1


def is_clean(word: Word, label: str) -> bool:
    """The word is the printed label alone (no handwriting read into it), read confidently."""
    return fold(word.text).strip(",.") in _CLEAN[label] and word.conf >= 0.6


def band(anchors: list[tuple[Word, str]], nam: Word | None = None) -> Band | None:
    """The printed row from the clean label words among `anchors` (word, label kind); when none is
    clean (handwriting read into all of them), from a clean "năm" (no ascender, no descender)."""
    clean = [w for w, kind in anchors if is_clean(w, kind)]
    if not clean and nam is not None and fold(nam.text) == "nam" and nam.conf >= 0.6:
        h = NAM_HEIGHT * nam.box[3]
        return Band(top=nam.box[1] + nam.box[3] - 0.8 * h, bottom=nam.box[1] + nam.box[3] + 0.2 * h, height=h)
    if not clean:
        return None
    heights = sorted(w.box[3] for w in clean)
    h = float(heights[len(heights) // 2])
    tops = sorted(w.box[1] for w in clean)
    top = float(tops[len(tops) // 2])
    return Band(top=top, bottom=top + h, height=h)


def label_end(word: Word, label: str, height: float) -> float:
    """The right edge of a printed label that starts `word`: its box when that is the label's
    printed width, else the printed width from the row's height."""
    printed = LABEL_RATIO[label] * height
    if is_clean(word, label) and word.box[2] <= WIDE * printed:
        return float(word.box[0] + word.box[2])
    return float(word.box[0] + printed)


def label_start(word: Word, label: str, height: float) -> float:
    """The left edge of a printed label that ends `word` ("tháng", or "{tháng" with a digit glued)."""
    if fold(word.text).startswith(label) or (is_clean(word, label)
                                              and word.box[2] <= WIDE * LABEL_RATIO[label] * height):
        return float(word.box[0])  # "tháng", "tháng01": the label starts the box
    return float(word.box[0] + word.box[2] - LABEL_RATIO[label] * height)


def slash_left(image: np.ndarray, x0: float, code: Word, rows: tuple[int, int],
               near: float | None = None) -> float | None:
    """The left edge of the "/" that starts the code (the first "/" of "12/2024/NĐ-CP"): going left
    from the code's end over ink aligned on the code's printed letters, the leftmost slash-shaped
    stroke, or when the word's text places the "/" (`near`: its share of the word's box) the one
    nearest there: handwritten digits on the code's line can be slash-shaped too (a cursive 2 opens
    with a rising stroke). None when it is not found (the number's ink touches it, the code is not
    there)."""
    y0, y1 = rows
    xa, xb = int(max(0, x0)), int(min(image.shape[1], code.box[0] + code.box[2] + 2))
    if xb - xa < 4 or y1 - y0 < 4:
        return None
    region = image[y0:y1, xa:xb]
    if region.ndim == 3:
        region = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)
    _, ink = cv2.threshold(region, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if not ink.any():
        return None
    glyphs = _glyphs(ink)
    if not glyphs:
        return None
    right = [g for g in glyphs if g[0] >= code.box[0] + 0.6 * code.box[2] - xa]  # the code's last letters
    if len(right) < 2:
        return None
    top = float(np.median([g[1] for g in right]))
    bottom = float(np.median([g[1] + g[3] for g in right]))
    cap = bottom - top
    if cap < 4:
        return None
    run: list[tuple[int, int, int, int]] = []
    for g in sorted(glyphs, key=lambda g: -g[0]):
        gx, gy, gw, gh = g
        if run and run[-1][0] - (gx + gw) > cap:
            break
        if gh < 0.5 * cap:
            continue  # a hyphen inside the code, a speck
        if not top - 0.3 * cap <= gy <= top + 0.6 * cap or abs(gy + gh - bottom) > 0.45 * cap:
            break  # not on the code's printed line: the number's handwriting
        run.append(g)
    run.sort()
    found = [float(xa + g[0]) for i, g in enumerate(run)  # a handwritten "1" can be slash-shaped too: the "/"
             if _is_slash(ink, g, cap) and (i + 1 == len(run) or not _is_slash(ink, run[i + 1], cap))]  # has a letter after
    if not found:
        return None
    return found[0] if near is None else min(found, key=lambda x: abs(x - near))


def _glyphs(ink: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Connected ink (accents and specks come out as small glyphs, skipped by the caller)."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    return sorted((int(s[0]), int(s[1]), int(s[2]), int(s[3])) for s in stats[1:n] if s[4] >= 6)


def _is_slash(ink: np.ndarray, g: tuple[int, int, int, int], cap: float) -> bool:
    """The glyph starts with a stroke from bottom left to top right (the "/", alone or touching the
    code's first letter, as scanned ink often does): its left edge is further right at the top than at
    the bottom, where a printed digit or letter starts with a vertical edge, a bar or a bowl."""
    x, y, w, h = g
    if h < 0.8 * cap or w < 0.15 * cap:
        return False
    box = ink[y:y + h, x:x + w] > 0
    q = max(1, h // 4)

    def left(rows: np.ndarray) -> float:
        firsts = [int(np.argmax(r)) for r in rows if r.any()]
        return float(min(firsts)) if firsts else float("nan")

    top, bottom = left(box[:q]), left(box[-q:])
    return bool(top - bottom >= 0.2 * cap)
