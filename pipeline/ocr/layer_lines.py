"""The lines of a Tesseract text layer: taken apart, put in reading order, put back together.

Tesseract's PDF renderer writes one `BT … ET` per layout block, the block's first line placed by an
absolute `Tm`, each following word and line by a `Td` relative to the word before, the font size by
`Tf` where it changes and the width by `Tz` per word, in one glyph-less font (`/f-0-0`, 500 units a
glyph). `parse()` follows that state and gives every line its place, size and extent on the page, so
a line can be written again on its own (`Line.standalone`) and blocks can be moved as they are.

`reading_order()` fixes what Tesseract's block order gets wrong on a card copy: its column finding may
put a centred heading (a card's motto) after the block under it. A block that lies wholly above
another and shares most of its width is put before it; everything else keeps Tesseract's order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# operands and operators as Tesseract writes them (no strings, no inline images, no dictionaries)
_TOKEN = re.compile(rb"\[[^\]]*\]|/[^\s/\[\]<>()]+|[-+]?(?:\d+\.?\d*|\.\d+)|[A-Za-z*']+|\S")
_BLOCK = re.compile(rb"BT\n(.*?)\nET\n", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")
GLYPH_WIDTH = 0.5  # Tesseract's glyph-less font: every glyph is 500/1000 of the font size wide


@dataclass
class Line:
    """One line of a layer, with the text state it needs to stand on its own."""

    body: bytes  # its operators, without the positioning that led to it
    matrix: tuple[float, float, float, float, float, float]  # text matrix at its start (user space)
    font: bytes  # `/f-0-0 11 Tf` in force at its start
    tz: bytes  # `91.6 Tz` in force at its start ("" when none yet)
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in points, y up

    def standalone(self) -> bytes:
        """The line as a `BT … ET` of its own: invisible ink, its matrix, font and width scale."""
        head = ("3 Tr " + " ".join(_num(v) for v in self.matrix) + " Tm ").encode()
        return b"BT\n" + head + self.font + b" " + self.tz + b" " + self.body.strip() + b" \nET\n"

    def placed(self, scale: float, dx: float, dy: float) -> Line:
        """The line of a layer drawn scaled by `scale` and moved by (dx, dy) points into another one
        (its matrix times that transformation: its words' offsets scale with it)."""
        a, b, c, d, e, f = self.matrix
        x0, y0, x1, y1 = self.box
        return Line(self.body, (a * scale, b * scale, c * scale, d * scale, e * scale + dx, f * scale + dy),
                    self.font, self.tz, (x0 * scale + dx, y0 * scale + dy, x1 * scale + dx, y1 * scale + dy))

    @property
    def text(self) -> str:
        """What the line says (Tesseract writes UTF-16BE hex strings, a space after each word but the last)."""
        return "".join(bytes.fromhex(h.decode()).decode("utf-16-be", "replace") for h in _HEX.findall(self.body))

    def retext(self, text: str) -> Line | None:
        """The line with its one word saying `text` in the same width (the word's `Tz` scaled by the
        old length over the new); None for a line of several words or no width scale of its own."""
        hexes = _HEX.findall(self.body)
        tzs = list(re.finditer(rb"([-+\d.]+) Tz", self.body))
        if len(hexes) != 1 or len(tzs) != 1 or not text:
            return None
        old = bytes.fromhex(hexes[0].decode()).decode("utf-16-be", "replace")
        new = text + (" " if old.endswith(" ") else "")
        tz = float(tzs[0].group(1)) * len(old) / len(new)
        body = self.body[:tzs[0].start()] + f"{_num(tz)} Tz".encode() + self.body[tzs[0].end():]
        body = _HEX.sub(lambda _: b"<" + new.encode("utf-16-be").hex().upper().encode() + b">", body, count=1)
        return Line(body, self.matrix, self.font, self.tz, self.box)

    @property
    def horizontal(self) -> bool:
        a, b, c, d, _, _ = self.matrix
        return abs(b) < 1e-6 and abs(c) < 1e-6 and a > 0 and d > 0


@dataclass
class Layer:
    """A layer's content: what comes before the first block, the blocks (lists of lines), the rest."""

    head: bytes
    blocks: list[list[Line]]
    tail: bytes


def _num(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def parse(content: bytes) -> Layer | None:
    """The blocks and lines of a Tesseract text layer's content stream; None when it is not laid out
    as Tesseract writes it (the caller then leaves the layer alone)."""
    found = list(_BLOCK.finditer(content))
    if not found:
        return None
    blocks: list[list[Line]] = []
    font, tz = b"", b""
    for i, m in enumerate(found):
        if i and content[found[i - 1].end():m.start()].strip():
            return None  # something between two blocks: not a layer this module knows
        lines = _block_lines(m.group(1), font, tz)
        if lines is None:
            return None
        if lines:
            font, tz = lines[-1][1], lines[-1][2]
        blocks.append([ln for ln, _, _ in lines])
    return Layer(content[:found[0].start()], blocks, content[found[-1].end():])


def _block_lines(body: bytes, font: bytes, tz: bytes) -> list[tuple[Line, bytes, bytes]] | None:
    """The lines of one `BT … ET` body (lines end with a newline), each with the font and width scale
    in force after it."""
    out: list[tuple[Line, bytes, bytes]] = []
    matrix: list[float] | None = None  # a b c d, and the line matrix's origin e f
    size = 0.0
    m = re.search(rb"([-+\d.]+) Tf", font)
    if m:
        size = float(m.group(1))
    zx = 100.0
    m = re.search(rb"([-+\d.]+) Tz", tz)
    if m:
        zx = float(m.group(1))
    for raw in body.split(b"\n"):
        if not raw.strip():
            continue
        stack: list[bytes] = []
        start: tuple[float, float, float, float, float, float] | None = None
        start_font, start_tz = font, tz
        lead = 0  # bytes of the leading positioning (a line's first Td), left out of `body`
        words: list[tuple[float, float]] = []  # (x of the word's start in text space from the line start, width)
        x = 0.0
        for t in _TOKEN.finditer(raw):
            tok = t.group(0)
            if tok[:1].isalpha() or tok in (b"'", b"*"):
                if tok == b"Tm" and len(stack) == 6:
                    matrix = [float(v) for v in stack]
                    if start is None:
                        start = tuple(matrix)  # type: ignore[assignment]
                        start_font, start_tz = font, tz
                        lead = t.end()
                        x = 0.0
                    else:
                        return None  # a turn of writing direction inside a line: not taken apart
                elif tok == b"Td" and len(stack) == 2 and matrix is not None:
                    tx, ty = float(stack[0]), float(stack[1])
                    a, b, c, d, e, f = matrix
                    matrix = [a, b, c, d, e + tx * a + ty * c, f + tx * b + ty * d]
                    if start is None:
                        start = tuple(matrix)  # type: ignore[assignment]
                        start_font, start_tz = font, tz
                        lead = t.end()
                        x = 0.0
                    else:
                        x += tx
                elif tok == b"Tf" and len(stack) == 2:
                    size = float(stack[1])
                    font = stack[0] + b" " + stack[1] + b" Tf"
                elif tok == b"Tz" and len(stack) == 1:
                    zx = float(stack[0])
                    tz = stack[0] + b" Tz"
                elif tok == b"TJ" and len(stack) == 1:
                    n = len(re.sub(rb"[^0-9A-Fa-f]", b"", stack[0])) // 4
                    words.append((x, n * GLYPH_WIDTH * size * zx / 100.0))
                elif tok != b"Tr" or len(stack) != 1:
                    return None
                stack = []
            else:
                stack.append(tok)
        if start is None or not words or stack:
            return None
        a, b, c, d, e, f = start
        x1 = max(wx + ww for wx, ww in words)
        y_lo, y_hi = -0.25 * size, 0.8 * size  # descender to cap height of a line set in `size`
        corners = [(e + px * a + py * c, f + px * b + py * d) for px in (0.0, x1) for py in (y_lo, y_hi)]
        box = (min(p[0] for p in corners), min(p[1] for p in corners),
               max(p[0] for p in corners), max(p[1] for p in corners))
        out.append((Line(raw[lead:], start, start_font, start_tz, box), font, tz))
    return out


def union(lines: list[Line]) -> tuple[float, float, float, float]:
    return (min(ln.box[0] for ln in lines), min(ln.box[1] for ln in lines),
            max(ln.box[2] for ln in lines), max(ln.box[3] for ln in lines))


def _above(upper: list[Line], lower: list[Line]) -> bool:
    """`upper` lies wholly above `lower` (y up) and they share most of the narrower one's width."""
    if not all(ln.horizontal for ln in upper + lower):
        return False
    ux0, uy0, ux1, _ = union(upper)
    lx0, _, lx1, ly1 = union(lower)
    tol = 0.2 * min(ln.box[3] - ln.box[1] for ln in upper + lower)
    overlap = min(ux1, lx1) - max(ux0, lx0)
    return uy0 >= ly1 - tol and overlap >= 0.5 * min(ux1 - ux0, lx1 - lx0)


def reading_order(blocks: list[list[Line]]) -> list[list[Line]]:
    """The blocks in Tesseract's order, except that a block wholly above another one and sharing
    most of its width comes first (a stable topological sort: each time, the first block in
    Tesseract's order with nothing left above it)."""
    n = len(blocks)
    before = [[j for j in range(n) if j != i and _above(blocks[j], blocks[i])] for i in range(n)]
    placed: list[int] = []
    done = [False] * n
    while len(placed) < n:
        ready = [i for i in range(n) if not done[i] and all(done[j] for j in before[i])]
        i = ready[0] if ready else next(i for i in range(n) if not done[i])  # (no cycle: `above` is strict)
        done[i] = True
        placed.append(i)
    return [blocks[i] for i in placed]


def write(layer: Layer, blocks: list[list[Line]] | None = None) -> bytes:
    """The layer's content with `blocks` (default: its own), every line standing on its own."""
    body = b"".join(ln.standalone() for block in (layer.blocks if blocks is None else blocks) for ln in block)
    return layer.head + body + layer.tail


__all__ = ["GLYPH_WIDTH", "Layer", "Line", "parse", "reading_order", "union", "write"]
