"""Rule-based page classification and segmentation on page texts written like Tesseract `vie` output.

Score calibration the rules promise: a clear title match is about 0.9 or more, a page known
only by its cue words about 0.5, a page with nothing recognisable about 0.2 (type `khac`).
"""

from __future__ import annotations

import unicodedata

import pytest

from pipeline.textnorm import nfc
from pipeline.understand.classify import (
    PageGuess,
    classify_page,
    find_title,
    is_card_back,
    is_unreadable,
    readable_share,
)
from pipeline.understand.segment import PageInput, Segment, segment
from pipeline.understand.taxonomy import load_taxonomy

TX = load_taxonomy()

# --------------------------------------------------------------------------- a land-transfer dossier

RECEPTION = """UBND HUYỆN CÁT HẢI CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ Độc lập - Tự do - Hạnh phúc
Số: 2507/TN-BPMC Cát Hải, ngày 05 tháng 3 năm 2025

GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ
Mã hồ sơ: 000.00.20.H26-250305-0012
Bộ phận tiếp nhận và trả kết quả: UBND huyện Cát Hải
Tiếp nhận hồ sơ của: Ông Nguyễn Văn An
Địa chỉ: thôn 5, xã Văn Phong, huyện Cát Hải, thành phố Hải Phòng
Số điện thoại: 0912345678
Nội dung yêu cầu giải quyết: Đăng ký biến động quyền sử dụng đất (chuyển nhượng)
1. Đơn đăng ký biến động đất đai, tài sản gắn liền với đất
2. Hợp đồng chuyển nhượng quyền sử dụng đất
Ngày hẹn trả kết quả: 19/03/2025
NGƯỜI NỘP HỒ SƠ NGƯỜI TIẾP NHẬN HỒ SƠ
Nguyễn Văn An Phạm Thị Hoa
"""

APPLICATION = """Mẫu số 09/ĐK
CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
ĐƠN ĐĂNG KÝ BIẾN ĐỘNG ĐẤT ĐAI, TÀI SẢN GẮN LIỀN VỚI ĐẤT
Kính gửi: Chi nhánh Văn phòng đăng ký đất đai huyện Cát Hải
I. PHẦN KÊ KHAI CỦA NGƯỜI ĐĂNG KÝ
1. Người sử dụng đất, chủ sở hữu tài sản gắn liền với đất
Họ và tên: NGUYỄN VĂN AN Sinh năm: 1985
Số CCCD: 031085001234
Địa chỉ: thôn 5, xã Văn Phong, huyện Cát Hải
Thửa đất số: 125; Tờ bản đồ số: 18
Tôi xin cam đoan nội dung kê khai trên đơn là đúng sự thật.
Cát Hải, ngày 04 tháng 3 năm 2025
Người viết đơn
Nguyễn Văn An
"""

ID_FRONT_A = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
SOCIALIST REPUBLIC OF VIET NAM
Independence - Freedom - Happiness
CĂN CƯỚC CÔNG DÂN
Citizen Identity Card
Số / No.: 031085001234
Họ và tên / Full name:
NGUYỄN VĂN AN
Ngày sinh / Date of birth: 12/05/1985
Giới tính / Sex: Nam Quốc tịch / Nationality: Việt Nam
Quê quán / Place of origin: Văn Phong, Cát Hải, Hải Phòng
Nơi thường trú / Place of residence: Thôn 5, Văn Phong, Cát Hải, Hải Phòng
Có giá trị đến: 12/05/2045
"""

ID_BACK_A = """Đặc điểm nhận dạng / Personal identification:
Nốt ruồi C:1cm trên sau đầu mày phải
Ngày, tháng, năm / Date, month, year: 10/08/2021
CỤC TRƯỞNG CỤC CẢNH SÁT
QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI
Tô Văn Huệ
IDVNM0850012341031085001234<<2
8505124M4505129VNM<<<<<<<<<<<6
NGUYEN<<VAN<AN<<<<<<<<<<<<<<<<
"""

# Second card: tones lost by OCR, and no back page follows it.
ID_FRONT_B = """CONG HOA XA HOI CHU NGHIA VIET NAM
Doc lap - Tu do - Hanh phuc
CAN CUOC CONG DAN
So / No.: 031190004567
Ho va ten / Full name: TRAN THI BINH
Ngay sinh / Date of birth: 20/11/1990
Que quan / Place of origin: Hoang Chau, Cat Hai, Hai Phong
Co gia tri den: 20/11/2030
"""

GCN = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
GIẤY CHỨNG NHẬN
QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở
VÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT
I. Người sử dụng đất, chủ sở hữu nhà ở và tài sản khác gắn liền với đất
Ông: NGUYỄN VĂN AN, sinh năm 1985, CCCD số 031085001234
II. Thửa đất, nhà ở và tài sản khác gắn liền với đất
1. Thửa đất: a) Thửa đất số: 125, tờ bản đồ số: 18
c) Diện tích: 120,5 m2
d) Mục đích sử dụng: Đất ở tại nông thôn
"""

