"""Form furniture on the OCR image: table rules and cell borders, dotted leaders, check boxes.

None of it is text, and Tesseract reads it as `|`, `_`, `.....`, `O` or `[]` — or lets a rule
glue a row of cells into one garbled word. Everything is found on a ~150 dpi view of the
upright, deskewed OCR image (`furniture_view`) and erased at full resolution only inside the boxes
found, so a page without furniture costs one downscale and a few morphology passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.imaging.analysis import rescale

DETECT_DPI = 150
Box = tuple[int, int, int, int]  # x0, y0, x1, y1


@dataclass
class FurnitureView:
    factor: float  # detection pixels per OCR pixel
    mm: float  # detection pixels per millimetre
    ink: np.ndarray  # 0/255 mask, ink at detection resolution
    hlines: list[Box] = field(default_factory=list)
    vlines: list[Box] = field(default_factory=list)

    def to_full(self, box: Box, pad_mm: float, shape: tuple[int, ...]) -> Box:
        p = pad_mm * self.mm
        x0, y0, x1, y1 = box
        f = self.factor
        h, w = shape[:2]
        return (max(0, int((x0 - p) / f)), max(0, int((y0 - p) / f)),
                min(w, int(np.ceil((x1 + p) / f))), min(h, int(np.ceil((y1 + p) / f))))


def furniture_view(gray: np.ndarray, dpi: float, threshold: int = 190, factor: float | None = None) -> FurnitureView:
    """The detection view of a page. `gray` is the OCR image at `dpi` — or, with `factor`, an already
    reduced copy of it at `dpi` whose pixels are `factor` OCR pixels each (the chain's analysis view)."""
    if factor is None:
        f = min(1.0, DETECT_DPI / dpi)
        det = rescale(gray, f)
        ddpi = dpi * f
    else:
        f, det, ddpi = factor, gray, dpi
    ink = cv2.threshold(det, threshold, 255, cv2.THRESH_BINARY_INV)[1]
    return FurnitureView(f, ddpi / 25.4, ink)


# --------------------------------------------------------------------------------------------
# Rules


def find_rules(view: FurnitureView, min_len_mm: float = 12.0, max_thick_mm: float = 1.2) -> tuple[list[Box], list[Box]]:
    """Thin straight lines at least `min_len_mm` long: (horizontal boxes, vertical boxes)."""
    # at half the detection resolution (~75 dpi): a rule a pixel wide still covers its pixels
    ink = cv2.resize(view.ink, (max(1, view.ink.shape[1] // 2), max(1, view.ink.shape[0] // 2)),
                     interpolation=cv2.INTER_AREA)
    ink = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY)[1]
    mm = view.mm / 2
    L = max(5, round(min_len_mm * mm))
    out = []
    for kernel, horizontal in (((L, 1), True), ((1, L), False)):
        lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        boxes: list[Box] = []
        if lines.any():
            contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            full_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * L, 1) if horizontal else (1, 2 * L))
            for c in contours:
                x, y, w, h = cv2.boundingRect(c)
                thick = cv2.countNonZero(lines[y : y + h, x : x + w]) / max(1, w if horizontal else h)
                if thick > max_thick_mm * mm + 1:
                    continue
                # confirmed at full detection resolution, where the serifs of a bold line of
                # capitals no longer touch each other
                x0, y0 = max(0, 2 * x - 2), max(0, 2 * y - 2)
                crop = view.ink[y0 : 2 * (y + h) + 2, x0 : 2 * (x + w) + 2]
                solid = cv2.morphologyEx(crop, cv2.MORPH_OPEN, full_kernel)
                if cv2.countNonZero(solid):
                    bx, by, bw, bh = cv2.boundingRect(solid)
                    boxes.append((x0 + bx, y0 + by, x0 + bx + bw, y0 + by + bh))
        out.append(boxes)
    view.hlines, view.vlines = out
    return out[0], out[1]


def _erase_lines(crop: np.ndarray, horizontal: bool, run_px: int) -> None:
    """Erase the straight run(s) in `crop` in place, keep the strokes of letters that cross them."""
    binary = cv2.threshold(crop, 170, 255, cv2.THRESH_BINARY_INV)[1]
    k = (run_px, 1) if horizontal else (1, run_px)
    line = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, k))
    if not line.any():
        return
    grown = cv2.dilate(line, np.ones((5, 5), np.uint8))  # with the blurred edge of the rule
    thick = int(max(1, (line > 0).sum(axis=0 if horizontal else 1).max()))
    other = cv2.bitwise_and(binary, cv2.bitwise_not(grown))
    bridge = (1, thick + 5) if horizontal else (thick + 5, 1)
    closed = cv2.morphologyEx(other, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, bridge))
    erase = (grown > 0) & (crop < 235) & (closed == 0)
    crop[erase] = 255


