"""Page layout and rasterisation for synthetic scans, with a ground-truth box for every text line.

Geometry follows Nghị định 30/2020/NĐ-CP (A4, margins 20/20/30/15 mm, Times-like serif 13-14 pt body),
so the pages look like the paper the pipeline really receives. A document is a list of blocks
(paragraphs, tab lines, side-by-side columns, signature gaps, ID cards); `layout()` turns them into
atoms (one per text line, or one per unbreakable group), paginates them, and `rasterise()` draws
each page. Lines are recorded in reading order as they are laid out: left column before right
column, then top to bottom — that order *is* the ground truth text.

Liberation Serif 1.x (the `liberation` directory of Debian's fonts-liberation) has no Vietnamese
glyphs (ư, ơ, ạ...), so the fonts are looked up in `samples/fonts/` and `liberation2` first and
rejected when they lack `ư`.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pipeline.textnorm import nfc

MM_PER_INCH = 25.4
A4_MM = (210.0, 297.0)
MARGIN_MM = {"top": 20.0, "bottom": 20.0, "left": 30.0, "right": 15.0}

INK = (20, 20, 24)
BLUE_INK = (28, 48, 150)
BLACK_INK = (35, 35, 45)
STAMP_RED = (205, 28, 38)
WHITE = (255, 255, 255)

FONT_DIRS = (
    Path(__file__).resolve().parent / "fonts",
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
)
FACES = {
    "regular": "LiberationSerif-Regular.ttf",
    "bold": "LiberationSerif-Bold.ttf",
    "italic": "LiberationSerif-Italic.ttf",
    "bolditalic": "LiberationSerif-BoldItalic.ttf",
    "mono": "LiberationMono-Regular.ttf",  # the machine-readable zone of a card (OCR-B is not packaged)
}


def _has_vietnamese(path: Path) -> bool:
    """True when the font draws `ư` differently from a private-use code point (i.e. not .notdef)."""
    f = ImageFont.truetype(str(path), 40)

    def raster(ch: str) -> bytes:
        im = Image.new("L", (80, 80), 0)
        ImageDraw.Draw(im).text((10, 10), ch, font=f, fill=255)
        return im.tobytes()

    return raster("ư") != raster("\ue000")


@lru_cache(maxsize=8)
def font_path(face: str) -> Path:
    """First installed file for `face` that has Vietnamese glyphs."""
    name = FACES[face]
    for d in FONT_DIRS:
        p = d / name
        if p.exists() and _has_vietnamese(p):
            return p
    raise FileNotFoundError(
        f"{name} with Vietnamese glyphs not found in {[str(d) for d in FONT_DIRS]}; "
        "install fonts-liberation2 or copy Liberation Serif 2.x into samples/fonts/"
    )


@lru_cache(maxsize=512)
def get_font(face: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(face)), max(px, 4))


@dataclass(frozen=True)
class Ctx:
    """Unit conversions for one dpi; every length in blocks is in mm or pt, pixels only here."""

    dpi: int
    text_scale: float = 1.0  # < 1 to fit a document on fewer pages (fonts and spacing, not margins)

    def mm(self, v: float) -> float:
        return v * self.dpi / MM_PER_INCH

    def pt(self, v: float) -> float:
        return v * self.dpi / 72.0 * self.text_scale

    @property
    def size(self) -> tuple[int, int]:
        return round(self.mm(A4_MM[0])), round(self.mm(A4_MM[1]))

    @property
    def text_x0(self) -> float:
        return self.mm(MARGIN_MM["left"])

    @property
    def text_x1(self) -> float:
        return self.size[0] - self.mm(MARGIN_MM["right"])

    @property
    def top(self) -> float:
        return self.mm(MARGIN_MM["top"])

    @property
    def bottom(self) -> float:
        return self.size[1] - self.mm(MARGIN_MM["bottom"])


# --------------------------------------------------------------------------------------------
# Styles and blocks (what a document is made of)


@dataclass(frozen=True)
class Style:
    pt: float = 13.5
    face: str = "regular"
    fill: tuple[int, int, int] = INK


BODY = Style()


@dataclass
class Para:
    """A wrapped paragraph; each rendered line is one ground-truth line."""

    text: str
    style: Style = BODY
    align: str = "justify"  # left | center | right | justify
    indent_mm: float = 0.0  # first line
    left_mm: float = 0.0
    right_mm: float = 0.0
    before_pt: float = 0.0
    after_pt: float = 3.0
    leading: float = 1.4
    keep_with_next: bool = False
    rule_below: float = 0.0  # centred rule under the last line, as a fraction of its width


@dataclass
class Tabs:
    """One line made of segments at fixed offsets (mm from the left edge), e.g. two form fields."""

    segments: list[tuple[float, str]]
    style: Style = BODY
    before_pt: float = 0.0
    after_pt: float = 3.0
    leading: float = 1.4


@dataclass
class Space:
    mm: float


@dataclass
class StampSpec:
    ring_text: str
    radius_mm: float = 17.5
    colour: tuple[int, int, int] = STAMP_RED


@dataclass
class SignGap:
    """The empty band of a signature block: a scribble and, for an agency, its red stamp.

    The stamp stays inside this band (never over text lines) and covers the left part of the
    signature, as on real documents.
    """

    stamp: StampSpec | None = None
    ink: tuple[int, int, int] = BLUE_INK
    height_mm: float = 24.0
    signed: bool = True


@dataclass
class Columns:
    """Blocks side by side (header, signature row); unbreakable, left column read first.

    `sync_last` puts the last block of every column on one row (Số ... / place and date).
    """

    cols: list[tuple[float, list]]  # (fraction of width, blocks)
    bleed_left_mm: float = 0.0
    bleed_right_mm: float = 0.0
    sync_last: bool = False
    before_pt: float = 0.0
    after_pt: float = 4.0
    top_margin: bool = False  # drawn in the page's top margin, above the text, taking no room (a signature box)


class DrawnBlock(Protocol):
    """A block that lays itself out (an ID card: `samples.cards.CardSpec`), so this module needs
    no knowledge of it."""

    def atom(self, ctx: Ctx, x0: float, width: float) -> Atom: ...


Block = Para | Tabs | Space | SignGap | Columns | DrawnBlock


# --------------------------------------------------------------------------------------------
# Drawing operations (positioned, in pixels)


@dataclass
class TextOp:
    x: float
    y: float
    text: str
    face: str
    px: int
    fill: tuple[int, int, int]


@dataclass
class HandOp:
    """Digits written by hand (MNIST images, 0-255 ink) into a blank: left edge x, top y, ink height px."""

    x: float
    y: float
    px: float
    digits: list[np.ndarray]
    fill: tuple[int, int, int]


@dataclass
class RuleOp:
    x0: float
    y: float
    x1: float
    width: float
    fill: tuple[int, int, int] = INK


@dataclass
class ScribbleOp:
    x0: float
    y0: float
    x1: float
    y1: float
    ink: tuple[int, int, int]
    seed: int


@dataclass
class StampOp:
    cx: float
    cy: float
    r: float
    ring_text: str
    colour: tuple[int, int, int]
    seed: int


@dataclass
class ShapeOp:
    kind: str  # rect | rrect | ellipse | photo | finger
    x0: float
    y0: float
    x1: float
    y1: float
    outline: tuple[int, int, int] | None = None
    fill: tuple[int, int, int] | None = None
    width: float = 1.0
    seed: int = 0


Op = TextOp | RuleOp | ScribbleOp | StampOp | ShapeOp | HandOp


def _shift(op: Op, dx: float, dy: float) -> Op:
    if isinstance(op, TextOp):
        return dataclasses.replace(op, x=op.x + dx, y=op.y + dy)
    if isinstance(op, RuleOp):
        return dataclasses.replace(op, x0=op.x0 + dx, x1=op.x1 + dx, y=op.y + dy)
    if isinstance(op, StampOp):
        return dataclasses.replace(op, cx=op.cx + dx, cy=op.cy + dy)
    if isinstance(op, HandOp):
        return dataclasses.replace(op, x=op.x + dx, y=op.y + dy)
    return dataclasses.replace(op, x0=op.x0 + dx, x1=op.x1 + dx, y0=op.y0 + dy, y1=op.y1 + dy)


@dataclass
class Line:
    """One rendered text line: its text and its ink box [x0, y0, x1, y1] in page pixels."""

    text: str
    box: tuple[float, float, float, float]

    def shifted(self, dx: float, dy: float) -> Line:
        x0, y0, x1, y1 = self.box
        return Line(self.text, (x0 + dx, y0 + dy, x1 + dx, y1 + dy))


@dataclass
class Atom:
    """An unbreakable piece of layout; coordinates relative to its own top-left."""

    height: float
    ops: list[Op] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    before: float = 0.0
    after: float = 0.0
    keep_with_next: bool = False
    top_margin: bool = False  # placed above the page's text area, the text laid out as without it


# --------------------------------------------------------------------------------------------
# Layout


def _text_box(
    font: ImageFont.FreeTypeFont, text: str, x: float, y: float
) -> tuple[float, float, float, float]:
    x0b, t, r, b = font.getbbox(text)
    return (x + x0b, y + t, x + r, y + b)


def _union(boxes: Sequence[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def wrap(
    text: str, font: ImageFont.FreeTypeFont, width: float, first_width: float | None = None
) -> list[str]:
    """Greedy word wrap; Vietnamese syllables are short, so no hyphenation is needed."""
    out: list[str] = []
    cur = ""
    limit = first_width if first_width is not None else width
    for word in text.split():
        cand = f"{cur} {word}" if cur else word
        if cur and font.getlength(cand) > limit:
            out.append(cur)
            cur = word
            limit = width
        else:
            cur = cand
    if cur:
        out.append(cur)
    return out


def _para_atoms(p: Para, ctx: Ctx, x0: float, width: float) -> list[Atom]:
    st = p.style
    px = round(ctx.pt(st.pt))
    font = get_font(st.face, px)
    text = nfc(p.text)
    left = x0 + ctx.mm(p.left_mm)
    avail = width - ctx.mm(p.left_mm) - ctx.mm(p.right_mm)
    indent = ctx.mm(p.indent_mm)
    rows = wrap(text, font, avail, avail - indent)
    lh = px * p.leading
    space_w = font.getlength(" ")
    atoms: list[Atom] = []
    for i, row in enumerate(rows):
        lx = left + (indent if i == 0 else 0.0)
        lw = avail - (indent if i == 0 else 0.0)
        ops: list[Op] = []
        boxes = []
        natural = font.getlength(row)
        words = row.split(" ")
        last = i == len(rows) - 1
        if p.align == "justify" and not last and len(words) > 1:
            gap = (lw - sum(font.getlength(w) for w in words)) / (len(words) - 1)
            if gap > 3.0 * space_w:
                gap = space_w
            x = lx
            for w in words:
                ops.append(TextOp(x, 0.0, w, st.face, px, st.fill))
                boxes.append(_text_box(font, w, x, 0.0))
                x += font.getlength(w) + gap
        else:
            if p.align == "center":
                x = lx + (lw - natural) / 2
            elif p.align == "right":
                x = lx + lw - natural
            else:
                x = lx
            ops.append(TextOp(x, 0.0, row, st.face, px, st.fill))
            boxes.append(_text_box(font, row, x, 0.0))
        line = Line(row, _union(boxes))
        height = lh
        if last and p.rule_below > 0:
            rw = (line.box[2] - line.box[0]) * p.rule_below
            cx = (line.box[0] + line.box[2]) / 2
            ry = line.box[3] + px * 0.45
            ops.append(RuleOp(cx - rw / 2, ry, cx + rw / 2, max(1.5, ctx.pt(0.8)), st.fill))
            height = max(lh, ry + px * 0.5)
        atoms.append(
            Atom(
                height=height,
                ops=ops,
                lines=[line],
                before=ctx.pt(p.before_pt) if i == 0 else 0.0,
                after=ctx.pt(p.after_pt) if last else 0.0,
                keep_with_next=p.keep_with_next or (not last and len(rows) == 2),
            )
        )
    return atoms


def _tabs_atom(t: Tabs, ctx: Ctx, x0: float, width: float) -> Atom:
    st = t.style
    px = round(ctx.pt(st.pt))
    font = get_font(st.face, px)
    ops: list[Op] = []
    boxes = []
    texts = []
    x_min = x0
    for off, seg in t.segments:
        seg = nfc(seg)
        x = max(x0 + ctx.mm(off), x_min)
        ops.append(TextOp(x, 0.0, seg, st.face, px, st.fill))
        boxes.append(_text_box(font, seg, x, 0.0))
        texts.append(seg)
        x_min = x + font.getlength(seg) + ctx.mm(6)
    return Atom(
        height=px * t.leading,
        ops=ops,
        lines=[Line(" ".join(texts), _union(boxes))],
        before=ctx.pt(t.before_pt),
        after=ctx.pt(t.after_pt),
    )


def _gap_atom(g: SignGap, ctx: Ctx, x0: float, width: float, seed: int) -> Atom:
    r = ctx.mm(g.stamp.radius_mm) if g.stamp else 0.0
    height = max(ctx.mm(g.height_mm), 2 * r + ctx.mm(4)) if g.stamp else ctx.mm(g.height_mm)
    cx = x0 + width / 2
    sw, sh = ctx.mm(38), min(ctx.mm(17), height * 0.7)
    ops: list[Op] = []
    if g.signed:
        sy = (height - sh) / 2
        ops.append(ScribbleOp(cx - sw / 2, sy, cx + sw / 2, sy + sh, g.ink, seed))
    if g.stamp:
        scx = max(cx - sw / 2 + ctx.mm(6), x0 + r + ctx.mm(1))
        ops.append(StampOp(scx, height / 2, r, nfc(g.stamp.ring_text), g.stamp.colour, seed + 1))
    return Atom(height=height, ops=ops)


def _stack(blocks: list, ctx: Ctx, x0: float, width: float, seed: int) -> Atom:
    """Lay out blocks one under the other without page breaks (a column of a Columns block)."""
    y = 0.0
    ops: list[Op] = []
    lines: list[Line] = []
    first = True
    for a in _atoms(blocks, ctx, x0, width, seed):
        y += 0.0 if first else a.before
        first = False
        ops += [_shift(o, 0, y) for o in a.ops]
        lines += [ln.shifted(0, y) for ln in a.lines]
        y += a.height + a.after
    return Atom(height=y, ops=ops, lines=lines)


def _columns_atom(c: Columns, ctx: Ctx, x0: float, width: float, seed: int) -> Atom:
    left = x0 - ctx.mm(c.bleed_left_mm)
    total = width + ctx.mm(c.bleed_left_mm) + ctx.mm(c.bleed_right_mm)
    ops: list[Op] = []
    lines: list[Line] = []
    height = 0.0
    x = left
    parts = []
    for k, (frac, blocks) in enumerate(c.cols):
        w = total * frac
        if c.sync_last and blocks:
            head = _stack(blocks[:-1], ctx, x, w, seed + 17 * k)
            tail = _stack(blocks[-1:], ctx, x, w, seed + 17 * k + 7)
            parts.append((head, tail))
        else:
            parts.append((_stack(blocks, ctx, x, w, seed + 17 * k), None))
        x += w
    row = max(h.height for h, _ in parts) if c.sync_last else 0.0
    for head, tail in parts:
        ops += head.ops
        lines += head.lines
        height = max(height, head.height)
        if tail is not None:
            ops += [_shift(o, 0, row) for o in tail.ops]
            lines += [ln.shifted(0, row) for ln in tail.lines]
            height = max(height, row + tail.height)
    return Atom(height=height, ops=ops, lines=lines, before=ctx.pt(c.before_pt), after=ctx.pt(c.after_pt),
                top_margin=c.top_margin)


def _atoms(blocks: list, ctx: Ctx, x0: float, width: float, seed: int) -> list[Atom]:
    out: list[Atom] = []
    for i, b in enumerate(blocks):
        s = seed * 131 + i
        if isinstance(b, Para):
            out += _para_atoms(b, ctx, x0, width)
        elif isinstance(b, Tabs):
            out.append(_tabs_atom(b, ctx, x0, width))
        elif isinstance(b, Space):
            out.append(Atom(height=ctx.mm(b.mm)))
        elif isinstance(b, SignGap):
            out.append(_gap_atom(b, ctx, x0, width, s))
        elif isinstance(b, Columns):
            out.append(_columns_atom(b, ctx, x0, width, s))
        elif hasattr(b, "atom"):
            out.append(b.atom(ctx, x0, width))
        else:  # pragma: no cover - programming error
            raise TypeError(f"unknown block {b!r}")
    return out


@dataclass
class LaidPage:
    ops: list[Op]
    lines: list[Line]


def layout(blocks: list, ctx: Ctx, seed: int = 0, footer: bool = False) -> list[LaidPage]:
    """Paginate blocks on A4 pages; continuation pages start at the top margin, without header.

    With `footer`, documents of several pages get a centred "Trang i/n" line at the bottom.
    """
    x0, x1 = ctx.text_x0, ctx.text_x1
    bottom = ctx.bottom - (ctx.mm(9) if footer else 0.0)
    atoms = _atoms(blocks, ctx, x0, x1 - x0, seed)
    pages: list[list[tuple[Atom, float]]] = [[]]
    y = ctx.top
    for i, a in enumerate(atoms):
        if a.top_margin:
            pages[-1].append((a, ctx.top - a.height - ctx.mm(2)))
            continue
        if not a.ops and not a.lines and not any(not b.top_margin for b, _ in pages[-1]):
            continue  # blank space at the top of a page
        yb = y + (a.before if any(not b.top_margin for b, _ in pages[-1]) else 0.0)
        need = a.height
        j = i
        while atoms[j].keep_with_next and j + 1 < len(atoms):
            j += 1
            need += atoms[j].before + atoms[j].height
            if need > (bottom - ctx.top) / 3:
                break
        if any(not b.top_margin for b, _ in pages[-1]) and yb + need > bottom:
            pages.append([])
            yb = ctx.top
            if not a.ops and not a.lines:  # space that ends a page does not open the next one
                y = yb
                continue
        pages[-1].append((a, yb))
        y = yb + a.height + a.after
    out: list[LaidPage] = []
    n = len(pages)
    for k, placed in enumerate(pages, start=1):
        ops: list[Op] = []
        lines: list[Line] = []
        for a, ya in placed:
            ops += [_shift(o, 0, ya) for o in a.ops]
            lines += [ln.shifted(0, ya) for ln in a.lines]
        if footer and n > 1:
            fa = _para_atoms(Para(f"Trang {k}/{n}", Style(12), align="center"), ctx, x0, x1 - x0)[0]
            fy = ctx.bottom - fa.height + ctx.mm(2)
            ops += [_shift(o, 0, fy) for o in fa.ops]
            lines += [ln.shifted(0, fy) for ln in fa.lines]
        out.append(LaidPage(ops, lines))
    return out


# --------------------------------------------------------------------------------------------
# Rasterisation


def _bezier(p0, p1, p2, p3, n: int = 60) -> list[tuple[float, float]]:
    pts = []
    for i in range(n + 1):
        t = i / n
        u = 1 - t
        x = u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0]
        y = u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1]
        pts.append((x, y))
    return pts


def draw_scribble(draw: ImageDraw.ImageDraw, op: ScribbleOp, ctx: Ctx) -> None:
    """A handwritten-looking signature: a tall initial, a run of cursive loops, a flourish."""
    rng = random.Random(op.seed)
    w, h = op.x1 - op.x0, op.y1 - op.y0
    width = max(2, round(ctx.mm(0.4)))
    pts: list[tuple[float, float]] = []
    # initial capital: a tall loop
    x0, base = op.x0 + w * rng.uniform(0.0, 0.1), op.y0 + h * rng.uniform(0.6, 0.75)
    pts += _bezier(
        (x0, base), (x0 - w * 0.05, op.y0 - h * 0.2), (x0 + w * 0.2, op.y0 - h * 0.1), (x0 + w * 0.12, base)
    )
    if rng.random() < 0.4:  # angular style: a smoothed zigzag and a swash back under it, one stroke
        x, end_x, up, zig = x0 + w * 0.1, op.x0 + w * rng.uniform(0.75, 0.95), True, []
        while x < end_x:
            zig.append((x, op.y0 + h * (rng.uniform(0.0, 0.35) if up else rng.uniform(0.55, 0.85))))
            up = not up
            x += w * rng.uniform(0.03, 0.07)
        for _ in range(2):  # Chaikin corner cutting
            zig = [
                q
                for a, b in zip(zig, zig[1:], strict=False)
                for q in (
                    (0.75 * a[0] + 0.25 * b[0], 0.75 * a[1] + 0.25 * b[1]),
                    (0.25 * a[0] + 0.75 * b[0], 0.25 * a[1] + 0.75 * b[1]),
                )
            ]
        pts += zig
        last = pts[-1]
        back = (op.x0 + w * rng.uniform(0.0, 0.2), op.y0 + h * 0.9)
        pts += _bezier(last, (last[0] + w * 0.15, op.y1 + h * 0.1), (op.x0 + w * 0.5, op.y1 + h * 0.25), back)
        draw.line(pts, fill=op.ink, width=width, joint="curve")
        return
    # cursive body: a prolate cycloid with varying loop size
    n = rng.randint(3, 6)
    span = w * rng.uniform(0.5, 0.7)
    steps = 40 * n
    r0 = h * rng.uniform(0.15, 0.25)
    cx0 = x0 + w * 0.12
    for i in range(steps + 1):
        t = i / steps
        ang = 2 * math.pi * n * t
        r = r0 * (0.7 + 0.5 * math.sin(3.1 * t + op.seed % 7))
        pts.append((cx0 + span * t - r * 0.8 * math.sin(ang), base - r * (1 - math.cos(ang)) * 1.1))
    draw.line(pts, fill=op.ink, width=width, joint="curve")
    end = pts[-1]
    if rng.random() < 0.8:  # flourish back under the name
        a = end
        b = (op.x0 + w * rng.uniform(0.0, 0.25), op.y0 + h * rng.uniform(0.85, 1.0))
        draw.line(
            _bezier(a, (a[0] + w * 0.2, a[1] + h * 0.4), (op.x0 + w * 0.6, op.y1 + h * 0.1), b),
            fill=op.ink,
            width=max(2, width - 1),
            joint="curve",
        )


def _star(cx: float, cy: float, r: float, rot: float = -90.0) -> list[tuple[float, float]]:
    pts = []
    for i in range(10):
        rr = r if i % 2 == 0 else r * 0.4
        a = math.radians(rot + i * 36)
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def stamp_mask(op: StampOp, ctx: Ctx) -> tuple[Image.Image, int, int]:
    """Alpha mask of a round stamp: two rings, text around, a star; with uneven ink."""
    rng = random.Random(op.seed)
    r = op.r
    size = int(2 * r + 8)
    m = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(m)
    c = size / 2
    ring_w = max(2, round(r * 0.035))
    d.ellipse((c - r, c - r, c + r, c + r), outline=255, width=ring_w)
    ri = r * 0.64
    d.ellipse((c - ri, c - ri, c + ri, c + ri), outline=255, width=max(2, ring_w - 1))
    d.polygon(_star(c, c, ri * 0.45), fill=255)
    # ring text, letters upright towards the centre, centred on the top of the ring
    rt = (r + ri) / 2
    px = round((r - ri) * 0.62)
    font = get_font("bold", px)
    text = op.ring_text
    total = sum(font.getlength(ch) for ch in text) * 1.08
    max_arc = 2 * math.pi * rt * 0.93
    if total > max_arc:
        px = max(6, int(px * max_arc / total))
        font = get_font("bold", px)
        total = sum(font.getlength(ch) for ch in text) * 1.08
    theta = -total / rt / 2
    for ch in text:
        adv = font.getlength(ch) * 1.08
        a = theta + adv / rt / 2
        if ch.strip():
            g = Image.new("L", (px * 2, px * 2), 0)
            ImageDraw.Draw(g).text((px, px), ch, font=font, fill=255, anchor="mm")
            g = g.rotate(-math.degrees(a), resample=Image.Resampling.BICUBIC)
            gx = c + rt * math.sin(a) - px
            gy = c - rt * math.cos(a) - px
            m.paste(g, (round(gx), round(gy)), g)
        theta += adv / rt
    # uneven ink: smooth random field, plus a few dry patches
    field_ = np.asarray(
        Image.fromarray((np.random.default_rng(op.seed).random((8, 8)) * 255).astype(np.uint8)).resize(
            (size, size), Image.Resampling.BICUBIC
        ),
        dtype=np.float32,
    )
    arr = np.asarray(m, dtype=np.float32) * (0.62 + 0.38 * field_ / 255.0) * rng.uniform(0.85, 0.97)
    m = Image.fromarray(arr.clip(0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(max(0.5, ctx.mm(0.05)))
    )
    return m, round(op.cx - c), round(op.cy - c)


def _draw_shape(img: Image.Image, draw: ImageDraw.ImageDraw, op: ShapeOp) -> None:
    box = (op.x0, op.y0, op.x1, op.y1)
    w = max(1, round(op.width))
    if op.kind == "rect":
        draw.rectangle(box, outline=op.outline, fill=op.fill, width=w)
    elif op.kind == "rrect":
        draw.rounded_rectangle(box, radius=(op.x1 - op.x0) * 0.04, outline=op.outline, fill=op.fill, width=w)
    elif op.kind == "ellipse":
        draw.ellipse(box, outline=op.outline, fill=op.fill, width=w)
    elif op.kind == "photo":  # head-and-shoulders silhouette on a light ground, drawn on its own tile
        bw, bh = round(op.x1 - op.x0), round(op.y1 - op.y0)
        tile = Image.new("RGB", (bw, bh), (222, 222, 222))
        td = ImageDraw.Draw(tile)
        grey = (178, 178, 178)
        td.ellipse((bw * 0.08, bh * 0.62, bw * 0.92, bh * 1.25), fill=grey)
        td.ellipse((bw * 0.3, bh * 0.18, bw * 0.7, bh * 0.62), fill=grey)
        td.rectangle((0, 0, bw - 1, bh - 1), outline=grey, width=w)
        img.paste(tile, (round(op.x0), round(op.y0)))
    elif op.kind == "finger":  # concentric ridges, light grey
        rng = random.Random(op.seed)
        cx, cy = (op.x0 + op.x1) / 2 + rng.uniform(-3, 3), (op.y0 + op.y1) / 2 + rng.uniform(-3, 3)
        rx, ry = (op.x1 - op.x0) / 2, (op.y1 - op.y0) / 2
        k = 1.0
        while k > 0.08:
            draw.ellipse(
                (cx - rx * k, cy - ry * k, cx + rx * k, cy + ry * k), outline=(185, 185, 185), width=w
            )
            k -= 0.09


def _draw_hand(img: Image.Image, op: HandOp) -> None:
    """Each digit's ink box scaled to the ink height and laid over the page in the pen's colour."""
    x = op.x
    for digit in op.digits:
        ys, xs = np.nonzero(digit > 30)
        if not len(ys):
            continue
        ink = digit[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        scale = op.px / ink.shape[0]
        w = max(1, round(ink.shape[1] * scale))
        mask = Image.fromarray(ink).resize((w, max(1, round(op.px))), Image.Resampling.BILINEAR)
        img.paste(Image.new("RGB", mask.size, op.fill), (round(x), round(op.y)), mask)
        x += w + 0.15 * op.px


def rasterise(page: LaidPage, ctx: Ctx, paper: tuple[int, int, int] = WHITE) -> Image.Image:
    """Draw one laid-out page as an RGB image (stamps multiplied on top, like ink over ink)."""
    img = Image.new("RGB", ctx.size, paper)
    draw = ImageDraw.Draw(img)
    stamps: list[StampOp] = []
    for op in page.ops:
        if isinstance(op, TextOp):
            draw.text((op.x, op.y), op.text, font=get_font(op.face, op.px), fill=op.fill)
        elif isinstance(op, RuleOp):
            draw.line((op.x0, op.y, op.x1, op.y), fill=op.fill, width=max(1, round(op.width)))
        elif isinstance(op, ScribbleOp):
            draw_scribble(draw, op, ctx)
        elif isinstance(op, ShapeOp):
            _draw_shape(img, draw, op)
        elif isinstance(op, StampOp):
            stamps.append(op)
        elif isinstance(op, HandOp):
            _draw_hand(img, op)
    if stamps:
        arr = np.asarray(img, dtype=np.float32)
        for op in stamps:
            mask, ox, oy = stamp_mask(op, ctx)
            a = np.asarray(mask, dtype=np.float32) / 255.0
            h, w = a.shape
            x0, y0 = max(ox, 0), max(oy, 0)
            x1, y1 = min(ox + w, arr.shape[1]), min(oy + h, arr.shape[0])
            if x1 <= x0 or y1 <= y0:
                continue
            a = a[y0 - oy : y1 - oy, x0 - ox : x1 - ox, None]
            col = np.array(op.colour, dtype=np.float32) / 255.0
            arr[y0:y1, x0:x1] *= 1.0 - a * (1.0 - col)
        img = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    return img