CONTRACT_1 = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
HỢP ĐỒNG CHUYỂN NHƯỢNG QUYỀN SỬ DỤNG ĐẤT
Số 12/2025/HĐCN
Hôm nay, ngày 04 tháng 3 năm 2025, tại Văn phòng công chứng Cát Hải, chúng tôi gồm:
BÊN CHUYỂN NHƯỢNG (Bên A):
Ông: NGUYỄN VĂN AN Sinh năm: 1985
CCCD số: 031 085 001 234 do Cục Cảnh sát QLHC về TTXH cấp ngày 10/08/2021
BÊN NHẬN CHUYỂN NHƯỢNG (Bên B):
Bà: TRẦN THỊ BÌNH Sinh năm: 1990
CCCD số: 031190004567
Hai bên đồng ý thực hiện việc chuyển nhượng quyền sử dụng đất với các thỏa thuận sau:
Điều 1. Quyền sử dụng đất chuyển nhượng
Thửa đất số: 125, tờ bản đồ số: 18, diện tích 120,5 m2
"""

CONTRACT_2 = """Trang 2/3
theo Giấy chứng nhận quyền sử dụng đất số CH 01234 do UBND huyện Cát Hải cấp ngày 15/6/2015.
Điều 2. Giá chuyển nhượng và phương thức thanh toán
Giá chuyển nhượng là 1.200.000.000 đồng (Bằng chữ: Một tỷ hai trăm triệu đồng).
Điều 3. Việc giao và đăng ký quyền sử dụng đất
Bên A có nghĩa vụ giao thửa đất cho Bên B đúng thời hạn.
"""

CONTRACT_3 = """Điều 4. Trách nhiệm nộp thuế, lệ phí
Thuế thu nhập cá nhân do Bên A nộp; lệ phí trước bạ do Bên B nộp.
Điều 5. Cam đoan của các bên
Hai bên cam đoan những thông tin đã ghi trong hợp đồng này là đúng sự thật.
BÊN CHUYỂN NHƯỢNG BÊN NHẬN CHUYỂN NHƯỢNG
Nguyễn Văn An Trần Thị Bình
"""

RECEIPT = """CHI CỤC THUẾ KHU VỰC CÁT HẢI
Mẫu số: 01BLP2-001
Ký hiệu: AA/25P
Số: 0001234
BIÊN LAI THU PHÍ, LỆ PHÍ
Liên 2: Giao cho người nộp tiền
Tên loại phí, lệ phí: Lệ phí trước bạ nhà, đất
Người nộp tiền: Trần Thị Bình
Số tiền: 6.000.000 đồng
Bằng chữ: Sáu triệu đồng
Ngày 06 tháng 3 năm 2025
"""

# Interleaved two-column header, as Tesseract often reads it; "Ð" (U+00D0) for "Đ".
DECISION = """ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
HUYỆN CÁT HẢI Độc lập - Tự do - Hạnh phúc
Số: 1534/QÐ-UBND Cát Hải, ngày 03 tháng 10 năm 2025
QUYẾT ÐỊNH
Về việc cấp Giấy chứng nhận quyền sử dụng đất
cho bà Trần Thị Bình
ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI
Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;
Căn cứ Luật Đất đai ngày 18 tháng 01 năm 2024;
QUYẾT ĐỊNH:
Điều 1. Cấp Giấy chứng nhận quyền sử dụng đất cho bà Trần Thị Bình.
"""

# Same decision, columns read one after the other (left block, then right block).
DECISION_BLOCKS = """ỦY BAN NHÂN DÂN
HUYỆN CÁT HẢI
Số: 1534/QĐ-UBND
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Cát Hải, ngày 03 tháng 10 năm 2025
QUYẾT ĐỊNH
Về việc cấp Giấy chứng nhận quyền sử dụng đất
CHỦ TỊCH ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI
"""

DOSSIER = [
    RECEPTION, APPLICATION, ID_FRONT_A, ID_BACK_A, ID_FRONT_B, GCN,
    CONTRACT_1, CONTRACT_2, CONTRACT_3, RECEIPT, "", DECISION,
]

# --------------------------------------------------------------------------- other types

CONG_VAN = """ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
XÃ VĂN PHONG Độc lập - Tự do - Hạnh phúc
Số: 45/UBND-VP Văn Phong, ngày 12 tháng 9 năm 2025
V/v đề nghị cung cấp thông tin
thửa đất số 125, tờ bản đồ số 18
Kính gửi: Chi nhánh Văn phòng đăng ký đất đai huyện Cát Hải
Ủy ban nhân dân xã Văn Phong đề nghị Chi nhánh cung cấp thông tin thửa đất nêu trên.
Nơi nhận:
"""

THONG_BAO = """SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
THÀNH PHỐ HẢI PHÒNG Độc lập - Tự do - Hạnh phúc
Số: 123/TB-STNMT Hải Phòng, ngày 20 tháng 8 năm 2025
THÔNG BÁO
Về việc kết quả thẩm định hồ sơ
Sở Tài nguyên và Môi trường thông báo như sau:
"""

# OCR dropped most tone marks.
BIEN_BAN = """UY BAN NHAN DAN XA VAN PHONG CONG HOA XA HOI CHU NGHIA VIET NAM
Doc lap - Tu do - Hanh phuc
BIEN BAN
Xac minh nguon goc su dung dat
Hom nay, vao hoi 8 gio ngay 10 thang 9 nam 2025, tai tru so UBND xa Van Phong
Thanh phan gom:
"""

TO_TRINH = """PHÒNG TÀI NGUYÊN VÀ MÔI TRƯỜNG CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Số: 88/TTr-TNMT Cát Hải, ngày 01 tháng 10 năm 2025
TỜ TRÌNH
Về việc đề nghị cấp Giấy chứng nhận quyền sử dụng đất
Kính trình: Ủy ban nhân dân huyện Cát Hải
"""

BAO_CAO = """ỦY BAN NHÂN DÂN
XÃ VĂN PHONG
Số: 30/BC-UBND
BÁO CÁO
Kết quả rà soát hồ sơ đất đai năm 2025
"""

TO_KHAI = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
TỜ KHAI LỆ PHÍ TRƯỚC BẠ NHÀ, ĐẤT
[01] Kỳ tính thuế: Theo từng lần phát sinh
[04] Tên người nộp thuế: TRẦN THỊ BÌNH
Tôi cam đoan số liệu khai trên là đúng.
NGƯỜI KHAI
"""

