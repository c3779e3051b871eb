"""Tone cleaning of the OCR image: paper background, coloured ink, speckle, binarisation.

Each step is a pure function `(grey image, ...) -> (grey image, what it did)` that leaves a page
alone when it has nothing to do (so a clean page goes to Tesseract untouched), and works at full
resolution only where its cheap low-resolution test says so.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from pipeline.imaging.analysis import colour_ink_mask, paper_white_balance, resize_to

# --------------------------------------------------------------------------------------------
# Paper background: shadows, yellowed paper, grey photocopy background


def background_needs_work(background: np.ndarray) -> bool:
    """True when the paper is not plain white: a shadow band, a tint, a grey copier background."""
    step = max(1, max(background.shape) // 200)
    b = background[::step, ::step]
    lo, hi = np.percentile(b, [2, 98])
    return bool(lo < 225 or hi - lo > 18)


def normalise_background(gray: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Divide the page by its paper brightness: paper becomes white, ink keeps its contrast to it.

    `background` may be smaller than `gray` (it is smooth, so it is upsampled here).
    """
    # floored at 1 before the upsampling (an interpolation of values >= 1 stays >= 1): one pass less
    # over the full-resolution image
    bg = np.maximum(background, 1)
    if bg.shape != gray.shape:
        bg = resize_to(bg, gray.shape)
    return cv2.divide(gray, bg, scale=255)


# --------------------------------------------------------------------------------------------
# Coloured ink: stamps (red, violet) and signatures (blue) are not text


STAMP_CHROMA = 35  # chroma (after white balance) from which ink inside a stamp box is faded
STAMP_KEEP_DARK = 130  # inside a stamp box grey lighter than this fades out (fully at +50)


