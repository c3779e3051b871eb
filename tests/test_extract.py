"""Field extraction on OCR-like Vietnamese text: each field is found when the text says it clearly
and left empty (None / []) otherwise - including invalid CCCDs, phone numbers and impossible dates."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from pipeline.manifest import Metadata
from pipeline.understand.extract import (
    cccd,
    co_quan,
    extract_components,
    extract_fields,
    fold_aligned,
    ho_ten,
    left_column,
    ma_ho_so,
    ngay,
    reconcile_cccd,
    so_ky_hieu,
    trich_yeu,
    valid_cccd,
)

TODAY = dt.date(2025, 11, 26)

DECISION = """ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
HUYỆN CÁT HẢI Độc lập - Tự do - Hạnh phúc
Số: 1534/QÐ-UBND Cát Hải, ngày 03 tháng 10 năm 2025
QUYẾT ĐỊNH
Về việc cấp Giấy chứng nhận quyền sử dụng đất
cho bà Trần Thị Bình

ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI
Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;
Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ;
Căn cứ Quyết định số 12/QĐ-UBND ngày 02/01/2025 của UBND huyện;
QUYẾT ĐỊNH:
Điều 1. Cấp Giấy chứng nhận quyền sử dụng đất cho bà Trần Thị Bình, CCCD số 031190004567.
"""

# Same page, OCR lost the tone marks and split the header differently.
DECISION_NO_TONES = """UY BAN NHAN DAN
HUYEN CAT HAI
So: 1534 / QD - UBND
CONG HOA XA HOI CHU NGHIA VIET NAM
Doc lap - Tu do - Hanh phuc
Cat Hai, ngay 03 thang 10 nam 2025
QUYET DINH
Ve viec cap giay chung nhan quyen su dung dat
cho ba Tran Thi Binh
Can cu Luat Dat dai ngay 18 thang 01 nam 2024;
"""

CONG_VAN = """ỦY BAN NHÂN DÂN
XÃ VĂN PHONG
Số: 45/UBND-VP
V/v đề nghị cung cấp thông tin Văn Phong, ngày 12 tháng 9 năm 2025
thửa đất số 125 Độc lập - Tự do - Hạnh phúc
Kính gửi: Chi nhánh Văn phòng đăng ký đất đai huyện Cát Hải
"""

APPLICATION = """Mẫu số 09/ĐK
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
ĐƠN ĐĂNG KÝ BIẾN ĐỘNG ĐẤT ĐAI, TÀI SẢN GẮN LIỀN VỚI ĐẤT
Kính gửi: Chi nhánh Văn phòng đăng ký đất đai huyện Cát Hải
Họ và tên: NGUYỄN VĂN AN Sinh năm: 1985
Số CCCD: 031085001234 Điện thoại: 0912345678
Tôi xin cam đoan nội dung kê khai trên đơn là đúng sự thật.
Cát Hải, ngày 04 tháng 3 năm 2025
Người viết đơn
"""

CONTRACT = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
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
"""

