"""What a PDF page is made of: how much of it an image covers, how much its own text covers.

A digitally signed scan (ký số) carries a text layer, but that layer is only the signature boxes
("Ký bởi: …", "Thời gian ký: …") laid over a page-sized scan; a scanner's OCR layer is invisible
text spread over the whole scan; a Word → PDF page has text and no page image. Telling these apart
needs the page's geometry, not its text: `measure_page()` walks the page's content stream (and
the appearance streams of its annotations) with pypdf, following the graphics state, and adds up

- the area of every image drawn (XObject or inline, through nested forms), clipped to the page;
- the area of every glyph shown (font size × text and graphics matrices, half an em wide), and
  which share of them is invisible (text render mode 3 or 7: an OCR layer under a scan);
- the boxes of visible annotations whose appearance shows text (signature widgets, stamps).

Shares are of the page's crop box. Nothing is rendered and no image is decoded, so a page costs a
few milliseconds however large its scan.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pypdf (~0.1 s to import) is imported when a PDF is read, not by an image-only run
    from pypdf import PdfReader

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
MAX_DEPTH = 6  # nested forms followed; deeper ones are not measured
MAX_OPERATIONS = 400_000  # a page with more drawing operations is measured up to this many
GLYPH_WIDTH_EM = 0.5  # average glyph advance, in ems, for the area a glyph covers
# annotation flags that keep an annotation off screen and paper: Hidden, NoView
_HIDDEN_FLAGS = 2 | 32


@dataclass(frozen=True)
class PageLayers:
    """Geometry of one PDF page's image and text (shares of the page area, 0..1)."""

    image_cover: float  # drawn images, clipped to the page (overlaps counted once per image, capped at 1)
    text_cover: float  # glyph boxes of the page's text plus boxes of text annotations
    glyphs: int  # glyphs shown by the page's content (annotations not included)
    invisible: float  # share of those glyphs drawn invisible (render mode 3/7)
    annotation_cover: float  # of `text_cover`: visible annotations whose appearance shows text


def _mul(m: Matrix, n: Matrix) -> Matrix:
    """m × n (PDF row-vector convention: apply m, then n)."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _matrix(operands: list) -> Matrix | None:
    try:
        values = tuple(float(v) for v in operands[:6])
    except (TypeError, ValueError):
        return None
    return values if len(values) == 6 else None  # type: ignore[return-value]


def _box_area(m: Matrix, box: tuple[float, float, float, float], clip: tuple[float, float, float, float]) -> float:
    """Area of the bounding box of `box` mapped through `m`, clipped to `clip` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    points = [(x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5]) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    w = min(max(xs), clip[2]) - max(min(xs), clip[0])
    h = min(max(ys), clip[3]) - max(min(ys), clip[1])
    return max(0.0, w) * max(0.0, h)


def _resolve(obj):
    from pypdf.generic import IndirectObject

    return obj.get_object() if isinstance(obj, IndirectObject) else obj


@dataclass
class _Tally:
    image_area: float = 0.0
    glyph_area: float = 0.0
    glyphs: int = 0
    invisible: int = 0
    operations: int = 0