def remove_rules(gray: np.ndarray, view: FurnitureView, vertical: bool = True) -> np.ndarray:
    """Erase the rules found by `find_rules` at full resolution (a copy is returned); the vertical
    ones only with `vertical` (Tesseract reads a ruled table better with its column borders)."""
    out = gray.copy()
    run_h = max(8, round(3.0 * view.mm / view.factor))  # 3 mm at full resolution
    for box in view.hlines:
        x0, y0, x1, y1 = view.to_full(box, 0.6, out.shape)
        _erase_lines(out[y0:y1, x0:x1], True, run_h)
    for box in view.vlines if vertical else ():
        x0, y0, x1, y1 = view.to_full(box, 0.6, out.shape)
        _erase_lines(out[y0:y1, x0:x1], False, run_h)
    return out


def is_table(view: FurnitureView) -> bool:
    """Ruled cells: several long horizontal rules crossed by vertical ones, or stacked long rules."""
    width = view.ink.shape[1]
    long_h = [b for b in view.hlines if b[2] - b[0] > 0.4 * width]
    tall_v = [b for b in view.vlines if b[3] - b[1] > 20 * view.mm]
    return len(long_h) >= 4 and (len(tall_v) >= 2 or len(long_h) >= 6)


# --------------------------------------------------------------------------------------------
# Dotted leaders and check boxes


@dataclass
class Marks:
    """Ink blobs of the detection view: boxes (x, y, w, h) and centres."""

    boxes: np.ndarray
    centres: np.ndarray


