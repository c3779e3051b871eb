"""The cleaning chain, one step at a time, on small generated pages: what each step must do.

No OCR runs here except for the OSD fallback test (skipped without Tesseract); what is asserted is
the image a step leaves behind: the rule gone and the letters there, the stamp gone and the text
under it there, the verdict on a blank back.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline.errors import InputError
from pipeline.imaging import analysis as imaging
from pipeline.imaging import clean_lines, clean_tone, cleaning
from pipeline.ingest.inputs import load_page, open_dossier
from pipeline.ocr.tesseract import tesseract_available
from pipeline.settings import CleaningSettings
from tests.conftest import turn
from tests.pages import LINES, font, text_page

DPI = 300


def mm(v: float, dpi: int = DPI) -> int:
    return round(v * dpi / 25.4)


def draw_lines(draw: ImageDraw.ImageDraw, lines: list[str], x: int, y: int, pt: float = 13, fill=0,
               dpi: int = DPI) -> list[tuple[int, int, int, int]]:
    """Text lines from (x, y); returns their ink boxes."""
    f = font(round(pt * dpi / 72))
    boxes = []
    for line in lines:
        b = draw.textbbox((x, y), line, font=f)
        draw.text((x, y), line, font=f, fill=fill)
        boxes.append(b)
        y += round(pt * dpi / 72 * 1.6)
    return boxes


def blank_rgb(w_mm: float = 210, h_mm: float = 148, colour=(255, 255, 255)) -> Image.Image:
    return Image.new("RGB", (mm(w_mm), mm(h_mm)), colour)


def dark_share(gray: np.ndarray, box, level: int = 128) -> float:
    x0, y0, x1, y1 = box
    return float((gray[y0:y1, x0:x1] < level).mean())


def clean(img, dpi: int = DPI, **kw) -> cleaning.PreparedPage:
    return cleaning.clean_page(np.asarray(img), dpi, CleaningSettings(**kw))


# --------------------------------------------------------------------------------------------
# Orientation and skew


def table_page(rows: int = 12, dpi: int = DPI) -> np.ndarray:
    """A ruled list of names, years and numbers: digits and capitals, few descenders."""
    img = Image.new("L", (mm(210, dpi), mm(297, dpi)), 255)
    d = ImageDraw.Draw(img)
    f = font(round(12 * dpi / 72))
    x0, x1, y = mm(25, dpi), mm(190, dpi), mm(40, dpi)
    cols = [x0, mm(40, dpi), mm(100, dpi), mm(125, dpi), mm(160, dpi), x1]
    names = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hồng Huyền", "Phạm Đức Thắng", "Hoàng Minh Tuấn"]
    top = y
    for r in range(rows):
        cells = [str(r + 1), names[r % len(names)], str(1960 + 3 * r), f"Thôn {r % 9 + 1}", f"{120 + 17 * r},5"]
        for cx, text in zip(cols, cells, strict=False):
            d.text((cx + mm(2, dpi), y + mm(1.5, dpi)), text, font=f, fill=0)
        d.line((x0, y, x1, y), fill=0, width=max(1, mm(0.3, dpi)))
        y += mm(8, dpi)
    d.line((x0, y, x1, y), fill=0, width=max(1, mm(0.3, dpi)))
    for cx in cols:
        d.line((cx, top, cx, y), fill=0, width=max(1, mm(0.3, dpi)))
    return np.asarray(img)


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_orientation_of_a_table_of_digits_and_names(rotation):
    """Digits and capitals give the line profile nothing; the tone marks over the names decide."""
    page = turn(table_page(), rotation)
    g = imaging.find_geometry(imaging.text_mask(imaging.analyse(page, DPI)), mm=imaging.ANALYSIS_DPI / 25.4)
    assert g.rotation == rotation


@pytest.mark.parametrize("skew", [-7.5, 2.3, 11.0])
def test_deskew_ignores_table_rules_and_a_photo(skew):
    page = table_page()
    page = page.copy()
    page[mm(150) : mm(200), mm(120) : mm(170)] = 90  # a photo block
    skewed = imaging.rotate_small(page, -skew)
    assert abs(imaging.estimate_skew(skewed, DPI) - skew) <= 0.1


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_a_turned_page_is_cleaned_as_the_same_page_upright(rotation):
    """The skew is measured on the letters turned upright: the turned page's OCR image is the
    upright page's (a different skew estimate would resample, and reread, every letter)."""
    page = imaging.rotate_small(table_page(), -2.13)  # (measured upside down: 2.16°, upright: 2.12°)
    upright = clean(page)
    turned = clean(turn(page, rotation))
    assert turned.rotation == rotation and turned.skew_deg == upright.skew_deg
    assert turned.ocr.shape == upright.ocr.shape
    assert np.abs(turned.ocr.astype(np.int16) - upright.ocr).mean() < 0.5


