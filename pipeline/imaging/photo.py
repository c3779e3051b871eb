"""Phone photos of a page: find the document's four corners, warp it flat, even out the light.

A photo is not a scan: the page is a quadrilateral (perspective, turned by any angle) on a table
that is darker or more colourful than paper, and the light falls off across it. The rest of the
cleaning chain expects a page that fills the image, so a photo is straightened first:

1. candidates for the page outline, on a ~800 px view: the largest bright, low-chroma region
   (paper against the table), and closed contours of the edge map (Canny) — each reduced to its
   convex hull and then to four corners (`approxPolyDP`, or the hull's best quadrilateral);
2. each candidate is checked on the image: every side must run along a real edge, the page must
   be clearly lighter than what is around it, and there must be enough table around it. A flatbed
   scan fails these (the page fills the image; a scanner border is a thin strip, left to
   `remove_border`), as does an ID-card copy on a white page (its surround is paper);
3. the corners are refined on the full image (the strongest edge across each side, a robust line
   fit per side, the sides intersected), the page's true aspect is recovered from the perspective
   (Zhang & He's rectangle method) and snapped to A4/A5 or an ID card when close, and the page is
   warped to that rectangle at the resolution it had in the photo; its dpi follows from the format;
4. the light is evened out by dividing each channel by its paper brightness
   (`clean_tone.normalise_background`): gradient, vignette and colour cast go, ink keeps its contrast.

The quarter turn of the straightened page (a card photographed sideways) is left to the chain's
orientation step, which runs next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.imaging import clean_tone
from pipeline.imaging.analysis import estimate_background, to_gray

VIEW_PX = 800  # long side of the detection view
MIN_AREA = 0.08  # the page covers at least this share of the photo ...
MAX_AREA = 0.93  # ... and leaves at least this much table around it (else: a scan, or a cropped photo)
MIN_SUPPORT = 0.55  # share of each side that must run along an edge of the image
MIN_CONTRAST = 0.12  # the paper is at least this much lighter (relative) than the table around it
FORMATS = {"a4": (210.0, 297.0), "card": (53.98, 85.6), "letter": (215.9, 279.4)}
SNAP = 0.07  # an aspect within this (relative) of a format's is that format


@dataclass
class Straightened:
    pixels: np.ndarray  # the page, flat, light evened out (grey or RGB like the input)
    dpi: float  # from the format the page's aspect says it is
    corners: np.ndarray  # 4 x 2, float: top-left, top-right, bottom-right, bottom-left in the photo
    paper: str  # a4 | card | letter | other


# --------------------------------------------------------------------------------------------
# Candidates


def _order(quad: np.ndarray) -> np.ndarray:
    """Corners clockwise from the one nearest the image's top-left (image coordinates, y down)."""
    q = quad.reshape(4, 2).astype(np.float64)
    c = q.mean(axis=0)
    ang = np.arctan2(q[:, 1] - c[1], q[:, 0] - c[0])
    q = q[np.argsort(ang)]  # clockwise on screen (y down)
    start = int(np.argmin(q[:, 0] + q[:, 1]))
    return np.roll(q, -start, axis=0)


def _quad_from_hull(hull: np.ndarray) -> np.ndarray | None:
    """Four corners of a convex outline: approxPolyDP with a growing tolerance, else the four hull
    points that span the largest quadrilateral."""
    peri = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.04, 0.06, 0.08):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4 and cv2.isContourConvex(approx):
            return _order(approx)
        if len(approx) < 4:
            break
    pts = hull.reshape(-1, 2).astype(np.float64)
    if len(pts) < 4:
        return None
    if len(pts) > 60:
        pts = pts[np.linspace(0, len(pts) - 1, 60).astype(int)]
    rect = cv2.boxPoints(cv2.minAreaRect(pts.astype(np.float32)))
    # each corner of the min-area rectangle picks its nearest hull point
    quad = np.array([pts[np.argmin(((pts - r) ** 2).sum(axis=1))] for r in rect])
    return _order(quad) if len({tuple(p) for p in quad}) == 4 else None