KHAI_SINH = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
BẢN SAO
TRÍCH LỤC KHAI SINH
Họ, chữ đệm, tên: LÊ MINH KHÔI
Ngày, tháng, năm sinh: 02/02/2019
Nơi sinh: Bệnh viện Đa khoa huyện Cát Hải
"""

UY_QUYEN = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
HỢP ĐỒNG UỶ QUYỀN
Bên ủy quyền (Bên A): Ông Nguyễn Văn An
Bên được ủy quyền (Bên B): Bà Trần Thị Bình
Phạm vi ủy quyền: nộp hồ sơ và nhận kết quả
"""

HO_CHIEU = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
SOCIALIST REPUBLIC OF VIET NAM
HỘ CHIẾU / PASSPORT
Số hộ chiếu / Passport No.: C1234567
"""

TRICH_DO = """SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG
VĂN PHÒNG ĐĂNG KÝ ĐẤT ĐAI
TRÍCH LỤC BẢN ĐỒ ĐỊA CHÍNH
Thửa đất số: 125 Tờ bản đồ số: 18 Tỷ lệ 1:1000
"""

XAC_NHAN = """UBND XÃ VĂN PHONG CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Số: 77/XN-UBND Văn Phong, ngày 02 tháng 4 năm 2025
GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN
Xét đề nghị của ông Nguyễn Văn An về việc cấp Giấy xác nhận tình trạng hôn nhân
"""

THUA_KE = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
VĂN BẢN THỎA THUẬN PHÂN CHIA DI SẢN THỪA KẾ
Người để lại di sản: ông Nguyễn Văn Bình
"""

