"""The sample generator: deterministic, truthful ground truth, readable files, committed samples in sync.

The samples are the yardstick of the whole pipeline (CER, classification, extraction), so a wrong
truth file or a silently changed sample would make every measurement meaningless.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import unicodedata
from datetime import date
from pathlib import Path

import pytest
import yaml
from PIL import Image, ImageDraw
from pypdf import PdfReader

from pipeline.manifest import Metadata
from pipeline.textnorm import cer
from samples import content
from samples.generate import (
    DEMO,
    degrade,
    make_demo,
    make_dossier,
    row_major_text,
    truth_dict,
    write_dossier,
)
from samples.render import FACES, font_path, get_font

ROOT = Path(__file__).resolve().parents[1]
DOSSIERS = ROOT / "samples" / "dossiers"
TAXONOMY = {
    t["code"]
    for t in yaml.safe_load((ROOT / "config" / "taxonomy.yaml").read_text(encoding="utf-8"))["types"]
}
LOW_DPI = 72  # layout is in mm/pt, so a low dpi exercises everything quickly


def _small(seed: int = 7, **kw) -> object:
    kw.setdefault("procedure", "dang_ky_khai_sinh")
    return make_dossier(random.Random(seed), dpi=LOW_DPI, **kw)


def _strings(obj: object):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def _committed_truths() -> list[dict]:
    return [json.loads((DOSSIERS / f"{s['id']}.truth.json").read_text(encoding="utf-8")) for s in DEMO]


def _check_truth(t: dict) -> None:
    """Everything a consumer of a truth file relies on."""
    for s in _strings(t):
        assert s == unicodedata.normalize("NFC", s), s
    assert t["format"] in {"pdf", "jpg-folder", "tiff", "png"}
    assert [p["n"] for p in t["pages"]] == list(range(1, len(t["pages"]) + 1))
    comps = t["components"]
    assert [c["index"] for c in comps] == list(range(len(comps)))
    for p in t["pages"]:
        assert {"n", "blank", "rotation", "skew_deg", "type", "component", "text", "lines"} <= p.keys()
        assert p["rotation"] in (0, 90, 180, 270) and abs(p["skew_deg"]) <= 3.0
        assert p["text"] == "\n".join(ln["text"] for ln in p["lines"])
        if p["blank"]:
            assert p["type"] is None and p["component"] is None and p["text"] == ""
            continue
        assert p["type"] in TAXONOMY and p["type"] != "khac"
        comp = comps[p["component"]]
        assert comp["type"] == p["type"] and p["n"] in comp["pages"]
        assert p["lines"], p["n"]
        for ln in p["lines"]:
            x0, y0, x1, y1 = ln["box"]
            assert 0 <= x0 < x1 and 0 <= y0 < y1 and ln["text"].strip()
    for c in comps:
        Metadata(**c["metadata"])  # the manifest's own model validates the shape
        assert c["pages"] == sorted(c["pages"])
        for number in c["metadata"]["cccd"]:
            assert content.valid_cccd(number), number
    # on every ID-card copy the number's year digits match the printed date of birth
    for p in t["pages"]:
        if p["type"] == "can_cuoc":
            found = re.search(r"(?:Số / No\.: |Personal identification number:\n)(\d{12})", p["text"])
            if found is None:  # the card's back on a page of its own
                assert "IDVNM" in p["text"] or "Đặc điểm nhân dạng" in p["text"], p["text"]
                continue
            number = found.group(1)
            born = re.search(r"Date of birth: \d\d/\d\d/(\d{4})", p["text"]).group(1)
            assert content.valid_cccd(number, int(born)), (number, born)
            assert number in comps[p["component"]]["metadata"]["cccd"]


# --------------------------------------------------------------------------------------------
# generator


@pytest.mark.parametrize("face", sorted(FACES))
def test_fonts_have_vietnamese_glyphs(face):
    # Liberation Serif 1.x (Debian's `liberation` dir) draws ư/ơ/ạ as boxes: it must never be picked
    font = get_font(face, 40)

    def raster(ch: str) -> bytes:
        im = Image.new("L", (80, 80), 0)
        ImageDraw.Draw(im).text((10, 10), ch, font=font, fill=255)
        return im.tobytes()

    assert font_path(face).exists()
    assert all(raster(ch) != raster("\ue000") for ch in "ươạỆỮđ")


def test_deterministic_by_seed():
    a, b = _small(3), _small(3)
    assert truth_dict(a, "pdf") == truth_dict(b, "pdf")
    assert [p.image.tobytes() for p in a.pages] == [p.image.tobytes() for p in b.pages]
    c = _small(4)
    assert truth_dict(c, "pdf") != truth_dict(a, "pdf")


@pytest.mark.parametrize("procedure", sorted(content.PROCEDURES))
def test_every_procedure_gives_valid_truth(procedure):
    d = make_dossier(random.Random(11), procedure, LOW_DPI, "mixed", blank_separator=True)
    t = truth_dict(d, "pdf")
    _check_truth(t)
    assert sum(p["blank"] for p in t["pages"]) == 1
    assert t["procedure"] == procedure and t["dpi"] == LOW_DPI


def test_a4_geometry_and_page_size():
    d = make_dossier(random.Random(1), "uy_quyen", 300, "none", parts=["giay_uy_quyen"])
    assert all(p.image.size == (2480, 3508) for p in d.pages)
    # body text is 13-14 pt: x-height-bearing lines are ~55 px at 300 dpi
    heights = sorted(ln.box[3] - ln.box[1] for ln in d.pages[0].lines)
    assert 45 <= heights[len(heights) // 2] <= 80


def test_cccd_numbers_are_structurally_valid():
    rng = random.Random(0)
    place = content.PLACES[0]
    for _ in range(200):
        p = content.make_person(rng, place, years=(1950, 2006))
        assert content.valid_cccd(p.cccd, p.birth.year)
        assert p.cccd[3] in ("0", "1", "2", "3")
        assert (p.cccd[3] in "02") == p.male
    assert content.cccd_number(rng, "079", date(2003, 5, 1), male=False)[:6] == "079303"
    assert not content.valid_cccd("099085001234")  # no province 099
    assert not content.valid_cccd("031085001234", 1986)
    assert not content.valid_cccd("03108500123")
    assert content._anniversary(date(1984, 2, 29), 25) == date(2009, 2, 28)  # card expiry of a leap-day birth


def test_vietnamese_numbers_and_dates():
    assert content.number_words(21) == "hai mươi mốt"
    assert content.number_words(105) == "một trăm linh năm"
    assert content.number_words(2025) == "hai nghìn không trăm hai mươi lăm"
    assert content.number_words(1_250_000_000) == "một tỷ hai trăm năm mươi triệu"
    assert content.money(1_250_000_000) == "1.250.000.000"
    # NĐ 30: leading zero for days < 10 and for January/February only
    assert content.date_line(date(2025, 10, 3), "Cát Hải") == "Cát Hải, ngày 03 tháng 10 năm 2025"
    assert content.date_line(date(2025, 2, 14)) == "ngày 14 tháng 02 năm 2025"
    assert content.date_line(date(2025, 3, 5)) == "ngày 05 tháng 3 năm 2025"


def test_degrade_rotation_and_skew():
    img = Image.new("RGB", (200, 300), "white")
    out, rot, skew, ops = degrade(img, "light", random.Random(0), rotation=90, skew_deg=1.5)
    assert (rot, skew) == (90, 1.5) and out.size == (300, 200) and "rotate:90" in ops
    same, rot, skew, ops = degrade(img, "none", random.Random(0))
    assert (rot, skew, ops) == (0, 0.0, []) and same.tobytes() == img.tobytes()


def test_rotation_is_clockwise():
    img = Image.new("L", (100, 200), 255)
    img.paste(0, (0, 0, 10, 10))  # ink in the top-left corner
    out, *_ = degrade(img.convert("RGB"), "none", random.Random(0), rotation=90)
    # a clockwise quarter turn brings the top-left corner to the top-right
    assert out.convert("L").getpixel((out.width - 3, 3)) < 128 and out.convert("L").getpixel((3, 3)) > 128


def test_row_major_text_merges_side_by_side_lines():
    lines = [
        {"text": "ỦY BAN NHÂN DÂN", "box": [0, 0, 100, 20]},
        {"text": "Số: 1/QĐ", "box": [0, 40, 100, 60]},
        {"text": "CỘNG HÒA", "box": [200, 2, 400, 22]},
        {"text": "Hà Nội, ngày 01", "box": [200, 41, 400, 61]},
        {"text": "QUYẾT ĐỊNH", "box": [100, 90, 300, 110]},
    ]
    assert row_major_text(lines) == "ỦY BAN NHÂN DÂN CỘNG HÒA\nSố: 1/QĐ Hà Nội, ngày 01\nQUYẾT ĐỊNH"


def _box_lines(page) -> list:
    """The lines of a page's signature box: the box's keys and the wrapped line of its signer."""
    keys = ("Ký bởi:", "Cơ quan:", "Thời gian ký:")
    out = []
    for k, ln in enumerate(page.lines):
        if ln.text.startswith(keys) or (k and page.lines[k - 1].text.startswith("Ký bởi:")
                                        and not ln.text.startswith(keys) and ln.box[1] < page.lines[k + 1].box[1]
                                        and page.lines[k + 1].text.startswith("Cơ quan:")):
            out.append(ln)
    return out


def test_signed_documents_carry_a_signature_box_in_the_top_margin(monkeypatch):
    """Half the issued documents are drawn as signed scans: the box in the top margin, above and right of
    the header, the page's own text laid out exactly as without it; the box reads as an overlay."""
    from pipeline.understand.overlays import split_overlays

    def draw(k: int, share: float):
        monkeypatch.setattr(content, "SIGNED_SHARE", share)
        return make_dossier(random.Random(f"box/{k}"), "van_ban_ket_qua", 72, "none")

    share = content.SIGNED_SHARE
    signed = unsigned = 0
    for k in range(4):
        plain, boxed = draw(k, 0.0), draw(k, share)
        for page, bare in zip(boxed.pages, plain.pages, strict=True):
            box = _box_lines(page)
            rest = [ln for ln in page.lines if ln not in box]
            assert [(ln.text, ln.box) for ln in rest] == [(ln.text, ln.box) for ln in bare.lines]
            if page.type not in ("quyet_dinh", "thong_bao", "cong_van", "to_trinh", "bao_cao") or page is not \
                    next(p for p in boxed.pages if p.component == page.component):
                assert not box
                continue
            if not box:
                unsigned += 1
                continue
            signed += 1
            assert [ln.text.split(":")[0] for ln in box if ":" in ln.text] == ["Ký bởi", "Cơ quan", "Thời gian ký"]
            top = min(ln.box[1] for ln in rest)
            assert all(ln.box[3] < top and ln.box[0] > page.image.width * 0.45 for ln in box)
            over = split_overlays(row_major_text(page.lines))
            assert len(over.signed_at) == 1 and len(over.lines) == len(box)
    assert signed and unsigned, (signed, unsigned)


