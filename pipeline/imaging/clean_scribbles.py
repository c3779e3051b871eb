"""Signatures and other scribbles on the OCR image.

A signature is not text, but Tesseract reads it — or the half of it the stamp step left, or the
pieces a photocopy broke off it — as a few garbage characters (`6)`, `k2`, `Xì)`, `¬..`), or not,
depending on a handful of pixels: the same page turned, or cleaned by one step more or less, reads
differently. Here it goes from the OCR image (the display image keeps it): a dark ink blob far
bigger than a letter, drawn with thin strokes (a low share of its box inked), mostly curved (not a
table border, frame or rule) and enclosing no large area (not a stamp ring or a box, whose inside
may be text); with it the long thin stroke pieces lying right around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.imaging.analysis import Components, components, resize_to

DETECT_DPI = 150
DARK = 150  # signature strokes are dark ink; a grey stamp ring or bleed-through is lighter
MIN_SIDE_MM = 6.0  # a letter with its tone marks is under 6 mm tall; a signature is 9-20 mm
MAX_FILL = 0.25  # share of the box inked: thin strokes (a blurred line of text or a photo is denser)
MAX_STRAIGHT = 0.5  # share of the blob on straight runs of 4 mm (a table grid or a frame is ~1)
MAX_HOLE_MM2 = 60.0  # the loops of a signature are small (< 30 mm² on the bench), a stamp ring's inside 300+
LETTER_MM = (1.2, 6.0)  # heights of letters (with tone marks), for the text lines a signature crosses
STAMP_ZONE_MM = 15.0  # a stamp over a signature reaches this far beyond its strokes
PAPER, PALE_MIN = 215, 120  # marks lighter than PAPER are paper; a text letter's core is darker than PALE_MIN
PIECE_LONG_MM, PIECE_THIN_MM, NEAR_MM = 4.0, 0.8, 3.0  # stroke pieces broken off a signature: long, thin, near


@dataclass
class Scribbles:
    mask: np.ndarray  # 0/255 at detection resolution
    factor: float  # detection pixels per OCR pixel
    boxes: list[tuple[int, int, int, int]]  # x0, y0, x1, y1 of every blob, detection pixels
    zones: list[tuple[int, int, int, int]] = field(default_factory=list)  # around each signature, OCR pixels
    dpi: float = 0.0  # of the OCR image


def find_scribbles(gray: np.ndarray, dpi: float) -> Scribbles | None:
    """The signatures (and their broken-off stroke pieces) of an upright, straight OCR image."""
    k = max(1, round(dpi / DETECT_DPI))  # an integer reduction: area averaging is fast for those
    if k > 1:  # (the image cut to a multiple of k: OpenCV's exact 1/k path is ~20x faster)
        gh, gw = gray.shape[:2]
        small = cv2.resize(gray[: gh - gh % k, : gw - gw % k], (gw // k, gh // k), interpolation=cv2.INTER_AREA)
    else:
        small = gray
    f = 1.0 / k
    mm = dpi * f / 25.4
    ink = cv2.threshold(small, DARK, 255, cv2.THRESH_BINARY_INV)[1]
    comps = components(ink)
    if not comps.count:
        return None
    b = comps.boxes
    w, h = b[:, 2], b[:, 3]
    cand = np.nonzero(np.minimum(w, h) >= MIN_SIDE_MM * mm)[0]
    if not len(cand):
        return None
    keep: list[int] = []
    for i in cand:
        # (a signature run into a stamp ring is left whole: looked for in its darker ink alone, it
        # went, the ring stayed, and Tesseract laid the page out anew around it)
        if _judge(_blob(comps, int(i)), comps.holes[i], mm) == "scribble":
            keep.append(int(i))
    if not keep:
        return None
    near = NEAR_MM * mm
    spans = [(int(b[i, 0]), int(b[i, 1]), int(b[i, 0] + b[i, 2]), int(b[i, 1] + b[i, 3])) for i in keep]
    zones = [(x0 - near, y0 - near, x1 + near, y1 + near) for x0, y0, x1, y1 in spans]
    for j in np.nonzero(np.maximum(w, h) >= PIECE_LONG_MM * mm)[0]:
        x0, y0, x1, y1 = b[j, 0], b[j, 1], b[j, 0] + b[j, 2], b[j, 1] + b[j, 3]
        if j in keep or not any(x0 >= za and y0 >= zb and x1 <= zc and y1 <= zd for za, zb, zc, zd in zones):
            continue
        # a stroke (its mean thickness, ink over length, is that of a pen line), not a letter or a word
        if cv2.countNonZero(_blob(comps, int(j))) <= PIECE_THIN_MM * mm * max(w[j], h[j]):
            keep.append(int(j))
    mask = np.zeros_like(ink)
    boxes = []
    for i in keep:
        x, y, bw, bh = (int(v) for v in b[i])
        sub = mask[y : y + bh, x : x + bw]
        sub[_blob(comps, i) > 0] = 255
        boxes.append((x, y, x + bw, y + bh))
    # a signature across a line of text: the line keeps its pixels (the letters the stroke touches
    # are part of its blob), only the stroke between and beyond the lines goes
    letter = (h >= LETTER_MM[0] * mm) & (h <= LETTER_MM[1] * mm) & (w <= 2 * LETTER_MM[1] * mm)
    letter[keep] = False
    pad = round(0.3 * mm)
    for x0, y0, x1, y1 in boxes:
        inside = np.nonzero(letter & (b[:, 0] < x1) & (b[:, 0] + w > x0) & (b[:, 1] < y1) & (b[:, 1] + h > y0))[0]
        cy = b[inside, 1] + h[inside] / 2
        for j, c in zip(inside, cy, strict=True):
            # a line of text: at least 3 letters side by side (not a stray bit of the signature,
            # nor the letters of a stamp ring, which go round)
            if (np.abs(cy - c) < 0.3 * h[j]).sum() >= 3:
                mask[max(0, b[j, 1] - pad) : b[j, 1] + h[j] + pad, x0:x1] = 0
    gh, gw = gray.shape[:2]
    z = STAMP_ZONE_MM * mm
    zones = [(max(0, int((x0 - z) * k)), max(0, int((y0 - z) * k)), min(gw, int((x1 + z) * k)), min(gh, int((y1 + z) * k)))
             for x0, y0, x1, y1 in spans]
    return Scribbles(mask, f, boxes, zones, dpi)


def _judge(comp: np.ndarray, holes: list, mm: float) -> str:
    """What a big blob (0/1 pixels in its box) is: "scribble", "ring" (it encloses a large area: a
    stamp ring, a frame, a box, whose inside may be text) or "other" (dense: a photo, smeared text;
    or straight: a table border, a frame, a rule)."""
    bh, bw = comp.shape
    area = cv2.countNonZero(comp)
    if area > MAX_FILL * bw * bh:
        return "other"
    if max((cv2.contourArea(c) for c in holes), default=0.0) > MAX_HOLE_MM2 * mm * mm:
        return "ring"
    run = max(3, round(4 * mm))
    straight = cv2.bitwise_or(
        cv2.morphologyEx(comp, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1))),
        cv2.morphologyEx(comp, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, run))))
    return "other" if cv2.countNonZero(straight) > MAX_STRAIGHT * area else "scribble"


def _blob(comps: Components, i: int) -> np.ndarray:
    """0/1 pixels of blob `i` in its box (what lies in its holes left out)."""
    x, y, w, h = (int(v) for v in comps.boxes[i])
    local = np.zeros((h, w), np.uint8)
    cv2.drawContours(local, [comps.contours[i]], -1, 1, thickness=-1, offset=(-x, -y))
    if comps.holes[i]:
        cv2.drawContours(local, comps.holes[i], -1, 0, thickness=-1, offset=(-x, -y))
        cv2.drawContours(local, comps.holes[i], -1, 1, thickness=1, offset=(-x, -y))
    return local


def erase_scribbles(gray: np.ndarray, found: Scribbles) -> np.ndarray:
    """Paint the blobs of `found` as paper at full resolution, with their anti-aliased edge, then
    the pale marks around them (a stamp over the signature); a copy."""
    out = gray.copy()
    f = found.factor
    h, w = out.shape[:2]
    grown = cv2.dilate(found.mask, np.ones((3, 3), np.uint8))
    for x0, y0, x1, y1 in found.boxes:
        x0, y0 = max(0, x0 - 1), max(0, y0 - 1)
        x1, y1 = min(grown.shape[1], x1 + 1), min(grown.shape[0], y1 + 1)
        fx0, fy0 = int(x0 / f), int(y0 / f)
        fx1, fy1 = min(w, int(np.ceil(x1 / f))), min(h, int(np.ceil(y1 / f)))
        if fx1 <= fx0 or fy1 <= fy0:
            continue
        m = resize_to(grown[y0:y1, x0:x1], (fy1 - fy0, fx1 - fx0), cv2.INTER_NEAREST)
        crop = out[fy0:fy1, fx0:fx1]
        crop[(m > 0) & (crop < 250)] = 255
    for x0, y0, x1, y1 in found.zones:
        _fade_pale_marks(out[y0:y1, x0:x1], found.dpi / 25.4)
    return out


def _fade_pale_marks(crop: np.ndarray, mm: float) -> None:
    """In place: the marks of `crop` that are nowhere as dark as its text fade to paper.

    Around a signature that is the stamp printed over it — mid-grey on a grey copy, or what the
    colour step left of a washed-out one — whose ring and letters Tesseract reads as garbage once
    the signature is gone. Text, even a pale copy's, has a darker core than the stamp's letters:
    the marks' darkest pixels split into those two groups (Otsu), and marks whose darkest pixel is
    above both the split and PALE_MIN go; so do the ring's arcs (big, thin, curved marks, grey on
    average, and the thin bits the signature's erasure cut them into: their pixels lighter than the
    text's cores), whose cores a copy prints nearly as dark as text.
    """
    binary = (crop < PAPER).astype(np.uint8)
    n, labels, st, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n < 3:
        return
    darkest = np.full(n, 255, np.int32)
    for i in range(1, n):
        x, y, bw, bh = (int(v) for v in st[i, :4])
        darkest[i] = int(crop[y : y + bh, x : x + bw][labels[y : y + bh, x : x + bw] == i].min())
    marks = darkest[1:][st[1:, 4] >= 4].astype(np.uint8)
    if len(marks) < 4:
        return
    split, _ = cv2.threshold(marks.reshape(1, -1), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    level = max(PALE_MIN, int(split))
    pale = darkest >= level
    pale[0] = False
    long_, short = np.maximum(st[:, 2], st[:, 3]), np.minimum(st[:, 2], st[:, 3])
    big = (short >= MIN_SIDE_MM * mm) & (st[:, 4] <= MAX_FILL * st[:, 2] * st[:, 3])
    piece = (long_ >= PIECE_LONG_MM * mm) & (st[:, 4] <= PIECE_THIN_MM * mm * long_)  # a bit of an arc
    run = max(3, round(4 * mm))
    for i in np.nonzero((big | piece) & ~pale)[0]:
        x, y, bw, bh = (int(v) for v in st[i, :4])
        sub = crop[y : y + bh, x : x + bw]
        comp = (labels[y : y + bh, x : x + bw] == i).astype(np.uint8)
        if cv2.mean(sub, mask=comp)[0] < PALE_MIN:
            continue  # black ink: what is left of the signature with the letters it runs through
        if big[i]:
            straight = cv2.bitwise_or(
                cv2.morphologyEx(comp, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1))),
                cv2.morphologyEx(comp, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, run))))
            if cv2.countNonZero(straight) > MAX_STRAIGHT * st[i, 4]:
                continue  # a frame or a rule
        # an arc of the ring (or a bit of one), perhaps run into the letters it is printed over:
        # its grey goes, the letters' dark cores stay
        sub[(comp > 0) & (sub >= level)] = 255
    if pale.any():
        crop[pale[labels]] = 255