GPXD = """ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
HUYỆN CÁT HẢI Độc lập - Tự do - Hạnh phúc
Số: 210/GPXD Cát Hải, ngày 15 tháng 7 năm 2025
GIẤY PHÉP XÂY DỰNG
Số: 210/GPXD
Cấp cho: Ông Nguyễn Văn An
"""

DKKD = """ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI
PHÒNG TÀI CHÍNH - KẾ HOẠCH
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH
Mã số hộ kinh doanh: 31F8001234
"""


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (RECEPTION, "phieu_tiep_nhan"),
        (APPLICATION, "don_de_nghi"),
        (ID_FRONT_A, "can_cuoc"),
        (ID_FRONT_B, "can_cuoc"),
        (GCN, "giay_chung_nhan_qsdd"),
        (CONTRACT_1, "hop_dong"),
        (RECEIPT, "bien_lai"),
        (DECISION, "quyet_dinh"),
        (DECISION_BLOCKS, "quyet_dinh"),
        (THONG_BAO, "thong_bao"),
        (BIEN_BAN, "bien_ban"),
        (TO_TRINH, "to_trinh"),
        (BAO_CAO, "bao_cao"),
        (TO_KHAI, "to_khai"),
        (KHAI_SINH, "giay_khai_sinh"),
        (UY_QUYEN, "giay_uy_quyen"),
        (HO_CHIEU, "ho_chieu"),
        (TRICH_DO, "trich_do_ban_ve"),
        (XAC_NHAN, "xac_nhan_tinh_trang_hon_nhan"),
        (THUA_KE, "van_ban_thua_ke"),
        (GPXD, "giay_phep_xay_dung"),
        (DKKD, "giay_chung_nhan_dang_ky_kinh_doanh"),
    ],
)
def test_first_pages_are_classified_by_title(text, code):
    guess = classify_page(text, TX)
    assert guess.code == code, guess
    assert guess.is_start
    assert guess.score >= 0.9
    assert guess.title


def test_real_tesseract_header_with_a_stray_fragment():
    # As Tesseract 5 `vie` read a rendered slip: the third agency line on its own, a body fragment
    # ("của:") pulled up into the header, the date line after it, then the title.
    text = (
        "UBND HUYỆN HẢI HẬU CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nBỘ PHẬN TIẾP NHẬN Độc lập - Tự do - Hạnh phúc\n\n"
        "VÀ TRẢ KẾT QUÁ\n\ncủa:\n\nHải Hậu, ngày 16 tháng 5 năm 2024\nGIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUÁ\n"
        "Mã hồ sơ: 000.00.32.H40-240516-0048\nBộ phận tiếp nhận và trả kết quả Ủy ban nhân dân huyện Hải Hậu\n"
    )
    guess = classify_page(text, TX)
    assert (guess.code, guess.is_start) == ("phieu_tiep_nhan", True) and guess.score >= 0.9
    assert find_title(text) == "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUÁ"


def test_ocr_debris_above_the_header_is_not_a_mid_sentence_start():
    text = ("vn: Mẫu số: 01/LPTB\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\n"
            "TỜ KHAI LỆ PHÍ TRƯỚC BẠ\n__ (Ấp dụng đối với nhà, đất)\n1. Tên người nộp thuế: Võ Công Hùng\n")
    guess = classify_page(text, TX)
    assert (guess.code, guess.is_start, guess.continuation) == ("to_khai", True, False)


def test_cong_van_has_no_title_but_v_v_under_the_number():
    guess = classify_page(CONG_VAN, TX)
    assert (guess.code, guess.is_start, guess.title) == ("cong_van", True, None)
    assert 0.7 <= guess.score < 0.9


