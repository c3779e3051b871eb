"""Page quality: the Vietnamese syllable checker, the review verdict, PDF text layers worth keeping."""

from __future__ import annotations

import json
import subprocess

import pytest

from pipeline.ocr.quality import is_syllable, page_quality, plausibility, text_layer_is_real
from tests.conftest import PEER, REPO

VALID = [
    "a", "ở", "ăn", "ấy", "Nguyễn", "nghiêng", "nghề", "quyết", "quốc", "quân", "giữ", "gìn", "gì", "giường",
    "khuya", "thuở", "Ủy", "hòa", "hoà", "khỏe", "khoẻ", "chuyện", "oán", "xoong", "được", "người", "Đắk", "kinh",
    "ghế", "trường", "thành", "phố", "hạnh", "phúc", "độc", "lập", "huyện", "tỉnh", "ngày", "tháng", "năm", "cấp",
    "bọt", "hát", "ích", "oanh", "khuỷu", "yêu", "yên", "uyển", "ĐIỀU", "QUYẾT", "ĐỊNH",
]
INVALID = [
    "cinh",  # c before i: k
    "ke" + "ng" + "h",  # a coda nh after e
    "gha", "ngi", "nge",  # gh, ngh only before e ê i; ng never before them
    "bòt", "hàt", "mãc", "chuyẹnz",  # stop codas take only sắc or nặng; z is no Vietnamese letter
    "full", "name", "xyz", "ll", "rn", "qa", "ă", "ươ", "tiếngg", "áà", "mnb", "Iii", "wifi", "ffi",
]


@pytest.mark.parametrize("word", VALID)
def test_valid_syllables(word):
    assert is_syllable(word), word


@pytest.mark.parametrize("word", INVALID)
def test_invalid_syllables(word):
    assert not is_syllable(word), word


def test_decomposed_and_precomposed_forms_agree():
    import unicodedata

    for w in ("Nguyễn", "quyết", "được", "hoà"):
        assert is_syllable(unicodedata.normalize("NFD", w)) == is_syllable(w)


def test_plausibility_of_the_committed_samples_is_high():
    for name in ("hs_0001", "hs_0004"):
        truth = json.loads((REPO / "samples" / "dossiers" / f"{name}.truth.json").read_text(encoding="utf-8"))
        for page in truth["pages"]:
            p, n = plausibility(page["text"])
            if n >= 30:
                assert p >= 0.6, (name, page["n"], p)


def test_plausibility_of_ocr_garbage_is_low():
    garbage = ("D02 c0 5400/130/ERP-PEỊNVEan ĐA sọ 992 40. ẦA mm 9n tHUÔI Ửc ẲCcÊ N92 Aonl xộ llf rnm "
               "onxensco consaonsuenooonertnsiorociomioroiaottiertiotixibit Wñ kjh fghj ffu qwe")
    p, n = plausibility(garbage)
    assert n >= 10 and p < 0.35


def test_abbreviations_and_numbers_do_not_count():
    p, n = plausibility("Số: 123/QĐ-UBND ngày 12/3/2024 của UBND huyện; CCCD 031085001234; Điều II, IV.")
    assert p == 1.0 and n == 5  # Số, ngày, của, huyện, Điều


def test_review_verdict():
    good = "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015 và Luật Đất đai năm 2024"
    assert not page_quality(good, 0.93).needs_review
    low_conf = page_quality(good, 0.41)
    assert low_conf.needs_review and "confidence" in low_conf.reason
    garbage = "Wñ kjh fghj ffu qwe rrt xzq llm nnp bvc zzy tth pqr"
    bad = page_quality(garbage, 0.9)
    assert bad.needs_review and "syllables" in bad.reason
    assert page_quality("", 0.0).needs_review
    assert not page_quality("Trang 2/2", 0.95).needs_review  # too few words to judge the language
    leaders = good + " Họ và tên: ...................................... Địa chỉ: ............................"
    dotted = page_quality(leaders, 0.9)
    assert dotted.needs_review and "symbols" in dotted.reason
    assert not page_quality(good + ". Xem Điều 2, Khoản 3 - các văn bản (nếu có).", 0.9).needs_review


def test_text_layers():
    real = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc QUYẾT ĐỊNH Về việc cấp giấy "
            "chứng nhận quyền sử dụng đất cho hộ ông Nguyễn Văn An, thường trú tại thôn Hòa Bình.")
    assert text_layer_is_real(real)
    english = "The quick brown fox jumps over the lazy dog while the committee reviews the annual budget report."
    assert text_layer_is_real(english)
    assert not text_layer_is_real("Trang 1")  # a stub
    assert not text_layer_is_real("\x01\x02\x03\x04 " * 30 + real[:40])  # glyphs with no Unicode mapping
    assert not text_layer_is_real("\ufffd\ufffd " * 40 + real[:60])
    assert not text_layer_is_real("".join(chr(0xE000 + i % 50) for i in range(200)))  # private-use glyph codes
    salad = "Ñ£ Äßè ÐÕÂ ÇÊÈ ËÍÎ Ìõ Ðç ÑõÀ ÄßÃ ÁÑ " * 6  # mapped, but to the wrong letters
    assert not text_layer_is_real(salad)
    consonants = "Tnshcr gvwlkd prtsbn xcvbnm qwrtps dfghjk lzxcvb " * 4
    assert not text_layer_is_real(consonants)


@pytest.mark.skipif(not PEER.is_dir(), reason="peer corpus absent")
@pytest.mark.parametrize("name", ["truetype_font_nomapping.pdf", "type3_font_nomapping.pdf"])
def test_peer_pdfs_without_unicode_mapping_are_not_real_text(name):
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-q", str(PEER / name), "-"], capture_output=True,
                          text=True, check=False).stdout
    assert not text_layer_is_real(text)
