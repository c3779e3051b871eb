"""Generate realistic scanned Vietnamese administrative dossiers with exact ground truth.

The pipeline has to be measured on something whose answer is known: these dossiers are rendered
(not scanned), so every page's text, line boxes, rotation, skew, document type and the metadata
of every component are known exactly, and written to `<dossier_id>.truth.json` beside the input.

    python -m samples.generate --out DIR [--dossiers N] [--seed S] [--dpi 300]
                               [--format pdf|jpg-folder|tiff|png|mixed] [--degrade none|light|mixed]
    python -m samples.generate --demo samples/dossiers     # regenerate the committed samples

Importable: `render_document`, `make_dossier`, `write_dossier`, `degrade`, `truth_dict`.
Everything is deterministic for a given seed (and the same Pillow/libjpeg and fonts).

Conventions of the truth file (see samples/README.md):
- `rotation`: clockwise quarter turn applied to the page content (0/90/180/270); the pipeline undoes it.
- `skew_deg`: small clockwise rotation of the content, in degrees, applied before `rotation`.
- `lines[].box`: [x0, y0, x1, y1] ink box in pixels of the upright, unskewed page.
- blank separator pages have `blank: true`, `type: null`, `component: null`, `text: ""`.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import img2pdf
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from pipeline.textnorm import nfc
from samples import content
from samples.content import PROCEDURES, DocSpec
from samples.handwriting import handwrite_blanks
from samples.photo import photograph
from samples.render import Ctx, Line, layout, rasterise

FORMATS = ("pdf", "jpg-folder", "tiff", "png")
DEGRADE_KINDS = ("none", "light", "medium")


@dataclass
class PageImage:
    """One page as scanned: the image, its ground-truth lines and how it was degraded."""

    image: Image.Image
    lines: list[Line]
    type: str | None
    component: int | None
    blank: bool = False
    rotation: int = 0
    skew_deg: float = 0.0
    ops: list[str] = field(default_factory=list)
    corners: list[list[float]] | None = None  # a phone photo: where the page's corners are in it
    handwritten: list[str] = field(default_factory=list)  # header blanks written by hand: "so", "day"

    @property
    def text(self) -> str:
        return "\n".join(ln.text for ln in self.lines)


@dataclass
class Component:
    index: int
    type: str
    pages: list[int]
    metadata: dict


@dataclass
class Dossier:
    dossier_id: str
    procedure: str
    dpi: int
    pages: list[PageImage]
    components: list[Component]


# --------------------------------------------------------------------------------------------
# Rendering


def render_document(doc: DocSpec, dpi: int, rng: random.Random,
                    hand: random.Random | None = None) -> list[PageImage]:
    """Lay out and draw one document; pages are upright and clean (see `degrade`). With `hand`, the
    header number and day of the first page are written by hand (`samples.handwriting`)."""
    seed = doc.seed or rng.randrange(1 << 30)
    for scale in (1.0, 0.96, 0.92, 0.88, 0.85) if doc.max_pages else (1.0,):
        ctx = Ctx(dpi, scale)
        pages = layout(doc.blocks, ctx, seed=seed, footer=doc.footer)
        if doc.max_pages is None or len(pages) <= doc.max_pages:
            break
    written = handwrite_blanks(pages[0], hand) if hand is not None and pages else []
    return [PageImage(rasterise(pg, ctx, doc.paper), pg.lines, doc.type, None, handwritten=written if i == 0 else [])
            for i, pg in enumerate(pages)]


def blank_page(dpi: int, rng: random.Random) -> PageImage:
    """A separator sheet: white paper, nothing printed (the scanner adds the noise)."""
    return PageImage(Image.new("RGB", Ctx(dpi).size, (255, 255, 255)), [], None, None, blank=True)


# --------------------------------------------------------------------------------------------
# Scan degradations


@dataclass(frozen=True)
class DegradeParams:
    skew: float  # max |skew| in degrees
    skew_p: float
    rotate_p: float
    grey_p: float
    grey: tuple[float, float]
    noise: tuple[float, float]  # gaussian sigma range
    speckle: int
    blur_p: float
    blur: float  # radius at 300 dpi
    jpeg_p: float
    jpeg_q: tuple[int, int]


PARAMS = {
    "none": DegradeParams(0, 0, 0, 0, (1, 1), (0, 0), 0, 0, 0, 0, (90, 90)),
    "light": DegradeParams(1.2, 0.6, 0.0, 0.3, (0.95, 0.985), (0.5, 1.2), 15, 0.5, 0.5, 0.2, (60, 75)),
    "medium": DegradeParams(3.0, 0.8, 0.06, 0.6, (0.86, 0.95), (3.0, 6.0), 300, 0.5, 0.8, 0.5, (35, 55)),
}


def degrade(
    img: Image.Image,
    kind: str,
    rng: random.Random,
    *,
    rotation: int | None = None,
    skew_deg: float | None = None,
    dpi: int = 300,
) -> tuple[Image.Image, int, float, list[str]]:
    """Make a clean page look scanned; return (image, rotation, skew_deg, list of applied ops).

    Skew (clockwise, degrees) is applied first, then the quarter turn (clockwise), then the
    photometric damage: grey photocopy background, gaussian noise, speckle, blur, JPEG artefacts.
    `rotation` / `skew_deg` force those values (the demo samples use this).
    """
    prm = PARAMS[kind]
    nrng = np.random.default_rng(rng.getrandbits(63))
    ops: list[str] = []
    if skew_deg is None:
        skew_deg = round(rng.uniform(-prm.skew, prm.skew), 2) if rng.random() < prm.skew_p else 0.0
    if rotation is None:
        rotation = rng.choice([90, 180, 180, 270]) if rng.random() < prm.rotate_p else 0
    bg = img.getpixel((2, 2))
    if skew_deg:
        img = img.rotate(-skew_deg, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=bg)
        ops.append(f"skew:{skew_deg}")
    if rotation:
        img = img.transpose(
            {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}[
                rotation
            ]
        )
        ops.append(f"rotate:{rotation}")
    arr = np.asarray(img, dtype=np.float32)
    h, w = arr.shape[:2]
    if rng.random() < prm.grey_p:
        lo, hi = prm.grey
        small = nrng.uniform(lo, hi, size=(6, 4)).astype(np.float32)
        fieldimg = Image.fromarray(small, mode="F").resize((w, h), Image.Resampling.BICUBIC)
        arr *= np.asarray(fieldimg, dtype=np.float32)[..., None]
        ops.append("grey")
    if prm.noise[1] > 0:
        sigma = rng.uniform(*prm.noise)
        arr += nrng.normal(0.0, sigma, size=(h, w, 1)).astype(np.float32)
        ops.append(f"noise:{sigma:.1f}")
    if prm.speckle:
        n = rng.randint(prm.speckle // 3, prm.speckle)
        ys, xs = nrng.integers(0, h, n), nrng.integers(0, w, n)
        r = max(1, round(dpi / 200))
        for y, x in zip(ys, xs, strict=True):
            arr[max(0, y - r) : y + r, max(0, x - r) : x + r] *= 0.35
        ops.append(f"speckle:{n}")
    img = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    if rng.random() < prm.blur_p:
        img = img.filter(ImageFilter.GaussianBlur(prm.blur * dpi / 300))
        ops.append("blur")
    if rng.random() < prm.jpeg_p:
        q = rng.randint(*prm.jpeg_q)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=q)
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
        ops.append(f"jpeg:{q}")
    return img, rotation, float(skew_deg), ops


# --------------------------------------------------------------------------------------------
# Harder scan damage, one kind at a time (the OCR-quality bench composes them).
# None of this is used by `make_dossier`, so the committed samples do not depend on it.

# Paper-level damage is applied to the upright page before skew/rotation (it is on the sheet);
# scan-level damage after it (it comes from the scanner or copier).
PAPER_DAMAGE = ("stamp", "yellow")
SCAN_DAMAGE = ("border", "shadow", "photocopy", "speckle", "noise", "blur_jpeg", "reduced", "tiny", "lowres")
LOWRES_DPI = 150  # a cheap scanner's or a fax's resolution (fine mode is 200 x 200, standard 200 x 100)

STAMP_RINGS = (
    "ỦY BAN NHÂN DÂN XÃ HÒA BÌNH * HUYỆN CÁT HẢI",
    "ỦY BAN NHÂN DÂN HUYỆN THANH OAI * TP HÀ NỘI",
    "VĂN PHÒNG ĐĂNG KÝ ĐẤT ĐAI * TỈNH NAM ĐỊNH",
)


def _smooth_field(nrng: np.random.Generator, h: int, w: int, lo: float, hi: float, grid=(6, 4)) -> np.ndarray:
    small = nrng.uniform(lo, hi, size=grid).astype(np.float32)
    return np.asarray(Image.fromarray(small, mode="F").resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32)


def _stamp_over_text(img: Image.Image, rng: random.Random, dpi: int) -> tuple[Image.Image, str]:
    """A round stamp (red, sometimes violet-blue) and a blue signature, both across text lines."""
    from samples.render import BLUE_INK, STAMP_RED, Ctx, ScribbleOp, StampOp, draw_scribble, stamp_mask

    ctx = Ctx(dpi)
    w, h = img.size
    colour = STAMP_RED if rng.random() < 0.75 else (70, 50, 165)
    r = ctx.mm(rng.uniform(15.0, 18.0))
    cx, cy = rng.uniform(0.3, 0.75) * w, rng.uniform(0.3, 0.8) * h
    mask, ox, oy = stamp_mask(StampOp(cx, cy, r, rng.choice(STAMP_RINGS), colour, rng.randrange(1 << 30)), ctx)
    arr = np.asarray(img, dtype=np.float32).copy()
    a = np.asarray(mask, dtype=np.float32) / 255.0
    x0, y0 = max(ox, 0), max(oy, 0)
    x1, y1 = min(ox + a.shape[1], w), min(oy + a.shape[0], h)
    a = a[y0 - oy : y1 - oy, x0 - ox : x1 - ox, None]
    col = np.array(colour, dtype=np.float32) / 255.0
    arr[y0:y1, x0:x1] *= 1.0 - a * (1.0 - col)
    # the signature: drawn on its own layer, multiplied like ink over ink
    layer = Image.new("RGB", (w, h), (255, 255, 255))
    sx, sy = rng.uniform(0.35, 0.6) * w, rng.uniform(0.3, 0.8) * h
    sw, sh = ctx.mm(rng.uniform(35, 50)), ctx.mm(rng.uniform(12, 18))
    draw_scribble(ImageDraw.Draw(layer), ScribbleOp(sx, sy, sx + sw, sy + sh, BLUE_INK, rng.randrange(1 << 30)), ctx)
    arr *= np.asarray(layer, dtype=np.float32) / 255.0
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8)), "stamp"


def damage(img: Image.Image, kind: str, rng: random.Random, *, dpi: int = 300) -> tuple[Image.Image, str]:
    """Apply one kind of damage (PAPER_DAMAGE or SCAN_DAMAGE); return the image and an op label.

    stamp: a stamp and a signature over the text; yellow: aged paper (tint, faded ink, stains);
    border: dark scanner-lid border on 1-3 sides with a soft shadow along the paper edge;
    shadow: uneven lighting (a dark gutter band and a gradient); photocopy: grey mottled background,
    toner grain and specks, a copier streak; speckle: dense dark specks and a few dirt spots;
    noise: strong sensor noise; blur_jpeg: out of focus and heavily JPEG-compressed; reduced: the
    page copied at 60-70 % (small print; the lines keep their order, so `row_major_text` holds);
    tiny: copied at 45-52 % (~6 pt print, an ID card's); lowres: scanned at LOWRES_DPI (the image
    is then at that resolution, not `dpi`).
    """
    if kind == "stamp":
        return _stamp_over_text(img, rng, dpi)
    if kind in ("reduced", "tiny"):  # copied at 60-70 %: small print (an ID card copied 1:1 is like this)
        f = rng.uniform(0.6, 0.7) if kind == "reduced" else rng.uniform(0.45, 0.52)  # tiny: 6 pt print
        w, h = img.size
        small = img.resize((round(w * f), round(h * f)), Image.Resampling.LANCZOS)
        page = Image.new("RGB", (w, h), img.getpixel((2, 2)))
        page.paste(small, (round(w * (1 - f) / 2), round(h * (1 - f) / 3)))
        return page, f"{kind}:{f:.2f}"
    if kind == "lowres":  # scanned at LOWRES_DPI: the page is smaller in pixels, the text is not
        f = LOWRES_DPI / dpi
        w, h = img.size
        return img.resize((round(w * f), round(h * f)), Image.Resampling.BOX), f"lowres:{LOWRES_DPI}"
    nrng = np.random.default_rng(rng.getrandbits(63))
    arr = np.asarray(img.convert("RGB"), dtype=np.float32).copy()
    h, w = arr.shape[:2]
    s = dpi / 300
    if kind == "yellow":
        ink = 255.0 - (255.0 - arr) * rng.uniform(0.7, 0.85)  # faded ink
        tint = np.array([1.0, rng.uniform(0.9, 0.95), rng.uniform(0.7, 0.8)], np.float32) * rng.uniform(0.9, 0.97)
        arr = ink * tint
        for _ in range(rng.randint(2, 4)):  # brownish stains
            cy, cx, rad = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.05, 0.15) * w
            yy, xx = np.ogrid[:h, :w]
            blob = np.exp(-(((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rad * rad))).astype(np.float32)
            arr *= 1.0 - rng.uniform(0.08, 0.15) * blob[..., None] * np.array([0.6, 0.9, 1.0], np.float32)
        label = "yellow"
    elif kind == "border":
        sides = rng.sample(["left", "right", "top", "bottom"], rng.randint(1, 3))
        yy, xx = np.mgrid[:h, :w].astype(np.float32)
        for side in sides:
            frac = rng.uniform(0.012, 0.03) if side in ("right", "bottom") else rng.uniform(0.015, 0.045)
            along, across, size = (yy, xx, w) if side in ("left", "right") else (xx, yy, h)
            dist = across if side in ("left", "top") else (size - 1 - across)
            edge = frac * size + rng.uniform(-0.006, 0.006) * (along - along.mean())  # slightly tilted paper edge
            depth = dist - edge  # < 0 outside the paper
            shade = 1.0 - 0.45 * np.exp(-np.clip(depth, 0, None) / (rng.uniform(2.0, 5.0) * dpi / 25.4))
            level = rng.uniform(15, 55)
            outside = np.clip(-depth / (2 * s) + 0.5, 0, 1)  # soft 2 px edge
            arr = arr * (shade * (1 - outside))[..., None] + (level * outside)[..., None]
        arr += nrng.normal(0, 4, size=(h, w, 1)).astype(np.float32)
        label = "border:" + "+".join(sides)
    elif kind == "shadow":
        xx = np.linspace(0, 1, w, dtype=np.float32)[None, :]
        yy = np.linspace(0, 1, h, dtype=np.float32)[:, None]
        if rng.random() < 0.5:
            xx = 1 - xx
        band = 1.0 - rng.uniform(0.35, 0.5) * np.exp(-xx / rng.uniform(0.08, 0.18))
        grad = 1.0 - rng.uniform(0.1, 0.25) * (yy if rng.random() < 0.5 else 1 - yy)
        arr *= (band * grad)[..., None]
        label = "shadow"
    elif kind == "photocopy":
        g = arr.mean(axis=2, keepdims=True)
        g = 255.0 - (255.0 - g) * rng.uniform(0.8, 0.95)
        bg = _smooth_field(nrng, h, w, rng.uniform(0.72, 0.8), rng.uniform(0.82, 0.9), grid=(8, 6))
        g = g * bg[..., None] + nrng.normal(0, 7, size=(h, w, 1)).astype(np.float32)
        n = int(rng.randint(300, 700) * s * s)
        for y, x in zip(nrng.integers(0, h, n), nrng.integers(0, w, n), strict=True):
            r = max(1, round(s * rng.choice((1, 1, 2))))
            g[y : y + r, x : x + r] *= 0.3
        x = rng.randint(round(0.1 * w), round(0.9 * w))
        g[:, x : x + max(2, round(3 * s))] *= 0.85  # a streak from dirt on the copier glass
        arr = np.repeat(g, 3, axis=2)
        label = "photocopy"
    elif kind == "speckle":
        n = int(rng.randint(800, 2000) * s * s)
        for y, x in zip(nrng.integers(0, h, n), nrng.integers(0, w, n), strict=True):
            r = max(1, round(s * rng.choice((1, 1, 2))))
            arr[y : y + r, x : x + r] *= rng.uniform(0.15, 0.4)
        for y, x in zip(nrng.integers(0, h, 12), nrng.integers(0, w, 12), strict=True):  # dirt spots
            r = max(2, round(s * rng.uniform(2, 4)))
            arr[y : y + r, x : x + r + 1] *= 0.3
        label = f"speckle:{n}"
    elif kind == "noise":
        sigma = rng.uniform(10, 16)
        arr += nrng.normal(0, sigma, size=(h, w, 1)).astype(np.float32)
        label = f"noise:{sigma:.0f}"
    elif kind == "blur_jpeg":
        q = rng.randint(25, 40)
        out = Image.fromarray(arr.clip(0, 255).astype(np.uint8)).filter(
            ImageFilter.GaussianBlur(rng.uniform(1.0, 1.4) * s)
        )
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=q)
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), f"blur_jpeg:{q}"
    else:
        raise ValueError(f"unknown damage {kind!r}; known: {PAPER_DAMAGE + SCAN_DAMAGE}")
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8)), label


def bleed_through(blank: Image.Image, back: Image.Image, rng: random.Random) -> tuple[Image.Image, str]:
    """The back side of a printed sheet showing through a blank page: mirrored, faint, blurred."""
    strength = rng.uniform(0.08, 0.22)
    ghost = back.convert("L").transpose(Image.Transpose.FLIP_LEFT_RIGHT).filter(ImageFilter.GaussianBlur(2))
    ghost = ghost.resize(blank.size)
    g = np.asarray(ghost, dtype=np.float32)[..., None] / 255.0
    arr = np.asarray(blank.convert("RGB"), dtype=np.float32) * (1.0 - strength * (1.0 - g))
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8)), f"bleed:{strength:.2f}"


# --------------------------------------------------------------------------------------------
# Dossiers


def make_dossier(
    rng: random.Random,
    procedure: str | None = None,
    dpi: int = 300,
    degrade: str = "light",  # shadows the function: the brief names it so
    *,
    dossier_id: str | None = None,
    parts: Sequence[str] | None = None,
    blank_separator: bool | None = None,
    overrides: dict[int, dict] | None = None,
    handwritten: float = 0.0,
) -> Dossier:
    """Render one dossier of `procedure` (random if None): pages, degradations and truth.

    `parts` picks the components explicitly (keys of `content.PROCEDURE_PARTS`); `overrides`
    maps a 1-based page number to forced `rotation` / `skew_deg` / `kind` for that page.
    `degrade` is none | light | medium | mixed (mixed: a kind drawn per page, mostly light).
    `handwritten`: the share of documents whose header number and day are written by hand (drawn with
    a random stream of their own, so the rest of the dossier is the same as without).
    """
    procedure = procedure or rng.choice(sorted(PROCEDURES))
    if procedure not in PROCEDURES:
        raise ValueError(f"unknown procedure {procedure!r}; known: {sorted(PROCEDURES)}")
    dossier_id = dossier_id or f"hs_{rng.randrange(16**8):08x}"
    case = content.make_case(rng)
    chosen = list(parts) if parts is not None else content.choose_parts(rng, procedure)
    docs = content.build_documents(case, procedure, chosen)
    if blank_separator is None:
        blank_separator = rng.random() < 0.15
    blank_after = rng.randrange(len(docs) - 1) if blank_separator and len(docs) > 1 else None
    pages: list[PageImage] = []
    components: list[Component] = []
    hand_rng = random.Random(f"{dossier_id}/handwriting")
    for i, doc in enumerate(docs):
        hand = hand_rng if handwritten and hand_rng.random() < handwritten else None
        rendered = render_document(doc, dpi, rng, hand)
        comp = Component(i, doc.type, [], doc.metadata)
        for pg in rendered:
            pg.component = i
            pages.append(pg)
            comp.pages.append(len(pages))
        components.append(comp)
        if blank_after == i:
            pages.append(blank_page(dpi, rng))
    overrides = overrides or {}
    for n, pg in enumerate(pages, start=1):
        ov = overrides.get(n, {})
        kind = ov.get("kind") or _page_kind(degrade, rng)
        rot = ov.get("rotation")
        skew = ov.get("skew_deg")
        if pg.blank:
            kind = "light" if kind == "none" else kind
            rot, skew = rot or 0, skew or 0.0
        if kind == "photo":  # a phone photo of the page (`samples.photo`); its truth is the corners
            pg.image, pg.corners, op = photograph(pg.image, rng, long_side=round(3000 * dpi / 200))
            pg.rotation, pg.skew_deg, pg.ops = 0, 0.0, [op]
            continue
        pg.image, pg.rotation, pg.skew_deg, pg.ops = _degrade(
            pg.image, kind, rng, rotation=rot, skew_deg=skew, dpi=dpi
        )
    return Dossier(dossier_id, procedure, dpi, pages, components)


_degrade = degrade  # make_dossier's `degrade` parameter shadows the function


def _page_kind(degrade_mode: str, rng: random.Random) -> str:
    if degrade_mode == "mixed":
        return rng.choices(DEGRADE_KINDS, weights=[2, 6, 2])[0]
    if degrade_mode not in (*DEGRADE_KINDS, "photo"):
        raise ValueError(f"degrade must be one of {DEGRADE_KINDS + ('mixed', 'photo')}")
    return degrade_mode


def truth_dict(dossier: Dossier, fmt: str) -> dict:
    """The ground truth as written to `<dossier_id>.truth.json` (all strings NFC)."""
    pages = []
    for n, pg in enumerate(dossier.pages, start=1):
        pages.append(
            {
                "n": n,
                "blank": pg.blank,
                "rotation": pg.rotation,
                "skew_deg": pg.skew_deg,
                "type": pg.type,
                "component": pg.component,
                "text": nfc(pg.text),
                "lines": [{"text": nfc(ln.text), "box": [round(v) for v in ln.box]} for ln in pg.lines],
                **({"corners": [[round(v, 1) for v in c] for c in pg.corners]} if pg.corners else {}),
                **({"handwritten": pg.handwritten} if pg.handwritten else {}),
            }
        )
    comps = [
        {"index": c.index, "type": c.type, "pages": c.pages, "metadata": c.metadata}
        for c in dossier.components
    ]
    return {
        "dossier_id": dossier.dossier_id,
        "procedure": dossier.procedure,
        "dpi": dossier.dpi,
        "format": fmt,
        "pages": pages,
        "components": comps,
    }


def row_major_text(lines: Sequence[dict] | Sequence[Line]) -> str:
    """The page text as a row-by-row OCR engine reads it (Tesseract's default page segmentation).

    The truth `text` reads side-by-side blocks column by column (left header block, then right);
    Tesseract merges lines that share a baseline across columns. This rebuilds that order from the
    line boxes, so an evaluation can compare either way.
    """
    items = [(ln["text"], ln["box"]) if isinstance(ln, dict) else (ln.text, ln.box) for ln in lines]
    rows: list[list[tuple[str, Sequence[float]]]] = []
    for text, box in sorted(items, key=lambda it: (it[1][1] + it[1][3]) / 2):
        h = box[3] - box[1]
        for row in rows:
            r0 = min(b[1] for _, b in row)
            r1 = max(b[3] for _, b in row)
            rh = min(h, min(b[3] - b[1] for _, b in row))
            if min(r1, box[3]) - max(r0, box[1]) >= 0.5 * rh:
                row.append((text, box))
                break
        else:
            rows.append([(text, box)])
    return "\n".join(" ".join(t for t, _ in sorted(row, key=lambda it: it[1][0])) for row in rows)


def _encode(img: Image.Image, colour: str) -> Image.Image:
    if colour == "grey":
        return img.convert("L")
    if colour == "bilevel":  # a scanner's black-and-white mode: fixed threshold on grey
        return img.convert("L").point(lambda v: 255 if v > 160 else 0).convert("1")
    if colour == "palette":
        return img.convert("RGB").quantize(32, dither=Image.Dither.NONE)
    return img.convert("RGB")


def _jpeg(img: Image.Image, dpi: int, quality: int) -> bytes:
    """A page as a scanner writes it: baseline JPEG with libjpeg's standard Huffman tables (the real
    scans of ../shared/corpora/real-vbhc all are: re-coded with optimised tables they are 4-7 % smaller),
    so the size of what sohoa stores is compared with what offices really feed it."""
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, dpi=(dpi, dpi))
    return buf.getvalue()


def _g4(img: Image.Image, dpi: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "TIFF", compression="group4", dpi=(dpi, dpi))
    return buf.getvalue()


COLOURS = ("rgb", "grey", "bilevel", "palette")


def write_dossier(
    dossier: Dossier, out_dir: Path | str, fmt: str, *, colour: str = "rgb", quality: int = 85
) -> Path:
    """Write the input file(s) and `<dossier_id>.truth.json` into `out_dir`; return the input path.

    pdf: image-only PDF at the dossier dpi (A4 pages), one JPEG per page (CCITT G4 when
    colour="bilevel", the black-and-white mode of archive scanners); jpg-folder: `<id>/1.jpg ... N.jpg`;
    tiff: one multi-page TIFF, group4 when bilevel else JPEG-compressed; png: single-page dossiers only.
    colour: rgb | grey | bilevel (pdf, tiff) | palette (png, 32 colours: small files).
    """
    if colour not in COLOURS:
        raise ValueError(f"colour must be one of {COLOURS}")
    if colour == "bilevel" and fmt not in ("pdf", "tiff") or colour == "palette" and fmt != "png":
        raise ValueError(f"colour={colour!r} is not supported for {fmt}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dpi = dossier.dpi
    imgs = [_encode(p.image, colour) for p in dossier.pages]
    did = dossier.dossier_id
    if fmt == "pdf":
        path = out / f"{did}.pdf"
        layout_fun = img2pdf.get_fixed_dpi_layout_fun((dpi, dpi))
        blobs = [_g4(im, dpi) if colour == "bilevel" else _jpeg(im, dpi, quality) for im in imgs]
        path.write_bytes(img2pdf.convert(blobs, layout_fun=layout_fun))
    elif fmt == "jpg-folder":
        path = out / did
        if path.exists():
            shutil.rmtree(path)
        path.mkdir()
        for n, im in enumerate(imgs, start=1):
            (path / f"{n}.jpg").write_bytes(_jpeg(im, dpi, quality))
    elif fmt == "tiff":
        path = out / f"{did}.tiff"
        kw: dict = (
            {"compression": "group4"} if colour == "bilevel" else {"compression": "jpeg", "quality": quality}
        )
        imgs[0].save(path, save_all=True, append_images=imgs[1:], dpi=(dpi, dpi), **kw)
    elif fmt == "png":
        if len(imgs) != 1:
            raise ValueError("png holds a single page; use pdf, tiff or jpg-folder for longer dossiers")
        path = out / f"{did}.png"
        imgs[0].save(path, optimize=True, dpi=(dpi, dpi))
    else:
        raise ValueError(f"format must be one of {FORMATS}")
    truth = truth_dict(dossier, fmt)
    (out / f"{did}.truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return path


# --------------------------------------------------------------------------------------------
# The committed demo samples

# Sizes: dense text pages at 300 dpi are 350-600 KB as JPEG even at q60, so the 8-page PDF is
# bilevel (CCITT G4, ~35 KB/page) and the colour JPEG folder is scanned at 200 dpi.
DEMO: list[dict] = [
    {  # land transfer, image-only PDF, black-and-white 300 dpi scan, a visible skew on page 2
        "id": "hs_0001", "seed": 1001, "procedure": "chuyen_nhuong_qsdd", "dpi": 300, "fmt": "pdf", "colour": "bilevel",
        "parts": ["phieu_tiep_nhan", "don_de_nghi", "can_cuoc:applicant", "giay_chung_nhan_qsdd", "hop_dong", "bien_lai"],
        "overrides": {1: {"skew_deg": 0.0}, 2: {"skew_deg": 1.1}}, "blank_separator": False,
    },
    {  # birth registration, folder of colour JPEGs named 1.jpg ... N.jpg (natural order)
        "id": "hs_0002", "seed": 1002, "procedure": "dang_ky_khai_sinh", "dpi": 200, "fmt": "jpg-folder", "colour": "rgb",
        "quality": 75, "parts": ["to_khai", "giay_chung_sinh", "can_cuoc:applicant", "giay_chung_nhan_ket_hon"],
        "blank_separator": False,
    },
    {  # authorisation, multi-page greyscale TIFF (JPEG-compressed), page 2 scanned upside down
        "id": "hs_0003", "seed": 1003, "procedure": "uy_quyen", "dpi": 300, "fmt": "tiff", "colour": "grey", "quality": 60,
        "parts": ["giay_uy_quyen", "can_cuoc:applicant:together"], "overrides": {2: {"rotation": 180}},
        "blank_separator": False,
    },
    {  # a single decision page, PNG at 200 dpi
        "id": "hs_0004", "seed": 1004, "procedure": "chuyen_muc_dich_su_dung_dat", "dpi": 200, "fmt": "png",
        "colour": "palette", "parts": ["quyet_dinh"], "degrade": "none", "overrides": {1: {"skew_deg": 0.4}},
        "blank_separator": False,
    },
]  # fmt: skip


def make_demo(spec: dict) -> Dossier:
    """Render one demo dossier from its DEMO entry (deterministic)."""
    return make_dossier(
        random.Random(spec["seed"]),
        spec["procedure"],
        spec["dpi"],
        spec.get("degrade", "light"),
        dossier_id=spec["id"],
        parts=spec["parts"],
        blank_separator=spec.get("blank_separator"),
        overrides=spec.get("overrides"),
    )


def write_demo(out_dir: Path | str) -> list[Path]:
    """Regenerate the committed samples into `out_dir`."""
    return [
        write_dossier(make_demo(s), out_dir, s["fmt"], colour=s["colour"], quality=s.get("quality", 85))
        for s in DEMO
    ]


# --------------------------------------------------------------------------------------------
# CLI


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.generate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="output directory")
    ap.add_argument("--demo", type=Path, metavar="DIR", help="regenerate the committed demo samples into DIR")
    ap.add_argument("--dossiers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--format", default="pdf", choices=[*FORMATS, "mixed"])
    ap.add_argument("--degrade", default="light", choices=["none", "light", "mixed", "photo"],
                    help="photo: every page a phone photo (perspective, table, uneven light)")
    ap.add_argument("--procedure", choices=sorted(PROCEDURES), help="default: random per dossier")
    ap.add_argument(
        "--colour", default="rgb", choices=list(COLOURS), help="bilevel: pdf/tiff only; palette: png only"
    )
    ap.add_argument("--quality", type=int, default=85, help="JPEG quality")
    ap.add_argument("--handwritten", type=float, default=0.0, metavar="SHARE",
                    help="share of documents whose header number and day are written by hand (0-1)")
    args = ap.parse_args(argv)
    if args.demo:
        for p in write_demo(args.demo):
            print(p)
        return 0
    if not args.out:
        ap.error("--out or --demo is required")
    master = random.Random(args.seed)
    for i in range(1, args.dossiers + 1):
        rng = random.Random(master.getrandbits(64))
        d = make_dossier(rng, args.procedure, args.dpi, args.degrade, dossier_id=f"hs_{i:04d}",
                         handwritten=args.handwritten)
        fmt = args.format
        if fmt == "mixed":
            fmt = rng.choice(["pdf", "jpg-folder", "tiff"] + (["png"] if len(d.pages) == 1 else []))
        elif fmt == "png" and len(d.pages) > 1:
            fmt = "tiff"
        colour = args.colour
        if colour == "bilevel" and fmt not in ("pdf", "tiff") or colour == "palette" and fmt != "png":
            colour = "rgb"
        print(write_dossier(d, args.out, fmt, colour=colour, quality=args.quality), f"{len(d.pages)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