# --------------------------------------------------------------------------------------------
# output formats


def test_formats_write_readable_files(tmp_path):
    d = _small(5, parts=["to_khai", "can_cuoc:applicant", "giay_chung_nhan_ket_hon"])
    n = len(d.pages)
    pdf = write_dossier(d, tmp_path / "pdf", "pdf")
    reader = PdfReader(pdf)
    assert len(reader.pages) == n
    w, h = (float(v) for v in reader.pages[0].mediabox[2:])
    assert abs(w - 595.3) < 2 and abs(h - 841.9) < 2  # A4 at the dossier's dpi
    bw = write_dossier(d, tmp_path / "bw", "pdf", colour="bilevel")
    assert len(PdfReader(bw).pages) == n and bw.stat().st_size < pdf.stat().st_size
    tif = write_dossier(d, tmp_path / "tif", "tiff", colour="grey")
    with Image.open(tif) as im:
        assert im.n_frames == n
    g4 = write_dossier(d, tmp_path / "g4", "tiff", colour="bilevel")
    with Image.open(g4) as im:
        assert im.n_frames == n and im.mode == "1"
    folder = write_dossier(d, tmp_path / "jpg", "jpg-folder")
    assert folder.is_dir() and sorted(p.name for p in folder.iterdir()) == sorted(
        f"{i}.jpg" for i in range(1, n + 1)
    )
    for i in range(1, n + 1):
        with Image.open(folder / f"{i}.jpg") as im:
            assert im.format == "JPEG" and im.size == d.pages[i - 1].image.size
    for sub in ("pdf", "bw", "tif", "g4", "jpg"):
        t = json.loads((tmp_path / sub / f"{d.dossier_id}.truth.json").read_text(encoding="utf-8"))
        _check_truth(t)
        assert len(t["pages"]) == n
    with pytest.raises(ValueError):
        write_dossier(d, tmp_path / "png", "png")  # several pages
    one = _small(6, procedure="chuyen_muc_dich_su_dung_dat", parts=["quyet_dinh"])
    png = write_dossier(one, tmp_path / "png", "png", colour="palette")
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size == one.pages[0].image.size


