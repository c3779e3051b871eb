"""The PDFs sohoa writes are PDF/A-2b, rule by rule (no validator such as veraPDF installs here offline),
and a scan's own JPEG drawn upright and straight by the page matrix lands where the resampled image would."""

from __future__ import annotations

import hashlib
import io
import subprocess

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms
from pypdf import PdfReader, PdfWriter

from pipeline.imaging.analysis import rotate_quadrant, rotate_small
from pipeline.ingest import poppler
from pipeline.ocr.tesseract import ocr_image
from pipeline.publish.pdfa import ArchivalRecord, problems, xmp_fields
from pipeline.publish.pdfout import PagePart, build_pdf, write_jpeg
from tests.pages import LINES, text_page

DC = "{http://purl.org/dc/elements/1.1/}"
HOSO = "{https://sohoa.example/ns/hoso/1.0/}"
RECORD = ArchivalRecord(
    title="Quyết định — hs_1", dossier_id="hs_1", component_id="hs_1-01", type_code="quyet_dinh",
    type_name="Quyết định", ma_ho_so="G01.123.001", so_ky_hieu="204/QĐ-UBND", ngay="2024-05-17",
    co_quan="ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI", trich_yeu="Về việc cấp giấy chứng nhận quyền sử dụng đất", pages=1,
    keywords=["hs_1", "quyet_dinh"],
)


@pytest.fixture(scope="module")
def pdfa(tmp_path_factory):
    work = tmp_path_factory.mktemp("pdfa")
    page = text_page()
    result = ocr_image(page, 300, work, "p1")
    part = PagePart(jpeg=write_jpeg(page, work / "p1.jpg", 80), dpi=300, textlayer=result.textlayer_pdf)
    return build_pdf([part], work / "a.pdf", RECORD), part


def test_no_pdfa_problem_and_text_searchable(pdfa):
    out, _ = pdfa
    assert problems(out) == []
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "QUYẾT ĐỊNH" in text and LINES[3] in text


def test_header_id_and_no_encryption(pdfa):
    out, _ = pdfa
    raw = out.read_bytes()
    assert raw.startswith(b"%PDF-1.7\n%") and all(b > 127 for b in raw[10:14])
    reader = PdfReader(out)
    assert not reader.is_encrypted
    ids = reader.trailer["/ID"]
    first, second = (getattr(i, "original_bytes", i) for i in ids)  # pypdf may read it back as text
    assert len(ids) == 2 and len(first) == 16 and first == second


def test_xmp_claims_pdfa2b_with_the_archival_fields(pdfa):
    out, _ = pdfa
    reader = PdfReader(out)
    stream = reader.trailer["/Root"]["/Metadata"].get_object()
    assert stream["/Subtype"] == "/XML" and "/Filter" not in stream
    fields = xmp_fields(stream.get_data())
    assert fields["{http://www.aiim.org/pdfa/ns/id/}part"] == "2"
    assert fields["{http://www.aiim.org/pdfa/ns/id/}conformance"] == "B"
    assert fields[f"{DC}title"] == "Quyết định — hs_1" == reader.metadata.title
    assert fields[f"{DC}creator"] == "ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI" == reader.metadata.author
    assert fields[f"{DC}type"] == "Quyết định" and fields[f"{DC}date"] == "2024-05-17"
    assert fields[f"{HOSO}maHoSo"] == "G01.123.001" and fields[f"{HOSO}soKyHieu"] == "204/QĐ-UBND"
    assert fields[f"{HOSO}coQuanBanHanh"] == "ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI"
    assert fields[f"{HOSO}trichYeu"].startswith("Về việc cấp") and fields[f"{HOSO}soTrang"] == "1"
    # every hoso: property used is declared in the PDF/A extension schema
    data = stream.get_data().decode()
    for name in ("maHoSo", "soKyHieu", "ngayVanBan", "coQuanBanHanh", "trichYeu", "soTrang"):
        assert f"<pdfaProperty:name>{name}</pdfaProperty:name>" in data


def test_srgb_output_intent(pdfa):
    out, _ = pdfa
    root = PdfReader(out).trailer["/Root"]
    (intent,) = [i.get_object() for i in root["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    icc = intent["/DestOutputProfile"].get_object()
    assert icc["/N"] == 3
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc.get_data()))
    assert "sRGB" in ImageCms.getProfileDescription(profile)


def test_fonts_embedded_and_no_active_content(pdfa):
    out, _ = pdfa
    reader = PdfReader(out)
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts, "the text layer has a font"
    for ref in fonts.values():
        font = ref.get_object()
        for d in font.get("/DescendantFonts", [font]):
            desc = d.get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in desc or "/FontFile" in desc or "/FontFile3" in desc, font["/BaseFont"]
    root = reader.trailer["/Root"]
    assert "/OpenAction" not in root and "/AA" not in root and "/Names" not in root


def test_same_pages_same_bytes(pdfa, tmp_path):
    """No timestamp: a rerun writes the same file (the reuse check compares digests)."""
    out, part = pdfa
    again = build_pdf([part], tmp_path / "b.pdf", RECORD)
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(out.read_bytes()).digest()


def test_problems_names_what_a_plain_pdf_lacks(tmp_path):
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): writer._add_object(font)})})
    writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('x');")})
    out = tmp_path / "plain.pdf"
    with open(out, "wb") as fh:
        writer.write(fh)
    found = " | ".join(problems(out))
    for expected in ("no XMP metadata", "output intent", "/ID", "Helvetica not embedded", "JavaScript"):
        assert expected in found, found


@pytest.mark.parametrize("rotation,skew", [(0, 0.0), (0, 1.5), (90, 0.0), (180, -1.2), (270, 2.0)])
def test_scan_jpeg_drawn_upright_matches_the_resampled_page(tmp_path, rotation, skew):
    """A turned, skewed scan put in as it is, with the turn and skew the cleaning found: the rendered
    page is the upright, straight page the cleaning resampled (to rendering and JPEG noise)."""
    dpi = 100
    upright = text_page(dpi=dpi, pt=16).copy()
    cv2.rectangle(upright, (40, 60), (200, 140), 0, -1)  # a mark that tells the corners apart
    h, w = upright.shape
    turned = rotate_quadrant(upright, {0: 0, 90: 270, 180: 180, 270: 90}[rotation])  # the content turned clockwise
    scan = rotate_small(turned, -skew)  # and skewed the way the cleaning then undoes
    jpeg = tmp_path / "scan.jpg"
    Image.fromarray(scan).save(jpeg, quality=95)
    out = build_pdf([PagePart(jpeg=jpeg, dpi=dpi, rotation=rotation, skew_deg=skew)], tmp_path / "s.pdf", RECORD)
    rendered = np.asarray(poppler.render_page(out, 0, dpi).convert("L"))
    expected = rotate_small(rotate_quadrant(scan, rotation), skew)
    assert rendered.shape == expected.shape == (h, w)
    core = (slice(30, h - 30), slice(30, w - 30))  # the corners a skew leaves empty differ (white vs fill)
    diff = np.abs(rendered[core].astype(int) - expected[core].astype(int)).mean()
    wrong = np.abs(rendered[core].astype(int) - np.rot90(expected, 2)[core].astype(int)).mean()
    assert diff < 6 and wrong > 3 * diff, (diff, wrong)
    assert problems(out) == []
