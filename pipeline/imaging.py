"""Page imaging with OpenCV: blank check, orientation, deskew, and the two images of a page.

Every function here is pure (array in, array or number out). `prepare_page()` composes them into the
OCR image (grey, upright, straight, at least 300 dpi) and the display image (the faithful scan, colour
kept, upright and straight) that goes into the PDF.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

OCR_MIN_DPI = 300
ANALYSIS_DPI = 100  # coarse work (blank, orientation, coarse skew) at this resolution
FINE_DPI = 200


@dataclass
class PreparedPage:
    ocr: np.ndarray | None  # grey uint8, None for a blank page
    ocr_dpi: float
    display: np.ndarray  # RGB or grey uint8
    display_dpi: float
    rotation: int  # 0/90/180/270: clockwise turn of the content in the input, undone here
    skew_deg: float  # clockwise skew of the content in the input, undone here
    blank: bool
    steps: list[str] = field(default_factory=list)


def to_gray(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def rescale(img: np.ndarray, factor: float) -> np.ndarray:
    if abs(factor - 1.0) < 1e-3:
        return img
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    h, w = img.shape[:2]
    return cv2.resize(img, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=interp)


def ink_mask(gray: np.ndarray, dpi: float, target_dpi: float = ANALYSIS_DPI) -> np.ndarray:
    """Binary mask (1 = ink) at `target_dpi`: pixels clearly darker than the paper around them."""
    small = rescale(gray, min(1.0, target_dpi / dpi))
    background = cv2.medianBlur(cv2.resize(small, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA), 21)
    background = cv2.resize(background, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_LINEAR)
    diff = background.astype(np.int16) - small.astype(np.int16)
    return (diff > 50).astype(np.uint8)


def is_blank(gray: np.ndarray, dpi: float) -> bool:
    """A page with no marks bigger than scanner speckle (bleed-through is too faint to count)."""
    mask = ink_mask(gray, dpi)
    h, w = mask.shape
    my, mx = int(h * 0.04), int(w * 0.04)  # scanner edges and punch holes
    inner = mask[my : h - my, mx : w - mx]
    inner = cv2.morphologyEx(inner, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(inner, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    marks = int((areas >= 6).sum())
    return marks < 6 and inner.mean() < 0.002


def _points(mask: np.ndarray, limit: int = 300_000) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.nonzero(mask)
    if len(ys) > limit:
        step = len(ys) // limit + 1
        ys, xs = ys[::step], xs[::step]
    return ys.astype(np.float64), xs.astype(np.float64)


def _profile_score(ys: np.ndarray, xs: np.ndarray, angle_deg: float) -> float:
    """Sharpness of the row profile after rotating the points by `angle_deg` (counter-clockwise)."""
    a = math.radians(angle_deg)
    proj = -math.sin(a) * xs + math.cos(a) * ys
    proj -= proj.min()
    hist = np.bincount(proj.astype(np.int64))
    mean = hist.mean()
    return float(hist.var() / (mean * mean)) if mean > 0 else 0.0


def _best_angle(ys, xs, lo: float, hi: float, step: float) -> tuple[float, float]:
    angles = np.arange(lo, hi + step / 2, step)
    scores = [_profile_score(ys, xs, a) for a in angles]
    i = int(np.argmax(scores))
    return float(angles[i]), float(scores[i])


def estimate_skew(gray: np.ndarray, dpi: float, max_deg: float = 15.0) -> float:
    """Clockwise skew of the text lines in degrees (projection-profile search, coarse then fine)."""
    ys, xs = _points(ink_mask(gray, dpi))
    if len(ys) < 50:
        return 0.0
    coarse, _ = _best_angle(ys, xs, -max_deg, max_deg, 0.5)
    ys, xs = _points(ink_mask(gray, dpi, min(dpi, FINE_DPI)))
    fine, _ = _best_angle(ys, xs, coarse - 0.6, coarse + 0.6, 0.05)
    return round(fine, 2)


def _line_asymmetry(mask: np.ndarray) -> float:
    """> 0 when text lines carry more ink above their x-height band than below (upright Latin/Vietnamese)."""
    closed = cv2.dilate(mask, np.ones((5, 1), np.uint8))
    bands = closed.sum(axis=1) > max(3, mask.shape[1] * 0.01)
    h = mask.sum(axis=1).astype(np.float64)
    above = below = 0.0
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
        above += prof[:top].sum()
        below += prof[bot + 1 :].sum()
    total = above + below
    return 0.0 if total == 0 else (above - below) / total


def rotate_quadrant(img: np.ndarray, rotation: int) -> np.ndarray:
    """Undo a clockwise turn of `rotation` degrees (0/90/180/270)."""
    if rotation == 90:
        return cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
    if rotation == 180:
        return cv2.rotate(img, cv2.ROTATE_180)
    if rotation == 270:
        return cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
    return img


def detect_orientation(gray: np.ndarray, dpi: float) -> int:
    """How far (clockwise, 0/90/180/270) the page content is turned.

    Sideways pages: text lines give a much sharper row profile than column profile. Upside down:
    Vietnamese lines carry tone marks and ascenders above the x-height band, few descenders below.
    The mask is straightened first, or skewed lines would run into each other.
    """
    return orientation_with_confidence(gray, dpi)[0]


def orientation_with_confidence(gray: np.ndarray, dpi: float) -> tuple[int, float]:
    """(rotation, confidence 0..1); low confidence means the ink gave little to go on."""
    mask = ink_mask(gray, dpi, 150)
    ys, xs = _points(mask)
    if len(ys) < 200:
        return 0, 0.0
    row_angle, rows = _best_angle(ys, xs, -15, 15, 1.0)
    col_angle, cols = _best_angle(xs, ys, -15, 15, 1.0)
    sideways = cols > rows * 1.15
    if sideways:
        mask = rotate_quadrant(mask, 90)
        ys, xs = _points(mask)
        row_angle, _ = _best_angle(ys, xs, -15, 15, 1.0)
    fine, _ = _best_angle(ys, xs, row_angle - 1, row_angle + 1, 0.1)
    if abs(fine) >= 0.05:
        h, w = mask.shape
        m = cv2.getRotationMatrix2D((w / 2, h / 2), fine, 1.0)
        mask = cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    asym = _line_asymmetry(mask)
    confidence = min(1.0, abs(asym) / 0.2)
    if sideways:
        return (90 if asym >= 0 else 270), confidence
    return (0 if asym >= 0 else 180), confidence


def rotate_small(img: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotate counter-clockwise by `angle_deg` about the centre, white fill, same size."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    fill = 255 if img.ndim == 2 else (255, 255, 255)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def is_grayish(img: np.ndarray) -> bool:
    """True when a colour scan has no real colour (so it can be stored as grey)."""
    if img.ndim == 2:
        return True
    small = rescale(img, min(1.0, 400 / max(img.shape[:2])))
    spread = small.max(axis=2).astype(np.int16) - small.min(axis=2).astype(np.int16)
    return float(np.percentile(spread, 99.7)) < 30


def prepare_page(pixels: np.ndarray, dpi: float, *, orientation: bool = True, deskew: bool = True,
                 max_skew_deg: float = 15.0, display_max_dpi: float = 300) -> PreparedPage:
    """Turn one decoded page into its OCR image and its display image."""
    steps: list[str] = []
    gray = to_gray(pixels)
    display = pixels
    if is_grayish(display):
        display = gray
        steps.append("grey")
    if is_blank(gray, dpi):
        factor = min(1.0, display_max_dpi / dpi)
        return PreparedPage(None, dpi, rescale(display, factor), dpi * factor, 0, 0.0, True, ["blank"])
    rotation = detect_orientation(gray, dpi) if orientation else 0
    if rotation:
        gray = rotate_quadrant(gray, rotation)
        display = rotate_quadrant(display, rotation)
        steps.append(f"rotate{rotation}")
    skew = estimate_skew(gray, dpi, max_skew_deg) if deskew else 0.0
    if abs(skew) >= 0.05:
        gray = rotate_small(gray, skew)
        display = rotate_small(display, skew)
        steps.append("deskew")
    ocr_factor = OCR_MIN_DPI / dpi if dpi < OCR_MIN_DPI * 0.95 else 1.0
    if ocr_factor != 1.0:
        steps.append("upscale")
    ocr = rescale(gray, ocr_factor)
    disp_factor = min(1.0, display_max_dpi / dpi)
    return PreparedPage(ocr, dpi * ocr_factor, rescale(display, disp_factor), dpi * disp_factor,
                        rotation, skew, False, steps)