def find_colour_ink(rgb_small: np.ndarray, mm: float,
                    alpha: np.ndarray | None = None) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1, small-image pixels) of coloured marks that are stamps or signatures.

    A coloured mark taller than a line of text (a round stamp, a signature) is not text; coloured
    lines of text (a form printed in blue, blue handwriting on a leader) are kept. `alpha`: the
    view's `colour_ink_mask` when the caller has it.
    """
    if alpha is None:
        alpha, _ = colour_ink_mask(rgb_small, paper_white_balance(rgb_small))
    strong = cv2.threshold(alpha, 200, 1, cv2.THRESH_BINARY)[1]
    if cv2.countNonZero(strong) < 0.5 * mm * mm:
        return []
    k = max(3, round(1.5 * mm) | 1)
    grown = cv2.dilate(strong, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    contours, _ = cv2.findContours(grown, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if min(w, h) >= 8 * mm:  # taller (and wider) than a line of text
            boxes.append((x, y, x + w, y + h))
    return boxes


def suppress_colour_ink(gray: np.ndarray, colour_in: Callable[[tuple[int, int, int, int]], np.ndarray],
                        boxes_full: list[tuple[int, int, int, int]], scale: np.ndarray, dpi: float) -> np.ndarray:
    """Inside `boxes_full` keep only dark neutral ink (the text under a stamp); coloured ink and the
    pale remains of it fade to paper. A half-faded stamp is worse than none: its remains read as
    letters, so inside the box anything lighter than text goes too, and so does a blob bigger than
    a letter (the signature in black ink that was under the stamp). `colour_in(box)`: the page's RGB
    pixels in a box (x0, y0, x1, y1) of `gray`."""
    mm = dpi / 25.4
    out = gray.copy()
    light = np.clip((np.arange(256, dtype=np.float32) - STAMP_KEEP_DARK) * (255.0 / 50.0), 0, 255).astype(np.uint8)
    for x0, y0, x1, y1 in boxes_full:
        g = out[y0:y1, x0:x1]
        # even weakly coloured ink goes (blur and JPEG chroma subsampling wash the colour out of
        # thin strokes); dark neutral text has almost no chroma
        alpha, _ = colour_ink_mask(colour_in((x0, y0, x1, y1)), scale, threshold=STAMP_CHROMA)
        alpha = cv2.max(alpha, cv2.LUT(g, light))
        lift = cv2.multiply(cv2.subtract(np.full_like(g, 255), g), alpha, scale=1.0 / 255.0)
        g = cv2.add(g, lift)
        # what is left that is bigger than any letter is a signature in black ink: it goes too
        binary = cv2.threshold(g, 160, 255, cv2.THRESH_BINARY_INV)[1]
        n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        big = (np.minimum(stats[:, 2], stats[:, 3]) > 8 * mm) | (np.maximum(stats[:, 2], stats[:, 3]) > 25 * mm)
        big[0] = False
        if big.any():
            g[big[labels]] = 255
        out[y0:y1, x0:x1] = g
        if big.any():
            _erase_beyond(out, (x0, y0, x1, y1), big[labels], mm)
    return out


SIGNATURE_REACH_MM = 40  # how far past a stamp's box a signature through it is followed


def _erase_beyond(out: np.ndarray, box: tuple[int, int, int, int], erased: np.ndarray, mm: float) -> None:
    """What is left of a signature through a stamp, in place: its strokes running out of the
    stamp's box, and the stroke pieces the faded ring cut off inside it, within 1 mm of what was
    erased (a tail cut at the box's edge, a piece of the underline read as `— TS`). Only strokes —
    thin for their box (< 25 % inked), or a pen line (>= 4 mm long, <= 0.8 mm thick): letters of
    a line of text the signature touches stay."""
    x0, y0, x1, y1 = box
    r = round(SIGNATURE_REACH_MM * mm)
    h, w = out.shape[:2]
    wx0, wy0, wx1, wy1 = max(0, x0 - r), max(0, y0 - r), min(w, x1 + r), min(h, y1 + r)
    window = out[wy0:wy1, wx0:wx1]
    seeds = np.zeros(window.shape, np.uint8)
    seeds[y0 - wy0 : y1 - wy0, x0 - wx0 : x1 - wx0] = erased
    k = max(3, round(mm) | 1)
    near = cv2.dilate(seeds, np.ones((k, k), np.uint8))
    binary = cv2.threshold(window, 160, 1, cv2.THRESH_BINARY_INV)[1]
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n <= 1:
        return
    touching = np.unique(labels[(near > 0) & (binary > 0)])
    strokes = []
    for i in touching[touching > 0]:
        bw, bh, area = (int(v) for v in stats[i, 2:5])
        long = max(bw, bh)
        if (area < 0.25 * bw * bh and long >= 2 * mm) or (long >= 4 * mm and area <= 0.8 * mm * long):
            strokes.append(i)
    if strokes:  # with the stroke's anti-aliased rim, which would stay as a dotted trace
        gone = np.isin(labels, strokes).astype(np.uint8)
        window[cv2.dilate(gone, np.ones((3, 3), np.uint8)) > 0] = 255


# --------------------------------------------------------------------------------------------
# Sensor noise


def noise_sigma(gray: np.ndarray) -> float:
    """Grain of the paper in grey levels, from a strip of the left margin: the paper's median minus
    its 16th percentile (one sigma; the bright half of the grain is often clipped at white)."""
    h, w = gray.shape
    strip = gray[int(h * 0.1) : int(h * 0.9) : 2, int(w * 0.03) : int(w * 0.09) : 2]
    if strip.size < 100:
        return 0.0
    p16, p50 = np.percentile(strip, [16, 50])
    return float(p50 - p16)


DENOISE_INK = 160  # where the median is darker than this it is inside a stroke
DENOISE_MARK = 215  # under THIN_MARKS_DPI, where the 3x3 mean is darker than this there is a thin mark: kept
THIN_MARKS_DPI = 250
PAPER_LEVEL = 215  # after background normalisation paper is ~255, ink well under 150


def denoise(gray: np.ndarray, dpi: float) -> np.ndarray:
    """A 3x3 median where it is paper: the grain goes. Ink is kept: inside strokes (where the
    median itself is ink) the darker of the two, so the 2-3 px strokes of a 200 dpi page do not
    thin. Under 250 dpi a tone mark is 1-2 px thin (the huyền of `tiền`, the hook of `sổ`) and a
    median erases it: there, where the 3x3 mean is darker than paper, the original pixels stay too
    (grain averages out in the mean, a thin mark does not). At 300 dpi the marks are 2-3 px and
    the median keeps them, while the same rule would keep toner grain and copier streaks."""
    med = cv2.medianBlur(gray, 3)
    keep = cv2.threshold(med, DENOISE_INK, 255, cv2.THRESH_BINARY_INV)[1]
    if dpi < THIN_MARKS_DPI:
        keep = cv2.bitwise_or(keep, cv2.threshold(cv2.blur(gray, (3, 3)), DENOISE_MARK, 255, cv2.THRESH_BINARY_INV)[1])
    return cv2.bitwise_or(cv2.bitwise_and(cv2.min(gray, med), keep), cv2.bitwise_and(med, cv2.bitwise_not(keep)))


def flatten_paper(gray: np.ndarray, level: int = PAPER_LEVEL) -> np.ndarray:
    """Everything lighter than `level` becomes white: paper grain, faint ghosts (bleed-through, a
    washed-out stamp, a copier streak) go; ink and its anti-aliased edges keep their grey levels."""
    lift = cv2.threshold(gray, level, 255, cv2.THRESH_BINARY)[1]
    return cv2.max(gray, lift)


# --------------------------------------------------------------------------------------------
# Speckle


def speckle_density(gray: np.ndarray, dpi: float) -> float:
    """Specks per cm² in the side margins (where a page has no text), from two thin strips."""
    h, w = gray.shape
    strips = [gray[:, int(w * 0.035) : int(w * 0.09)], gray[:, int(w * 0.935) : int(w * 0.965)]]
    max_area = max(2, round(12 * (dpi / 300) ** 2))
    specks = 0
    area_cm2 = 0.0
    for s in strips:
        if s.size == 0:
            continue
        binary = cv2.threshold(np.ascontiguousarray(s), 128, 255, cv2.THRESH_BINARY_INV)[1]
        contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        specks += sum(1 for c in contours if len(c) <= 8 and cv2.contourArea(c) <= max_area)
        area_cm2 += s.size / (dpi / 2.54) ** 2
    return specks / area_cm2 if area_cm2 else 0.0


def despeckle(gray: np.ndarray, dpi: float) -> tuple[np.ndarray, int]:
    """Remove isolated dark specks (dust, toner grain); dots of i, tone marks and periods stay.

    A speck is a blob of at most ~0.1 mm² with no other ink within ~0.7 mm: the dot under `ạ` or
    over `i` sits right by its letter, a period right after its word.
    """
    binary = cv2.threshold(gray, 128, 255, cv2.THRESH_BINARY_INV)[1]
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    max_area = max(2, round(14 * (dpi / 300) ** 2))
    side = max(2, round(5 * dpi / 300))
    r = max(2, round(0.7 * dpi / 25.4))
    h, w = gray.shape
    out = gray
    dropped = 0
    for c in contours:
        if len(c) > 12:
            continue
        x, y, bw, bh = cv2.boundingRect(c)
        if bw > side or bh > side:
            continue
        own = cv2.countNonZero(binary[y : y + bh, x : x + bw])
        if own > max_area:
            continue
        window = binary[max(0, y - r) : min(h, y + bh + r), max(0, x - r) : min(w, x + bw + r)]
        if cv2.countNonZero(window) > own + 2 * max_area:
            continue  # more than another speck's worth of ink close by: part of the text
        if dropped == 0:
            out = gray.copy()
        out[y : y + bh, x : x + bw] = 255
        dropped += 1
    return out, dropped


# --------------------------------------------------------------------------------------------
# Binarisation


def binarize(gray: np.ndarray) -> np.ndarray:
    """Otsu on the (background-normalised) page: black ink on white, nothing in between."""
    return cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
