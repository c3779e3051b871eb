"""Reuse, second look: is a number two scans read differently the same ink on both papers?

Two scans of one paper can disagree on a number that is no identifier (a digit lost under a stamp,
`826` / `8266`), and from the text alone that looks like another paper that differs in one number.
The searchable PDFs keep what is needed to look again: the page image (JPEG) and Tesseract's
invisible text layer, one positioned word per `TJ`. `same_ink` finds the word of each reading
(by its occurrence, and both at about the same place of the page), crops it from its page image
and reads it again with Tesseract restricted to `0-9/.-`, plain and with colours faded: only when
both crops read the same numbers, among them one of the two first readings, was the other reading
a slip. A word not found or elsewhere, an empty or a different reading keeps the papers apart.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ContentStream, TextStringObject

from pipeline.ocr import tesseract

GLYPH_WIDTH = 0.5  # Tesseract's GlyphLessFont: every glyph is half the font size wide


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF points, origin bottom left
    size: float


def words(pdf: bytes) -> list[Word]:
    """The positioned words of the PDF's text layers (as Tesseract writes them: `Tm`/`Td` moves,
    `Tz` scaling, 2-byte glyph codes)."""
    out: list[Word] = []
    reader = PdfReader(io.BytesIO(pdf))
    for n, page in enumerate(reader.pages):
        contents = page.get_contents()
        if contents is None:
            continue
        x = y = 0.0
        size, scale = 12.0, 1.0
        for operands, op in ContentStream(contents, reader).operations:
            if op == b"Tm":
                x, y = float(operands[4]), float(operands[5])
            elif op == b"Td":
                x, y = x + float(operands[0]), y + float(operands[1])
            elif op == b"Tf":
                size = float(operands[1])
            elif op == b"Tz":
                scale = float(operands[0]) / 100
            elif op == b"TJ":
                raw = b"".join(_raw(s) for s in operands[0] if isinstance(s, bytes | str))
                text = raw.decode("utf-16-be", errors="ignore").strip()
                if text:
                    width = len(text) * size * GLYPH_WIDTH * scale
                    out.append(Word(n, text, (x, y - 0.25 * size, x + width, y + size), size))
    return out


def _raw(s: bytes | str) -> bytes:
    """The bytes of a string operand as written (Tesseract's 2-byte glyph codes, not decoded text)."""
    raw = s.get_original_bytes() if isinstance(s, TextStringObject) else bytes(s)
    return raw.removeprefix(b"\xfe\xff")  # pypdf re-adds a byte-order mark to what it took for UTF-16


def page_image(pdf: bytes, page: int) -> tuple[np.ndarray, float, float] | None:
    """The page's largest image (RGB or grey) and its size in points, or None."""
    p = PdfReader(io.BytesIO(pdf)).pages[page]
    images = [f.image for f in p.images]
    if not images:
        return None
    pil = max(images, key=lambda i: i.width * i.height)
    data = np.asarray(pil.convert("RGB")) if pil.mode not in ("L", "1") else np.asarray(pil.convert("L"))
    return data, float(p.mediabox.width), float(p.mediabox.height)


def crop(pdf: bytes, word: Word) -> np.ndarray | None:
    """The word's region of its page image, with a margin."""
    got = page_image(pdf, word.page)
    if got is None:
        return None
    img, w, h = got
    sx, sy = img.shape[1] / w, img.shape[0] / h
    pad = 0.3 * word.size
    x0, y0, x1, y1 = word.box
    c0, c1 = max(0, int((x0 - pad) * sx)), min(img.shape[1], int((x1 + 2 * pad) * sx))  # the box runs short
    r0, r1 = max(0, int((h - y1 - pad) * sy)), min(img.shape[0], int((h - y0 + pad) * sy))
    if c1 - c0 < 4 or r1 - r0 < 4:
        return None
    return img[r0:r1, c0:c1]


def views(img: np.ndarray) -> list[np.ndarray]:
    """Grey ways to look at a crop: plain grey, and the lightest channel (a red stamp or a blue
    signature over the number fades, black ink stays)."""
    if img.ndim == 2:
        return [img, img]  # a grey page has no colours to fade; looked at alike against a colour one
    return [cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY), img.max(axis=2)]


def read_digits(img: np.ndarray) -> str:
    """The digits (and `/.-`) Tesseract reads on one line of a small crop (scaled to ~48 px high)."""
    scale = 48 / img.shape[0]
    big = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, 10, 10, 10, 10, cv2.BORDER_CONSTANT, value=255)
    return tesseract.read_line(big)


NEAR = 0.06  # the two words' centres lie this close (fraction of the page) on two scans of one paper


def word_of(found: list[Word], number: str, before: int, numbers_of: Callable[[str], list[str]]) -> Word | None:
    """The word holding the occurrence of `number` that `before` others precede, in reading order."""
    seen = 0
    for w in found:
        for n in numbers_of(w.text):
            if n == number:
                if seen == before:
                    return w
                seen += 1
    return None


def near(a: Word, b: Word, pdf_a: bytes, pdf_b: bytes) -> bool:
    """Both words sit at about the same place of the same page."""
    if a.page != b.page:
        return False
    box = PdfReader(io.BytesIO(pdf_a)).pages[a.page].mediabox
    w, h = float(box.width), float(box.height)
    ax, ay = (a.box[0] + a.box[2]) / 2, (a.box[1] + a.box[3]) / 2
    bx, by = (b.box[0] + b.box[2]) / 2, (b.box[1] + b.box[3]) / 2
    return abs(ax - bx) <= NEAR * w and abs(ay - by) <= NEAR * h


def same_ink(pdf_a: bytes, pdf_b: bytes, sites: list[tuple[str, int, str, int]],
             numbers_of: Callable[[str], list[str]]) -> bool:
    """Every conflicting pair of readings (`a` read on A, `b` on B, each with the count of the same
    number before it, as `pipeline.publish.reuse.conflict_sites` gives them) is one word at the same place,
    whose two crops read the same numbers again, among them `a` or `b`. `numbers_of` splits a
    reading into numbers as the texts were (`pipeline.publish.reuse.numbers`)."""
    if not sites:
        return False
    try:
        return _same_ink(pdf_a, pdf_b, sites, numbers_of)
    except (PyPdfError, ValueError, OSError, RuntimeError, IndexError, KeyError):  # a PDF we cannot look into: keep apart
        return False


def _same_ink(pdf_a: bytes, pdf_b: bytes, sites: list[tuple[str, int, str, int]],
              numbers_of: Callable[[str], list[str]]) -> bool:
    wa, wb = words(pdf_a), words(pdf_b)
    for a, ka, b, kb in sites:
        word_a, word_b = word_of(wa, a, ka, numbers_of), word_of(wb, b, kb, numbers_of)
        if word_a is None or word_b is None or not near(word_a, word_b, pdf_a, pdf_b):
            return False
        ca, cb = crop(pdf_a, word_a), crop(pdf_b, word_b)
        if ca is None or cb is None:
            return False
        if not any(alike(numbers_of(read_digits(va)), numbers_of(read_digits(vb)), a, b)
                   for va, vb in zip(views(ca), views(cb), strict=True)):
            return False
    return True


def alike(ra: list[str], rb: list[str], a: str, b: str) -> bool:
    """Both crops read the same numbers, and one of the first readings is among them."""
    return bool(ra) and ra == rb and (a in ra or b in ra)