class _Walker:
    """Follows q/Q/cm and the text state through a content stream and its forms."""

    def __init__(self, reader: PdfReader, clip: tuple[float, float, float, float]):
        self.reader = reader
        self.clip = clip

    def walk(self, stream, resources, ctm: Matrix, tally: _Tally, depth: int = 0) -> None:
        from pypdf.generic import ContentStream, DictionaryObject

        if depth > MAX_DEPTH or stream is None:
            return
        try:
            operations = ContentStream(stream, self.reader).operations
        except Exception:  # noqa: BLE001 - a damaged stream is measured as empty, never fatal
            return
        resources = _resolve(resources) if resources is not None else DictionaryObject()
        fonts = _resolve(resources.get("/Font")) or {}
        xobjects = _resolve(resources.get("/XObject")) or {}
        stack: list[Matrix] = []
        tm: Matrix = IDENTITY
        tlm: Matrix = IDENTITY
        size = 0.0
        scale = 1.0  # Tz / 100
        mode = 0
        two_byte = False
        for operands, op in operations:
            tally.operations += 1
            if tally.operations > MAX_OPERATIONS:
                return
            if op == b"q":
                stack.append(ctm)
            elif op == b"Q":
                ctm = stack.pop() if stack else ctm
            elif op == b"cm":
                m = _matrix(operands)
                if m:
                    ctm = _mul(m, ctm)
            elif op == b"BT":
                tm = tlm = IDENTITY
            elif op == b"Tf" and len(operands) >= 2:
                try:
                    size = abs(float(operands[1]))
                except (TypeError, ValueError):
                    size = 0.0
                font = _resolve(fonts.get(operands[0])) if hasattr(fonts, "get") else None
                two_byte = bool(font) and font.get("/Subtype") == "/Type0"
            elif op == b"Tz" and operands:
                try:
                    scale = float(operands[0]) / 100.0
                except (TypeError, ValueError):
                    scale = 1.0
            elif op == b"Tr" and operands:
                try:
                    mode = int(operands[0])
                except (TypeError, ValueError):
                    mode = 0
            elif op == b"Tm":
                m = _matrix(operands)
                if m:
                    tm = tlm = m
            elif op in (b"Td", b"TD") and len(operands) >= 2:
                with contextlib.suppress(TypeError, ValueError):
                    tlm = _mul((1.0, 0.0, 0.0, 1.0, float(operands[0]), float(operands[1])), tlm)
                tm = tlm
            elif op in (b"Tj", b"'", b'"', b"TJ"):
                n = self._glyph_count(operands, op, two_byte)
                if n and size:
                    m = _mul(tm, ctm)
                    det = abs(m[0] * m[3] - m[1] * m[2])
                    tally.glyph_area += n * GLYPH_WIDTH_EM * abs(scale) * size * size * det
                    tally.glyphs += n
                    if mode in (3, 7):
                        tally.invisible += n
            elif op == b"INLINE IMAGE":
                tally.image_area += _box_area(ctm, (0, 0, 1, 1), self.clip)
            elif op == b"Do" and operands:
                xobj = _resolve(xobjects.get(operands[0])) if hasattr(xobjects, "get") else None
                if xobj is None:
                    continue
                subtype = xobj.get("/Subtype")
                if subtype == "/Image":
                    tally.image_area += _box_area(ctm, (0, 0, 1, 1), self.clip)
                elif subtype == "/Form":
                    form = _matrix(list(xobj.get("/Matrix", IDENTITY)))
                    inner = _mul(form or IDENTITY, ctm)
                    self.walk(xobj, xobj.get("/Resources", resources), inner, tally, depth + 1)

    @staticmethod
    def _glyph_count(operands: list, op: bytes, two_byte: bool) -> int:
        """Glyphs a text-showing operator draws (string bytes; two per glyph in a Type0 font)."""
        if not operands:
            return 0
        items = list(operands[0]) if op == b"TJ" and isinstance(operands[0], list) else [operands[-1]]
        total = 0
        for item in items:
            raw = getattr(item, "original_bytes", None)
            if raw is None and isinstance(item, bytes):
                raw = item
            if raw is None and isinstance(item, str):
                raw = item.encode("latin-1", "replace")
            if raw:
                total += len(raw) // 2 if two_byte else len(raw)
        return total


def _annotation_cover(reader: PdfReader, page, clip: tuple[float, float, float, float]) -> float:
    """Area of visible annotations whose normal appearance shows text (signature boxes, stamps)."""
    from pypdf.generic import DictionaryObject

    area = 0.0
    annots = _resolve(page.get("/Annots"))
    for ref in annots or []:
        annot = _resolve(ref)
        if not isinstance(annot, DictionaryObject) or int(annot.get("/F", 0)) & _HIDDEN_FLAGS:
            continue
        appearance = _resolve(annot.get("/AP"))
        normal = _resolve(appearance.get("/N")) if isinstance(appearance, DictionaryObject) else None
        if normal is None or not hasattr(normal, "get_data"):
            continue  # no appearance, or one per state (check boxes): not text
        rect = annot.get("/Rect")
        try:
            x0, y0, x1, y1 = (float(v) for v in rect)
        except (TypeError, ValueError):
            continue
        tally = _Tally()
        _Walker(reader, (-1e9, -1e9, 1e9, 1e9)).walk(normal, normal.get("/Resources"), IDENTITY, tally)
        if tally.glyphs:
            area += _box_area(IDENTITY, (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), clip)
    return area


def measure_page(reader: PdfReader, index: int) -> PageLayers | None:
    """The page's image and text geometry, or None when the page cannot be read."""
    try:
        page = reader.pages[index]
        box = page.cropbox
        clip = (float(box.left), float(box.bottom), float(box.right), float(box.top))
        page_area = (clip[2] - clip[0]) * (clip[3] - clip[1])
        if page_area <= 0:
            return None
        tally = _Tally()
        _Walker(reader, clip).walk(page.get_contents(), page.get("/Resources"), IDENTITY, tally)
        annotations = _annotation_cover(reader, page, clip)
    except Exception:  # noqa: BLE001 - pypdf raises many kinds on damaged files; the caller falls back
        return None
    return PageLayers(
        image_cover=round(min(1.0, tally.image_area / page_area), 4),
        text_cover=round(min(1.0, (tally.glyph_area + annotations) / page_area), 4),
        glyphs=tally.glyphs,
        invisible=round(tally.invisible / tally.glyphs, 4) if tally.glyphs else 0.0,
        annotation_cover=round(min(1.0, annotations / page_area), 4),
    )


def measure_file_page(path: Path, index: int) -> PageLayers | None:
    """`measure_page` on page `index` of the PDF at `path` (opened lazily: only that page is read)."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(path, strict=False)
    except Exception:  # noqa: BLE001
        return None
    return measure_page(reader, index)
