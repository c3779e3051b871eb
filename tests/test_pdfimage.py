"""A scanned PDF page's own image taken as stored (no pdftoppm), and every other page left to the renderer."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import img2pdf
import numpy as np
from PIL import Image
from pypdf import PdfReader, PdfWriter

from pipeline.ingest import poppler
from pipeline.ingest.inputs import load_page, open_dossier
from pipeline.ingest.pdfimage import page_image
from tests.pages import text_page

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "dossiers"


def _jpeg(dpi: int = 150) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(text_page(dpi=dpi)).convert("RGB").save(buf, "JPEG", quality=80, dpi=(dpi, dpi))
    return buf.getvalue()


def test_jpeg_page_is_the_stored_jpeg(tmp_path):
    data = _jpeg()
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(img2pdf.convert(data, layout_fun=img2pdf.get_fixed_dpi_layout_fun((150, 150))))
    page = load_page(open_dossier(pdf).pages[0], 300)
    assert page.jpeg == data, "the JPEG goes on as stored"
    assert page.dpi == 150 and page.pixels.shape == (round(11.69 * 150), round(8.27 * 150), 3)
    assert np.array_equal(page.pixels, np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


def test_bilevel_g4_page_decodes_like_the_renderer():
    ref = open_dossier(SAMPLES / "hs_0001.pdf").pages[0]
    embedded = page_image(ref.file, ref.index)
    assert embedded is not None and embedded.jpeg is None and embedded.pixels.ndim == 2
    rendered = np.asarray(poppler.render_page(ref.file, ref.index, 300).convert("L"))
    assert embedded.pixels.shape == rendered.shape
    ink, ink_rendered = (embedded.pixels < 128).mean(), (rendered < 128).mean()
    assert ink > 0.01 and abs(ink - ink_rendered) < 0.05 * ink, "same ink: not inverted, not shifted"
    # pdftoppm smooths the edges of the strokes: every rendered ink pixel is within a pixel of the stored ink
    grown = cv2.dilate((embedded.pixels < 128).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    assert (grown & (rendered < 128)).sum() > 0.99 * (rendered < 128).sum()


def test_pages_that_are_more_than_one_image_are_rendered(tmp_path):
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(img2pdf.convert(_jpeg(), layout_fun=img2pdf.get_fixed_dpi_layout_fun((150, 150))))
    turned = PdfWriter(clone_from=str(pdf))
    turned.pages[0].rotate(90)
    rotated = tmp_path / "rotated.pdf"
    turned.write(str(rotated))
    assert page_image(rotated, 0) is None
    assert load_page(open_dossier(rotated).pages[0], 100).jpeg is None, "rendered, not taken as stored"

    text = PdfWriter(clone_from=str(pdf))
    text.pages[0].merge_page(PdfReader(_text_pdf(tmp_path)).pages[0])  # a text layer over the image
    with_text = tmp_path / "text.pdf"
    text.write(str(with_text))
    assert page_image(with_text, 0) is None
    assert page_image(tmp_path / "nothing.pdf", 0) is None  # no such file: the renderer will say why

    from pypdf.annotations import FreeText

    boxed = PdfWriter(clone_from=str(pdf))  # a signature box drawn over the scan
    boxed.add_annotation(0, FreeText(text="Ký bởi: UBND xã", rect=(300, 50, 560, 120)))
    with_box = tmp_path / "boxed.pdf"
    boxed.write(str(with_box))
    assert page_image(with_box, 0) is None


def _text_pdf(tmp_path: Path) -> Path:
    from pipeline.ocr.tesseract import ocr_image

    result = ocr_image(text_page(dpi=150), 150, tmp_path, "t")
    assert result.textlayer_pdf is not None
    return result.textlayer_pdf