def _candidates(view: np.ndarray, rgb_view: np.ndarray | None) -> list[np.ndarray]:
    h, w = view.shape
    out: list[np.ndarray] = []
    k = max(3, round(min(h, w) * 0.02) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    # (a) paper: light and (in colour) without chroma, against the table
    light = view.astype(np.float32)
    if rgb_view is not None:
        mx = rgb_view.max(axis=2).astype(np.float32)
        mn = rgb_view.min(axis=2).astype(np.float32)
        light = mx - 1.5 * (mx - mn)
    light = cv2.GaussianBlur(np.clip(light, 0, 255).astype(np.uint8), (0, 0), 2)
    _, paper = cv2.threshold(light, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    paper = cv2.morphologyEx(paper, cv2.MORPH_CLOSE, kernel)  # text inside the page
    paper = cv2.morphologyEx(paper, cv2.MORPH_OPEN, kernel)  # thin bridges to light things on the table
    n, labels, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    for i in np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:2] + 1:
        if stats[i, cv2.CC_STAT_AREA] < MIN_AREA * h * w:
            break
        cs, _ = cv2.findContours((labels == i).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if cs:
            q = _quad_from_hull(cv2.convexHull(max(cs, key=cv2.contourArea)))
            if q is not None:
                out.append(q)
    # (b) closed outlines in the edge map
    blur = cv2.GaussianBlur(view, (0, 0), 1.5)
    med = float(np.median(blur))
    edges = cv2.Canny(blur, max(10.0, 0.5 * med), max(30.0, 1.2 * med))
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    cs, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    cs = sorted((c for c in cs if cv2.contourArea(cv2.convexHull(c)) >= MIN_AREA * h * w),
                key=lambda c: -cv2.contourArea(cv2.convexHull(c)))[:6]
    for c in cs:
        q = _quad_from_hull(cv2.convexHull(c))
        if q is not None:
            out.append(q)
    return out


# --------------------------------------------------------------------------------------------
# Checks


def _side_samples(a: np.ndarray, b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n points along the middle 80 % of side a->b, and the unit normal pointing left of a->b."""
    t = np.linspace(0.1, 0.9, n)[:, None]
    pts = a + (b - a) * t
    d = (b - a) / max(1e-9, float(np.linalg.norm(b - a)))
    return pts, np.array([d[1], -d[0]])


def _support(quad: np.ndarray, grad: np.ndarray, gray: np.ndarray) -> tuple[float, float, float, float]:
    """(smallest share of a side on an edge, paper level inside, table level outside, contrast)."""
    h, w = gray.shape
    centre = quad.mean(axis=0)
    shares, inside, outside = [], [], []
    reach = max(2.0, 0.012 * max(h, w))
    thr = max(8.0, float(np.percentile(grad, 90)) * 0.5)
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        pts, nrm = _side_samples(a, b, 40)
        if np.dot(centre - (a + b) / 2, nrm) < 0:
            nrm = -nrm  # pointing into the page
        hits = 0
        for p in pts:
            best = 0.0
            for s in np.linspace(-reach, reach, 7):
                x, y = int(round(p[0] + nrm[0] * s)), int(round(p[1] + nrm[1] * s))
                if 0 <= x < w and 0 <= y < h:
                    best = max(best, float(grad[y, x]))
            hits += best >= thr
            for sign, acc in ((1, inside), (-1, outside)):
                x, y = p + nrm * sign * 3 * reach
                xi, yi = int(round(x)), int(round(y))
                if 0 <= xi < w and 0 <= yi < h:
                    acc.append(float(gray[yi, xi]))
        shares.append(hits / len(pts))
    pin = float(np.median(inside)) if inside else 0.0
    pout = float(np.median(outside)) if len(outside) >= 20 else pin
    contrast = (pin - pout) / max(1.0, pin)
    return min(shares), pin, pout, contrast


def _good_shape(quad: np.ndarray) -> bool:
    """Convex, every angle 45-135°, no side under a fifth of the longest: a page seen in perspective."""
    if not cv2.isContourConvex(quad.astype(np.float32).reshape(-1, 1, 2)):
        return False
    sides = [float(np.linalg.norm(quad[(i + 1) % 4] - quad[i])) for i in range(4)]
    if min(sides) < 0.2 * max(sides):
        return False
    for i in range(4):
        u, v = quad[i - 1] - quad[i], quad[(i + 1) % 4] - quad[i]
        cosang = float(np.dot(u, v) / max(1e-9, np.linalg.norm(u) * np.linalg.norm(v)))
        if abs(cosang) > math.cos(math.radians(45)):
            return False
    return True


FRAME = 0.03  # the outer ring of the image looked at first


def _paper_frame(view: np.ndarray) -> bool:
    """The image's outer ring is mostly paper: a scan (or a photo cropped to the page), decided in
    a millisecond so that scans pay nothing for photo detection."""
    h, w = view.shape
    m = max(2, round(FRAME * min(h, w)))
    ring = np.concatenate([view[:m].ravel(), view[-m:].ravel(), view[:, :m].ravel(), view[:, -m:].ravel()])
    paper = float(np.percentile(view[::4, ::4], 90))
    return float(np.mean(ring >= 0.8 * paper)) >= 0.6


def find_page(pixels: np.ndarray) -> np.ndarray | None:
    """The page's four corners (full-image pixels, top-left first, clockwise) when the image is a
    photo of a page on a table; None for a scan (or a photo cropped to the page)."""
    step = max(1, max(pixels.shape[:2]) // 300)  # the ring check needs few pixels
    sub = pixels[::step, ::step, 1] if pixels.ndim == 3 else pixels[::step, ::step]  # green: near enough to grey
    if _paper_frame(np.ascontiguousarray(sub)):
        return None
    # the detection view by a whole factor (OpenCV's fast area path: ~10x a fractional resize)
    n = max(1, math.ceil(max(pixels.shape[:2]) / VIEW_PX))
    ph, pw = pixels.shape[:2]
    small = cv2.resize(pixels[: ph - ph % n, : pw - pw % n], (pw // n, ph // n), interpolation=cv2.INTER_AREA)
    f = 1.0 / n
    rgb_view = small if small.ndim == 3 else None
    view = to_gray(small)
    h, w = view.shape
    gx = cv2.Sobel(cv2.GaussianBlur(view, (0, 0), 1.0), cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(cv2.GaussianBlur(view, (0, 0), 1.0), cv2.CV_32F, 0, 1)
    grad = cv2.magnitude(gx, gy)
    best, best_score = None, 0.0
    for quad in _candidates(view, rgb_view):
        area = cv2.contourArea(quad.astype(np.float32)) / (h * w)
        if not MIN_AREA <= area <= MAX_AREA or not _good_shape(quad):
            continue
        support, _, _, contrast = _support(quad, grad, view)
        if support < MIN_SUPPORT or contrast < MIN_CONTRAST:
            continue
        score = area * support
        if score > best_score:
            best, best_score = quad, score
    if best is None:
        return None
    return _refine(to_gray(pixels), (best + 0.5) / f - 0.5, f)


# --------------------------------------------------------------------------------------------
# Refinement on the full image


def _intersect(l1: np.ndarray, l2: np.ndarray) -> np.ndarray | None:
    (vx1, vy1, x1, y1), (vx2, vy2, x2, y2) = l1, l2
    det = vx1 * (-vy2) - vy1 * (-vx2)
    if abs(det) < 1e-9:
        return None
    t = ((x2 - x1) * (-vy2) - (y2 - y1) * (-vx2)) / det
    return np.array([x1 + vx1 * t, y1 + vy1 * t])


def _refine(gray: np.ndarray, quad: np.ndarray, f: float) -> np.ndarray:
    """Each side moved onto the strongest edge near it in the full image (a robust line fit through
    60 edge points), the corners being the sides' intersections. A side that finds too few edge
    points keeps its coarse position."""
    h, w = gray.shape
    sm = cv2.GaussianBlur(gray, (0, 0), max(1.0, 0.7 / f))
    reach = max(3.0, 2.5 / f)
    steps = np.arange(-reach, reach + 0.5, 0.5)
    lines = []
    centre = quad.mean(axis=0)
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        pts, nrm = _side_samples(a, b, 60)
        if np.dot(centre - (a + b) / 2, nrm) < 0:
            nrm = -nrm
        xs = pts[:, 0:1] + nrm[0] * steps[None, :]
        ys = pts[:, 1:2] + nrm[1] * steps[None, :]
        prof = cv2.remap(sm.astype(np.float32), xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
        d = np.abs(np.diff(prof, axis=1))
        k = d.argmax(axis=1)
        strong = d[np.arange(len(k)), k] >= max(4.0, 0.3 * float(np.median(d.max(axis=1))))
        found = np.stack([xs[np.arange(len(k)), k] + nrm[0] * 0.25, ys[np.arange(len(k)), k] + nrm[1] * 0.25], axis=1)
        found = found[strong]
        if len(found) >= 15:
            line = cv2.fitLine(found.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        else:
            dv = (b - a) / max(1e-9, float(np.linalg.norm(b - a)))
            line = np.array([dv[0], dv[1], a[0], a[1]])
        lines.append(line)
    out = []
    for i in range(4):
        p = _intersect(lines[i - 1], lines[i])
        if p is None or np.linalg.norm(p - quad[i]) > 4 * reach:
            p = quad[i]
        out.append(np.clip(p, [0, 0], [w - 1, h - 1]))
    return np.array(out)


# --------------------------------------------------------------------------------------------
# Aspect, warp, light


def page_aspect(quad: np.ndarray, size: tuple[int, int]) -> float:
    """Width / height of the real rectangle seen as `quad` (Zhang & He 2007: the camera's focal
    length from the perspective, principal point at the image centre); the side lengths' ratio when
    the sides are too close to parallel for the focal length to be known."""
    h, w = size
    tl, tr, br, bl = quad
    widths = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    heights = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    measured = widths / max(1e-9, heights)
    c = np.array([w / 2, h / 2])
    m1, m2, m3, m4 = (np.append(p - c, 1.0) for p in (tl, tr, bl, br))
    try:
        k2 = np.dot(np.cross(m1, m4), m3) / np.dot(np.cross(m2, m4), m3)
        k3 = np.dot(np.cross(m1, m4), m2) / np.dot(np.cross(m3, m4), m2)
    except FloatingPointError:
        return measured
    n2, n3 = k2 * m2 - m1, k3 * m3 - m1
    if abs(n2[2] * n3[2]) < 1e-9:
        return measured
    f2 = -(n2[0] * n3[0] + n2[1] * n3[1]) / (n2[2] * n3[2])
    if not (0.09 * max(h, w) ** 2 <= f2 <= 100 * max(h, w) ** 2):
        return measured  # nearly parallel sides: no usable focal length
    num = n2[0] ** 2 / f2 + n2[1] ** 2 / f2 + n2[2] ** 2
    den = n3[0] ** 2 / f2 + n3[1] ** 2 / f2 + n3[2] ** 2
    ratio = math.sqrt(num / den) if den > 0 and num > 0 else measured
    return ratio if 0.5 * measured <= ratio <= 2 * measured else measured


def _format(aspect: float) -> tuple[str, float]:
    """(format name, its long/short ratio) for a long/short ratio; 'other' keeps the ratio."""
    best, err = "other", SNAP
    for name, (short, long) in FORMATS.items():
        e = abs(aspect / (long / short) - 1)
        if e < err:
            best, err = name, e
    if best == "other":
        return best, aspect
    short, long = FORMATS[best]
    return best, long / short


def even_light(img: np.ndarray, dpi: float) -> np.ndarray:
    """Each channel divided by its paper brightness: light falloff and colour cast go."""
    if img.ndim == 2:
        return clean_tone.normalise_background(img, estimate_background(img, dpi))
    return np.dstack([clean_tone.normalise_background(np.ascontiguousarray(img[:, :, c]),
                                                      estimate_background(np.ascontiguousarray(img[:, :, c]), dpi))
                      for c in range(img.shape[2])])


def straighten(pixels: np.ndarray) -> Straightened | None:
    """The page of a phone photo, flat and evenly lit, with its dpi; None when `pixels` is no photo
    of a page on a table (a scan: left untouched)."""
    quad = find_page(pixels)
    if quad is None:
        return None
    tl, tr, br, bl = quad
    widths = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    heights = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    aspect = page_aspect(quad, pixels.shape[:2])
    landscape = aspect > 1
    name, ratio = _format(max(aspect, 1 / aspect))
    long_px = max(widths, heights)  # the resolution the page had where the camera saw it best
    short_px = long_px / ratio
    out_w, out_h = (long_px, short_px) if landscape else (short_px, long_px)
    out_w, out_h = max(16, round(out_w)), max(16, round(out_h))
    dst = np.float32([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]])
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    flat = cv2.warpPerspective(pixels, m, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    long_mm = FORMATS[name][1] if name != "other" else FORMATS["a4"][1]
    dpi = max(out_w, out_h) / (long_mm / 25.4)
    return Straightened(even_light(flat, dpi), dpi, quad, name)


__all__ = ["Straightened", "even_light", "find_page", "page_aspect", "straighten"]