def marks(view: FurnitureView) -> Marks:
    contours, hierarchy = cv2.findContours(view.ink, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    outer = [c for c, hr in zip(contours, hierarchy[0], strict=True) if hr[3] < 0] if contours else []
    boxes = np.array([cv2.boundingRect(c) for c in outer], dtype=np.int64).reshape(-1, 4)
    centres = np.stack([boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2], axis=1) if len(boxes) \
        else np.zeros((0, 2))
    return Marks(boxes, centres)


def find_leaders(view: FurnitureView, m: Marks, min_dots: int = 6) -> list[list[Box]]:
    """Runs of at least `min_dots` equal dots on one baseline, close together (`....`, `……`).

    Returns the dots of every run (each dot's box): erasing exactly those leaves the dot under a
    `ạ` or a period typed on the leader alone.
    """
    s = m.boxes
    mm = view.mm
    w, h = s[:, 2], s[:, 3]
    dot = (w <= 1.0 * mm) & (h <= 1.0 * mm) & (w <= 2.5 * h) & (h <= 2.5 * w)
    idx = np.nonzero(dot)[0]
    if len(idx) < min_dots:
        return []
    idx = idx[np.argsort(m.centres[idx, 1], kind="stable")]
    cy = m.centres[idx, 1]
    # rows: dots whose centres are within 0.3 mm of the previous one, top to bottom
    breaks = np.nonzero(np.diff(cy) > 0.3 * mm)[0] + 1
    runs: list[list[Box]] = []
    for row in np.split(idx, breaks):
        if len(row) < min_dots:
            continue
        row = row[np.argsort(m.centres[row, 0])]
        cx = m.centres[row, 0]
        gaps = np.diff(cx)
        cuts = np.nonzero((gaps > 2.6 * mm) | (gaps < 0.3 * mm))[0] + 1
        chains = [run for run in np.split(row, cuts) if len(run) >= min_dots]
        if not chains:
            continue
        # the leader also runs under typed values: the same dots peeking out between the words
        members = np.concatenate(chains)
        mw, mh = np.median(w[members]), np.median(h[members])
        same = (np.abs(w[row] - mw) <= max(1.0, 0.35 * mw)) & (np.abs(h[row] - mh) <= max(1.0, 0.35 * mh))
        dots = [(int(s[i, 0]), int(s[i, 1]), int(s[i, 0] + s[i, 2]), int(s[i, 1] + s[i, 3])) for i in row[same]]
        if dots:
            runs.append(dots)
    return runs


def find_checkboxes(view: FurnitureView, m: Marks) -> list[Box]:
    """Square outlines of 2.5-6.5 mm (empty or ticked): every side and corner inked, hollow inside."""
    s = m.boxes
    mm = view.mm
    w, h = s[:, 2], s[:, 3]
    cand = (w >= 2.5 * mm) & (w <= 6.5 * mm) & (h >= 2.5 * mm) & (h <= 6.5 * mm) & (w <= 1.25 * h) & (h <= 1.25 * w)
    boxes: list[Box] = []
    for i in np.nonzero(cand)[0]:
        x, y, bw, bh = (int(v) for v in s[i])
        crop = view.ink[y : y + bh, x : x + bw]
        t = max(1, round(0.12 * min(bw, bh)))
        # cheap rejections first: a box has ink all along its top and bottom edges
        if cv2.countNonZero(cv2.reduce(crop[:t], 0, cv2.REDUCE_MAX)) < 0.9 * bw:
            continue
        if cv2.countNonZero(cv2.reduce(crop[-t:], 0, cv2.REDUCE_MAX)) < 0.9 * bw:
            continue
        if cv2.countNonZero(crop) > 0.7 * bw * bh:
            continue  # a filled blob
        if cv2.countNonZero(cv2.reduce(crop[:, :t], 1, cv2.REDUCE_MAX)) < 0.9 * bh:
            continue
        if cv2.countNonZero(cv2.reduce(crop[:, -t:], 1, cv2.REDUCE_MAX)) < 0.9 * bh:
            continue
        # square corners: a bold `o` or `ô` in a black-and-white scan has all four sides but not these
        c = t + 1
        if min(cv2.countNonZero(crop[:c, :c]), cv2.countNonZero(crop[:c, -c:]), cv2.countNonZero(crop[-c:, :c]),
               cv2.countNonZero(crop[-c:, -c:])) < c:
            continue
        # thin sides: just inside them the box is mostly empty (a bold H or O is not: its stems are thick)
        bands = [crop[2 * t : -2 * t, t : 2 * t], crop[2 * t : -2 * t, -2 * t : -t], crop[t : 2 * t, 2 * t : -2 * t],
                 crop[-2 * t : -t, 2 * t : -2 * t]]
        if any(b.size == 0 or cv2.countNonZero(b) > 0.5 * b.size for b in bands):
            continue
        inner = crop[2 * t : -2 * t, 2 * t : -2 * t]
        if inner.size == 0 or cv2.countNonZero(inner) < 0.6 * inner.size:
            boxes.append((x, y, x + bw, y + bh))
    return boxes


def erase_boxes(gray: np.ndarray, view: FurnitureView, boxes: list[Box], pad_mm: float) -> np.ndarray:
    """Whiten the ink inside `boxes` (detection coordinates, padded by `pad_mm`); a copy is returned."""
    out = gray.copy()
    for box in boxes:
        x0, y0, x1, y1 = view.to_full(box, pad_mm, out.shape)
        crop = out[y0:y1, x0:x1]
        crop[crop < 250] = 255
    return out


def erase_leaders(gray: np.ndarray, view: FurnitureView, runs: list[list[Box]]) -> np.ndarray:
    """Erase the dots of each leader row at full resolution, including the dots that peek out
    between the words typed over the leader; letters, and the lower dot of a colon, stay."""
    out = gray.copy()
    f = view.factor
    h_img, w_img = out.shape
    for dots in runs:
        if not dots:
            continue
        arr = np.array(dots, dtype=np.float64).reshape(-1, 4)
        dw = float(np.median(arr[:, 2] - arr[:, 0])) / f
        dh = float(np.median(arr[:, 3] - arr[:, 1])) / f
        pad_y = max(2, round(0.2 * view.mm / f))
        y0 = max(0, int(arr[:, 1].min() / f) - pad_y)
        y1 = min(h_img, int(np.ceil(arr[:, 3].max() / f)) + pad_y)
        x0 = max(0, int(arr[:, 0].min() / f) - pad_y)
        x1 = min(w_img, int(np.ceil(arr[:, 2].max() / f)) + pad_y)
        crop = out[y0:y1, x0:x1]
        binary = cv2.threshold(crop, 170, 255, cv2.THRESH_BINARY_INV)[1]
        n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        above = max(2, round(2.5 * view.mm / f))  # the upper dot of a colon is this close
        for i in range(1, n):
            x, y, w, h, area = stats[i]
            if y == 0 or y + h >= crop.shape[0]:
                continue  # runs out of the band: part of a letter
            if w > 1.6 * dw + 2 or h > 1.6 * dh + 2 or area < 0.3 * dw * dh:
                continue
            gx0, gx1 = x0 + x, x0 + x + w
            top = max(0, y0 + y - above)
            win = out[top : y0 + y - 1, gx0:gx1]
            if win.size and (win < 170).sum() >= 0.4 * area:
                continue  # a colon
            # the blurred halo of the dot goes too, or it is left as a ring that reads as `o`
            g = max(1, round(0.2 * view.mm / f))
            ya, yb, xa, xb = max(0, y - g), min(crop.shape[0], y + h + g), max(0, x - g), min(crop.shape[1], x + w + g)
            comp = (labels[ya:yb, xa:xb] == i).astype(np.uint8)
            comp = cv2.dilate(comp, np.ones((2 * g + 1, 2 * g + 1), np.uint8))
            sub = crop[ya:yb, xa:xb]
            sub[(comp > 0) & (sub < 250)] = 255
    return out