def test_low_confidence_asks_osd_and_follows_it():
    """Four words give the heuristic little to go on: OSD is asked, and its answer is taken."""
    img = Image.new("L", (mm(210), mm(297)), 255)
    draw_lines(ImageDraw.Draw(img), ["ABC 123"], mm(60), mm(120), pt=14)
    calls = []

    def osd(gray, dpi):
        calls.append(gray.shape)
        return 180, 9.0

    page = np.asarray(img)
    out = cleaning.clean_page(page, DPI, CleaningSettings(), osd=osd)
    assert calls and out.rotation == 180 and "osd" in out.steps


def test_confident_orientation_does_not_ask_osd():
    calls = []
    out = cleaning.clean_page(text_page(repeat=2), DPI, CleaningSettings(), osd=lambda g, d: calls.append(1))
    assert not calls and out.rotation == 0 and "osd" not in out.steps


@pytest.mark.skipif(not tesseract_available("vie")[0], reason="Tesseract is not installed")
@pytest.mark.parametrize("rotation", [90, 180])
def test_tesseract_osd_reads_the_turn(rotation):
    from pipeline.ocr.tesseract import osd_rotation

    found = osd_rotation(turn(text_page(repeat=2), rotation), DPI)
    assert found is not None and found[0] == rotation


# --------------------------------------------------------------------------------------------
# Border, background, blank


def test_scanner_border_is_removed_and_text_kept():
    page = text_page(repeat=2).copy()
    h, w = page.shape
    page[:, : mm(8)] = 30  # the scanner lid beyond the left edge of the paper
    page[h - mm(6) :, :] = 25
    out = clean(page)
    assert "border" in out.steps
    assert (out.ocr[:, : mm(8)] > 200).mean() > 0.99 and (out.ocr[h - mm(6) :] > 200).mean() > 0.99
    assert dark_share(out.ocr, (mm(20), mm(20), w - mm(20), mm(120))) > 0.02  # the text is still there


