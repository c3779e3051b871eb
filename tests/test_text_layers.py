"""The text-layer decision per PDF page, on PDFs made here and on the real documents of
../shared/corpora/real-vbhc: signature boxes over a scan are OCRed (the boxes kept), a scanner's
broken OCR layer is replaced, born-digital text is kept exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.digitise.pages import process_page
from pipeline.digitise.text_layer import decide, with_layers
from pipeline.ingest.inputs import open_dossier
from pipeline.ingest.pdf_layers import measure_file_page
from pipeline.ocr.quality import judge_text_layer, plausibility
from pipeline.settings import Settings
from tests.conftest import REAL
from tests.signed_pdfs import scan_pdf, scan_with_ocr_layer, sign_pdf

BORN_DIGITAL = {"vbhc_05": 2, "vbhc_35": 1, "vbhc_36": 2}
needs_real = pytest.mark.skipif(not (REAL / "pdf").is_dir(), reason=f"real corpus not found at {REAL}")


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("layers")
    scan = scan_pdf(tmp)
    return {"scan": scan, "signed": sign_pdf(scan, tmp / "signed.pdf")}


@pytest.fixture(scope="module")
def layered(tmp_path_factory) -> dict[str, Path]:
    """Scans with a scanner's OCR layer: Tesseract `eng` (broken Vietnamese) and `vie` (good)."""
    tmp = tmp_path_factory.mktemp("ocr_layers")
    return {"broken": scan_with_ocr_layer(tmp, "eng", "broken.pdf"),
            "good": scan_with_ocr_layer(tmp, "vie", "good.pdf")}


def first_ref(path: Path):
    return with_layers(open_dossier(path).pages[0])


def test_geometry_of_made_pdfs(made):
    scan = measure_file_page(made["scan"], 0)
    assert scan.image_cover > 0.99 and scan.text_cover == 0 and scan.glyphs == 0
    signed = measure_file_page(made["signed"], 0)
    assert signed.image_cover > 0.99 and 0 < signed.text_cover < 0.1
    assert signed.annotation_cover == signed.text_cover and signed.glyphs == 0  # the box is the widget


@pytest.mark.ocr
def test_geometry_of_an_ocr_layer(layered):
    broken = measure_file_page(layered["broken"], 0)
    assert broken.image_cover > 0.99 and broken.glyphs > 500 and broken.invisible == 1.0


def test_signature_box_over_a_scan_is_ocred(made):
    ref = first_ref(made["signed"])
    decision = decide(ref, "auto")
    assert decision.used == "ocr" and decision.kind == "stub_over_image"
    assert "Ky boi: Uy ban nhan dan xa Hoa An" in decision.text  # the box is data: kept
    assert decision.words >= 20 and judge_text_layer(ref.pdf_text).real  # the old rule kept it as the page
    assert decide(ref, "keep").used == "pdf"
    assert decide(ref, "ocr").used == "ocr"


@pytest.mark.ocr
def test_broken_scanner_layer_is_replaced(layered, tmp_path):
    ref = first_ref(layered["broken"])
    decision = decide(ref, "auto")
    assert decision.used == "ocr" and decision.kind == "ocr_layer"
    assert "syllables" in decision.reason and decision.plausibility < 0.85
    out = process_page(ref, Settings(home=tmp_path), tmp_path)  # real Tesseract
    assert out.page.text_source == "ocr" and out.page.text_layer.used == "ocr"
    assert "chứng nhận quyền sử dụng đất" in out.page.text
    assert plausibility(out.page.text)[0] > 0.9
    assert out.page.text_layer.text == decision.text  # the scanner's words are kept beside


@pytest.mark.ocr
def test_good_scanner_layer_is_kept(layered):
    decision = decide(first_ref(layered["good"]), "auto")
    assert decision.used == "pdf" and decision.kind == "ocr_layer" and decision.plausibility > 0.9


def test_scan_without_text_is_ocred(made):
    decision = decide(first_ref(made["scan"]), "auto")
    assert decision.used == "ocr" and decision.kind == "none" and decision.text == ""


def test_diacritic_free_layer_over_a_scan_is_poor():
    stripped = ("CONG HOA XA HOI CHU NGHIA VIET NAM Doc lap Tu do Hanh phuc QUYET DINH Ve viec cap giay chung "
                "nhan quyen su dung dat cho ho ong Nguyen Van An thuong tru tai thon Hoa Binh xa Cat Hai")
    assert judge_text_layer(stripped).real
    verdict = judge_text_layer(stripped, over_image=True)
    assert not verdict.real and "diacritics" in verdict.reason


@needs_real
@pytest.mark.parametrize("doc", sorted(BORN_DIGITAL))
def test_born_digital_pages_keep_their_exact_text(doc, tmp_path):
    source = open_dossier(REAL / "pdf" / f"{doc}.pdf")
    assert source.page_count == BORN_DIGITAL[doc]
    for ref in source.pages:
        out = process_page(ref, Settings(home=tmp_path), tmp_path)
        assert out.page.text_source == "pdf" and out.page.text_layer.kind == "born_digital"
        truth = (REAL / "text" / f"{doc}_p{ref.n}.txt").read_text(encoding="utf-8")
        assert out.page.text == truth.strip()  # character for character
        assert out.part.source_pdf == ref.file  # and the page itself is copied, not re-rendered


@needs_real
def test_real_signed_scans_go_to_ocr():
    """Every page of the 24 real documents: signed scans' boxes no longer pass for the page."""
    used: dict[str, list[str]] = {}
    for pdf in sorted((REAL / "pdf").glob("*.pdf")):
        used[pdf.stem] = [decide(with_layers(ref), "auto").used for ref in open_dossier(pdf).pages]
    assert len(used) == 24
    for doc, pages in used.items():
        assert pages == (["pdf"] * BORN_DIGITAL[doc] if doc in BORN_DIGITAL else ["ocr"] * len(pages)), doc
