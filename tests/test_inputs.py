"""Dossier input: kinds, page order, ids, image modes, and bad input with clear errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfWriter

from pipeline.errors import InputError
from pipeline.ingest.inputs import load_page, natural_key, open_dossier, safe_id, sane_dpi
from tests.pages import save, text_page


@pytest.fixture(scope="module")
def small_page() -> np.ndarray:
    return text_page(dpi=100)


def test_natural_order_and_ids(tmp_path, small_page):
    folder = tmp_path / "Hồ sơ 12"
    folder.mkdir()
    for name in ["10.jpg", "2.jpg", "1.jpg", ".hidden.jpg", "notes.txt"]:
        save(small_page, folder / name, dpi=100) if name.endswith(".jpg") else (folder / name).write_text("x")
    src = open_dossier(folder)
    assert [p.file.name for p in src.pages] == ["1.jpg", "2.jpg", "10.jpg"]
    assert [p.n for p in src.pages] == [1, 2, 3]
    assert src.dossier_id == "Ho_so_12"
    assert sorted(["p10", "p2"], key=natural_key) == ["p2", "p10"]
    assert safe_id("hs_0012") == "hs_0012"


def test_sidecar_gives_dossier_id(tmp_path, small_page):
    f = save(small_page, tmp_path / "scan.png", dpi=100)
    (tmp_path / "scan.png.dossier.json").write_text('{"dossier_id": "000.00.20.H26-250305-0012"}')
    assert open_dossier(f).dossier_id == "000.00.20.H26-250305-0012"


def test_multipage_tiff(tmp_path, small_page):
    frames = [Image.fromarray(small_page), Image.fromarray(255 - small_page), Image.fromarray(small_page)]
    path = tmp_path / "hs.tiff"
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_deflate", dpi=(100, 100))
    src = open_dossier(path)
    assert src.page_count == 3
    page2 = load_page(src.pages[1], 300)
    assert page2.pixels.mean() < 128  # the inverted frame, not the first one
    assert page2.dpi == 100


@pytest.mark.parametrize("mode", ["I;16", "CMYK", "P", "RGBA", "LA", "1"])
def test_image_modes_load_as_8bit(tmp_path, small_page, mode):
    img = Image.fromarray(small_page)
    img = Image.fromarray(small_page.astype(np.uint16) * 257) if mode == "I;16" else img.convert(mode)
    path = tmp_path / f"p.{'tiff' if mode in ('I;16', 'CMYK') else 'png'}"
    img.save(path, dpi=(100, 100))
    page = load_page(open_dossier(path).pages[0], 300)
    assert page.pixels.dtype == np.uint8
    assert page.pixels.ndim in (2, 3)
    assert page.pixels.min() < 60 and page.pixels.max() > 200


def test_silly_dpi_gets_sane_value():
    assert sane_dpi(1, (2480, 3508))[0] == 300
    assert sane_dpi(None, (1654, 2339))[0] == 200
    assert sane_dpi(300, (10, 10)) == (300.0, None)


def test_pdf_pages_and_text(tmp_path, small_page):
    path = tmp_path / "scan.pdf"
    Image.fromarray(small_page).save(path, save_all=True, append_images=[Image.fromarray(small_page)],
                                     resolution=100)
    src = open_dossier(path)
    assert src.kind == "pdf" and src.page_count == 2
    page = load_page(src.pages[1], 150)  # a scanned page: its own image, at its own resolution
    assert page.dpi == pytest.approx(100, abs=0.5)
    assert page.pixels.shape[0] == pytest.approx(11.69 * 100, abs=3)
    fine = load_page(src.pages[1], 60)  # finer than asked: brought down to the asked resolution
    assert fine.dpi == 60 and fine.pixels.shape[0] == pytest.approx(11.69 * 60, abs=3) and fine.jpeg is None


def _bad(path, *words):
    with pytest.raises(InputError) as info:
        open_dossier(path)
    msg = str(info.value)
    assert str(path) in msg, msg
    for w in words:
        assert w in msg.lower(), msg
    assert "\n" not in msg


def test_bad_inputs(tmp_path, small_page):
    _bad(tmp_path / "missing.pdf", "no such file")
    (tmp_path / "empty.pdf").write_bytes(b"")
    _bad(tmp_path / "empty.pdf", "empty")
    (tmp_path / "notes.pdf").write_text("hello, not a scan")
    _bad(tmp_path / "notes.pdf", "not a readable")
    good = io.BytesIO()
    Image.fromarray(small_page).save(good, "PDF", resolution=100)
    (tmp_path / "truncated.pdf").write_bytes(good.getvalue()[: len(good.getvalue()) // 3])
    _bad(tmp_path / "truncated.pdf")
    jpg = io.BytesIO()
    Image.fromarray(small_page).save(jpg, "JPEG")
    (tmp_path / "truncated.jpg").write_bytes(jpg.getvalue()[:200])
    _bad(tmp_path / "truncated.jpg")
    (tmp_path / "empty_dir").mkdir()
    _bad(tmp_path / "empty_dir", "no page images")


def test_encrypted_and_zero_page_pdfs(tmp_path, small_page):
    buf = io.BytesIO()
    Image.fromarray(small_page).save(buf, "PDF", resolution=100)
    from pypdf import PdfReader

    w = PdfWriter()
    w.append(PdfReader(io.BytesIO(buf.getvalue())))
    w.encrypt(user_password="bí mật", owner_password="chủ", algorithm="AES-128")
    w.write(tmp_path / "locked.pdf")
    _bad(tmp_path / "locked.pdf", "encrypted", "password")
    empty = PdfWriter()
    empty.write(tmp_path / "zero.pdf")
    _bad(tmp_path / "zero.pdf", "zero pages")


def test_decompression_bomb(tmp_path):
    path = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000), 1).save(path)
    with pytest.raises(InputError) as info:
        open_dossier(path, max_pixels=50_000_000)
    assert "too large" in str(info.value) and "bomb.png" in str(info.value)


def test_a_page_turned_by_its_pdf_is_rendered_turned(tmp_path):
    """/Rotate 90 on a portrait A4 page: displayed landscape, so rendered landscape at its dpi (pdftoppm
    scales the page before it turns it: the budgeted size must be given unturned)."""
    w = PdfWriter()
    w.add_blank_page(595, 842).rotation = 90
    with open(tmp_path / "turned.pdf", "wb") as fh:
        w.write(fh)
    ref = open_dossier(tmp_path / "turned.pdf").pages[0]
    img = load_page(ref, 100)
    h, wd = img.pixels.shape[:2]
    assert (wd, h) == (round(842 / 72 * 100), round(595 / 72 * 100))
