"""A Tesseract text layer taken apart into lines and put back (`pipeline.ocr.layer_lines`): written
again it draws every word where Tesseract put it; blocks out of reading order are put right, columns
side by side keep Tesseract's order; a word given a new text keeps its width."""

from __future__ import annotations

import random
import subprocess

import numpy as np
import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject

from pipeline.imaging.cleaning import clean_page
from pipeline.ocr import layer_lines
from pipeline.ocr.layer_lines import Line
from pipeline.ocr.tesseract import ocr_image
from samples import content
from samples.generate import render_document


def _bbox(pdf) -> list[str]:
    """Every word of the layer with its box, as pdftotext places it."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip().startswith("<word")]


@pytest.mark.ocr
def test_written_again_every_word_stays_in_place(tmp_path):
    rng = random.Random(7)
    case = content.make_case(rng)
    page = render_document(content.build_documents(case, "uy_quyen", ["giay_uy_quyen"])[0], 200, rng)[0]
    p = clean_page(np.asarray(page.image), 200)
    first = ocr_image(p.ocr, p.ocr_dpi, tmp_path, "page")
    writer = PdfWriter(clone_from=str(first.textlayer_pdf))
    layer = layer_lines.parse(writer.pages[0].get_contents().get_data())
    assert layer is not None and len(layer.blocks) >= 3
    assert sum(len(b) for b in layer.blocks) >= len({(w.block, w.par, w.line) for w in first.words})
    stream = DecodedStreamObject()
    stream.set_data(layer_lines.write(layer))
    writer.pages[0].replace_contents(stream)
    again = tmp_path / "again.pdf"
    writer.write(again)
    before, after = _bbox(first.textlayer_pdf), _bbox(again)
    assert len(before) > 100 and after == before
    # each line's box (from Tesseract's own matrix, sizes and widths) holds its words' TSV boxes
    h_pt = p.ocr.shape[0] / p.ocr_dpi * 72
    for block in layer.blocks:
        for line in block:
            x0, y0, x1, y1 = line.box
            top, bottom = (h_pt - y1) / 72 * p.ocr_dpi, (h_pt - y0) / 72 * p.ocr_dpi
            mid = [w for w in first.words if w.text and w.text in line.text
                   and top <= w.box[1] + w.box[3] / 2 <= bottom]
            assert mid, line.text


def _line(x0: float, y_top: float, x1: float, size: float = 10.0) -> Line:
    """A horizontal line whose box is (x0, y_top - size, x1, y_top) in points, y up."""
    return Line(b"[ <00410020> ] TJ", (1, 0, 0, 1, x0, y_top - 0.8 * size), b"/f-0-0 10 Tf", b"100 Tz",
                (x0, y_top - size, x1, y_top))


def test_a_heading_read_after_the_block_under_it_comes_first():
    motto = [_line(250, 800, 450), _line(280, 788, 420)]
    title = [_line(260, 760, 440)]
    body = [_line(230, 730, 470), _line(230, 715, 400)]
    signer = [_line(300, 600, 400)]
    order = layer_lines.reading_order([title, body, motto, signer])
    assert order == [motto, title, body, signer]


def test_columns_side_by_side_keep_tesseracts_order():
    left_top, left_low = [_line(50, 800, 250)], [_line(50, 700, 250)]
    right_top = [_line(320, 800, 540), _line(320, 785, 540)]
    right_low = [_line(320, 650, 540)]
    blocks = [left_top, left_low, right_top, right_low]  # column by column
    assert layer_lines.reading_order(blocks) == blocks
    full = [_line(50, 850, 540)]  # a full-width heading read last goes above both columns
    assert layer_lines.reading_order([*blocks, full]) == [full, *blocks]


def test_a_word_given_a_new_text_keeps_its_width():
    line = Line(b"/f-0-0 11 Tf 128 Tz [ <004C0045003C003C0041004E003C003C0020> ] TJ", (1, 0, 0, 1, 100, 200),
                b"/f-0-0 11 Tf", b"128 Tz", (100, 197, 200, 209))
    assert line.text == "LE<<AN<< "
    longer = line.retext("LE<<AN<<<<<<")
    assert longer is not None and longer.text == "LE<<AN<<<<<< "
    assert b"88.615 Tz" in longer.body  # 128 x 9 / 13 characters: the same width
    two = Line(b"100 Tz [ <0041> ] TJ 10 0 Td 100 Tz [ <0042> ] TJ", (1, 0, 0, 1, 0, 0), b"", b"", (0, 0, 1, 1))
    assert two.retext("AB") is None