@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("QUYÊT ĐINH", "quyet_dinh"),
        ("QUYET DINH", "quyet_dinh"),
        ("Q U Y Ế T  Đ Ị N H", "quyet_dinh"),
        ("| QUYẾT ÐỊNH .", "quyet_dinh"),
        ("HƠP ĐÔNG CHUYÊN NHƯƠNG QUYÊN SƯ DUNG ĐÂT", "hop_dong"),
        ("GIÂY CHỨNG NHÂN QUYỀN SỬ DUNG ĐẤT", "giay_chung_nhan_qsdd"),
        ("GIAY CHUNG NHAN KET HON", "giay_chung_nhan_ket_hon"),
        ("PHIÊU TIÊP NHẬN HỒ SƠ", "phieu_tiep_nhan"),
        ("THÔNG BẢO", "thong_bao"),
        ("ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP XÂY DỰNG", "don_de_nghi"),
        ("GIẤY CHỨNG SINH", "giay_chung_sinh"),
    ],
)
def test_titles_survive_ocr_errors(title, code):
    text = f"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n{title}\nNội dung trang."
    guess = classify_page(text, TX)
    assert guess.code == code, guess
    assert guess.is_start and guess.score >= 0.85


def test_most_specific_title_wins():
    # "HỢP ĐỒNG ỦY QUYỀN" is a power of attorney, not a generic contract.
    assert classify_page(UY_QUYEN, TX).code == "giay_uy_quyen"
    # "GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT …" beats the other "GIẤY CHỨNG NHẬN …" types.
    assert classify_page(GCN, TX).code == "giay_chung_nhan_qsdd"
    assert classify_page(DKKD, TX).code == "giay_chung_nhan_dang_ky_kinh_doanh"


def test_lower_case_title_line_is_a_weaker_match():
    text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nBiên bản\nHôm nay, ngày 10 …"
    guess = classify_page(text, TX)
    assert guess.code == "bien_ban" and guess.is_start
    assert 0.6 <= guess.score < 0.9


def test_body_sentence_starting_like_a_title_is_not_a_title():
    text = "Quyết định này có hiệu lực kể từ ngày ký.\nChánh Văn phòng, Trưởng phòng Tài nguyên chịu trách nhiệm thi hành."
    guess = classify_page(text, TX)
    assert not guess.is_start
    assert guess.code != "quyet_dinh" or guess.score < 0.6


def test_garbled_title_falls_back_to_cues_at_about_half():
    text = (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nĐ£#N Ð€ NG#Ị\n"
        "Kính gửi: Ủy ban nhân dân xã Văn Phong\nTôi xin cam đoan những nội dung trên là đúng.\nNgười làm đơn\n"
    )
    guess = classify_page(text, TX)
    assert guess.code == "don_de_nghi"
    assert 0.4 <= guess.score <= 0.6
    assert guess.is_start  # the Quốc hiệu says a document starts here


def test_nothing_recognisable_is_khac_at_about_0_2():
    guess = classify_page("Lorem ipsum dolor sit amet, consectetur adipiscing elit.", TX)
    assert (guess.code, guess.is_start) == ("khac", False)
    assert guess.score <= 0.3


@pytest.mark.parametrize("text", [CONTRACT_2, CONTRACT_3])
def test_continuation_pages(text):
    guess = classify_page(text, TX)
    assert not guess.is_start and guess.continuation
    assert guess.title is None
    assert guess.score < 0.6


def test_continuation_markers():
    mid = "quyền sử dụng đất cho Bên B theo đúng thỏa thuận tại Điều 2.\nBên B có nghĩa vụ thanh toán đủ."
    assert classify_page(mid, TX).continuation
    numbered = "- 2 -\nCăn cứ kết quả thẩm định hồ sơ của Phòng Tài nguyên và Môi trường;"
    assert classify_page(numbered, TX).continuation
    # "Trang 2/3" wins even over an upper-case line that looks like a title.
    paged = "HỢP ĐỒNG CHUYỂN NHƯỢNG QUYỀN SỬ DỤNG ĐẤT\nĐiều 6. Hiệu lực\nTrang 2/3"
    assert not classify_page(paged, TX).is_start
    first = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nHỢP ĐỒNG THUÊ\nTrang 1/3"
    assert classify_page(first, TX).is_start


