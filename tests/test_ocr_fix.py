"""Word fixes settled on the OCR image (`pipeline.ocr.fixes`): glued words, rules inside words,
superscript units. Rendered Liberation Serif pixels, and one real Tesseract run on a ruled table."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline.imaging import cleaning
from pipeline.ocr.fixes import refine_words
from pipeline.ocr.tesseract import ocr_image, tesseract_available
from pipeline.ocr.words import Word
from pipeline.settings import CleaningSettings
from tests.pages import font

pytestmark = [pytest.mark.ocr]

DPI = 300
PX = round(12.5 * DPI / 72)  # 12.5 pt


def strip(*runs: tuple[str, int]) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """One line of text runs (text, x) on white; returns the image and each run's box (x, y, w, h)."""
    img = Image.new("L", (2000, 160), 255)
    d = ImageDraw.Draw(img)
    f = font(PX)
    boxes = []
    for text, x in runs:
        d.text((x, 40), text, font=f, fill=0)
        x0, y0, x1, y1 = d.textbbox((x, 40), text, font=f)
        boxes.append((x0, y0, x1 - x0, y1 - y0))
    return np.asarray(img), boxes


def word(text: str, box: tuple[int, int, int, int]) -> Word:
    return Word(text, 0.9, box, 1, 1, 1)


def union(a, b):
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


def test_a_word_glued_to_the_number_after_a_space_is_split():
    f = font(PX)
    gap = round(f.getlength(" "))
    img, (b1, b2, b3) = strip(("Thôn", 100), ("9", 100 + round(f.getlength("Thôn")) + gap), ("Nguyễn Văn", 700))
    glued = word("Thôn9", union(b1, b2))
    out = refine_words([glued, word("Nguyễn", b3)], img)
    assert [w.text for w in out] == ["Thôn", "9", "Nguyễn"]
    thon, nine = out[0].box, out[1].box
    assert thon[0] + thon[2] <= b2[0] and nine[0] >= b1[0] + b1[2]  # each box on its own glyphs


@pytest.mark.parametrize("text", ["1cm", "QĐ1", "H31", "m2", "TTr", "01BLP2"])
def test_words_typed_without_a_space_stay_whole(text):
    img, (b,) = strip((text, 100))
    assert [w.text for w in refine_words([word(text, b)], img)] == [text]


def test_two_capitalised_words_glued_are_split_only_at_a_space():
    f = font(PX)
    img, (b1, b2) = strip(("Lê", 100), ("Công", 100 + round(f.getlength("Lê ")) + 2))
    assert [w.text for w in refine_words([word("LêCông", union(b1, b2))], img)] == ["Lê", "Công"]
    img, (b,) = strip(("McDonald", 100))
    assert [w.text for w in refine_words([word("McDonald", b)], img)] == ["McDonald"]


def test_a_rule_read_inside_a_word_separates_it():
    img, (b,) = strip(("số Tờ", 100))
    out = refine_words([word("số|Tờ", b)], img)
    assert [w.text for w in out] == ["số", "Tờ"]
    assert out[0].box[0] + out[0].box[2] <= out[1].box[0]


@pytest.mark.parametrize("read", ["m2", "(m°)", "mˆ", "m‡."])
def test_a_raised_exponent_becomes_a_superscript_digit(read):
    img = Image.new("L", (600, 160), 255)
    d = ImageDraw.Draw(img)
    f, small = font(PX), font(round(PX * 0.6))
    x = 100
    if read.startswith("("):
        d.text((x, 40), "(", font=f, fill=0)
        x += round(f.getlength("("))
    d.text((x, 40), "m", font=f, fill=0)
    x += round(f.getlength("m"))
    d.text((x, 40 - round(PX * 0.05)), "2", font=small, fill=0)  # raised: its baseline near the x-height
    x += round(small.getlength("2"))
    if read.startswith("("):
        d.text((x, 40), ")", font=f, fill=0)
    arr = np.asarray(img)
    ys, xs = np.nonzero(arr < 128)
    box = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
    expected = {"m2": "m²", "(m°)": "(m²)", "mˆ": "m²", "m‡.": "m²."}[read]
    assert [w.text for w in refine_words([word(read, box)], arr)] == [expected]


def test_m2_on_the_baseline_stays_m2():
    img, (b,) = strip(("m2,", 100))
    assert [w.text for w in refine_words([word("m2,", b)], img)] == ["m2,"]


def table_page(rows: int = 12) -> np.ndarray:
    """A ruled list with a `Thôn N` column, bordered cells (as `tests/test_cleaning.table_page`)."""
    def mm(v: float) -> int:
        return round(v * DPI / 25.4)

    img = Image.new("L", (mm(210), mm(297)), 255)
    d = ImageDraw.Draw(img)
    f = font(PX)
    x0, x1, y = mm(25), mm(190), mm(40)
    cols = [x0, mm(37), mm(90), mm(110), mm(140), mm(160), x1]
    names = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hồng Huyền", "Phạm Đức Thắng", "Hoàng Minh Tuấn"]
    top = y
    for r in range(rows):
        cells = [str(r + 1), names[r % len(names)], str(1960 + 3 * r), f"{'Thôn' if r % 2 else 'Xóm'} {r % 9 + 1}",
                 str(120 + 37 * r), f"{120 + 17 * r},5"]
        for cx, text in zip(cols, cells, strict=False):
            d.text((cx + mm(1.6), y + mm(1.8)), text, font=f, fill=0)
        d.line((x0, y, x1, y), fill=0, width=mm(0.25))
        y += mm(8)
    d.line((x0, y, x1, y), fill=0, width=mm(0.25))
    for cx in cols:
        d.line((cx, top, cx, y), fill=0, width=mm(0.25))
    return np.asarray(img)


@pytest.mark.skipif(not tesseract_available()[0], reason="needs tesseract with vie")
def test_table_cells_come_out_as_separate_words(tmp_path):
    prep = cleaning.clean_page(table_page(), DPI, CleaningSettings())
    assert prep.psm == 4
    res = ocr_image(prep.ocr, prep.ocr_dpi, tmp_path, "t", psm=prep.psm)
    texts = [w.text for w in res.words]
    glued = [t for t in texts if re.fullmatch(r"(Thôn|Xóm)\d+", t)]
    assert not glued, glued
    assert texts.count("Thôn") + texts.count("Xóm") >= 11


def test_a_column_border_read_as_a_letter_is_dropped():
    f = font(PX)
    img, (b,) = strip(("Tờ BĐ", 100))
    arr = img.copy()
    x = b[0] + b[2] + 6
    arr[10:150, x : x + 4] = 0  # the border, running far above and below the word
    bd = (b[0] + round(f.getlength("Tờ ")), b[1], b[2] - round(f.getlength("Tờ ")), b[3])
    assert [w.text for w in refine_words([word("BĐỊ", bd)], arr)] == ["BĐ"]
    assert [w.text for w in refine_words([word("BĐỊ", bd)], img)] == ["BĐỊ"]  # no border: left as read
    img3, (b3,) = strip(("III", 100))
    arr3 = img3.copy()
    arr3[10:150, b3[0] + b3[2] + 6 : b3[0] + b3[2] + 10] = 0
    assert [w.text for w in refine_words([word("III", b3)], arr3)] == ["III"]  # three glyphs, three letters
