"""`pipeline.ocr.tesseract.read_lines`: several digit crops read by one Tesseract process give what
one process per crop gives, in order, with an empty or unreadable crop keeping its place."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline.ocr.tesseract import read_line, read_lines
from tests.pages import font

pytestmark = [pytest.mark.ocr]


def digits(text: str, px: int) -> np.ndarray:
    img = Image.new("L", (px * (len(text) + 2), px * 2), 255)
    ImageDraw.Draw(img).text((px, px // 3), text, font=font(px), fill=0)
    return np.asarray(img)


def test_one_process_reads_each_crop_as_its_own_line():
    crops = [digits("47", 40), np.zeros((0, 0), np.uint8), digits("2025", 24), np.full((30, 90), 255, np.uint8),
             digits("157", 70)]
    batched = read_lines(crops)
    assert batched == [read_line(c) if c.size else "" for c in crops]
    assert batched[0] == "47" and batched[2] == "2025" and batched[4] == "157"
    assert batched[1] == "" and batched[3] == ""


def test_nothing_to_read_starts_no_process():
    assert read_lines([]) == []