ID_CARD = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
CĂN CƯỚC CÔNG DÂN
Số / No.: 031085001234
Họ và tên / Full name:
NGUYỄN VĂN AN
Ngày sinh / Date of birth: 12/05/1985
Đặc điểm nhận dạng: Nốt ruồi C:1cm trên sau đầu mày phải
Ngày, tháng, năm / Date, month, year: 10/08/2021
IDVNM0850012341031085001234<<2
"""

RECEPTION = """UBND HUYỆN CÁT HẢI CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ Độc lập - Tự do - Hạnh phúc
Số: 2507/TN-BPMC Cát Hải, ngày 05 tháng 3 năm 2025
GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ
Mã hồ sơ: 000.00.20.H26-250305-0012
Họ và tên người nộp hồ sơ: Nguyễn Văn An
Số điện thoại: 0912345678
Ngày hẹn trả kết quả: 19/03/2025
"""


# --------------------------------------------------------------------------- số, ký hiệu


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Số: 1534/QĐ-UBND", "1534/QĐ-UBND"),
        ("Số: 45/UBND-VP", "45/UBND-VP"),
        ("Số 12/2025/HĐCN", "12/2025/HĐCN"),
        ("Số: 123/TB-STNMT", "123/TB-STNMT"),
        ("Số: 1534/QÐ-UBND", "1534/QĐ-UBND"),  # U+00D0 for Đ
        ("Số: 1534 / QĐ - UBND", "1534/QĐ-UBND"),
        ("So: 1534/QD-UBND", "1534/QĐ-UBND"),  # tones and stroke lost
        ("SỐ: 15/TTr-UBND", "15/TTr-UBND"),
        ("Số: 01/2025/NĐ-CP", "01/2025/NĐ-CP"),
        ("Số: 1534/QĐ-UBND Cát Hải, ngày 03 tháng 10 năm 2025", "1534/QĐ-UBND"),
        (DECISION, "1534/QĐ-UBND"),
        (DECISION_NO_TONES, "1534/QĐ-UBND"),
        (CONTRACT, "12/2025/HĐCN"),
        ("BIÊN LAI THU PHÍ, LỆ PHÍ\nSố: 0001234", "0001234"),  # number only, at a header line start
        ("ỦY BAN NHÂN DÂN\nXÃ VĂN PHONG\nSố: 45\nQuyển số: 01/2020", "45"),
        ("UBND HUYỆN CÁT HẢI Mẫu số: 01BLP2-001\nĐĂNG KÝ ĐẤT ĐAI Số: 0001234\nBIÊN LAI", "0001234"),
        ("HUYỆN CÁT HẢI Số: 1534/QĐ-UBND Độc lập - Tự do - Hạnh phúc", "1534/QĐ-UBND"),
    ],
)
def test_so_ky_hieu(text, expected):
    assert so_ky_hieu(text) == expected


@pytest.mark.parametrize(
    ("text", "type_code", "expected"),
    [
        ("Số công chứng: 123/2025, quyển số 01/2025/TP/CC-SCC/HĐGD.", "hop_dong", "123/2025"),
        ("Số vào sổ cấp GCN: CS 01234\nSố phát hành: AB 123456", "giay_chung_nhan_qsdd", "CS 01234"),
        ("Mã số hộ kinh doanh: 31H8012345", "giay_chung_nhan_dang_ky_kinh_doanh", "31H8012345"),
        ("Số vào sổ cấp GCN: CS 01234", None, None),  # only a certificate's own register number counts
        ("Số vào sổ cấp Giấy chứng nhận: CS 01234", "don_de_nghi", None),  # an application quoting it
        ("CĂN CƯỚC CÔNG DÂN\nSố: 0310850", "can_cuoc", None),  # a card number is not a document number
    ],
)
def test_so_ky_hieu_by_type(text, type_code, expected):
    assert so_ky_hieu(text, type_code) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Số tiền: 6.000.000 đồng",
        "Số / No.: 031085001234",
        "Số:      /QĐ-UBND",  # draft, number not filled in
        "Số nhà 12/3 đường Lê Lợi",
        "Căn cứ Quyết định số 12/QĐ-UBND ngày 02/01/2025;",  # a reference, not this document's number
        "Bên B thanh toán theo hóa đơn số: 12/HĐ-KT",  # lower-case "số" inside a sentence
        APPLICATION,
        "",
    ],
)
def test_so_ky_hieu_absent(text):
    assert so_ky_hieu(text) is None


# --------------------------------------------------------------------------- ngày


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cát Hải, ngày 03 tháng 10 năm 2025", "2025-10-03"),
        ("Hà Nội, ngày 3 tháng 1 năm 2024", "2024-01-03"),
        ("Hải Phòng, ngày 03/10/2025", "2025-10-03"),
        ("ngày 03/10/2025", "2025-10-03"),
        ("Ngày 06 tháng 3 năm 2025", "2025-03-06"),
        ("Cat Hai, ngay 03 thang 10 nam 2025", "2025-10-03"),
        ("Cát Hải, ngày O3 tháng 10 năm 2025", "2025-10-03"),  # O read for 0
        ("Cát Hải, ngày 03 tháng 10\nnăm 2025", "2025-10-03"),  # broken line
        (DECISION, "2025-10-03"),  # the header date, not the dates cited in "Căn cứ"
        (DECISION_NO_TONES, "2025-10-03"),
        (CONG_VAN, "2025-09-12"),
        (APPLICATION, "2025-03-04"),  # citizen form: date above the signature
        (CONTRACT, "2025-03-04"),  # "Hôm nay, ngày …"
        # Card copy: the issue date on the back, not the certification date under the copy.
        ("CĂN CƯỚC CÔNG DÂN\nNgày, tháng, năm / Date, month, year: 10/08/2021\n"
         "CHỨNG THỰC BẢN SAO ĐÚNG VỚI BẢN CHÍNH\nNgày 03 tháng 10 năm 2025", "2021-08-10"),
        ("Ngày, tháng, năm sinh: 02/02/2019\nNgày, tháng, năm đăng ký: 05/06/2020", "2020-06-05"),
    ],
)
def test_ngay(text, expected):
    assert ngay(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Cát Hải, ngày 31 tháng 02 năm 2025",  # does not exist
        "Cát Hải, ngày 30/13/2025",
        "Cát Hải, ngày ... tháng ... năm 20...",  # blank form
        "Căn cứ Luật Đất đai ngày 18 tháng 01 năm 2024;",  # cited law, not the document date
        "Ngày sinh: 12/05/1985",
        "Cát Hải, ngày 03 tháng 10 năm 2099",  # in the future
        "Cát Hải, ngày 03 tháng 10 năm 1850",
        "",
    ],
)
def test_ngay_absent(text):
    assert ngay(text, today=TODAY) is None


# --------------------------------------------------------------------------- cơ quan


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (DECISION, "ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI"),
        ("ỦY BAN NHÂN DÂN\nHUYỆN CÁT HẢI\nSố: 1534/QĐ-UBND", "ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI"),
        (DECISION_NO_TONES, "UY BAN NHAN DAN HUYEN CAT HAI"),
        (CONG_VAN, "ỦY BAN NHÂN DÂN XÃ VĂN PHONG"),
        (RECEPTION, "UBND HUYỆN CÁT HẢI BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"),
        ("UBND HUYỆN CÁT HẢI\nPHÒNG TÀI NGUYÊN VÀ MÔI TRƯỜNG\n-------\nSố: 88/TTr-TNMT",
         "UBND HUYỆN CÁT HẢI PHÒNG TÀI NGUYÊN VÀ MÔI TRƯỜNG"),
        ("SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nTHÀNH PHỐ HẢI PHÒNG Độc lập - Tự do - Hạnh phúc",
         "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG THÀNH PHỐ HẢI PHÒNG"),
        # Right column read first.
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM ỦY BAN NHÂN DÂN\nĐộc lập - Tự do - Hạnh phúc HUYỆN CÁT HẢI",
         "ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI"),
        ("ỦY BAN NHÂN DÂN\nHUYỆN CÁT HẢI\nQUYẾT ĐỊNH\nVề việc", "ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI"),
        ("CHI CỤC THUẾ KHU VỰC CÁT HẢI\nMẫu số: 01BLP2-001\nSố: 0001234\nBIÊN LAI", "CHI CỤC THUẾ KHU VỰC CÁT HẢI"),
        ("UBND HUYỆN CÁT HẢI Mẫu số: 01BLP2-001\nCHI NHÁNH VĂN PHÒNG Ký hiệu: AA-25P\nĐĂNG KÝ ĐẤT ĐAI Số: 0001234\n"
         "BIÊN LAI THU PHÍ, LỆ PHÍ", "UBND HUYỆN CÁT HẢI CHI NHÁNH VĂN PHÒNG ĐĂNG KÝ ĐẤT ĐAI"),
        ("UBND HUYỆN CÁT HẢI\nBỘ PHẬN TIẾP NHẬN\nVÀ TRẢ KẾT QUẢ\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
         "UBND HUYỆN CÁT HẢI BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"),
    ],
)
def test_co_quan(text, expected):
    assert co_quan(text) == unicodedata.normalize("NFC", expected)


@pytest.mark.parametrize(
    "text",
    [
        APPLICATION,  # citizen form: no agency header
        CONTRACT,
        "Ủy ban nhân dân xã Văn Phong đề nghị Chi nhánh cung cấp thông tin.",  # body text
        "Kính gửi: ỦY BAN NHÂN DÂN XÃ VĂN PHONG",
        "",
    ],
)
def test_co_quan_absent(text):
    assert co_quan(text) is None


@pytest.mark.parametrize(
    ("text", "type_code", "expected"),
    [
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
         "GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở\nVÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT\n"
         "ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI\nchứng nhận:", "giay_chung_nhan_qsdd", "ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI"),
        ("HỢP ĐỒNG\nHôm nay, ngày 04 tháng 3 năm 2025, tại Văn phòng công chứng Cát Bà, thành phố Hải Phòng",
         "hop_dong", "Văn phòng công chứng Cát Bà"),
        ("HỢP ĐỒNG\nHôm nay, tại Phòng Công chứng số 1 thành phố Hải Phòng", "hop_dong", "Phòng Công chứng số 1"),
        ("HỢP ĐỒNG\nHôm nay, tại văn phòng công chứng của tỉnh", "hop_dong", None),
        (CONTRACT, None, None),  # without the type, only a header agency counts
    ],
)
def test_co_quan_by_type(text, type_code, expected):
    assert co_quan(text, type_code) == expected


def test_co_quan_not_for_card_copies():
    assert co_quan("CÔNG AN TỈNH HẢI DƯƠNG\nGIẤY CHỨNG MINH NHÂN DÂN", "can_cuoc") is None


def test_left_column_drops_merged_quoc_hieu():
    assert left_column("HUYỆN CÁT HẢI Độc lập - Tự do - Hạnh phúc") == "HUYỆN CÁT HẢI"
    assert left_column("HUYEN CAT HAI Doc lap - Tu do - Hanh phuc") == "HUYEN CAT HAI"
    assert left_column("Số: 1534/QĐ-UBND") == "Số: 1534/QĐ-UBND"


# --------------------------------------------------------------------------- trích yếu


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (DECISION, "Về việc cấp Giấy chứng nhận quyền sử dụng đất cho bà Trần Thị Bình"),
        (DECISION_NO_TONES, "Ve viec cap giay chung nhan quyen su dung dat cho ba Tran Thi Binh"),
        (CONG_VAN, "V/v đề nghị cung cấp thông tin thửa đất số 125"),  # right column cut off
        ("V/v: đề nghị cung cấp thông tin", "V/v đề nghị cung cấp thông tin"),
        ("Vê viêc phê duyệt kế hoạch sử dụng đất;", "Vê viêc phê duyệt kế hoạch sử dụng đất"),  # as OCR read it
        ("QUYẾT ĐỊNH\nVề việc cấp giấy phép\nCăn cứ Luật Xây dựng", "Về việc cấp giấy phép"),
        ("QUYẾT ĐỊNH\nVề việc cấp GCN\nỦY BAN NHÂN DÂN HUYỆN CÁT HẢI", "Về việc cấp GCN"),
        ("THÔNG BÁO\nVề việc thu hồi đất\n\ncủa hộ gia đình", "Về việc thu hồi đất"),  # stops at the empty line
        ("ĐƠN ĐỀ NGHỊ\nVề việc:\nđăng ký thành lập hộ kinh doanh\nKính gửi: Phòng Tài chính - Kế hoạch",
         "Về việc đăng ký thành lập hộ kinh doanh"),
    ],
)
def test_trich_yeu(text, expected):
    assert trich_yeu(text) == expected


@pytest.mark.parametrize(
    "text",
    ["Căn cứ Quyết định số 12/QĐ-UBND về việc giao đất;", "Về việc", "QUYẾT ĐỊNH\nCăn cứ", APPLICATION, ""],
)
def test_trich_yeu_absent(text):
    assert trich_yeu(text) is None


# --------------------------------------------------------------------------- CCCD


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("031085001234", ["031085001234"]),
        ("CCCD số: 031085001234.", ["031085001234"]),
        ("Số: 031 085 001 234", ["031085001234"]),
        ("CCCD: 0310 8500 1234", ["031085001234"]),
        ("Số định danh cá nhân: 001 190 004 567", ["001190004567"]),
        ("031225001234", ["031225001234"]),  # born 2025, male
        ("IDVNM0850012341031085001234<<2", ["031085001234"]),  # MRZ of the card back
        ("Số CCCD: 031085001234, 031085001234; 001190004567", ["031085001234", "001190004567"]),
        (CONTRACT, ["031085001234", "031190004567"]),
        (ID_CARD, ["031085001234"]),
        (APPLICATION, ["031085001234"]),  # the phone number next to it is ignored
    ],
)
def test_cccd(text, expected):
    assert cccd(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "003085001234",  # 003 is not a province code
        "099085001234",  # nor is 099
        "0310850012345",  # 13-digit run
        "03108500123",  # 11 digits
        "1031085001234",
        "031585001234",  # century digit 5: not issued yet
        "031985001234",
        "031385001234",  # female born 2085: in the future
        "0912345678",  # phone number
        "+84 912 345 678",
        "031 085 001 234",  # spaced without a label: could be anything
        "0310 85 001234",  # not grouped 3-3-3-3 or 4-4-4
        "CCCD số: 031 085 001 234 5",  # the group continues
        "Tài khoản: 103108500123412",
        "",
    ],
)
def test_cccd_rejects(text):
    assert cccd(text, today=TODAY) == []


def test_valid_cccd():
    assert valid_cccd("031085001234", TODAY)
    assert valid_cccd("001325000001", TODAY)
    assert not valid_cccd("001326000001", TODAY)  # born 2026 is after TODAY
    assert not valid_cccd("03108500123X", TODAY)


# --------------------------------------------------------------------------- họ tên


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Họ và tên: NGUYỄN VĂN AN", ["Nguyễn Văn An"]),
        ("Họ và tên: Nguyễn Văn An, sinh năm 1985", ["Nguyễn Văn An"]),
        ("Họ, chữ đệm, tên: LÊ MINH KHÔI", ["Lê Minh Khôi"]),
        ("Họ tên: Trần Thị Bình  CCCD: 031190004567", ["Trần Thị Bình"]),
        ("Ông/Bà: Phạm Thị Hoa", ["Phạm Thị Hoa"]),
        ("Ông: NGUYỄN HOÀI NAM Sinh năm: 1980", ["Nguyễn Hoài Nam"]),  # Nam is a name, "năm" is not
        ("Họ và tên người nộp hồ sơ: Nguyễn Văn An", ["Nguyễn Văn An"]),
        ("Bên chuyển nhượng: Ông Nguyễn Văn An", ["Nguyễn Văn An"]),
        ("Họ và tên / Full name:\nNGUYỄN VĂN AN", ["Nguyễn Văn An"]),  # value on the next line
        ("Ho va ten: NGUYEN VAN AN", ["Nguyen Van An"]),  # tones lost: kept as read
        ("Họ và tên: Tôn Nữ Thị Hà", ["Tôn Nữ Thị Hà"]),
        ("Họ và tên: Nguyễn Văn An\nHọ và tên: NGUYỄN VĂN AN", ["Nguyễn Văn An"]),
        ("Người nộp tiền: Trần Thị Bình\n1. Tên người nộp thuế: LÊ VĂN CƯỜNG", ["Trần Thị Bình", "Lê Văn Cường"]),
        ("Họ và tên mẹ: Phạm Thị Hoa\nHọ và tên cha: Nguyễn Văn An\nDự định đặt tên con: Nguyễn Minh Khôi",
         ["Phạm Thị Hoa", "Nguyễn Văn An", "Nguyễn Minh Khôi"]),
        ("- Tên chủ đầu tư: Ông Nguyễn Văn An", ["Nguyễn Văn An"]),
        ("1. Cấp cho: Bà Lê Minh Loan\nĐịa chỉ: xã Hải Minh", ["Lê Minh Loan"]),
        # In a sentence after a lower-case honorific, also wrapped onto the next line.
        ("Chuyển nhượng thửa đất từ bà Lý\nHồng Mai sang ông Phạm Hữu Tuấn.", ["Lý Hồng Mai", "Phạm Hữu Tuấn"]),
        ("Cấp Giấy chứng nhận cho bà Trần Thị Bình, CCCD số 031190004567.", ["Trần Thị Bình"]),
        ("Tiếp nhận hồ sơ của ông Nguyễn Văn An tại bộ phận một cửa", ["Nguyễn Văn An"]),
        ("Tôi là: Lê Minh Loan, giới tính: nữ, sinh ngày 02/03/1990", ["Lê Minh Loan"]),
        ("Họ, chữ đệm, tên người yêu cầu: Đỗ Văn Hùng", ["Đỗ Văn Hùng"]),
        (CONTRACT, ["Nguyễn Văn An", "Trần Thị Bình"]),
        (ID_CARD, ["Nguyễn Văn An"]),
    ],
)
def test_ho_ten(text, expected):
    assert ho_ten(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Họ và tên: ...........................",
        "Họ và tên: An",  # one syllable
        "Họ và tên: nguyễn văn an",  # not capitalised
        "Họ và tên: Tôn Nữ Thị Minh Khai Phương",  # longer than 5 syllables: cannot delimit it
        "Họ và tên:\nNgày sinh: 1990",
        "Lao động: 5 người",
        "Tiếp nhận hồ sơ của ông Nguyễn Văn An",  # the name may go on on the next line: unsure
        "Cấp cho ông Lê\nVăn",  # cut by the line end
        "chuyển nhượng từ bà Trần T hị Anh sang",  # a syllable split by OCR
        "",
    ],
)
def test_ho_ten_absent(text):
    assert ho_ten(text) == []


# --------------------------------------------------------------------------- mã hồ sơ


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mã hồ sơ: 000.00.20.H26-250305-0012", "000.00.20.H26-250305-0012"),
        ("Mã hồ sơ: 000.00.20.H26 - 250305 - 0012", "000.00.20.H26-250305-0012"),
        ("Ma ho so: 000.00.20.h26-250305-0012", "000.00.20.H26-250305-0012"),
        ("Biên nhận 000.00.20.H26-250305-0012 ngày 05/3", "000.00.20.H26-250305-0012"),
        ("Mã hồ sơ: HS2025-001234", "HS2025-001234"),
        (RECEPTION, "000.00.20.H26-250305-0012"),
    ],
)
def test_ma_ho_so(text, expected):
    assert ma_ho_so(text) == expected


@pytest.mark.parametrize(
    "text",
    ["Mã hồ sơ: ..........", "000.00.20.H26-251345-0012", "Điện thoại 0225-3888-123", DECISION, ""],
)
def test_ma_ho_so_absent(text):
    assert ma_ho_so(text) is None


# --------------------------------------------------------------------------- all fields


def test_extract_fields_decision():
    meta = extract_fields(DECISION, "quyet_dinh")
    assert isinstance(meta, Metadata)
    assert meta.so_ky_hieu == "1534/QĐ-UBND"
    assert meta.ngay == "2025-10-03"
    assert meta.co_quan == "ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI"
    assert meta.trich_yeu == "Về việc cấp Giấy chứng nhận quyền sử dụng đất cho bà Trần Thị Bình"
    assert meta.cccd == ["031190004567"]
    assert meta.ma_ho_so is None


def test_extract_fields_id_card_and_reception():
    card = extract_fields(ID_CARD, "can_cuoc")
    assert (card.cccd, card.ho_ten, card.co_quan, card.so_ky_hieu) == (["031085001234"], ["Nguyễn Văn An"], None, None)
    slip = extract_fields(RECEPTION, "phieu_tiep_nhan")
    assert slip.ma_ho_so == "000.00.20.H26-250305-0012"
    assert slip.ho_ten == ["Nguyễn Văn An"] and slip.ngay == "2025-03-05" and slip.cccd == []


def test_outputs_are_nfc_even_from_decomposed_input():
    decomposed = unicodedata.normalize("NFD", DECISION)
    meta = extract_fields(decomposed)
    for value in [meta.so_ky_hieu, meta.co_quan, meta.trich_yeu, *meta.ho_ten]:
        assert value is None or value == unicodedata.normalize("NFC", value)
    assert meta.co_quan == unicodedata.normalize("NFC", "ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI")


@pytest.mark.parametrize(
    "text", ["", "   ", "The quick brown fox.", "中华人民共和国", "\x00\ufffd" * 100, "Số: /" * 5000, "9" * 50_000]
)
def test_extract_fields_odd_input_is_empty(text):
    meta = extract_fields(text)
    assert meta == Metadata() or (meta.cccd == [] and meta.so_ky_hieu is None)


def test_fold_aligned_keeps_positions():
    text = "Cát Hải, ngày 03 tháng 10 — ĐƯỜNG Ð"
    folded = fold_aligned(text)
    assert len(folded) == len(text)
    assert folded.startswith("cat hai, ngay 03 thang 10")


# --------------------------------------------------------------------------- read from real Tesseract output


def test_card_number_that_lost_its_leading_zero():
    # Tesseract drops the leading 0 of the card number; every province code starts with 0
    text = "CĂN CƯỚC CÔNG DÂN\nCitizen Identity Card\nSố / No.: 79058551678\nHọ và tên / Full name:"
    assert cccd(text, today=TODAY) == ["079058551678"]
    assert cccd("Số / No.: 03105855167", today=TODAY) == []  # a zero there: a digit is missing elsewhere
    assert cccd("Điện thoại: 79058551678", today=TODAY) == []  # only after the card's number label


def test_stray_marks_before_a_month_and_known_abbreviations():
    assert ngay("Tân An Hội, ngày 20 tháng Z7 năm 2025", today=TODAY) == "2025-07-20"
    assert ngay("Hôm nay, ngày 06 tháng '9 năm 2025, tại Ủy ban", today=TODAY) == "2025-09-06"
    assert so_ky_hieu("Số: 876/TIT-TNMT Nghi Lộc, ngày 21 tháng 7 năm 2024") == "876/TTr-TNMT"
    assert so_ky_hieu("II. Thửa đất\nSố vào sổ cấp GCNÑ: CS 09259", "giay_chung_nhan_qsdd") == "CS 09259"


def test_birth_certificate_date_is_the_birth():
    text = ("SỞ Y TẾ HẢI PHÒNG\nSố: 120/GCS Cát Hải, ngày 25 tháng 01 năm 2025\nGIẤY CHỨNG SINH\n"
            "Đã sinh con vào lúc: 14 giờ 05 phút, ngày 22 tháng 01 năm 2025\n")
    assert ngay(text, today=TODAY, type_code="giay_chung_sinh") == "2025-01-22"
    assert ngay(text, today=TODAY) == "2025-01-25"


def test_same_person_read_with_a_tone_lost_once_is_one_name():
    text = "Bên A: Ông: Võ Thành Thắng\nchứng nhận hợp đồng giữa ông Võ Thành Thăng và bà Lê Thị Lan."
    assert ho_ten(text) == ["Võ Thành Thắng", "Lê Thị Lan"]


def test_reconcile_cccd_across_the_dossier():
    # the application misread one digit; the card copy and the contract agree
    got = reconcile_cccd([["001079907865"], ["001079907863"], ["001079907863", "031190004567"]], {1})
    assert got == [["001079907863"], ["001079907863"], ["001079907863", "031190004567"]]
    # one read each: the card copy is trusted
    assert reconcile_cccd([["001079907865"], ["001079907863"]], {1}) == [["001079907863"], ["001079907863"]]
    # two different people stay apart
    assert reconcile_cccd([["001079907865"], ["031190004567"]]) == [["001079907865"], ["031190004567"]]
    metas = extract_components(["Số CCCD: 001079907865\nHọ và tên: Lê Văn An",
                                "CĂN CƯỚC CÔNG DÂN\nSố / No.: 001079907863"], ["don_de_nghi", "can_cuoc"])
    assert [m.cccd for m in metas] == [["001079907863"], ["001079907863"]]
    assert metas[0].ho_ten == ["Lê Văn An"]


def test_officials_acting_for_the_agency_are_not_parties():
    text = ("Hôm nay, tại thửa đất số 46, chúng tôi gồm:\n"
            "1. Đại diện Ủy ban nhân dân xã: ông Nguyễn Thanh Hà, Phó Chủ tịch; công chức địa chính xã.\n"
            "2. Người sử dụng đất: bà Lê Thị Hương, CCCD số 079178821707.\n")
    assert ho_ten(text) == ["Lê Thị Hương"]


def test_punctuation_misread_in_dates_and_codes():
    assert ngay("Đông Anh; ngày 25 tháng 3 năm 2025", today=TODAY) == "2025-03-25"
    assert ma_ho_so("Mã hồ sơ: 000.00:32.H56-240324-0054\nBộ phận") == "000.00.32.H56-240324-0054"