def test_jpg_folder_names_sort_naturally(tmp_path):
    d = make_dossier(random.Random(2), "chuyen_nhuong_qsdd", 40, "none", blank_separator=True)
    assert len(d.pages) >= 10
    folder = write_dossier(d, tmp_path, "jpg-folder")
    names = sorted((p.name for p in folder.iterdir()), key=lambda s: int(s.split(".")[0]))
    assert names[:2] == ["1.jpg", "2.jpg"] and names[9] == "10.jpg"


# --------------------------------------------------------------------------------------------
# committed samples


def _pages_in_file(t: dict) -> int:
    did = t["dossier_id"]
    if t["format"] == "pdf":
        return len(PdfReader(DOSSIERS / f"{did}.pdf").pages)
    if t["format"] == "tiff":
        with Image.open(DOSSIERS / f"{did}.tiff") as im:
            return im.n_frames
    if t["format"] == "jpg-folder":
        return len(list((DOSSIERS / did).glob("*.jpg")))
    return 1


def test_committed_samples_are_valid_and_small():
    total = sum(p.stat().st_size for p in DOSSIERS.rglob("*") if p.is_file())
    assert total <= 3 * 1024 * 1024
    for t in _committed_truths():
        _check_truth(t)
        assert _pages_in_file(t) == len(t["pages"])


