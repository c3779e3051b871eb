"""Page imaging with OpenCV: the page analysis, blank check, orientation, deskew.

Every function here is pure (array in, array or number out). The expensive questions (is the page
blank, which way up is it, how skewed) are answered on one low-resolution view of the page
(`analyse()`, ~150 dpi), computed once; only the final warps touch full-resolution pixels.
The cleaning chain that strings these together is `pipeline.imaging.cleaning`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

ANALYSIS_DPI = 150  # blank, orientation, skew, border and layout work at this resolution
INK_RATIO = 0.6  # ink is at most this fraction of the local paper brightness (bleed-through is ~0.75+)


def to_gray(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return img
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_RGBA2GRAY)
    if img.shape[2] == 1:
        return img[:, :, 0]
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def rescale(img: np.ndarray, factor: float, fast: bool = False) -> np.ndarray:
    """Resize by `factor` (area-averaged down, cubic up). `fast`: for analysis only, a bilinear
    reduction when the factor is not 1/n (OpenCV's area reduction is slow for those)."""
    if abs(factor - 1.0) < 1e-3:
        return img
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    if fast and 0.5 < factor < 1:
        interp = cv2.INTER_LINEAR
    h, w = img.shape[:2]
    return cv2.resize(img, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=interp)


def resize_to(img: np.ndarray, shape: tuple[int, ...], interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    return cv2.resize(img, (shape[1], shape[0]), interpolation=interpolation)


# --------------------------------------------------------------------------------------------
# Paper background and ink


def estimate_background(gray: np.ndarray, dpi: float) -> np.ndarray:
    """The paper brightness under every pixel (same size as `gray`): text removed, shading kept.

    Worked at ~25 dpi: a max filter over ~4 mm erases strokes, a median removes what is left of
    bold titles and stamps, a blur smooths the result.
    """
    # an integer reduction over whole n x n cells (the last < n rows and columns left out) takes
    # OpenCV's fast area path: 5x faster than the same reduction by a fractional factor
    n = max(1, round(dpi / 25.0))
    h, w = gray.shape[:2]
    if n > 1 and h >= n and w >= n:
        tiny = cv2.resize(gray[: h - h % n, : w - w % n], (w // n, h // n), interpolation=cv2.INTER_AREA)
    else:
        tiny = gray
    k = max(3, round(4.0 * 25.0 / 25.4) | 1)
    tiny = cv2.dilate(tiny, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    tiny = cv2.medianBlur(tiny, 5)
    tiny = cv2.GaussianBlur(tiny, (0, 0), 1.5)
    return resize_to(tiny, gray.shape)


def ink_from_background(gray: np.ndarray, background: np.ndarray, ratio: float = INK_RATIO) -> np.ndarray:
    """1 where a pixel is at most `ratio` of the paper brightness around it."""
    return cv2.compare(gray, cv2.convertScaleAbs(background, alpha=ratio), cv2.CMP_LT) // 255


@dataclass
class Components:
    """Ink blobs of a mask as contours (an order of magnitude cheaper than labelled components):
    the outer contour of every blob — blobs inside the holes of others (text in a table grid, in a
    stamp ring) included — with its box (x, y, w, h) and the contours of its own holes."""

    contours: list
    boxes: np.ndarray  # N x 4 int: x, y, w, h
    holes: list[list]  # per blob, the contours of its holes

    @property
    def count(self) -> int:
        return len(self.boxes)

    def erase(self, mask: np.ndarray, which, whole=()) -> np.ndarray:
        """A copy of `mask` without the pixels of the blobs `which` (blobs inside their holes stay)
        and of the blobs `whole` with everything inside them."""
        out = mask.copy()
        whole = set(int(i) for i in whole)
        for i in set(int(i) for i in which) | whole:
            x, y, w, h = (int(v) for v in self.boxes[i])
            local = np.zeros((h, w), np.uint8)
            cv2.drawContours(local, [self.contours[i]], -1, 1, thickness=-1, offset=(-x, -y))
            if self.holes[i] and i not in whole:
                cv2.drawContours(local, self.holes[i], -1, 0, thickness=-1, offset=(-x, -y))
                cv2.drawContours(local, self.holes[i], -1, 1, thickness=1, offset=(-x, -y))  # the hole's rim is ink
            crop = out[y : y + h, x : x + w]
            crop[local > 0] = 0
        return out


def components(mask: np.ndarray) -> Components:
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return Components([], np.zeros((0, 4), np.int64), [])
    parent = hierarchy[0][:, 3]
    outer = np.nonzero(parent < 0)[0]
    index = {int(j): k for k, j in enumerate(outer)}
    holes: list[list] = [[] for _ in outer]
    for j in np.nonzero(parent >= 0)[0]:
        holes[index[int(parent[j])]].append(contours[j])
    outs = [contours[j] for j in outer]
    boxes = np.array([cv2.boundingRect(c) for c in outs], dtype=np.int64).reshape(-1, 4)
    return Components(outs, boxes, holes)


@dataclass
class Analysis:
    """A low-resolution view of one page, computed once and shared by the cleaning steps."""

    dpi: float  # of the full image
    sdpi: float  # of `small`
    small: np.ndarray  # grey
    background: np.ndarray  # paper brightness, same size as `small`
    ink: np.ndarray  # 0/1 mask of ink, same size as `small`
    border: np.ndarray | None = None  # 0/1 mask of scanner border (outside the paper), or None
    shadow: np.ndarray | None = None  # the paper brightness in the shadow beside the border (255 elsewhere)
    comps: Components | None = None
    text_comps: Components | None = None  # the blobs `text_mask()` keeps

    @property
    def mm(self) -> float:
        """Pixels of `small` per millimetre."""
        return self.sdpi / 25.4

    def components(self) -> Components:
        if self.comps is None:
            self.comps = components(self.ink)
        return self.comps

    def char_like(self) -> np.ndarray:
        """Boolean per component: the size of a printed character or bigger, not scanner dust."""
        b = self.components().boxes
        mm = self.mm
        return (np.maximum(b[:, 2], b[:, 3]) >= 1.2 * mm) & (b[:, 2] * b[:, 3] >= 0.8 * mm * mm)


def analyse(gray: np.ndarray, dpi: float, target_dpi: float = ANALYSIS_DPI) -> Analysis:
    f = min(1.0, target_dpi / dpi)
    small = rescale(gray, f, fast=True)
    sdpi = dpi * f
    bg = estimate_background(small, sdpi)
    return Analysis(dpi, sdpi, small, bg, ink_from_background(small, bg))


def find_border(an: Analysis) -> np.ndarray | None:
    """Dark scanner border (lid, bed) around the paper: large near-black regions touching the image
    edge. A shadow along the edge is lighter than that and is left to background normalisation."""
    f = 0.25
    tiny = cv2.resize(an.small, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    mm = an.mm * f
    h, w = tiny.shape
    paper = float(np.percentile(tiny, 90))
    dark = (tiny < paper * 0.4).astype(np.uint8)
    k = max(3, round(1.5 * mm) | 1)  # text strokes are thinner than 1.5 mm
    dark = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    if not dark.any():
        return None
    contours, _ = cv2.findContours(dark, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    keep = []
    for c in contours:
        x, y, bw, bh = cv2.boundingRect(c)
        touches = x == 0 or y == 0 or x + bw == w or y + bh == h
        if touches and max(bw, bh) >= 15 * mm and cv2.contourArea(c) >= 20 * mm * mm:
            keep.append(c)
    if not keep:
        return None
    border = np.zeros_like(dark)
    cv2.drawContours(border, keep, -1, 1, thickness=-1)
    # the soft edge and the first millimetres of shadow belong to the border too
    d = max(3, round(3.0 * mm) | 1)
    border = cv2.dilate(border, cv2.getStructuringElement(cv2.MORPH_RECT, (d, d)))
    return resize_to(border, an.small.shape, cv2.INTER_NEAREST)


SHADOW_MM = 15.0  # how far from the border the paper-edge shadow is looked for
SHADOW_DEPTH = 0.97  # paper darker than this share of the paper further in is in the shadow


def border_shadow(small: np.ndarray, border: np.ndarray, mm: float) -> np.ndarray | None:
    """The paper brightness in the shadow the paper edge casts beside a scanner border (uint8, 255
    away from it), or None when the paper beside the border is as bright as the paper further in.

    Side by side, the brightness at every distance from the border's inner edge is the median over
    the rows (columns) along that side: a profile that text and specks do not move, that follows a
    tilted paper edge, and that says how far the shadow reaches (some millimetres to a centimetre).
    Dividing the page by it turns the shadow white while text in it keeps its contrast.
    """
    out = np.full(small.shape, 255, np.uint8)
    reach = max(4, round(SHADOW_MM * mm))
    far = max(2, round(3 * mm))
    found = False
    # each side seen as the left side of a view of the arrays (views: writing `o` writes `out`)
    for b, s, o in ((border, small, out), (border[:, ::-1], small[:, ::-1], out[:, ::-1]),
                    (border.T, small.T, out.T), (border[::-1].T, small[::-1].T, out[::-1].T)):
        rows_n, cols_n = b.shape
        if cols_n < 4 * reach:
            continue
        inner = np.argmax(b == 0, axis=1)  # the first paper column of every row
        rows = np.nonzero((inner > 0) & (inner < cols_n // 3))[0]  # rows this side's border runs along
        if len(rows) < rows_n * 0.3:
            continue
        idx = inner[rows, None] + np.arange(reach)
        profile = np.median(s[rows[::2, None], idx[::2]], axis=0)
        paper = float(np.median(profile[-far:]))
        dark = np.nonzero(profile < SHADOW_DEPTH * paper)[0]
        if paper <= 0 or not len(dark):
            continue
        width = int(dark[-1]) + 1
        level = np.minimum(profile[:width], 254).astype(np.uint8)
        o[rows[:, None], idx[:, :width]] = np.minimum(o[rows[:, None], idx[:, :width]], level)
        found = True
    return out if found else None


def remove_border(an: Analysis) -> bool:
    """Find the scanner border and paint it as paper in the analysis view; True when there was one.
    The paper-edge shadow beside it is measured (`an.shadow`), for the OCR image."""
    an.border = find_border(an)
    if an.border is None:
        return False
    an.shadow = border_shadow(an.small, an.border, an.mm)
    step = max(1, max(an.small.shape) // 300)
    an.small = an.small.copy()
    an.small[an.border > 0] = round(float(np.percentile(an.small[::step, ::step], 90)))
    an.background = estimate_background(an.small, an.sdpi)
    an.ink = ink_from_background(an.small, an.background)
    an.comps = None
    return True


def is_blank_analysis(an: Analysis) -> bool:
    """No printed mark of character size away from the edges: scanner dust, bleed-through (too faint
    to count as ink), copier grain and the scanner border are not content."""
    b = an.components().boxes
    if not len(b):
        return True
    h, w = an.ink.shape
    my, mx = h * 0.03, w * 0.03  # scanner edges, punch holes
    cx, cy = b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2
    inner = (cx > mx) & (cx < w - mx) & (cy > my) & (cy < h - my)
    long_side, short_side = np.maximum(b[:, 2], b[:, 3]), np.minimum(b[:, 2], b[:, 3])
    # a line running along the page (a copier streak, a fold) is not content either
    streak = (long_side > 0.5 * min(h, w)) & (short_side < 1.0 * an.mm)
    return int((an.char_like() & inner & ~streak).sum()) == 0


def is_blank(gray: np.ndarray, dpi: float) -> bool:
    """A page with no marks bigger than scanner speckle (bleed-through is too faint to count)."""
    an = analyse(gray, dpi)
    remove_border(an)
    return is_blank_analysis(an)


# --------------------------------------------------------------------------------------------
# Orientation and skew


def _points(mask: np.ndarray, limit: int = 150_000) -> tuple[np.ndarray, np.ndarray]:
    pts = cv2.findNonZero(mask)
    if pts is None:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    pts = pts.reshape(-1, 2)
    if len(pts) > limit:
        pts = pts[:: len(pts) // limit + 1]
    return pts[:, 1].astype(np.float32), pts[:, 0].astype(np.float32)


def _profile_score(ys: np.ndarray, xs: np.ndarray, angle_deg: float) -> float:
    """Sharpness of the row profile after rotating the points by `angle_deg` (counter-clockwise)."""
    a = math.radians(angle_deg)
    proj = math.cos(a) * ys - math.sin(a) * xs
    hist = np.bincount((proj - proj.min()).astype(np.int32))
    mean = hist.mean()
    return float(hist.var() / (mean * mean)) if mean > 0 else 0.0


def _best_angle(ys, xs, lo: float, hi: float, step: float) -> tuple[float, float]:
    angles = np.arange(lo, hi + step / 2, step)
    scores = [_profile_score(ys, xs, a) for a in angles]
    i = int(np.argmax(scores))
    return float(angles[i]), float(scores[i])


def text_mask(an: Analysis) -> np.ndarray:
    """The analysis ink that is letters: without stamps, signatures, photos, rules and table grids,
    marks on the outer edge and scanner dust, which all mislead line finding."""
    comps = an.components()
    b = comps.boxes
    if not len(b):
        return an.ink
    h, w = an.ink.shape
    mm = an.mm
    edge = (b[:, 0] == 0) | (b[:, 1] == 0) | (b[:, 0] + b[:, 2] >= w) | (b[:, 1] + b[:, 3] >= h)
    if an.border is not None:
        # the painted-out border's inner edge is the paper's edge: the darkest of the shadow along
        # it is left as a dotted line of fragments there, which reads as a column of text
        k = max(2, round(mm))
        near = cv2.dilate(an.border, np.ones((2 * k + 1, 2 * k + 1), np.uint8))
        s = cv2.integral(near)
        x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
        edge |= (s[y1, x1] - s[y0, x1] - s[y1, x0] + s[y0, x0]) > 0
    dust = (np.maximum(b[:, 2], b[:, 3]) < 0.3 * mm)
    # not letters: stamps, signatures, photos (taller than a line of text), rules and grids (long)
    big = (np.minimum(b[:, 2], b[:, 3]) > 8 * mm) | (np.maximum(b[:, 2], b[:, 3]) > 25 * mm)
    # a round stamp goes with the ring text inside it; a table grid keeps the text in its cells
    stamp = big & (np.maximum(b[:, 2], b[:, 3]) < 60 * mm) & (b[:, 2] < 1.4 * b[:, 3]) & (b[:, 3] < 1.4 * b[:, 2])
    dropped = edge | dust | big
    for i in np.nonzero(stamp)[0]:  # and what is inside a stamp
        x, y, bw, bh = b[i]
        cx, cy = b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2
        dropped |= (cx > x) & (cx < x + bw) & (cy > y) & (cy < y + bh)
    keep = np.nonzero(~dropped)[0]
    an.text_comps = Components([comps.contours[i] for i in keep], b[keep], [comps.holes[i] for i in keep])
    if not (edge | dust | big).any():
        return an.ink
    mask = comps.erase(an.ink, np.nonzero(edge | big)[0], whole=np.nonzero(stamp)[0])
    if dust.any():  # specks have no holes: one call for all of them
        cv2.drawContours(mask, [comps.contours[i] for i in np.nonzero(dust)[0]], -1, 0, thickness=-1)
    return mask


def _skew_search(ys, xs, max_deg: float, start: float | None = None) -> float:
    """Row-profile search: coarse on a subsample (unless `start` is known to ±1°), then finer."""
    if start is None:
        sub = max(1, len(ys) // 12_000)
        start, _ = _best_angle(ys[::sub], xs[::sub], -max_deg, max_deg, 1.0)
    sub = max(1, len(ys) // 25_000)
    mid, _ = _best_angle(ys[::sub], xs[::sub], start - 1.0, start + 1.0, 0.1)
    sub = max(1, len(ys) // 50_000)
    fine, _ = _best_angle(ys[::sub], xs[::sub], mid - 0.1, mid + 0.1, 0.02)
    return fine


def estimate_skew_mask(mask: np.ndarray, max_deg: float = 15.0) -> float:
    ys, xs = _points(mask)
    if len(ys) < 50:
        return 0.0
    return round(_skew_search(ys, xs, max_deg), 2)


def estimate_skew(gray: np.ndarray, dpi: float, max_deg: float = 15.0) -> float:
    """Clockwise skew of the text lines in degrees (projection-profile search, coarse then fine)."""
    an = analyse(gray, dpi)
    remove_border(an)
    return estimate_skew_mask(text_mask(an), max_deg)


def _line_asymmetry(mask: np.ndarray) -> tuple[float, float, int, float]:
    """(> 0 when text lines carry more ink above their x-height band than below, how much the lines
    agree 0..1, number of lines, median height of the x-height band in pixels).

    Upright Latin/Vietnamese: tone marks, circumflexes and ascenders above, few descenders below.
    Every line votes with its own asymmetry, weighted by its ink, so no single line decides.
    """
    closed = cv2.dilate(mask, np.ones((5, 1), np.uint8))
    bands = closed.sum(axis=1) > max(3, mask.shape[1] * 0.01)
    h = mask.sum(axis=1).astype(np.float64)
    votes = weights = spread = 0.0
    lines = 0
    cores: list[int] = []
    y = 0
    n = len(bands)
    while y < n:
        if not bands[y]:
            y += 1
            continue
        start = y
        while y < n and bands[y]:
            y += 1
        prof = h[start:y]
        if len(prof) < 6 or prof.max() <= 0:
            continue
        core = np.nonzero(prof >= 0.45 * prof.max())[0]
        top, bot = core[0], core[-1]
        above, below = prof[:top].sum(), prof[bot + 1 :].sum()
        if above + below <= 0:
            continue
        weight = float(prof.sum())
        cores.append(int(bot - top + 1))
        a = (above - below) / (above + below)
        votes += weight * a
        spread += weight * abs(a)
        weights += weight
        lines += 1
    if not weights:
        return 0.0, 0.0, 0, 0.0
    return votes / weights, abs(votes) / spread if spread else 0.0, lines, float(np.median(cores))


def _line_direction(mask: np.ndarray, mm: float) -> float:
    """> 0 when the text runs left to right, < 0 when it runs up or down (a page turned sideways).

    Letters of a word are a fraction of a millimetre apart along the line and several millimetres
    apart across it: smearing the ink along the lines by 0.7 mm joins far more blobs than smearing
    it across them. Unlike line profiles this is not fooled by table columns.
    """
    k = max(2, round(0.7 * mm))

    def count(m: np.ndarray) -> int:  # (the corner points only: the same count, fewer points stored)
        return len(cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0])

    n_along = count(cv2.dilate(mask, np.ones((1, k), np.uint8)))
    n_across = count(cv2.dilate(mask, np.ones((k, 1), np.uint8)))
    if min(n_along, n_across) < 5:
        return 0.0
    return math.log(n_across / n_along)


def _mark_asymmetry(mask: np.ndarray, mm: float, comps: Components | None = None) -> tuple[float, int]:
    """(> 0 when small marks sit on top of letters rather than under them, marks counted).

    Vietnamese puts four of its five tone marks, the circumflex, the breve and the dot of i above
    the letter, only the nặng dot below, so upside-down text shows its marks under the letters.
    Unlike the line profile this does not care whether a line is digits and capitals (tables).
    """
    comps = comps if comps is not None else components(mask)
    contours, boxes = comps.contours, comps.boxes
    if len(contours) < 10:
        return 0.0, 0
    hs = boxes[:, 3]
    tall = hs[hs >= 1.2 * mm]
    if len(tall) < 5:
        return 0.0, 0
    letter_h = float(np.median(tall))
    is_mark = (hs < 0.45 * letter_h) & (boxes[:, 2] < 1.2 * letter_h) & (np.maximum(hs, boxes[:, 2]) >= 0.25 * mm)
    is_letter = hs >= 0.6 * letter_h
    marks = np.zeros_like(mask)
    letters = np.zeros_like(mask)
    cv2.drawContours(marks, [c for c, m in zip(contours, is_mark, strict=True) if m], -1, 1, thickness=-1)
    cv2.drawContours(letters, [c for c, m in zip(contours, is_letter, strict=True) if m], -1, 1, thickness=-1)
    g = max(2, round(0.8 * mm))
    # a kernel anchored at one end reaches only up (or down) from each letter pixel
    up = cv2.dilate(letters, np.ones((g + 1, 1), np.uint8), anchor=(0, 0))
    down = cv2.dilate(letters, np.ones((g + 1, 1), np.uint8), anchor=(0, g))
    free = marks & (1 - letters)
    above = int(cv2.countNonZero(free & up & (1 - down)))
    below = int(cv2.countNonZero(free & down & (1 - up)))
    n = int(is_mark.sum())
    return ((above - below) / (above + below) if above + below else 0.0), n


def rotate_quadrant(img: np.ndarray, rotation: int) -> np.ndarray:
    """Undo a clockwise turn of `rotation` degrees (0/90/180/270)."""
    if rotation == 90:
        return cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
    if rotation == 180:
        return cv2.rotate(img, cv2.ROTATE_180)
    if rotation == 270:
        return cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
    return img


@dataclass
class Geometry:
    rotation: int  # clockwise turn of the content, 0/90/180/270
    confidence: float  # of the rotation, 0..1
    skew: float  # clockwise skew of the content after the turn is undone, degrees
    x_height: float | None = None  # median height of the lines' x-height band, mask pixels


def find_geometry(mask: np.ndarray, *, orientation: bool = True, max_skew: float = 15.0,
                  mm: float = ANALYSIS_DPI / 25.4, comps: Components | None = None) -> Geometry:
    """Which way up the page is and how skewed, from an ink mask.

    Sideways pages: text lines give a much sharper row profile than column profile. Upside down:
    Vietnamese lines carry tone marks and ascenders above the x-height band, few descenders below.
    The mask is straightened first, or skewed lines would run into each other. `comps`, the blobs
    of `mask` when known, spare finding them again.
    """
    x, y, w, h = cv2.boundingRect(mask)  # the margins hold nothing: work on the text area only
    if w * h and (w < mask.shape[1] - 8 or h < mask.shape[0] - 8):
        m = 4
        x0, y0 = max(0, x - m), max(0, y - m)
        mask = np.ascontiguousarray(mask[y0 : y + h + m, x0 : x + w + m])
        if comps is not None:
            comps = Components([c - np.array([x0, y0], dtype=c.dtype) for c in comps.contours],
                               comps.boxes - np.array([x0, y0, 0, 0]), [[] for _ in comps.holes])  # holes unused here
    ys, xs = _points(mask)
    if len(ys) < 200:
        return Geometry(0, 0.0, 0.0)
    sideways = False
    side_conf = 1.0
    search = max(max_skew, 1.0)
    start = None
    if orientation:
        sub = max(1, len(ys) // 12_000)
        direction = _line_direction(mask, mm)
        if abs(direction) >= 0.15:  # the spacing of the letters decides
            sideways = direction < 0
            side_conf = min(1.0, abs(direction) / 0.4)
            if sideways:
                start, _ = _best_angle(xs[::sub], ys[::sub], -search, search, 1.0)
                start = -start  # the column angle of the sideways page is its row angle, mirrored
            else:
                start, _ = _best_angle(ys[::sub], xs[::sub], -search, search, 1.0)
        else:  # too few letters: the sharper profile
            row_angle, rows = _best_angle(ys[::sub], xs[::sub], -search, search, 1.0)
            col_angle, cols = _best_angle(xs[::sub], ys[::sub], -search, search, 1.0)
            ratio = max(rows, cols) / max(1e-9, min(rows, cols))
            side_conf = min(1.0, (ratio - 1.0) / 0.3, 0.3)
            sideways = cols > rows
            start = -col_angle if sideways else row_angle
        if sideways:
            mask = rotate_quadrant(mask, 90)
            ys, xs = _points(mask)
            comps = None
    skew = _skew_search(ys, xs, search, start) if (max_skew > 0 or orientation) else 0.0
    straight = mask
    if abs(skew) >= 0.05:
        h, w = mask.shape
        m = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)
        straight = cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    asym, agree, lines, x_height = _line_asymmetry(straight)
    if not orientation:
        return Geometry(0, 1.0, round(skew, 2) if max_skew > 0 else 0.0, x_height if lines >= 3 else None)
    # a mark sits right above its letter at any skew up to a few degrees: no need to straighten
    if abs(skew) <= 5:
        marks, n_marks = _mark_asymmetry(mask, mm, comps)
    else:
        marks, n_marks = _mark_asymmetry(straight, mm)
    if n_marks >= 12 and abs(marks) >= 0.2:  # the marks decide; the line profile may only agree
        upside = marks < 0
        confidence = min(side_conf, abs(marks) / 0.5, n_marks / 30.0, 1.0)
        if (asym < 0) != upside and abs(asym) > 0.15 and agree > 0.6:
            confidence = min(confidence, 0.3)
    else:
        upside = asym < 0
        # one or two lines (a sparse page) are too few to trust: Tesseract OSD is asked too
        confidence = min(side_conf, abs(asym) / 0.15, (agree - 0.3) / 0.5, lines / 3.0 if lines >= 3 else 0.3, 1.0)
    rotation = (270 if upside else 90) if sideways else (180 if upside else 0)
    # the skew was measured after the quarter turn; a further half turn leaves it unchanged
    return Geometry(rotation, round(max(0.0, float(confidence)), 3), round(skew, 2) if max_skew > 0 else 0.0,
                    x_height if lines >= 3 else None)


def orientation_with_confidence(gray: np.ndarray, dpi: float) -> tuple[int, float]:
    """(rotation, confidence 0..1); low confidence means the ink gave little to go on."""
    an = analyse(gray, dpi)
    remove_border(an)
    g = find_geometry(text_mask(an), mm=an.mm)
    return g.rotation, g.confidence


def detect_orientation(gray: np.ndarray, dpi: float) -> int:
    """How far (clockwise, 0/90/180/270) the page content is turned."""
    return orientation_with_confidence(gray, dpi)[0]


def rotate_small(img: np.ndarray, angle_deg: float, fill: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Rotate counter-clockwise by `angle_deg` about the centre, white (or `fill`) fill, same size."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    if fill is None:
        fill = 255 if img.ndim == 2 else (255,) * img.shape[2]
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def rotate_small_box(img: np.ndarray, angle_deg: float, box: tuple[int, int, int, int],
                     fill: int | tuple[int, ...]) -> np.ndarray:
    """`rotate_small(img, angle_deg, fill)[y0:y1, x0:x1]` for `box` = (x0, y0, x1, y1), warping that box alone."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = box
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    m[0, 2] -= x0
    m[1, 2] -= y0
    return cv2.warpAffine(img, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=fill)


def _spread(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hi = cv2.max(cv2.max(r, g), b)
    lo = cv2.min(cv2.min(r, g), b)
    return cv2.subtract(hi, lo), hi


def paper_white_balance(rgb_small: np.ndarray) -> np.ndarray:
    """Per-channel scale that makes the paper neutral (yellowed paper is not a coloured ink)."""
    step = max(1, max(rgb_small.shape[:2]) // 120)
    sample = rgb_small[::step, ::step].reshape(-1, 3)
    k = int(len(sample) * 0.9)
    paper = np.partition(sample, k, axis=0)[k].astype(np.float32)
    return 255.0 / np.maximum(paper, 40.0)


def colour_ink_mask(rgb: np.ndarray, scale: np.ndarray, threshold: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """(alpha 0..255 of coloured ink, spread) for an RGB image after white balance."""
    chans = [cv2.convertScaleAbs(c, alpha=float(s)) for c, s in zip(cv2.split(rgb[:, :, :3]), scale, strict=True)]
    spread, _ = _spread(*chans)
    # 0 below threshold-20, full at threshold+20: anti-aliased stamp edges fade out smoothly
    lut = np.clip((np.arange(256, dtype=np.float32) - (threshold - 20)) * (255.0 / 40.0), 0, 255).astype(np.uint8)
    return cv2.LUT(spread, lut), spread


def is_grayish(img: np.ndarray) -> bool:
    """True when a colour scan has no real colour (so it can be stored as grey).

    Colour is judged after white balance (yellowed paper is not colour) on the share of strongly
    coloured pixels: a stamp or a signature is well over 0.01 % of a page, JPEG colour fringes
    around black text are not that saturated.
    """
    if img.ndim == 2 or img.shape[2] == 1:
        return True
    step = max(1, max(img.shape[:2]) // 500)
    sample = cv2.resize(img[:, :, :3], (max(1, img.shape[1] // step), max(1, img.shape[0] // step)),
                        interpolation=cv2.INTER_NEAREST)
    _, spread = colour_ink_mask(sample, paper_white_balance(sample))
    return cv2.countNonZero(cv2.threshold(spread, 60, 1, cv2.THRESH_BINARY)[1]) < 1e-4 * spread.size
