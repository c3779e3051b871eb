"""Numbers and days written by hand into the header's blanks, as offices do at signing.

A real issued document is printed with "Số:      /QĐ-UBND" and "ngày    tháng 01 năm 2025" and the
number and day are written in with a pen. `handwrite_blanks` does that to a laid-out first page: the
printed digits of the number and of the day are taken out of their text lines and real handwritten
digits are drawn in the gap in blue or black ink. The digits are MNIST digits of the held-out part
of `pipeline.ocr.handdigits.split()` — never used to train the reader — so the suite measures the
reader end to end. The ground truth (metadata, text lines) is unchanged: the value is still the
document's.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

import numpy as np

from pipeline.ocr import handdigits
from samples.render import HandOp, LaidPage, TextOp, get_font

PENS = ((25, 45, 140), (20, 20, 30))  # blue and black ink
_NUMBER = re.compile(r"^(Số:\s*)(\d{1,4})(/)")
_DAY = re.compile(r"^(.*?\bngày\s+)(\d{1,2})(\s+tháng\b.*)$")


@lru_cache(maxsize=1)
def held_out_digits() -> dict[int, list[np.ndarray]]:
    """The held-out MNIST digits by class (28×28, 0–255 ink)."""
    x, y = handdigits.mnist()
    _, held = handdigits.split()
    out: dict[int, list[np.ndarray]] = {d: [] for d in range(10)}
    for i in held:
        out[int(y[i])].append(x[i])
    return out


def _write(op: TextOp, m: re.Match, rng: random.Random, pen: tuple[int, int, int]) -> list:
    """The text op split around its digits, the digits drawn by hand in the gap."""
    font = get_font(op.face, op.px)
    head, digits, tail = m.group(1), m.group(2), m.group(3) + op.text[m.end():]
    x_digits = op.x + font.getlength(head)
    pool = held_out_digits()
    images = [rng.choice(pool[int(c)]) for c in digits]
    px = op.px * rng.uniform(0.95, 1.3)
    width = sum(_ink_width(im, px) + 0.15 * px for im in images)  # as `render._draw_hand` lays them
    gap = max(font.getlength(digits), width) + rng.uniform(0.3, 0.8) * op.px
    ops: list = [TextOp(op.x, op.y, head.rstrip(), op.face, op.px, op.fill),
                 HandOp(x_digits + 0.1 * op.px, op.y + op.px * rng.uniform(0.0, 0.2) - 0.05 * op.px, px, images, pen),
                 TextOp(x_digits + gap, op.y, tail, op.face, op.px, op.fill)]
    return ops


def _ink_width(digit: np.ndarray, px: float) -> float:
    ys, xs = np.nonzero(digit > 30)
    return (xs.max() - xs.min() + 1) * px / (ys.max() - ys.min() + 1) if len(ys) else 0.0


def handwrite_blanks(page: LaidPage, rng: random.Random) -> list[str]:
    """Write the header number and the date's day of this page by hand (see the module docstring);
    returns what was written ("so", "day")."""
    pen = rng.choice(PENS)
    done: list[str] = []
    ops: list = []
    for op in page.ops:
        if isinstance(op, TextOp) and "so" not in done and (m := _NUMBER.match(op.text)):
            ops += _write(op, m, rng, pen)
            done.append("so")
        elif isinstance(op, TextOp) and "day" not in done and (m := _DAY.match(op.text)):
            ops += _write(op, m, rng, pen)
            done.append("day")
        else:
            ops.append(op)
    page.ops[:] = ops
    return done