@pytest.mark.slow
def test_committed_samples_match_demo_regeneration():
    for spec, t in zip(DEMO, _committed_truths(), strict=True):
        d = make_demo(spec)
        regen = truth_dict(d, spec["fmt"])
        assert len(regen["pages"]) == len(t["pages"]), spec["id"]
        assert [p["type"] for p in regen["pages"]] == [p["type"] for p in t["pages"]]
        assert [(p["rotation"], p["skew_deg"]) for p in regen["pages"]] == [
            (p["rotation"], p["skew_deg"]) for p in t["pages"]
        ]
        assert [p["text"] for p in regen["pages"]] == [p["text"] for p in t["pages"]]


def _tesseract_vie() -> bool:
    if not shutil.which("tesseract"):
        return False
    out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout
    return "vie" in out.split()


@pytest.mark.slow
def test_committed_decision_page_is_ocr_friendly():
    """Raw Tesseract reads the rendered page almost perfectly (in its own row-by-row order)."""
    assert _tesseract_vie(), "tesseract with the vie language is required (make setup installs it)"
    t = json.loads((DOSSIERS / "hs_0004.truth.json").read_text(encoding="utf-8"))
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    hyp = subprocess.run(
        ["tesseract", str(DOSSIERS / "hs_0004.png"), "-", "-l", "vie", "--dpi", str(t["dpi"])],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert cer(hyp, row_major_text(t["pages"][0]["lines"])) < 0.02
