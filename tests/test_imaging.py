"""Cleaning steps on generated pages: the angle found, the rotation found, the blank verdict."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.imaging import analysis as imaging
from pipeline.imaging.cleaning import clean_page
from tests.conftest import turn
from tests.pages import text_page


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    return text_page(repeat=2)


@pytest.mark.parametrize("skew", [0.0, 0.3, -1.2, 4.5, -9.0, 14.0])
def test_deskew_finds_angle(page, skew):
    skewed = imaging.rotate_small(page, -skew)  # clockwise by `skew`
    found = imaging.estimate_skew(skewed, 300)
    assert abs(found - skew) <= 0.1, found


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_orientation_found(page, rotation):
    assert imaging.detect_orientation(turn(page, rotation), 300) == rotation


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_orientation_with_skew_and_little_text(rotation):
    small = text_page(lines=["Về việc cấp giấy chứng nhận quyền sử dụng đất", "Nguyễn Văn An"], pt=14)
    img = turn(imaging.rotate_small(small, 2.0), rotation)
    assert imaging.detect_orientation(img, 300) == rotation


def test_prepare_page_undoes_rotation_and_skew(page):
    scanned = turn(imaging.rotate_small(page, -3.0), 90)
    prepared = clean_page(scanned, 300)
    assert prepared.rotation == 90
    assert abs(prepared.skew_deg - 3.0) <= 0.1
    assert prepared.ocr.shape == page.shape
    assert not prepared.blank


def test_blank_pages():
    rng = np.random.default_rng(1)
    white = np.full((3508, 2480), 250, np.uint8)
    assert imaging.is_blank(white, 300)
    noisy = np.clip(white + rng.normal(0, 6, white.shape), 0, 255).astype(np.uint8)
    specks = noisy.copy()
    for y, x in rng.integers(100, 3400, size=(40, 2)):
        specks[y : y + 2, x : x + 2] = 30
    assert imaging.is_blank(specks, 300)
    bleed = white.copy()
    bleed[600:3000, 300:2200] = np.minimum(bleed[600:3000, 300:2200], 250 - 25 * (text_page()[600:3000, 300:2200] < 128))
    assert imaging.is_blank(bleed, 300), "faint bleed-through from the back side is not text"


def test_page_with_one_line_is_not_blank():
    one = text_page(lines=["Nguyễn Văn An"])
    assert not imaging.is_blank(one, 300)


def test_low_dpi_page_is_upscaled_by_its_text_size():
    """What Tesseract needs is letters of enough pixels, not a dpi: 13 pt print scanned at 150 dpi
    (x-height ~13 px) is read as it is, the same page faxed at 100 dpi (~9 px) is upscaled; the
    dpi rule (`upscale`, off by default: it gained nothing on the bench's 150 dpi scans) on request."""
    from pipeline.settings import CleaningSettings

    low = text_page(dpi=150)
    prepared = clean_page(low, 150)
    assert prepared.ocr_dpi == 150 and not {"upscale", "small_text"} & set(prepared.steps)
    assert prepared.display_dpi == 200  # the PDF image is never under 200 dpi
    asked = clean_page(low, 150, CleaningSettings(upscale=True))
    assert asked.ocr_dpi == 200 and "upscale" in asked.steps  # cleaning.min_ocr_dpi
    fax = clean_page(text_page(dpi=100), 100)
    assert "small_text" in fax.steps and fax.ocr_dpi >= 200
    ok = clean_page(text_page(dpi=200), 200)  # 200 dpi text of normal size: OCRed as it is
    assert ok.ocr_dpi == 200 and not {"upscale", "small_text"} & set(ok.steps)


def test_colour_page_kept_in_colour_grey_page_stored_grey(page):
    rgb = np.dstack([page] * 3).copy()
    assert clean_page(rgb, 300).display.ndim == 2
    rgb[200:400, 1500:1700] = (200, 30, 30)  # a red stamp
    assert clean_page(rgb, 300).display.ndim == 3
