"""A page as a phone camera sees it: a quadrilateral on a table, turned, unevenly lit.

Citizens submit papers online as phone photos and clerks capture ID cards the same way. `photograph()`
puts a rendered page (or card) into such a photo: perspective from a tilted camera, turned by any
angle, on a textured table (wood grain, a patterned cloth, or a plain dark desk), a light gradient
and a soft vignette, sensor noise, a little blur and JPEG. The truth is where the page's four
corners landed (top-left, top-right, bottom-right, bottom-left of the upright page).
"""

from __future__ import annotations

import io
import random

import cv2
import numpy as np
from PIL import Image

from samples.cards import CardSpec
from samples.render import Ctx, LaidPage, Line, rasterise

TABLES = ("wood", "cloth", "desk")


def _table(rng: random.Random, h: int, w: int) -> np.ndarray:
    """An RGB table top: wood grain, a woven cloth with a pattern, or a dark desk with clutter."""
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    kind = rng.choice(TABLES)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "wood":
        base = np.array([rng.uniform(120, 170), rng.uniform(80, 115), rng.uniform(45, 70)], np.float32)
        warp = cv2.GaussianBlur(nrng.normal(0, 1, (h // 8 + 1, w // 8 + 1)).astype(np.float32), (0, 0), 3)
        warp = cv2.resize(warp, (w, h)) * 40
        grain = np.sin((yy + warp) / rng.uniform(6, 14)) * 0.5 + 0.5
        fine = cv2.GaussianBlur(nrng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.5) * 0.15
        f = 0.75 + 0.3 * grain + fine
        img = base[None, None, :] * f[:, :, None]
    elif kind == "cloth":
        base = np.array([rng.uniform(40, 200) for _ in range(3)], np.float32)
        period = rng.uniform(12, 30)
        check = ((np.floor(xx / period) + np.floor(yy / period)) % 2).astype(np.float32)
        weave = np.sin(xx * 1.3) * np.sin(yy * 1.3) * 0.06
        f = 0.8 + 0.2 * check + weave
        img = base[None, None, :] * f[:, :, None]
    else:
        base = np.array([rng.uniform(35, 80)] * 3, np.float32) + np.array([rng.uniform(-8, 8) for _ in range(3)],
                                                                         np.float32)
        img = np.broadcast_to(base, (h, w, 3)).copy()
        for _ in range(rng.randint(2, 5)):  # pens, a mug, papers lying around: edges that are no page
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            col = tuple(float(rng.uniform(0, 255)) for _ in range(3))
            if rng.random() < 0.5:
                cv2.circle(img, (int(cx), int(cy)), int(rng.uniform(0.03, 0.08) * w), col, -1)
            else:
                ang = rng.uniform(0, np.pi)
                d = rng.uniform(0.1, 0.25) * w
                p0 = (int(cx - np.cos(ang) * d), int(cy - np.sin(ang) * d))
                p1 = (int(cx + np.cos(ang) * d), int(cy + np.sin(ang) * d))
                cv2.line(img, p0, p1, col, max(3, int(0.008 * w)))
    return img.clip(0, 255).astype(np.float32)


def photograph(page: Image.Image, rng: random.Random, *, long_side: int = 2000, fill: tuple[float, float] = (0.6, 0.85),
               max_turn: float = 30.0, quarter: int | None = None) -> tuple[Image.Image, list[list[float]], str]:
    """(photo, corners of the page in it, description). `quarter`: a clockwise quarter turn of the
    whole photo (90 / 180 / 270; a card photographed sideways), random if None (mostly 0)."""
    src = np.asarray(page.convert("RGB"), dtype=np.float32)
    ph, pw = src.shape[:2]
    portrait = rng.random() < 0.5 if ph > pw else rng.random() < 0.3
    H, W = (long_side, round(long_side * 0.75)) if portrait else (round(long_side * 0.75), long_side)
    frac = rng.uniform(*fill)
    turn = rng.uniform(-max_turn, max_turn)
    # a pinhole camera (principal point at the centre, a phone's ~70° field of view) above the page,
    # the page turned in its plane, tilted towards or away from the camera, off centre
    focal = 0.7 * max(H, W)
    tilt_x, tilt_y = np.radians(rng.uniform(-18, 18)), np.radians(rng.uniform(-18, 18))
    a = np.radians(turn)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(tilt_x), -np.sin(tilt_x)], [0, np.sin(tilt_x), np.cos(tilt_x)]])
    ry = np.array([[np.cos(tilt_y), 0, np.sin(tilt_y)], [0, 1, 0], [-np.sin(tilt_y), 0, np.cos(tilt_y)]])
    rot = ry @ rx @ rz
    flat = np.array([[-pw / 2, -ph / 2, 0], [pw / 2, -ph / 2, 0], [pw / 2, ph / 2, 0], [-pw / 2, ph / 2, 0]], float)
    shift = np.array([rng.uniform(-0.04, 0.04) * W, rng.uniform(-0.04, 0.04) * H, 0.0])

    def project(dist: float) -> np.ndarray:
        pts = flat @ rot.T + shift * dist / focal + [0, 0, dist]
        return np.stack([focal * pts[:, 0] / pts[:, 2] + W / 2, focal * pts[:, 1] / pts[:, 2] + H / 2], axis=1)

    # the distance at which the page's outline spans `frac` of the frame (and stays inside it)
    lo_d, hi_d = 0.05 * focal, 50.0 * focal * max(ph, pw) / min(H, W)
    for _ in range(40):
        mid = (lo_d + hi_d) / 2
        q = project(mid)
        span = max((q[:, 0].max() - q[:, 0].min()) / W, (q[:, 1].max() - q[:, 1].min()) / H)
        inside = q.min() >= 0.02 * min(H, W) and (q[:, 0].max() <= W * 0.98) and (q[:, 1].max() <= H * 0.98)
        if span > frac or not inside:
            lo_d = mid
        else:
            hi_d = mid
    dst = project(hi_d)
    tilt = float(np.degrees(max(abs(tilt_x), abs(tilt_y))))
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]]), np.float32(dst))
    warped = cv2.warpPerspective(src, m, (W, H), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.ones((ph, pw), np.float32), m, (W, H), flags=cv2.INTER_LINEAR)
    table = _table(rng, H, W)
    # the page's shadow on the table, down-right of it
    shadow = cv2.GaussianBlur(np.roll(mask, (int(0.006 * H), int(0.006 * W)), axis=(0, 1)), (0, 0), 0.008 * W)
    table *= (1 - 0.35 * shadow)[:, :, None]
    img = warped * mask[:, :, None] + table * (1 - mask[:, :, None])
    # light: a gradient across the frame, a vignette, a warm or cool cast
    gx, gy = rng.uniform(-1, 1), rng.uniform(-1, 1)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    grad = ((xx / W - 0.5) * gx + (yy / H - 0.5) * gy)
    lo_light = rng.uniform(0.6, 0.8)
    light = 1.0 - (1.0 - lo_light) * (grad - grad.min()) / max(1e-6, float(grad.max() - grad.min()))
    r2 = ((xx / W - 0.5) ** 2 + (yy / H - 0.5) ** 2) / 0.5
    light *= 1.0 - rng.uniform(0.05, 0.2) * r2
    cast = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 1.0)], np.float32)
    if rng.random() < 0.4:
        cast = cast[::-1].copy()
    img = img * light[:, :, None] * cast[None, None, :]
    img += np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(1.5, 3.5), img.shape)
    out = Image.fromarray(img.clip(0, 255).astype(np.uint8))
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=rng.randint(75, 90))
    out = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    if quarter is None:
        quarter = rng.choice((0, 0, 0, 90, 270, 180))
    corners = [[float(x), float(y)] for x, y in dst]
    if quarter:
        out, corners = _turn(out, corners, quarter)
    desc = f"photo(turn={turn:.1f},tilt={tilt:.0f}deg,fill={frac:.2f},quarter={quarter})"
    return out, corners, desc


def _turn(img: Image.Image, corners: list[list[float]], quarter: int) -> tuple[Image.Image, list[list[float]]]:
    """The photo turned clockwise by `quarter` degrees, and the corners with it."""
    w, h = img.size
    out = img.transpose({90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
                         270: Image.Transpose.ROTATE_90}[quarter])
    moved = []
    for x, y in corners:
        if quarter == 90:
            moved.append([h - y, x])
        elif quarter == 180:
            moved.append([w - x, h - y])
        else:
            moved.append([y, w - x])
    return out, moved


def card_alone(spec: CardSpec, dpi: int) -> tuple[Image.Image, list[Line]]:
    """One card side drawn alone, cut at its rounded edge (what a clerk photographs), and its lines.
    The card is the enlarged copy's drawing: its aspect is the card's (85.6 x 54 mm)."""
    ctx = Ctx(dpi)
    atom = spec.atom(ctx, 0.0, ctx.mm(spec.width_mm))
    img = rasterise(LaidPage(atom.ops, atom.lines), ctx)
    w = round(ctx.mm(spec.width_mm))
    h = round(atom.height)
    # the card's own outline (the rrect) is kept inside the cut: a pixel of table on every side
    return img.crop((0, 0, w + 1, h + 1)), atom.lines
