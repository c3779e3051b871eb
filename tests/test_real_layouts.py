"""Rules for real office layouts, on generated text: signature boxes and reception stamps over the
header, titles read with tone errors, a công văn with no title, the number's type code, and the
number and date decided from every piece of evidence (never a wrong value without a flag)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from pipeline.manifest import BlankRead
from pipeline.understand.classify import classify_page
from pipeline.understand.extract import extract_fields, header_date, header_number, trich_yeu
from pipeline.understand.number_date import Evidence, decide_date, decide_digits, decide_number
from pipeline.understand.overlays import is_signature_line, is_stamp_line, split_overlays
from pipeline.understand.taxonomy import load_taxonomy

TX = load_taxonomy()

SIGNATURE = """TRUNG TÂM THÔNG TIN
VÀ CÔNG BÁO
ttcb@binhthuan.gov.vn
12.03.2024 09:21:40
+07:00
Ký bởi: Ủy ban nhân dân tỉnh Bình Thuận
Cơ quan: Tỉnh Bình Thuận
Thời gian ký: 11/03/2024 16:05:12"""

HEADER = """ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH BÌNH THUẬN Độc lập - Tự do - Hạnh phúc
Số: {number} /{code} Phan Thiết, ngày {day} tháng {month} năm 2024"""

BODY = """
Yêu cầu Thủ trưởng các sở, ban, ngành, Chủ tịch Ủy ban nhân dân các huyện, thị xã, thành phố
thực hiện nghiêm các nội dung sau đây."""


def page(title: str, code: str = "CT-UBND", number: str = "12", day: str = "11", month: str = "03",
         subject: str = "Về việc tăng cường quản lý đất đai\ntrên địa bàn tỉnh Bình Thuận",
         above: str = SIGNATURE) -> str:
    head = HEADER.format(number=number, code=code, day=day, month=month)
    return "\n".join(x for x in (above, head, title, "", subject, BODY) if x is not None)


# --------------------------------------------------------------------------- overlays


def test_signature_box_lines_are_recognised_and_give_the_signing_time():
    assert is_signature_line("Ký bởi: Sở Tư pháp tỉnh Lâm Đồng")
    assert is_signature_line("Kỹ bởi: Sở Tư pháp")  # OCR misread
    assert is_signature_line("Thời gian ký: 02/05/2023 08:15:00")
    assert is_signature_line("vpub(@lamdong.gov.vn")
    assert is_signature_line("05.02.2023 08:51:04")
    assert not is_signature_line("ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    assert not is_signature_line("Số: 12/CT-UBND Phan Thiết, ngày 11 tháng 03 năm 2024")
    assert is_signature_line("Ngày ký: 07.01.2025 10:44:25") and is_signature_line("Người ký: Trần Văn Bình")
    # the sentence that ends every quyết định is no box ("Điều 3." on top says the page continues one)
    assert not is_signature_line("Điều 3. Quyết định này có hiệu lực thi hành kể từ ngày ký.")
    assert not is_signature_line("Giao người ký hợp đồng chịu trách nhiệm")
    out = split_overlays(page("CHỈ THỊ"))
    assert out.signed_at == [dt.datetime(2024, 3, 11, 16, 5, 12)]
    assert out.stamped_at == [dt.datetime(2024, 3, 12, 9, 21, 40)]
    assert out.text.strip().startswith("ỦY BAN NHÂN DÂN")  # the seal's name above the box went too
    assert "TRUNG TÂM" not in out.text and "Ký bởi" not in out.text


def test_reception_stamp_and_urgency_mark_are_not_the_document():
    assert is_stamp_line("CV ĐẾN")
    assert is_stamp_line("CÔNG VĂN ĐẾN")
    assert is_stamp_line("ĐẾN Số: 1254")
    assert is_stamp_line("Số: 318 Ngày: 12/4")
    assert is_stamp_line("Chuyển: P.KT")
    assert is_stamp_line("HỎA TỐC")
    text = "CÔNG VĂN ĐẾN\nSố: 318 Ngày: 12/4\nChuyển: P.KT\nHỎA TỐC\n" + page("CHỈ THỊ", above=None)
    out = split_overlays(text)
    assert out.received and out.urgency == "HỎA TỐC"
    assert "ĐẾN" not in out.text
    meta = extract_fields(text, "chi_thi")
    assert meta.so_ky_hieu == "12/CT-UBND"  # not the stamp's "Số: 318"


# --------------------------------------------------------------------------- classification


@pytest.mark.parametrize(("title", "code", "want"), [
    ("CHỈ THỊ", "CT-UBND", "chi_thi"),
    ("QUYÉT ĐỊNH", "QĐ-UBND", "quyet_dinh"),  # a tone read wrong
    ("CHÍ THỊ", "CT-UBND", "chi_thi"),
    ("KẾ HOẠCH", "KH-UBND", "ke_hoach"),
    ("NGHỊ QUYẾT", "NQ-HĐND", "nghi_quyet"),
    ("TỜ TRÌNH", "TTr-UBND", "to_trinh"),
    ("GIẤY MỜI", "GM-UBND", "giay_moi"),
])
def test_title_below_a_signature_box(title, code, want):
    guess = classify_page(page(title, code), TX)
    assert guess.code == want and guess.is_start and guess.score >= 0.75


def test_type_code_of_the_number_decides_without_a_readable_title():
    text = page("C#l TH|", "CT-UBND", number="Ø2")  # title and handwritten number read as junk
    guess = classify_page(text, TX)
    assert guess.code == "chi_thi" and guess.score >= 0.7


def test_type_code_beats_a_fuzzy_title_of_another_type():
    guess = classify_page(page("TH0NG CÁ0", "TB-UBND"), TX)  # a garbled title nearest to THÔNG CÁO
    assert guess.code == "thong_bao"
    # a clear title and a number of another type disagree: the title stays, a person looks
    guess = classify_page(page("THÔNG CÁO", "TB-UBND"), TX)
    assert guess.code == "thong_cao" and guess.score < 0.6


def test_cong_van_by_vv_and_by_kinh_gui():
    vv = page("", "UBND-TNMT", subject="V/v hướng dẫn thủ tục cấp giấy chứng nhận\n\nKính gửi: Sở Tài chính")
    assert classify_page(vv, TX).code == "cong_van"
    no_vv = page("", "UBND-TNMT", subject="Kính gửi: Sở Tài chính\n\nThực hiện ý kiến chỉ đạo của tỉnh")
    assert classify_page(no_vv, TX).code == "cong_van"


def test_taxonomy_has_the_decree_30_kinds_with_their_abbreviations():
    kinds = {"nghi_quyet": "NQ", "quyet_dinh": "QĐ", "chi_thi": "CT", "quy_che": "QC", "quy_dinh": "QyĐ",
             "thong_cao": "TC", "thong_bao": "TB", "huong_dan": "HD", "chuong_trinh": "CTr", "ke_hoach": "KH",
             "phuong_an": "PA", "de_an": "ĐA", "du_an": "DA", "bao_cao": "BC", "bien_ban": "BB", "to_trinh": "TTr",
             "hop_dong": "HĐ", "cong_dien": "CĐ", "ban_ghi_nho": "GN", "ban_thoa_thuan": "TTh",
             "giay_uy_quyen": "GUQ", "giay_moi": "GM", "giay_gioi_thieu": "GGT", "giay_nghi_phep": "NP",
             "phieu_gui": "PG", "phieu_chuyen": "PC", "phieu_bao": "PB"}
    for code, abbreviation in kinds.items():
        assert TX.by_ky_hieu(abbreviation).code == code
    assert TX.get("cong_van") and TX.get("thu_cong") and TX.get("chung_minh_nhan_dan")
    assert TX.by_ky_hieu("QD").code == "quyet_dinh"  # Đ read as D
    assert TX.by_ky_hieu("UBND") is None  # a công văn's number has no kind code


# --------------------------------------------------------------------------- number and date


@pytest.mark.parametrize(("line", "want"), [
    ("Số: 299/UBND-TTHC Hà Giang, ngày 15 tháng 01 năm 2025", ("299", "", "UBND-TTHC")),
    ("Số: 157/QĐ-NĐ-UB", ("157", "", "QĐ-NĐ-UB")),
    ("Số: 04/QĐ-BCĐ138", ("04", "", "QĐ-BCĐ138")),
    ("Số: 15/QĐ-XPHC", ("15", "", "QĐ-XPHC")),
    ("Số: 01/2025/NQ-HĐND", ("01", "2025", "NQ-HĐND")),
    ("Số: 47 /QĐ-UBND", ("47", "", "QĐ-UBND")),
    ("Số:0+ /QD-UBND", ("0+", "", "QĐ-UBND")),
    ("Số: 84 /QĐĐ-UBND", ("84", "", "QĐ-UBND")),  # a letter OCR doubled
])
def test_header_number_patterns(line, want):
    assert header_number(line) == want


def test_number_split_by_a_text_layer():
    text = "ỦY BAN NHÂN DÂN\nTỈNH LÂM ĐỒNG\nSố: 542\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n/TB-UBND\nĐà Lạt, ngày 06 tháng 11 năm 2024"
    assert header_number(text) == ("542", "", "TB-UBND")
    assert extract_fields(text, "thong_bao").so_ky_hieu == "542/TB-UBND"
    alone = extract_fields(text.replace("/TB-UBND", ""), "thong_bao")  # the code not read at all
    assert alone.so_ky_hieu is None and alone.review[0].startswith("so_ky_hieu: only '542'")


def test_header_date_line():
    assert header_date("Quảng Trị, ngày 17 tháng 01 năm 2025") == ("17", "01", "2025")
    assert header_date("Số: 4 /TB-UBND Huế, ngày0P tháng 02 năm 2025") == ("0P", "02", "2025")
    assert header_date("Hà Nội ngày 05 tháng 3 năm 2024") == ("05", "3", "2024")  # comma lost
    assert header_date("Bên A: cấp ngày 24 tháng 11 năm 2015") is None  # a date in the body


def test_clean_typed_values_stand_on_their_own():
    meta = extract_fields(page("CHỈ THỊ", number="12", day="11"), "chi_thi")
    assert (meta.so_ky_hieu, meta.ngay, meta.review) == ("12/CT-UBND", "2024-03-11", [])
    assert meta.trich_yeu == "Về việc tăng cường quản lý đất đai trên địa bàn tỉnh Bình Thuận"


def test_junk_in_the_blanks_gives_null_and_a_reason():
    meta = extract_fields(page("CHỈ THỊ", number="Ø2", day="2#"), "chi_thi")
    assert meta.so_ky_hieu is None and meta.ngay is None
    assert [r.split(":")[0] for r in meta.review] == ["so_ky_hieu", "ngay"]
    assert "CT-UBND" in meta.review[0]  # the printed part is kept in the reason


def blank(field: str, text: str, conf: float, *rereads: str) -> BlankRead:
    return BlankRead(field=field, text=text, confidence=conf, rereads=list(rereads))


def test_rereads_that_agree_decide_and_disagreement_flags():
    assert decide_digits("0+", blank("so", "0+", 0.5, "08", "8", "8"), "number").value == "08"
    assert decide_digits("86", blank("so", "86", 0.45, "86", "86", "86"), "number").value == "86"
    d = decide_digits("22", blank("so", "22", 0.6, "23", "23", "23"), "number")
    assert d.value is None and "differently" in d.reason  # a digit the page OCR read contradicts
    d = decide_digits("ốT", blank("so", "ốT", 0.6, "8", "8", "8"), "number")
    assert d.value is None  # two glyphs read as one digit
    d = decide_digits("Ø2", blank("so", "Ø2", 0.2, "07", "", ""), "number")
    assert d.value is None and "not readable" in d.reason
    d = decide_digits("04", blank("so", "04", 0.75, "04", "04", "04"), "number")
    assert d.value is None and "may be a 1" in d.reason  # handwritten 1s are read as 4 or 7
    assert decide_digits("04", blank("so", "04", 0.96), "number").value == "04"  # typed, sure


def test_number_with_year_keeps_it():
    assert decide_number("01/2025", "NQ-HĐND", None).value == "01/2025/NQ-HĐND"


def test_signing_time_checks_and_completes_the_date():
    signed = Evidence(signed_at=[dt.datetime(2024, 3, 11, 16, 5)])
    assert decide_date("11", "03", "2024", signed).value == "2024-03-11"
    late = decide_date("21", "03", "2024", signed)
    assert late.value is None and "after the signature" in late.reason
    # a handwritten day read only in part ("1"), every reading fits the signing day: taken, flagged
    partial = decide_date("{1", "03", "2024", Evidence([blank("day", "{1", 0.3, "1", "", "")], signed.signed_at))
    assert partial.value == "2024-03-11" and "check" in partial.reason
    # a reading that contradicts the signing day: null
    other = decide_date("0P", "03", "2024", Evidence([blank("day", "0P", 0.1, "05", "7", "7")], signed.signed_at))
    assert other.value is None


def test_trich_yeu_under_the_title_without_a_label():
    text = page("THÔNG BÁO", "TB-UBND", subject="Kết luận của Chủ tịch UBND tỉnh tại buổi làm việc\nvới huyện Tuy Phong")
    assert trich_yeu(split_overlays(text).text) == "Kết luận của Chủ tịch UBND tỉnh tại buổi làm việc với huyện Tuy Phong"


# --------------------------------------------------------------------------- blanks re-read (real Tesseract)


def _header_image(number_font_px: int) -> np.ndarray:
    from PIL import Image, ImageDraw

    from tests.pages import font

    img = Image.new("L", (2480, 1200), 255)
    d = ImageDraw.Draw(img)
    f, b = font(50), font(50, bold=True)
    d.text((230, 150), "ỦY BAN NHÂN DÂN", font=b, fill=0)
    d.text((1150, 150), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", font=b, fill=0)
    d.text((1300, 230), "Độc lập - Tự do - Hạnh phúc", font=b, fill=0)
    # the blanks are printed wide and filled in another hand (here: another, larger type)
    d.text((230, 380), "Số:", font=f, fill=0)
    d.text((360, 370), "27", font=font(number_font_px, bold=True), fill=0)
    d.text((520, 380), "/QĐ-UBND", font=f, fill=0)
    d.text((1150, 380), "Phan Thiết, ngày", font=f, fill=0)
    d.text((1530, 370), "15", font=font(number_font_px, bold=True), fill=0)
    d.text((1650, 380), "tháng 03 năm 2025", font=f, fill=0)
    d.text((1000, 560), "QUYẾT ĐỊNH", font=b, fill=0)
    return np.asarray(img)


@pytest.mark.ocr
def test_read_blanks_finds_the_number_and_date_blanks(tmp_path):
    from pipeline.ocr.blanks import read_blanks
    from pipeline.ocr.tesseract import ocr_image

    image = _header_image(62)
    result = ocr_image(image, 300, tmp_path, "p1")
    reads = {b.field: b for b in read_blanks(image, result.words)}
    assert set(reads) == {"so", "day", "month"}
    decided = {k: decide_digits(b.text, b, k).value for k, b in reads.items()}
    assert decided["so"] in ("27", None) and decided["day"] in ("15", None)  # never another number
    assert decided["month"] == "03"
    for b in reads.values():  # a doubtful reading was re-read at each scale, digits only
        assert b.confidence >= 0.9 or len(b.rereads) == 3
        assert all(r.isdigit() or r == "" for r in b.rereads)