def test_card_back_is_recognised_but_does_not_start_a_document_by_itself():
    assert is_card_back(ID_BACK_A)
    assert not is_card_back(ID_FRONT_A)
    guess = classify_page(ID_BACK_A, TX)
    assert (guess.code, guess.card_back, guess.is_start) == ("can_cuoc", True, False)
    assert guess.title is None  # "CỤC TRƯỞNG CỤC CẢNH SÁT" is a signature, not a title


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (DECISION, "QUYẾT ĐỊNH"),
        (RECEPTION, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"),
        (GCN, "GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở VÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT"),
        (ID_FRONT_A, "CĂN CƯỚC CÔNG DÂN"),
        (RECEIPT, "BIÊN LAI THU PHÍ, LỆ PHÍ"),
        (BAO_CAO, "BÁO CÁO"),
        (TRICH_DO, "TRÍCH LỤC BẢN ĐỒ ĐỊA CHÍNH"),
        ("UBND HUYỆN CÁT HẢI\nPHÒNG TÀI NGUYÊN VÀ MÔI TRƯỜNG\nBIÊN BẢN\nHôm nay", "BIÊN BẢN"),
        ("ỦY BAN NHÂN DÂN\nHUYỆN CÁT HẢI\nQUYẾT ĐỊNH\nVề việc", "QUYẾT ĐỊNH"),
        ("QUYẾT ĐỊNH\nCHỦ TỊCH ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI\nCăn cứ", "QUYẾT ĐỊNH"),
        ("SAO Y BẢN CHÍNH\nCĂN CƯỚC CÔNG DÂN\nSố: 031085001234", "CĂN CƯỚC CÔNG DÂN"),
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nDANH SÁCH HỘ GIA ĐÌNH\nSTT",
         "DANH SÁCH HỘ GIA ĐÌNH"),
    ],
)
def test_find_title(text, title):
    assert find_title(text) == nfc(title)


@pytest.mark.parametrize("text", [CONTRACT_2, CONTRACT_3, CONG_VAN, "", "   \n\n", "12345 67890", ID_BACK_A])
def test_find_title_none(text):
    assert find_title(text) is None


def test_find_title_prefers_known_title_with_taxonomy():
    # An agency line with lost tones that the layout rules do not know.
    text = "NHA MAY NUOC CAT HAI\nHOP DONG CUNG CAP NUOC SACH\nBên A"
    assert find_title(text) == "NHA MAY NUOC CAT HAI HOP DONG CUNG CAP NUOC SACH"
    assert find_title(text, TX) == "HOP DONG CUNG CAP NUOC SACH"
    assert classify_page(text, TX).code == "hop_dong"


# --------------------------------------------------------------------------- segmentation


def pages_of(texts: list[str]) -> list[PageInput]:
    return [PageInput(n=i, text=t, blank=not t.strip()) for i, t in enumerate(texts, start=1)]


def test_land_transfer_dossier_segments():
    result = segment(pages_of(DOSSIER), TX, review_threshold=0.6)
    assert [(s.type, s.pages) for s in result] == [
        ("phieu_tiep_nhan", [1]),
        ("don_de_nghi", [2]),
        ("can_cuoc", [3, 4]),
        ("can_cuoc", [5]),
        ("giay_chung_nhan_qsdd", [6]),
        ("hop_dong", [7, 8, 9]),
        ("bien_lai", [10]),
        ("quyet_dinh", [12]),
    ]
    assert all(isinstance(s, Segment) and not s.needs_review and s.confidence >= 0.85 for s in result)
    assert result[0].type_name == "Phiếu tiếp nhận hồ sơ"
    assert result[5].title == "HỢP ĐỒNG CHUYỂN NHƯỢNG QUYỀN SỬ DỤNG ĐẤT"
    assert all(0.0 <= s.confidence <= 1.0 for s in result)