def sparse_page_in_a_scanner(lines: list[str]) -> np.ndarray:
    """A sparse grey page (a few lines of a signature block) on a scanner: dark lid beyond three
    slightly tilted paper edges, each casting a soft shadow some millimetres into the paper, and
    grain. Edge-on, the darkest of that shadow breaks into a dotted line of fragments."""
    w, h = mm(210), mm(297)
    img = Image.new("L", (w, h), 255)
    draw_lines(ImageDraw.Draw(img), lines, mm(115), mm(190), pt=13)
    page = np.asarray(img).astype(np.float32) * 0.7
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    for side, at, tilt in (("left", mm(6), 0.004), ("right", mm(5), -0.003), ("bottom", mm(7), 0.003)):
        across, along, size = (xx, yy, w) if side in ("left", "right") else (yy, xx, h)
        depth = (across if side == "left" else size - 1 - across) - (at + tilt * (along - along.mean()))
        shade = 1.0 - 0.6 * np.exp(-np.clip(depth, 0, None) / mm(4))
        outside = np.clip(0.5 - depth / 2, 0, 1)
        page = page * shade * (1 - outside) + 30 * outside
    page += np.random.default_rng(5).normal(0, 10, page.shape).astype(np.float32)
    return np.clip(page, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("rotation", [0, 180])
def test_sparse_page_in_a_scanner_border_turns_right_and_loses_the_shadow(rotation):
    """The shadow's fragments along the border are not a column of text (they turned the page
    sideways); two lines are too few to trust, so Tesseract OSD is asked. The OCR image keeps no
    streak where the shadow was."""
    from pipeline.ocr.tesseract import osd_rotation

    page = turn(sparse_page_in_a_scanner(["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]), rotation)
    out = cleaning.clean_page(page, DPI, CleaningSettings(), osd=osd_rotation)
    assert out.rotation == rotation and "border" in out.steps
    o = out.ocr
    h, w = o.shape
    band = mm(25)  # the lid, the paper edge and its shadow, on each side that had them
    for strip in (o[: h - band, :band], o[: h - band, w - band :], o[h - band :, :].T):
        assert (strip < 200).mean(axis=0).max() < 0.002  # no line of grey along the edge
    assert dark_share(o, (mm(110), mm(185), mm(175), mm(205))) > 0.02  # the text is still there


def test_a_page_without_border_gets_no_border_step():
    assert "border" not in clean(text_page()).steps


def test_shadow_and_yellow_paper_become_white_text_stays_dark():
    page = np.asarray(Image.fromarray(text_page(repeat=2)).convert("RGB"), dtype=np.float32)
    h, w = page.shape[:2]
    shade = 1.0 - 0.45 * np.exp(-np.linspace(0, 1, w) / 0.15)  # a dark band along the left edge
    page = page * shade[None, :, None] * np.array([1.0, 0.93, 0.76])  # ... on yellowed paper
    out = clean(page.clip(0, 255).astype(np.uint8))
    assert "background" in out.steps and "stamps" not in out.steps
    paper = out.ocr[mm(5) : h - mm(5), mm(2) : mm(12)]  # left margin, where the shadow was darkest
    assert np.percentile(paper, 5) > 225
    assert dark_share(out.ocr, (mm(20), mm(20), w - mm(20), mm(60))) > 0.02


def test_clean_white_page_is_not_normalised():
    assert "background" not in clean(text_page()).steps


def blank_variants() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    text = text_page(repeat=3).astype(np.float32)
    white = np.full(text.shape, 250, np.float32)
    noisy = white + rng.normal(0, 6, white.shape)
    specks = noisy.copy()
    for y, x in rng.integers(100, white.shape[0] - 100, size=(300, 2)):
        specks[y : y + 2, x % white.shape[1] : x % white.shape[1] + 2] = 40
    bleed = white * (1 - 0.2 * (1 - cv2.GaussianBlur(text[:, ::-1], (0, 0), 2) / 255))  # mirrored, faint
    grey = white * 0.78 + rng.normal(0, 7, white.shape)  # a copier's grey background
    border = noisy.copy()
    border[:, : mm(9)] = 30
    border[: mm(5)] = 35
    shadow = white * (1 - 0.4 * np.exp(-np.linspace(0, 1, white.shape[1]) / 0.1))[None, :]
    out = {"white": white, "noisy": noisy, "specks": specks, "bleed": bleed, "grey": grey, "border": border,
           "shadow": shadow}
    return {k: v.clip(0, 255).astype(np.uint8) for k, v in out.items()}


BLANKS = ["white", "noisy", "specks", "bleed", "grey", "border", "shadow"]


@pytest.mark.parametrize("name", BLANKS)
def test_blank_backs_are_blank(name):
    page = blank_variants()[name]
    assert imaging.is_blank(page, DPI), name
    out = clean(page)
    assert out.blank and out.ocr is None


@pytest.mark.parametrize("where", ["top", "bottom", "corner"])
def test_a_single_short_line_is_never_blank(where):
    img = Image.new("L", (mm(210), mm(297)), 250)
    pos = {"top": (mm(30), mm(20)), "bottom": (mm(90), mm(270)), "corner": (mm(170), mm(275))}[where]
    draw_lines(ImageDraw.Draw(img), ["Trang 2/2"], *pos, pt=11)
    assert not imaging.is_blank(np.asarray(img), DPI)


def test_faint_text_on_grey_photocopy_is_not_blank():
    img = Image.new("L", (mm(210), mm(297)), 190)
    draw_lines(ImageDraw.Draw(img), LINES[:2], mm(30), mm(40), fill=95)
    assert not imaging.is_blank(np.asarray(img), DPI)


# --------------------------------------------------------------------------------------------
# Stamps and signatures


def stamped_page() -> tuple[np.ndarray, list]:
    img = blank_rgb()
    d = ImageDraw.Draw(img)
    boxes = draw_lines(d, LINES[3:9], mm(25), mm(30), fill=(20, 20, 24))
    # a red stamp ring and star right across the lines, a blue signature through them
    cx, cy, r = mm(100), mm(45), mm(17)
    stamp = Image.new("RGB", img.size, (255, 255, 255))
    sd = ImageDraw.Draw(stamp)
    sd.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(205, 28, 38), width=mm(0.7))
    sd.ellipse((cx - r * 0.64, cy - r * 0.64, cx + r * 0.64, cy + r * 0.64), outline=(205, 28, 38), width=mm(0.5))
    sd.regular_polygon((cx, cy, r * 0.3), 5, fill=(205, 28, 38))
    sd.line([(mm(60), mm(55)), (mm(80), mm(35)), (mm(95), mm(60)), (mm(120), mm(38))], fill=(28, 48, 150),
            width=mm(0.5))
    arr = np.asarray(img, np.float32) * np.asarray(stamp, np.float32) / 255.0
    return arr.astype(np.uint8), boxes


def test_stamp_and_signature_removed_text_under_them_kept():
    page, boxes = stamped_page()
    out = clean(page)
    assert "stamps" in out.steps
    cx, cy, r = mm(100), mm(45), mm(17)
    ring = out.ocr[cy - r - mm(1) : cy - r + mm(1), cx - mm(3) : cx + mm(3)]  # top of the ring, between lines
    assert ring.min() > 180
    before = [dark_share(imaging.to_gray(page), b) for b in boxes]
    after = [dark_share(out.ocr, b) for b in boxes]
    for a, b in zip(after, before, strict=True):  # text keeps its ink; the stamp's share of it goes
        assert a > 0.6 * b and a > 0.03
    assert out.display.ndim == 3 and (out.display[cy - r : cy - r + mm(1), cx][:, 0] > 150).any()  # PDF keeps it


def test_without_a_display_image_a_skewed_colour_page_is_cleaned_the_same():
    """When the PDF shows the scan's own JPEG the cleaning makes no display image: a skewed colour
    page's grey is warped instead of its colour (and the colour only in the stamp boxes). The OCR
    image is the same but for rounding (grey of the warp against warp of the grey)."""
    page, _ = stamped_page()
    skewed = imaging.rotate_small(page, -1.7, (255, 255, 255))
    with_display = clean(skewed)
    without = cleaning.clean_page(skewed, DPI, CleaningSettings(), display=False)
    assert without.display is None and with_display.display is not None
    assert {"deskew", "stamps"} <= set(without.steps) and without.steps == with_display.steps
    assert without.skew_deg == with_display.skew_deg and without.ocr.shape == with_display.ocr.shape
    diff = np.abs(without.ocr.astype(np.int16) - with_display.ocr)
    assert (diff > 1).mean() < 1e-3 and diff.mean() < 0.05


@pytest.mark.parametrize("dpi", [300, 150])
def test_black_signature_through_a_stamp_goes_beyond_the_stamp_too(dpi):
    """A black signature under a red stamp goes inside the stamp's box (bigger than a letter) and
    so do its strokes running out of the box, which cut at the box's edge read as `— TS`; the
    signer's name under it stays."""
    def at(v: float) -> int:
        return mm(v, dpi)

    img = Image.new("RGB", (at(150), at(110)), (250, 250, 248))
    d = ImageDraw.Draw(img)
    name = draw_lines(d, ["Lê Văn Tuyến"], at(45), at(80), fill=(20, 20, 24), dpi=dpi)
    title = draw_lines(d, ["CỤC TRƯỞNG CỤC CẢNH SÁT"], at(25), at(15), fill=(20, 20, 24), dpi=dpi)
    cx, cy, r = at(55), at(50), at(16)
    stamp = Image.new("RGB", img.size, (255, 255, 255))
    sd = ImageDraw.Draw(stamp)
    sd.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(205, 28, 38), width=at(0.7))
    sd.regular_polygon((cx, cy, r * 0.3), 5, fill=(205, 28, 38))
    # (its tail is 9 x 5 mm past the box: too small for the signatures step to take on its own)
    tail = [(at(62), at(57)), (at(66), at(53)), (at(70), at(57)), (at(74), at(53)), (at(77), at(57)), (at(80), at(54))]
    sd.line([(at(45), at(60)), (at(50), at(38)), (at(56), at(58)), *tail], fill=(15, 15, 15), width=at(0.6))
    page = (np.asarray(img, np.float32) * np.asarray(stamp, np.float32) / 255.0).astype(np.uint8)
    out = cleaning.clean_page(page, dpi, CleaningSettings())
    assert "stamps" in out.steps
    f = out.ocr_dpi / dpi
    outside = out.ocr[round(at(48) * f) : round(at(62) * f), round(at(73) * f) : round(at(84) * f)]
    assert (outside < 128).sum() == 0  # the tail beyond the stamp is gone
    for b in name + title:
        assert dark_share(out.ocr, tuple(round(v * f) for v in b)) > 0.05


def test_text_printed_in_blue_is_kept():
    img = blank_rgb()
    boxes = draw_lines(ImageDraw.Draw(img), LINES[:6], mm(25), mm(30), fill=(28, 48, 150))
    out = clean(np.asarray(img))
    assert "stamps" not in out.steps
    assert all(dark_share(out.ocr, b, 150) > 0.05 for b in boxes)


def test_stamps_switched_off_leave_the_stamp():
    page, _ = stamped_page()
    out = clean(page, stamps=False)
    assert "stamps" not in out.steps
    cx, cy, r = mm(100), mm(45), mm(17)
    assert out.ocr[cy - r - mm(1) : cy - r + mm(1), cx - mm(3) : cx + mm(3)].min() < 150


# --------------------------------------------------------------------------------------------
# Rules, leaders, check boxes


def test_table_rules_removed_letters_kept_and_table_read_by_rows():
    """Horizontal rules go (optionally the column borders too), every letter stays, psm 4."""
    page = table_page()
    out = clean(page)
    assert "rules" in out.steps and out.psm == 4
    g = out.ocr
    ys = [mm(40) + k * mm(8) for k in range(13)]
    for y in ys:  # horizontal rules gone (a strip between two text rows, away from the columns)
        strip = g[y - mm(0.3) : y + mm(0.3) + 1, mm(45) : mm(95)]
        assert strip.min() > 200, y
    col = (slice(mm(45), mm(130)), slice(mm(100) - mm(0.3), mm(100) + mm(0.4)))
    assert (g[col] < 128).mean() > 0.3  # column borders stay by default: they separate the cells
    assert (clean(page, rules_vertical=True).ocr[col] < 128).mean() < 0.01
    for r in range(12):  # every cell's letters remain
        y = ys[r]
        assert dark_share(g, (mm(42), y + mm(1.5), mm(95), y + mm(6.5))) > 0.03, r


def test_underline_removed_but_letters_touching_it_kept():
    img = Image.new("L", (mm(210), mm(297)), 255)
    d = ImageDraw.Draw(img)
    (bx0, by0, bx1, by1), = draw_lines(d, ["Độc lập - Tự do - Hạnh phúc gương ngày"], mm(30), mm(30), pt=14)
    d.line((bx0, by1 - mm(0.8), bx1, by1 - mm(0.8)), fill=0, width=mm(0.3))  # crosses the descenders
    draw_lines(d, LINES[3:8], mm(25), mm(50))
    out = clean(np.asarray(img))
    assert "rules" in out.steps and out.rotation == 0
    g = out.ocr
    below = g[by1 - mm(0.8) - 2 : by1 - mm(0.8) + mm(0.3) + 2, bx0:bx1]
    assert (below < 128).mean() < 0.15  # the rule is gone (the descenders crossing it remain)
    assert dark_share(g, (bx0, by0, bx1, by1 - mm(1.2))) > 0.08


def form_page(under: bool = False) -> tuple[np.ndarray, list]:
    img = Image.new("L", (mm(210), mm(120)), 255)
    d = ImageDraw.Draw(img)
    f = font(round(13 * DPI / 72))
    dot_w = d.textlength(".", font=f)
    rows = [("Họ và tên:", "Nguyễn Văn An"), ("Địa chỉ:", ""), ("Số điện thoại:", "0912 345 678")]
    y = mm(20)
    labels = []
    for label, value in rows:
        d.text((mm(20), y), label, font=f, fill=0)
        lb = d.textbbox((mm(20), y), label, font=f)
        labels.append(lb)
        x = lb[2] + mm(3)
        if value and not under:
            d.text((x, y), value, font=f, fill=0)
            x = d.textbbox((x, y), value, font=f)[2] + mm(2)
        n = int((mm(190) - x) / dot_w)
        d.text((x, y), "." * n, font=f, fill=0)
        if value and under:
            d.text((lb[2] + mm(5), y), value, font=f, fill=0)
        y += mm(10)
    # check boxes: one empty, one ticked
    y += mm(2)
    d.text((mm(20), y), "Giới tính:", font=f, fill=0)
    side = mm(3.6)
    for i, (x, word) in enumerate([(mm(60), "Nam"), (mm(90), "Nữ")]):
        top = y + mm(1.2)
        d.rectangle((x, top, x + side, top + side), outline=0, width=mm(0.25))
        if i == 1:
            d.line((x + mm(0.6), top + mm(0.6), x + side - mm(0.6), top + side - mm(0.6)), fill=0, width=mm(0.3))
            d.line((x + mm(0.6), top + side - mm(0.6), x + side - mm(0.6), top + mm(0.6)), fill=0, width=mm(0.3))
        d.text((x + side + mm(2), y), word, font=f, fill=0)
    return np.asarray(img), labels


@pytest.mark.parametrize("under", [False, True])
def test_dotted_leaders_removed_colons_and_letters_kept(under):
    page, labels = form_page(under)
    out = clean(page)
    assert "leaders" in out.steps
    g = out.ocr
    for lb in labels:
        # far right of the row: only leader dots were there
        assert (g[lb[1] : lb[3] + mm(1), mm(150) : mm(190)] < 128).sum() == 0
        # the colon after the label keeps both dots
        colon = g[lb[1] : lb[3] + mm(0.5), lb[2] - mm(1.2) : lb[2] + 1]
        n, _ = cv2.connectedComponents((colon < 128).astype(np.uint8))
        assert n - 1 >= 2, lb
        assert dark_share(g, (lb[0], lb[1], lb[2] - mm(1.5), lb[3])) > 0.08  # the label's letters


def test_check_boxes_removed_words_beside_them_kept():
    page, _ = form_page()
    out = clean(page)
    assert "checkboxes" in out.steps
    g = out.ocr
    y = mm(20) + 3 * mm(10) + mm(2)
    for x in (mm(60), mm(90)):
        assert (g[y : y + mm(6), x - mm(0.3) : x + mm(4)] < 128).sum() == 0
        assert dark_share(g, (x + mm(5.6), y, x + mm(12), y + mm(6))) > 0.05


def test_bold_letters_of_a_black_and_white_scan_are_not_check_boxes():
    img = Image.new("L", (mm(210), mm(80)), 255)
    d = ImageDraw.Draw(img)
    f = font(round(15 * DPI / 72), bold=True)
    d.text((mm(20), mm(20)), "BIÊN LAI THU PHÍ, LỆ PHÍ HỒ SƠ ĐÔ THỊ MỞ", font=f, fill=0)
    d.text((mm(20), mm(40)), "Công nhận bên ông Hoàng Hồng Đô", font=f, fill=0)
    bilevel = np.where(np.asarray(img) < 160, 0, 255).astype(np.uint8)
    view = clean_lines.furniture_view(bilevel, DPI)
    assert clean_lines.find_checkboxes(view, clean_lines.marks(view)) == []


def test_prose_has_no_furniture():
    out = clean(text_page(repeat=2))
    assert not {"rules", "leaders", "checkboxes"} & set(out.steps)


def test_find_leaders_skips_an_ellipsis_and_periods():
    img = Image.new("L", (mm(210), mm(60)), 255)
    draw_lines(ImageDraw.Draw(img), ["Căn cứ Luật Đất đai... và các văn bản. Xét đề nghị."], mm(20), mm(20))
    view = clean_lines.furniture_view(np.asarray(img), DPI)
    assert clean_lines.find_leaders(view, clean_lines.marks(view)) == []


# --------------------------------------------------------------------------------------------
# Signatures


def signed_page(crossing: bool = False, dpi: int = DPI) -> tuple[np.ndarray, list, tuple[int, int, int, int]]:
    """A grey page: a paragraph, a signature block (role, scribble, name); with `crossing` the
    scribble also runs across two lines of the paragraph. Returns (page, text boxes, scribble box)."""
    from samples.render import Ctx, ScribbleOp, draw_scribble

    img = Image.new("L", (mm(210, dpi), mm(150, dpi)), 255)
    d = ImageDraw.Draw(img)
    boxes = draw_lines(d, LINES[3:7], mm(25, dpi), mm(20, dpi), dpi=dpi)
    boxes += draw_lines(d, ["CHỦ TỊCH"], mm(120, dpi), mm(65, dpi), dpi=dpi)
    boxes += draw_lines(d, ["Nguyễn Văn An"], mm(115, dpi), mm(100, dpi), dpi=dpi)
    sx0, sy0, sx1, sy1 = mm(118, dpi), mm(77, dpi), mm(160, dpi), mm(92, dpi)
    if crossing:
        sx0, sy0, sx1, sy1 = mm(60, dpi), mm(22, dpi), mm(110, dpi), mm(38, dpi)
    rgb = img.convert("RGB")
    draw_scribble(ImageDraw.Draw(rgb), ScribbleOp(sx0, sy0, sx1, sy1, (25, 25, 30), 7), Ctx(dpi))
    return np.asarray(rgb.convert("L")), boxes, (sx0, sy0, sx1, sy1)


@pytest.mark.parametrize("dpi", [300, 200])
def test_signature_erased_text_kept(dpi):
    page, boxes, (x0, y0, x1, y1) = signed_page(dpi=dpi)
    out = clean(page, dpi)
    assert "signatures" in out.steps
    assert (out.ocr[y0 - mm(3, dpi) : y1 + mm(3, dpi), x0 - mm(3, dpi) : x1 + mm(3, dpi)] < 160).sum() == 0
    for b in boxes:  # every line of text keeps its ink
        assert dark_share(out.ocr, b) > 0.9 * dark_share(page, b) > 0
    assert (out.display[y0:y1, x0:x1] < 128).any()  # the PDF keeps it
    assert "signatures" not in clean(page, dpi, signatures=False).steps


def test_signature_across_text_lines_keeps_the_lines():
    page, boxes, (x0, y0, x1, y1) = signed_page(crossing=True)
    out = clean(page)
    assert "signatures" in out.steps
    for b in boxes:
        assert dark_share(out.ocr, b) > 0.8 * dark_share(page, b), b
    # between the lines of text the strokes are gone
    gap = out.ocr[boxes[0][3] + mm(0.6) : boxes[1][1] - mm(0.6), x0:x1]
    assert (gap < 160).sum() < 0.1 * (page[boxes[0][3] + mm(0.6) : boxes[1][1] - mm(0.6), x0:x1] < 160).sum() + 1


def test_a_grey_stamp_over_a_signature_goes_with_it_text_stays():
    """A grey copy of a stamped, signed block: with the signature gone, the stamp's ring and letters
    (mid-grey) would read as garbage; they fade too, the black role and name lines stay."""
    from samples.render import Ctx, StampOp, stamp_mask

    page, boxes, (x0, y0, x1, y1) = signed_page()
    mask, ox, oy = stamp_mask(StampOp(x0 + mm(5), (y0 + y1) / 2, mm(17), "ỦY BAN NHÂN DÂN XÃ AN HÒA", (0, 0, 0), 3),
                              Ctx(DPI))
    grey = page.astype(np.float32)
    alpha = np.zeros_like(grey)
    m = np.asarray(mask, np.float32) / 255.0
    alpha[oy : oy + m.shape[0], ox : ox + m.shape[1]] = m
    grey = (grey * (1 - 0.45 * alpha)).astype(np.uint8)  # a red stamp on a grey copy: mid-grey
    out = clean(grey)
    assert "signatures" in out.steps
    ring = (slice(oy, oy + m.shape[0]), slice(ox, ox + m.shape[1]))
    stamp_px = (alpha[ring] > 0.5) & (page[ring] > 200)  # the stamp's own pixels, off the text
    assert (out.ocr[ring][stamp_px] < 200).mean() < 0.1
    for b in boxes:
        assert dark_share(out.ocr, b) > 0.8 * dark_share(page, b) > 0, b


def test_tables_frames_and_stamp_rings_are_not_signatures():
    assert "signatures" not in clean(table_page()).steps
    img = Image.new("L", (mm(210), mm(150)), 255)
    d = ImageDraw.Draw(img)
    draw_lines(d, LINES[3:7], mm(25), mm(20))
    d.rectangle((mm(20), mm(15), mm(190), mm(60)), outline=0, width=mm(0.4))  # a frame round the text
    d.ellipse((mm(120), mm(80), mm(156), mm(116)), outline=40, width=mm(0.6))  # a stamp ring (grey scan)
    d.ellipse((mm(126), mm(86), mm(150), mm(110)), outline=40, width=mm(0.4))
    out = clean(np.asarray(img))
    assert "signatures" not in out.steps
    assert (out.ocr[mm(80) : mm(81), mm(130) : mm(146)] < 128).any()


# --------------------------------------------------------------------------------------------
# Speckle and grain


def test_despeckle_removes_dust_keeps_dots_of_i_and_tone_marks():
    clean_page = text_page(lines=["nghị định ịch ạt ặc ộp ụt", "tiền giấy việc lịch"], pt=13)
    rng = np.random.default_rng(5)
    dusty = clean_page.copy()
    h, w = dusty.shape
    ys, xs = rng.integers(0, h - 3, 600), rng.integers(0, w - 3, 600)
    for y, x in zip(ys, xs, strict=True):
        dusty[y : y + 2, x : x + 2] = 20
    assert clean_tone.speckle_density(dusty, DPI) > cleaning.SPECKLE_PER_CM2
    out, n = clean_tone.despeckle(dusty, DPI)
    assert n > 400
    text_zone = (slice(mm(15), mm(40)), slice(mm(15), mm(150)))
    # every dot of the text survives: the text area differs from the clean page only by dust in it
    lost = (clean_page[text_zone] < 128) & (out[text_zone] >= 128)
    assert lost.sum() == 0
    assert (out[mm(100) :] < 128).sum() < 20  # dust far from the text is gone


def test_noise_is_detected_and_smoothed_clean_page_untouched():
    page = text_page(repeat=2)
    noisy = np.clip(page + np.random.default_rng(1).normal(0, 14, page.shape), 0, 255).astype(np.uint8)
    assert "denoise" in clean(noisy).steps
    assert "denoise" not in clean(page).steps


def test_denoise_keeps_thin_tone_marks_at_200_dpi_and_drops_grain():
    """A 1 px mark (a huyền at 200 dpi) survives the median; grain on the paper goes; at 300 dpi
    the same 1 px line (toner streak: tone marks are 2-3 px there) is smoothed away."""
    rng = np.random.default_rng(3)
    page = np.full((200, 300), 250, np.uint8)
    page[60:90, 40:43] = 30  # a 3 px stroke
    for i in range(12):  # a 1 px diagonal mark
        page[20 + i, 100 + i] = 60
    noisy = np.clip(page + rng.normal(0, 10, page.shape), 0, 255).astype(np.uint8)
    out = clean_tone.denoise(noisy, 200)
    mark = [(20 + i, 100 + i) for i in range(12)]
    assert all(out[y, x] < 128 for y, x in mark)
    assert (out[60:90, 40:43] < 128).all()
    paper = (slice(120, 200), slice(150, 300))
    assert out[paper].std() < 0.6 * noisy[paper].std()
    at300 = clean_tone.denoise(noisy, 300)
    assert sum(at300[y, x] < 128 for y, x in mark) <= 2
    assert (at300[61:89, 40:43] < 128).all()  # (the median rounds its corners)


# --------------------------------------------------------------------------------------------
# Resolution, images kept, switches


def test_small_print_is_upscaled_further():
    small = text_page(lines=LINES * 2, pt=7.0, dpi=200)
    out = clean(small, dpi=200)
    assert "small_text" in out.steps and out.ocr_dpi > 300
    normal = clean(text_page(dpi=200), dpi=200)
    assert "small_text" not in normal.steps and normal.ocr_dpi == 200


def test_display_is_faithful_or_cleaned_and_at_least_200_dpi():
    page, _ = stamped_page()
    faithful = clean(page)
    assert faithful.display.ndim == 3  # colour kept
    cleaned = clean(page, pdf_image="cleaned")
    assert cleaned.display.ndim == 2 and cleaned.display_dpi == 300
    low = cv2.resize(text_page(), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    out = clean(low, dpi=150)
    assert out.display_dpi == 200 and out.display.shape[0] == round(low.shape[0] * 200 / 150)


def test_every_switch_off_gives_the_scan_upright_only():
    page, _ = stamped_page()
    off = {k: False for k in ("orientation", "deskew", "border", "background", "stamps", "rules", "leaders",
                              "checkboxes", "denoise", "despeckle", "upscale", "small_text")}
    out = clean(page, **off)
    assert out.steps == [] and np.array_equal(out.ocr, imaging.to_gray(page))


# --------------------------------------------------------------------------------------------
# Bad input: a result or a clear error, never a crash


@pytest.mark.parametrize("name", ["black", "white", "1x1", "3x5000", "uint16", "float", "bool", "rgba", "la",
                                  "one_channel"])
def test_odd_arrays_give_a_result(name):
    rng = np.random.default_rng(0)
    page = text_page()
    arrays = {
        "black": np.zeros((800, 600), np.uint8),
        "white": np.full((800, 600, 3), 255, np.uint8),
        "1x1": np.zeros((1, 1), np.uint8),
        "3x5000": rng.integers(0, 255, (3, 5000), dtype=np.uint8),
        "uint16": page.astype(np.uint16) * 257,
        "float": page.astype(np.float32) / 255.0,
        "bool": page > 128,
        "rgba": np.dstack([page, page, page, np.full_like(page, 255)]),
        "la": np.dstack([page, np.full_like(page, 255)]),
        "one_channel": page[:, :, None],
    }
    out = cleaning.clean_page(arrays[name], DPI)
    assert out.display is not None
    if name in ("black", "white", "1x1", "3x5000"):
        assert out.blank and out.ocr is None
    else:
        assert not out.blank and out.ocr.dtype == np.uint8 and out.ocr.ndim == 2
    if name == "black":
        assert any("dark" in w for w in out.warnings)


def test_not_an_image_is_a_clear_error():
    with pytest.raises(ValueError, match="not a page image"):
        cleaning.clean_page(np.zeros((10, 10, 7), np.uint8), DPI)
    with pytest.raises(ValueError, match="not a page image"):
        cleaning.clean_page(np.zeros((0, 10), np.uint8), DPI)


def _tiff(width: int, height: int, photometric: int, bits: int, samples: int, data: bytes) -> bytes:
    """A minimal uncompressed single-strip TIFF (little endian), for photometric interpretations
    Pillow will not write (MINISWHITE)."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, bits), (259, 3, 1, 1), (262, 3, 1, photometric),
               (273, 4, 1, 0), (277, 3, 1, samples), (278, 4, 1, height), (279, 4, 1, len(data))]
    ifd_offset = 8
    data_offset = ifd_offset + 2 + 12 * len(entries) + 4
    out = io.BytesIO()
    out.write(b"II*\x00" + struct.pack("<I", ifd_offset))
    out.write(struct.pack("<H", len(entries)))
    for tag, typ, count, value in entries:
        if tag == 273:
            value = data_offset
        if typ == 3:
            out.write(struct.pack("<HHIHH", tag, typ, count, value, 0))
        else:
            out.write(struct.pack("<HHII", tag, typ, count, value))
    out.write(struct.pack("<I", 0))
    out.write(data)
    return out.getvalue()


def _png_bilevel(path: Path, width: int, height: int) -> None:
    """A bilevel PNG written row by row (a 20000 x 20000 page without 400 MB in memory)."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def _files(tmp: Path) -> dict[str, Path]:
    page = text_page(lines=LINES[:4], dpi=100)
    h, w = page.shape
    files: dict[str, Path] = {}
    rgb = Image.fromarray(page).convert("RGB")
    files["cmyk.jpg"] = tmp / "cmyk.jpg"
    rgb.convert("CMYK").save(files["cmyk.jpg"], dpi=(100, 100))
    files["cmyk.tif"] = tmp / "cmyk.tif"
    rgb.convert("CMYK").save(files["cmyk.tif"], dpi=(100, 100))
    files["palette.png"] = tmp / "palette.png"
    rgb.quantize(8).save(files["palette.png"], dpi=(100, 100))
    files["alpha.png"] = tmp / "alpha.png"
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.fromarray(np.where(page < 128, 255, 0).astype(np.uint8)))  # ink opaque, paper clear
    rgba.save(files["alpha.png"], dpi=(100, 100))
    files["gray16.png"] = tmp / "gray16.png"
    Image.fromarray(page.astype(np.uint16) * 257).save(files["gray16.png"], dpi=(100, 100))
    files["black.png"] = tmp / "black.png"
    Image.new("L", (w, h), 0).save(files["black.png"])
    files["white.png"] = tmp / "white.png"
    Image.new("L", (w, h), 255).save(files["white.png"])
    files["1x1.png"] = tmp / "1x1.png"
    Image.new("L", (1, 1), 0).save(files["1x1.png"])
    bits = np.packbits(page < 128, axis=1)  # 1 = black: MINISWHITE
    files["miniswhite.tif"] = tmp / "miniswhite.tif"
    files["miniswhite.tif"].write_bytes(_tiff(w, h, 0, 1, 1, bits.tobytes()))
    files["miniswhite8.tif"] = tmp / "miniswhite8.tif"
    files["miniswhite8.tif"].write_bytes(_tiff(w, h, 0, 8, 1, (255 - page).tobytes()))
    return files


@pytest.mark.parametrize("name", ["cmyk.jpg", "cmyk.tif", "palette.png", "alpha.png", "gray16.png", "black.png",
                                  "white.png", "1x1.png", "miniswhite.tif", "miniswhite8.tif"])
def test_odd_image_files_give_a_result(tmp_path, name):
    path = _files(tmp_path)[name]
    src = open_dossier(path)
    image = load_page(src.pages[0], 300)
    out = cleaning.clean_page(image.pixels, image.dpi)
    if name in ("black.png", "white.png", "1x1.png"):
        assert out.blank
        return
    assert not out.blank
    g = out.ocr
    # the text is dark on light whatever the encoding (MINISWHITE is not inverted)
    assert np.median(g) > 200 and (g < 100).mean() > 0.001, name


def test_huge_bilevel_png_is_a_clear_error(tmp_path):
    path = tmp_path / "huge.png"
    _png_bilevel(path, 20000, 20000)
    with pytest.raises(InputError, match="too large"):
        src = open_dossier(path, max_pixels=50_000_000)
        load_page(src.pages[0], 300, max_pixels=50_000_000)
