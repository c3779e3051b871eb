"""Real Tesseract on a rendered page, and the searchable PDF built from it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from PIL import ImageFont
from pypdf import PdfReader

from pipeline.ocr.tesseract import ocr_image, tesseract_available
from pipeline.ocr.words import parse_tsv, words_to_text
from pipeline.publish.pdfout import PagePart, build_pdf, write_jpeg
from pipeline.textnorm import cer
from tests.pages import LINES, font, text_page

pytestmark = [pytest.mark.ocr]


@pytest.fixture(scope="module")
def ocred(tmp_path_factory):
    work = tmp_path_factory.mktemp("ocr")
    page = text_page()
    return page, ocr_image(page, 300, work, "p1"), work


def test_tesseract_has_vietnamese():
    ok, msg = tesseract_available("vie")
    assert ok, msg


def test_ocr_text_words_confidence(ocred):
    _, result, _ = ocred
    assert result.error is None
    assert cer(result.text, "\n".join(LINES)) < 0.02
    assert result.confidence > 0.8
    quyet = next(w for w in result.words if w.text == "QUYẾT")
    assert 0.5 < quyet.conf <= 1.0
    assert result.textlayer_pdf is not None and result.textlayer_pdf.exists()


def test_searchable_pdf(ocred, tmp_path):
    page, result, work = ocred
    jpeg = write_jpeg(page, work / "p1.jpg", 80)
    out = build_pdf([PagePart(jpeg=jpeg, dpi=300, textlayer=result.textlayer_pdf)], tmp_path / "qd.pdf",
                    {"Title": "Quyết định — hs_1", "Subject": "Quyết định", "Keywords": "hs_1, quyet_dinh"})
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert cer(text, "\n".join(LINES)) < 0.02
    reader = PdfReader(out)
    assert reader.pdf_header >= "%PDF-1.4"
    assert reader.metadata.title == "Quyết định — hs_1"
    page0 = reader.pages[0]
    assert float(page0.mediabox.width) == pytest.approx(8.27 * 72, abs=1)
    images = page0["/Resources"]["/XObject"]
    filters = [images[k].get_object()["/Filter"] for k in images if images[k].get_object()["/Subtype"] == "/Image"]
    assert filters == ["/DCTDecode"], "the page image must be JPEG, not raw pixels"


def test_text_layer_is_aligned_with_the_words(ocred, tmp_path):
    page, result, work = ocred
    jpeg = write_jpeg(page, work / "p1.jpg", 80)
    out = build_pdf([PagePart(jpeg=jpeg, dpi=300, textlayer=result.textlayer_pdf)], tmp_path / "a.pdf", {})
    bbox = subprocess.run(["pdftotext", "-bbox", str(out), "-"], capture_output=True, text=True, check=True).stdout
    m = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">QUYẾT</word>', bbox)
    assert m, bbox[:500]
    # where tests/pages.py drew it: x = 0.8 in, third line
    f = font(round(13 * 300 / 72))
    x0 = 0.8 * 72
    y_top_px = round(300 * 0.8) + 2 * round(13 * 300 / 72 * 1.6)
    width_pt = f.getlength("QUYẾT") / 300 * 72
    assert abs(float(m.group(1)) - x0) < 3
    # the invisible word spans most of the drawn word and ends before the next one starts
    assert x0 + 0.7 * width_pt < float(m.group(3)) < x0 + width_pt + 4
    assert float(m.group(2)) - 6 < y_top_px / 300 * 72 + f.size / 300 * 72 < float(m.group(4)) + 6


def test_timeout_gives_flagged_empty_result(tmp_path):
    page = text_page(repeat=3)
    result = ocr_image(page, 300, tmp_path, "slow", timeout_s=0.05)
    assert result.error and "timed out" in result.error
    assert result.text == "" and result.words == []


def test_tsv_parsing_keeps_lines_and_blocks():
    tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
    rows = [(1, 1, 1, "Cộng"), (1, 1, 1, "hoà"), (1, 1, 2, "Độc"), (2, 1, 1, "Điều")]
    for i, (b, p, ln, w) in enumerate(rows):
        tsv += f"5\t1\t{b}\t{p}\t{ln}\t{i}\t0\t0\t10\t10\t91.5\t{w}\n"
    words = parse_tsv(tsv)
    assert words_to_text(words) == "Cộng hòa\nĐộc\n\nĐiều"  # NFC + one tone convention
    assert words[0].conf == pytest.approx(0.915)


def test_font_helper_present():
    assert isinstance(font(20), ImageFont.FreeTypeFont)
    assert Path("/usr/share/tesseract-ocr").exists() or tesseract_available()[0]