def strip_tones(text: str) -> str:
    """What Tesseract gives when it loses every diacritic (case kept)."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return bare.replace("đ", "d").replace("Đ", "D").replace("\u00d0", "D")


def test_dossier_without_any_tone_marks_segments_the_same():
    result = segment(pages_of([strip_tones(t) for t in DOSSIER]), TX, review_threshold=0.6)
    expected = segment(pages_of(DOSSIER), TX, review_threshold=0.6)
    assert [(s.type, s.pages) for s in result] == [(s.type, s.pages) for s in expected]
    assert all(not s.needs_review for s in result)


def test_two_card_fronts_stay_separate_and_back_joins_only_its_front():
    result = segment(pages_of([ID_FRONT_A, ID_FRONT_B, ID_BACK_A]), TX, 0.6)
    assert [s.pages for s in result] == [[1], [2, 3]]
    # A second back page does not join a card that already has its back.
    result = segment(pages_of([ID_FRONT_A, ID_BACK_A, ID_BACK_A]), TX, 0.6)
    assert [(s.type, s.pages) for s in result] == [("can_cuoc", [1, 2]), ("can_cuoc", [3])]
    # Something that is not a back after a card is not part of the card.
    result = segment(pages_of([ID_FRONT_A, "Ghi chú: bản photo kèm theo hồ sơ của ông An"]), TX, 0.6)
    assert [(s.type, s.pages, s.needs_review) for s in result] == [("can_cuoc", [1], False), ("khac", [2], True)]


def test_card_back_after_another_document_starts_a_card():
    result = segment(pages_of([CONTRACT_1, CONTRACT_2, ID_BACK_A]), TX, 0.6)
    assert [(s.type, s.pages) for s in result] == [("hop_dong", [1, 2]), ("can_cuoc", [3])]


def test_leading_pages_without_title_form_a_khac_component():
    result = segment(pages_of([CONTRACT_2, CONTRACT_3, DECISION]), TX, 0.6)
    assert [(s.type, s.pages, s.needs_review) for s in result] == [
        ("khac", [1, 2], True), ("quyet_dinh", [3], False),
    ]


def test_blank_page_ends_a_document_unless_the_next_page_continues_it():
    plain = "Các bên thống nhất nội dung trên.\nNội dung khác không liên quan."
    result = segment(pages_of([DECISION, "", plain]), TX, 0.6)
    assert [(s.type, s.pages) for s in result] == [("quyet_dinh", [1]), ("khac", [3])]
    result = segment(pages_of([CONTRACT_1, "", CONTRACT_2, "", CONTRACT_3]), TX, 0.6)
    assert [(s.type, s.pages) for s in result] == [("hop_dong", [1, 3, 5])]


def test_unreadable_non_blank_page_is_kept():
    result = segment([PageInput(1, DECISION), PageInput(2, "", blank=False)], TX, 0.6)
    assert [s.pages for s in result] == [[1, 2]]


def test_review_threshold_and_confidence():
    weak = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nQUYẾT ÐỊNII\nnội dung"
    (seg,) = segment(pages_of([weak]), TX, 0.6)
    assert seg.type == "quyet_dinh" and 0.6 <= seg.confidence < 0.9
    (seg,) = segment(pages_of([weak]), TX, 0.95)
    assert seg.needs_review
    # Continuation pages whose cues point elsewhere lower the confidence a little.
    alone = segment(pages_of([CONTRACT_1]), TX, 0.6)[0].confidence
    mixed = segment(pages_of([CONTRACT_1, "Số tiền: 5.000.000 đồng\nBằng chữ: Năm triệu đồng\nNgười nộp tiền"]),
                    TX, 0.6)
    assert len(mixed) == 1 and mixed[0].confidence < alone


def test_custom_classifier_seam():
    class Always:
        def classify_page(self, text: str) -> PageGuess:
            return PageGuess("quyet_dinh", 0.97, "QUYẾT ĐỊNH", is_start=text.startswith("#"))

    result = segment(pages_of(["# a", "b", "# c"]), TX, 0.6, classifier=Always())
    assert [(s.type, s.pages, s.confidence) for s in result] == [("quyet_dinh", [1, 2], 0.97),
                                                                 ("quyet_dinh", [3], 0.97)]

    class Broken:
        def classify_page(self, text: str) -> PageGuess:
            raise RuntimeError("model crashed")

    (seg,) = segment(pages_of(["x", "y"]), TX, 0.6, classifier=Broken())
    assert (seg.type, seg.pages, seg.needs_review) == ("khac", [1, 2], True)

    class Unknown:
        def classify_page(self, text: str) -> PageGuess:
            return PageGuess("not_in_taxonomy", 0.99, None, True)

    (seg,) = segment(pages_of(["x"]), TX, 0.6, classifier=Unknown())
    assert seg.type == "khac" and seg.needs_review


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("pages", [[], [PageInput(1, "", True)], [PageInput(i, " ", True) for i in range(1, 6)]])
def test_empty_or_all_blank_dossier(pages):
    assert segment(pages, TX, 0.6) == []


@pytest.mark.parametrize(
    "text",
    [
        "The quick brown fox jumps over the lazy dog.\nThis page is written in English.",
        "中华人民共和国\n这是一个测试页面",
        "@@##$$ 1234 ~~~ ||| zzkq xqq\n" * 50,
        "\x00\x01\x02 \ufffd\ufffd",
        "A" * 100_000,
        "\n" * 10_000 + "x",
    ],
)
def test_odd_single_pages_never_raise(text):
    guess = classify_page(text, TX)
    assert guess.code == "khac" and 0.0 <= guess.score <= 0.3
    (seg,) = segment([PageInput(1, text)], TX, 0.6)
    assert seg.type == "khac" and seg.needs_review and seg.pages == [1]


def test_single_page_dossier():
    (seg,) = segment([PageInput(1, DECISION)], TX, 0.6)
    assert seg.type == "quyet_dinh" and seg.pages == [1]


def test_500_pages_complete():
    texts = [DOSSIER[i % len(DOSSIER)] for i in range(500)]
    result = segment(pages_of(texts), TX, 0.6)
    covered = sorted(n for s in result for n in s.pages)
    assert covered == [i for i, t in enumerate(texts, start=1) if t.strip()]
    assert len(result) > 250


def test_stray_number_on_top_does_not_hide_a_clear_title():
    guess = classify_page("2\nCĂN CƯỚC CÔNG DÂN\nSố: 031085001234\nHọ và tên: NGUYỄN VĂN AN", TX)
    assert guess.is_start and guess.code == "can_cuoc"
    guess = classify_page("3\nCăn cứ kết quả thẩm định hồ sơ, Ủy ban nhân dân huyện quyết định", TX)
    assert not guess.is_start and guess.continuation


# --------------------------------------------------------------------------- unreadable pages, signature dates

UPSIDE_DOWN = """8u0'] ñH uaÁn8N
XLNNLL “LA :RHT-
. :ứAn NI LOd 29 “qĐƒ1 n2 -
HĐILL AHĐ OHd 8uomg IOJA[ ỆA uạÁnẩu tệ], ỌS -
HOÏL (0H) '1M :€ nạTQ nũN -
NYq NVHN NVA Aí1 "WÑLL :UIÖWU 1ON
'/Aéu t[u†p 13ÁnÒ) quẹ 11) uìa†qu qĐe1) n9 2u0H TL, 371 ệq ỆA
"""


def test_readable_share():
    share, n = readable_share(DECISION)
    assert share > 0.9 and n > 50
    assert readable_share(UPSIDE_DOWN)[0] < 0.5
    assert readable_share("") == (0.0, 0)
    assert not is_unreadable("8u0'] ñH")  # too short to judge
    assert is_unreadable(UPSIDE_DOWN) and not is_unreadable(CONTRACT_2) and not is_unreadable(ID_FRONT_A)


def test_unreadable_page_is_its_own_flagged_component():
    # a document scanned upside down must not disappear inside the one before it
    result = segment(pages_of([CONTRACT_1, CONTRACT_2, UPSIDE_DOWN, UPSIDE_DOWN, DECISION]), TX, 0.6)
    assert [(s.type, s.pages, s.needs_review) for s in result] == [
        ("hop_dong", [1, 2], False), ("khac", [3], True), ("khac", [4], True), ("quyet_dinh", [5], False)]


def test_date_above_a_signature_does_not_start_a_document():
    last = "Làm tại: xã Hải Bắc, ngày 18 tháng 3 năm\n2024\nNgười yêu cầu\n(Ký, ghi rõ họ, chữ đệm, tên)\nVõ Minh Anh"
    guess = classify_page(last, TX)
    assert not guess.is_start
    result = segment(pages_of([TO_KHAI, last]), TX, 0.6)
    assert [(s.type, s.pages) for s in result] == [("to_khai", [1, 2])]
    # a real header (Quốc hiệu or "Số:") with the date still starts one
    assert classify_page("Số: 12/TB-UBND Cát Hải, ngày 03 tháng 10 năm 2025\nTHÔNG BÁO\nVề việc", TX).is_start
