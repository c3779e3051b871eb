"""Catalog bench: ingest rate and search latency of each catalog backend on synthetic dossiers.

    python bench/catalog.py [--docs 100000] [--backends sqlite,postgres] [--pg-url URL [--truncate]]
                            [--sqlite-path /tmp/sohoa-bench/catalog.sqlite [--keep]] [--queries 240]

Generates `--docs` documents (components of 1-3 pages of Vietnamese administrative text built
from a few hundred sentence templates with slots, NFC; 1-6 components per dossier), indexes them
into each backend through its `Catalog` (one `index_dossier` per dossier, as the pipeline does),
then runs a fixed mix of queries (with and without tones, single words, 2-4 word phrases, quoted
phrases, document numbers, type filters, no-hit queries), once to warm up and then timed.
Without `--pg-url` (or SOHOA_BENCH_PG) a throwaway PostgreSQL is started with tests/pgserver.py.
Prints one table: backend, docs, ingest docs/s, search p50 / p95 / max in ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.catalog.base import Catalog  # noqa: E402
from pipeline.manifest import Component, Manifest, Metadata, Page, Source  # noqa: E402
from pipeline.textnorm import fold  # noqa: E402

# -- vocabulary ---------------------------------------------------------------------------------

HO = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
      "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trịnh", "Mai", "Cao", "Lương", "Tạ", "Chu", "Đoàn"]
DEM = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quang", "Xuân", "Thu", "Hồng", "Kim",
       "Bảo", "Gia", "Anh", "Thùy", "Mạnh", "Quốc", "Công", "Phương"]
TEN = ["An", "Bình", "Cường", "Dũng", "Hùng", "Lan", "Hoa", "Hương", "Hải", "Hà", "Long", "Linh",
       "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vân", "Yến",
       "Khuê", "Đạt", "Giang", "Hạnh", "Khánh", "Lộc", "Ngân", "Nhung", "Oanh", "Phượng", "Quyên",
       "Thắng", "Thúy", "Toàn", "Uyên", "Việt", "Xuyến", "Hiếu", "Duyên", "Chiến", "Định", "Tùng"]
TINH = ["Hà Nội", "Hải Phòng", "Bắc Ninh", "Hưng Yên", "Nam Định", "Thái Bình", "Thanh Hóa",
        "Nghệ An", "Hà Tĩnh", "Quảng Bình", "Thừa Thiên Huế", "Đà Nẵng", "Quảng Nam", "Bình Định",
        "Khánh Hòa", "Đắk Lắk", "Lâm Đồng", "Đồng Nai", "Bình Dương", "Cần Thơ", "An Giang",
        "Kiên Giang", "Cà Mau", "Lào Cai", "Yên Bái", "Tuyên Quang", "Phú Thọ", "Vĩnh Phúc"]
HUYEN = ["Đông Anh", "Gia Lâm", "Sóc Sơn", "Thanh Trì", "Mê Linh", "Ba Vì", "Phúc Thọ", "Đan Phượng",
         "Hoài Đức", "Quốc Oai", "Thạch Thất", "Chương Mỹ", "Thanh Oai", "Thường Tín", "Phú Xuyên",
         "Ứng Hòa", "Mỹ Đức", "Từ Sơn", "Yên Phong", "Quế Võ", "Tiên Du", "Thuận Thành", "Lương Tài",
         "Kim Động", "Ân Thi", "Khoái Châu", "Văn Giang", "Yên Mỹ", "Mỹ Hào", "Tiên Lữ"]
XA = ["Uy Nỗ", "Vân Nội", "Nam Hồng", "Bắc Hồng", "Kim Chung", "Hải Bối", "Võng La", "Đại Mạch",
      "Xuân Nộn", "Thụy Lâm", "Liên Hà", "Việt Hùng", "Cổ Loa", "Mai Lâm", "Đông Hội", "Tiên Dương",
      "Vĩnh Ngọc", "Xuân Canh", "Dục Tú", "Nguyên Khê", "Tầm Xá", "Kim Nỗ", "Bát Tràng", "Đa Tốn",
      "Kiêu Kỵ", "Phù Đổng", "Trâu Quỳ", "Yên Viên", "Ninh Hiệp", "Đặng Xá", "Lệ Chi", "Dương Quang"]
DUONG = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Quang Trung", "Lý Thường Kiệt",
         "Phan Chu Trinh", "Điện Biên Phủ", "Hoàng Diệu", "Nguyễn Du", "Bà Triệu", "Cao Lỗ"]
CO_QUAN = ["UBND huyện {huyen}", "UBND xã {xa}", "Văn phòng đăng ký đất đai", "Phòng Tài nguyên và Môi trường",
           "Chi nhánh Văn phòng đăng ký đất đai huyện {huyen}", "Phòng Quản lý đô thị huyện {huyen}",
           "Công an huyện {huyen}", "Phòng Tư pháp huyện {huyen}", "Chi cục Thuế huyện {huyen}",
           "Sở Tài nguyên và Môi trường tỉnh {tinh}", "Phòng Tài chính - Kế hoạch huyện {huyen}",
           "Bộ phận tiếp nhận và trả kết quả xã {xa}"]
MUC_DICH = ["đất ở tại nông thôn", "đất ở tại đô thị", "đất trồng cây lâu năm", "đất trồng lúa",
            "đất nuôi trồng thủy sản", "đất thương mại, dịch vụ", "đất cơ sở sản xuất phi nông nghiệp"]
NGANH = ["bán lẻ thực phẩm", "sửa chữa xe máy", "kinh doanh ăn uống", "may mặc", "bán buôn vật liệu xây dựng",
         "dịch vụ cắt tóc", "kinh doanh tạp hóa", "vận tải hàng hóa bằng đường bộ"]
LUAT = ["Luật Đất đai ngày 18 tháng 01 năm 2024", "Luật Đất đai ngày 29 tháng 11 năm 2013",
        "Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015", "Luật Xây dựng ngày 18 tháng 6 năm 2014",
        "Luật Hộ tịch ngày 20 tháng 11 năm 2014", "Luật Căn cước ngày 27 tháng 11 năm 2023",
        "Bộ luật Dân sự ngày 24 tháng 11 năm 2015", "Luật Công chứng ngày 20 tháng 6 năm 2014",
        "Nghị định số 43/2014/NĐ-CP của Chính phủ quy định chi tiết thi hành một số điều của Luật Đất đai",
        "Nghị định số 01/2017/NĐ-CP sửa đổi, bổ sung các nghị định quy định chi tiết thi hành Luật Đất đai",
        "Nghị định số 123/2015/NĐ-CP quy định chi tiết một số điều và biện pháp thi hành Luật Hộ tịch",
        "Nghị định số 15/2021/NĐ-CP quy định chi tiết một số nội dung về quản lý dự án đầu tư xây dựng",
        "Nghị định số 01/2021/NĐ-CP về đăng ký doanh nghiệp",
        "Thông tư số 24/2014/TT-BTNMT quy định về hồ sơ địa chính",
        "Thông tư số 23/2014/TT-BTNMT quy định về Giấy chứng nhận quyền sử dụng đất",
        "Quyết định số 1290/QĐ-UBND của Ủy ban nhân dân tỉnh về thủ tục hành chính",
        "Thông tư số 04/2020/TT-BTP quy định chi tiết thi hành một số điều của Luật Hộ tịch",
        "Luật Nhà ở ngày 25 tháng 11 năm 2014", "Luật Hôn nhân và gia đình ngày 19 tháng 6 năm 2014",
        "Luật Khiếu nại ngày 11 tháng 11 năm 2011", "Luật Thuế thu nhập cá nhân ngày 21 tháng 11 năm 2007",
        "Nghị định số 10/2022/NĐ-CP quy định về lệ phí trước bạ",
        "Nghị định số 45/2014/NĐ-CP quy định về thu tiền sử dụng đất",
        "Nghị định số 47/2014/NĐ-CP quy định về bồi thường, hỗ trợ, tái định cư khi Nhà nước thu hồi đất",
        "Nghị định số 61/2018/NĐ-CP về thực hiện cơ chế một cửa, một cửa liên thông",
        "Nghị định số 23/2015/NĐ-CP về cấp bản sao từ sổ gốc, chứng thực bản sao từ bản chính",
        "Thông tư số 33/2017/TT-BTNMT quy định chi tiết Nghị định số 01/2017/NĐ-CP",
        "Thông tư số 25/2014/TT-BTNMT quy định về bản đồ địa chính",
        "Quyết định của Ủy ban nhân dân tỉnh ban hành bảng giá đất giai đoạn 2020 - 2024",
        "Quyết định của Ủy ban nhân dân tỉnh quy định hạn mức giao đất ở"]

# Sentences shared by every type, then sentences typical of each type. Slots in braces.
COMMON = [
    "Căn cứ {luat};",
    "Xét đề nghị của Trưởng phòng Tài nguyên và Môi trường tại Tờ trình số {so2}/TTr-TNMT ngày {ngay};",
    "Xét đơn đề nghị của ông (bà) {ten}, thường trú tại thôn {thon}, xã {xa}, huyện {huyen};",
    "Các cơ quan, đơn vị và cá nhân có liên quan chịu trách nhiệm thi hành văn bản này.",
    "Văn bản này có hiệu lực kể từ ngày ký.",
    "Nơi nhận: như trên; lưu VT, hồ sơ.",
    "Trong quá trình thực hiện, nếu có vướng mắc đề nghị phản ánh về {cq} để được hướng dẫn.",
    "Địa chỉ liên hệ: số {sonha} đường {duong}, thị trấn {huyen}, tỉnh {tinh}.",
    "Số điện thoại liên hệ: {sdt}.",
    "Người ký: {ten}, chức vụ {chuc_vu}.",
    "Hồ sơ gồm các giấy tờ kèm theo theo quy định hiện hành.",
    "Thời gian giải quyết không quá {songay} ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ.",
    "Kết quả giải quyết được trả tại Bộ phận một cửa {cq}.",
    "Đề nghị ông (bà) {ten} liên hệ để hoàn thiện hồ sơ theo quy định.",
    "Việc sử dụng đất phải đúng mục đích, đúng ranh giới thửa đất đã được xác định.",
    "Thửa đất số {thua}, tờ bản đồ số {to}, diện tích {dt} m², mục đích sử dụng {muc_dich}.",
    "Địa chỉ thửa đất: thôn {thon}, xã {xa}, huyện {huyen}, tỉnh {tinh}.",
    "Ông (bà) {ten}, sinh năm {namsinh}, số định danh cá nhân {cccd}.",
    "Bà {ten2}, sinh năm {namsinh}, là vợ của ông {ten}, cùng thường trú tại xã {xa}.",
    "Cán bộ tiếp nhận đã kiểm tra tính đầy đủ, hợp lệ của hồ sơ.",
    "Chủ tịch Ủy ban nhân dân {cq} có trách nhiệm tổ chức thực hiện.",
    "Thông tin trong hồ sơ được cập nhật vào cơ sở dữ liệu đất đai của huyện {huyen}.",
    "Bản sao có chứng thực được cấp từ sổ gốc ngày {ngay}.",
    "Phí, lệ phí đã nộp theo Biên lai số {so} ngày {ngay}, số tiền {tien} đồng.",
    "Trường hợp hồ sơ chưa đầy đủ, cơ quan tiếp nhận hướng dẫn người nộp bổ sung một lần.",
    "Các bên cam kết những thông tin nêu trên là đúng sự thật.",
    "Ý kiến của {cq}: đồng ý, đề nghị chuyển hồ sơ để giải quyết theo thẩm quyền.",
    "Đã đối chiếu với bản chính; ngày {ngay}.",
    "Mọi tranh chấp phát sinh được giải quyết theo quy định của pháp luật.",
    "Ngày {ngay}, tại trụ sở {cq}, chúng tôi gồm có:",
    "Căn cứ kết quả kiểm tra thực địa ngày {ngay} của cán bộ địa chính xã {xa};",
    "Căn cứ biên bản họp Hội đồng tư vấn đất đai xã {xa} ngày {ngay};",
    "Theo đề nghị của Chủ tịch Ủy ban nhân dân xã {xa} tại văn bản số {so}/UBND ngày {ngay};",
    "Giao Văn phòng Hội đồng nhân dân và Ủy ban nhân dân huyện {huyen} theo dõi, đôn đốc thực hiện.",
    "Hồ sơ được lưu trữ tại {cq}, thời hạn bảo quản vĩnh viễn.",
    "Người nộp hồ sơ: {ten}, số điện thoại {sdt}.",
    "Cơ quan giải quyết: {cq}. Cơ quan phối hợp: Chi cục Thuế huyện {huyen}.",
    "Thông tin về thửa đất đã được đối chiếu với bản đồ địa chính đo vẽ năm {nam}.",
    "Trường hợp không đồng ý với kết quả giải quyết, ông (bà) {ten} có quyền khiếu nại theo quy định.",
    "Văn bản này được lập thành {songay} bản, mỗi bên giữ một bản.",
    "Ông (bà) {ten} chịu trách nhiệm trước pháp luật về tính trung thực của thông tin đã kê khai.",
    "Kèm theo bản sao giấy chứng nhận quyền sử dụng đất số {seri} do Ủy ban nhân dân huyện {huyen} cấp.",
    "Kèm theo bản sao căn cước công dân số {cccd} của ông (bà) {ten}.",
    "Diện tích đất ở {dt} m²; diện tích đất trồng cây lâu năm {dt2} m².",
    "Tứ cận thửa đất: phía Bắc giáp đường {duong}; phía Nam giáp hộ ông {ten2}.",
    "Phía Đông giáp mương thủy lợi; phía Tây giáp đất nông nghiệp của thôn {thon}.",
    "Đất không nằm trong quy hoạch sử dụng đất, không thuộc hành lang bảo vệ công trình.",
    "Tiền sử dụng đất phải nộp: {tien} đồng; lệ phí trước bạ: {tien} đồng.",
    "Thời điểm bắt đầu sử dụng đất vào mục đích hiện nay: năm {nam}.",
    "Hộ gia đình ông {ten} gồm {songay} nhân khẩu, thường trú tại thôn {thon}.",
    "Kết quả thẩm định: hồ sơ đủ điều kiện theo quy định của {luat}.",
    "Thủ trưởng cơ quan ký tên, đóng dấu.",
    "Trưởng thôn {thon} xác nhận: gia đình sử dụng đất ổn định, không tranh chấp.",
    "Mọi sửa chữa, tẩy xóa trong văn bản này đều không có giá trị.",
    "Số hồ sơ lưu: {so}/{nam}; người lập: {ten}.",
    "Đề nghị Chi nhánh Văn phòng đăng ký đất đai huyện {huyen} chỉnh lý hồ sơ địa chính.",
    "Ủy ban nhân dân xã {xa} đã niêm yết công khai kết quả kiểm tra hồ sơ từ ngày {ngay}.",
    "Không có ý kiến phản ánh, khiếu nại trong thời gian niêm yết công khai.",
    "Giấy tờ về quyền sử dụng đất: {seri}; ngày cấp {ngay}.",
    "Họ và tên người đại diện: {ten}; chức vụ: {chuc_vu}.",
    "Nơi làm việc: {cq}, số {sonha} đường {duong}.",
]

BY_TYPE: dict[str, list[str]] = {
    "phieu_tiep_nhan": [
        "Bộ phận tiếp nhận và trả kết quả {cq} đã nhận hồ sơ của ông (bà) {ten}.",
        "Mã hồ sơ: {mahs}. Ngày hẹn trả kết quả: {ngay}.",
        "Loại thủ tục: đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất.",
        "Loại thủ tục: cấp giấy phép xây dựng nhà ở riêng lẻ.",
        "Loại thủ tục: đăng ký khai sinh, đăng ký kết hôn, cấp bản sao trích lục hộ tịch.",
        "Thành phần hồ sơ gồm: đơn đề nghị, bản sao giấy chứng nhận, bản sao căn cước công dân.",
        "Số lượng hồ sơ: {songay} bộ. Người nộp hồ sơ ký và ghi rõ họ tên.",
        "Khi đến nhận kết quả, người nhận mang theo phiếu tiếp nhận này và giấy tờ tùy thân.",
        'Hồ sơ được tiếp nhận qua Cổng dịch vụ công trực tuyến lúc {gio} giờ ngày {ngay}.',
        'Người tiếp nhận: {ten2}; vị trí: quầy số {tang} Bộ phận một cửa.',
        'Tra cứu tình trạng giải quyết hồ sơ bằng mã hồ sơ {mahs} trên Cổng dịch vụ công.',
        'Phí, lệ phí: {tien} đồng; hình thức nhận kết quả: trực tiếp tại Bộ phận một cửa.',
        'Hồ sơ chuyển đến {cq} để giải quyết theo thẩm quyền.',
    ],
    "don_de_nghi": [
        "Kính gửi: Ủy ban nhân dân xã {xa}.",
        "Tôi tên là {ten}, sinh ngày {ngay}, số căn cước công dân {cccd}.",
        "Nay tôi làm đơn này đề nghị được cấp giấy chứng nhận quyền sử dụng đất đối với thửa đất số {thua}.",
        "Tôi xin cam đoan những nội dung kê khai trên đây là đúng sự thật, nếu sai tôi hoàn toàn chịu trách nhiệm.",
        "Lý do đề nghị: nhận chuyển nhượng quyền sử dụng đất từ ông (bà) {ten2}.",
        "Nguồn gốc sử dụng đất: được thừa kế từ bố mẹ, sử dụng ổn định từ năm {nam}.",
        "Tôi đề nghị được cấp giấy phép xây dựng nhà ở riêng lẻ {tang} tầng trên thửa đất nêu trên.",
        "Người làm đơn ký và ghi rõ họ tên: {ten}.",
        "Xác nhận của Ủy ban nhân dân xã {xa}: đất không có tranh chấp, phù hợp quy hoạch.",
        'Địa chỉ liên hệ: thôn {thon}, xã {xa}, huyện {huyen}, tỉnh {tinh}; điện thoại {sdt}.',
        'Đề nghị được đăng ký biến động do chuyển nhượng quyền sử dụng đất theo hợp đồng số {so}.',
        'Đề nghị tách thửa đất số {thua} thành {tang} thửa để chuyển nhượng một phần diện tích.',
        'Đề nghị cấp đổi giấy chứng nhận do giấy cũ bị rách, mờ, không còn sử dụng được.',
        'Đề nghị cấp lại giấy chứng nhận do bị mất; đã đăng tin mất giấy trên đài truyền thanh xã {xa}.',
        'Đề nghị gia hạn thời hạn sử dụng đất nông nghiệp đến năm {nam}.',
    ],
    "to_khai": [
        "Người khai: {ten}, nơi cư trú: thôn {thon}, xã {xa}, huyện {huyen}.",
        "Đề nghị cơ quan đăng ký khai sinh cho người có tên dưới đây: {ten2}, giới tính {gioitinh}.",
        "Tờ khai lệ phí trước bạ nhà, đất: giá trị tài sản tính lệ phí {tien} đồng.",
        "Quan hệ với người được khai sinh: {quanhe}.",
        "Tôi cam đoan nội dung đề nghị đăng ký trên đây là đúng sự thật và chịu trách nhiệm trước pháp luật.",
        "Dân tộc: Kinh. Quốc tịch: Việt Nam. Quê quán: xã {xa}, huyện {huyen}, tỉnh {tinh}.",
        "Tờ khai thuế thu nhập cá nhân đối với hoạt động chuyển nhượng bất động sản.",
        'Giá đất theo bảng giá của Ủy ban nhân dân tỉnh {tinh}: {tien} đồng/m².',
        'Đối tượng được miễn lệ phí trước bạ: không.',
        'Họ tên người được khai sinh: {TEN}; ngày sinh: {ngay}; nơi sinh: {tinh}.',
        'Người yêu cầu đăng ký kết hôn cam đoan hai bên tự nguyện kết hôn.',
    ],
    "can_cuoc": [
        "CĂN CƯỚC CÔNG DÂN. Số / No.: {cccd}.",
        "Họ và tên / Full name: {TEN}.",
        "Ngày sinh / Date of birth: {ngay}. Giới tính / Sex: {gioitinh}. Quốc tịch / Nationality: Việt Nam.",
        "Quê quán / Place of origin: xã {xa}, huyện {huyen}, {tinh}.",
        "Nơi thường trú / Place of residence: thôn {thon}, xã {xa}, huyện {huyen}, {tinh}.",
        "Có giá trị đến / Date of expiry: {ngay}.",
        "Đặc điểm nhân dạng: nốt ruồi cách {dt} cm dưới đuôi mắt trái.",
        "Cục trưởng Cục Cảnh sát quản lý hành chính về trật tự xã hội.",
        'Ngày, tháng, năm cấp / Date of issue: {ngay}.',
        'Ngón trỏ trái và ngón trỏ phải của người được cấp.',
        'Số định danh cá nhân: {cccd}.',
    ],
    "ho_chieu": [
        "HỘ CHIẾU / PASSPORT. Số hộ chiếu / Passport No.: C{so}{so2}.",
        "Họ và tên / Full name: {TEN}. Ngày cấp / Date of issue: {ngay}.",
        "Nơi sinh / Place of birth: {tinh}. Cơ quan cấp / Authority: Cục Quản lý xuất nhập cảnh.",
        'Loại / Type: P. Mã số quốc gia / Code: VNM. Số CCCD / ID card No.: {cccd}.',
        'Có giá trị đến / Date of expiry: {ngay}. Chữ ký của người mang hộ chiếu.',
    ],
    "giay_khai_sinh": [
        "Họ, chữ đệm, tên: {TEN}. Ngày, tháng, năm sinh: {ngay}.",
        "Nơi sinh: Bệnh viện đa khoa huyện {huyen}, tỉnh {tinh}.",
        "Họ, chữ đệm, tên người mẹ: {ten2}. Họ, chữ đệm, tên người cha: {ten}.",
        "Nơi đăng ký khai sinh: Ủy ban nhân dân xã {xa}, huyện {huyen}.",
        "Trích lục khai sinh được cấp theo Sổ đăng ký khai sinh số {so}, quyển số {to}.",
        'Dân tộc: Kinh. Quốc tịch: Việt Nam. Quê quán: xã {xa}, huyện {huyen}, tỉnh {tinh}.',
        'Người đi khai sinh: {ten}, quan hệ với người được khai sinh: {quanhe}.',
        'Công chức tư pháp - hộ tịch: {ten2}.',
    ],
    "giay_chung_sinh": [
        "Họ và tên mẹ: {ten2}, năm sinh {namsinh}, nơi đăng ký thường trú xã {xa}.",
        "Đã sinh con vào lúc {gio} giờ ngày {ngay}, tại Trạm y tế xã {xa}.",
        "Số con trong lần sinh này: 1. Giới tính của con: {gioitinh}. Cân nặng: {cannang} gram.",
        "Người đỡ đẻ: nữ hộ sinh {ten2}. Thủ trưởng cơ sở y tế ký tên, đóng dấu.",
        'Dự định đặt tên con: {TEN}.',
        'Tình trạng trẻ khi sinh: khỏe mạnh, khóc ngay sau sinh.',
    ],
    "giay_chung_nhan_ket_hon": [
        "Họ, chữ đệm, tên người chồng: {ten}. Họ, chữ đệm, tên người vợ: {ten2}.",
        "Đăng ký kết hôn ngày {ngay}, tại Ủy ban nhân dân xã {xa}, huyện {huyen}.",
        "Hai bên tự nguyện kết hôn, có đủ điều kiện kết hôn theo quy định của Luật Hôn nhân và gia đình.",
        'Ngày, tháng, năm sinh người chồng: {ngay}; nơi cư trú: xã {xa}, huyện {huyen}.',
        'Ngày, tháng, năm sinh người vợ: {ngay}; giấy tờ tùy thân: căn cước công dân số {cccd}.',
        'Số đăng ký kết hôn: {so}, quyển số {to}/{nam}.',
    ],
    "xac_nhan_tinh_trang_hon_nhan": [
        "Xét đề nghị của ông (bà) {ten} về việc cấp Giấy xác nhận tình trạng hôn nhân.",
        "Xác nhận: trong thời gian cư trú tại xã {xa} từ năm {nam} đến nay, chưa đăng ký kết hôn với ai.",
        "Giấy này được cấp để làm thủ tục chuyển nhượng quyền sử dụng đất, có giá trị sáu tháng.",
        'Tình trạng hôn nhân: hiện tại đang có vợ là bà {ten2}.',
        'Tình trạng hôn nhân: đã ly hôn theo bản án số {so}/{nam}/HNGĐ-ST của Tòa án nhân dân huyện {huyen}.',
    ],
    "giay_chung_nhan_qsdd": [
        "Người sử dụng đất, chủ sở hữu nhà ở và tài sản khác gắn liền với đất: ông {ten} và bà {ten2}.",
        "Thửa đất số {thua}; tờ bản đồ số {to}; hình thức sử dụng: sử dụng riêng.",
        "Thời hạn sử dụng: lâu dài. Nguồn gốc sử dụng: Nhà nước công nhận quyền sử dụng đất.",
        "Nhà ở: diện tích xây dựng {dt} m², diện tích sàn {dt2} m², kết cấu bê tông cốt thép, số tầng {tang}.",
        "Số vào sổ cấp giấy chứng nhận: CH {so}. Số phát hành: {seri}.",
        "Những thay đổi sau khi cấp giấy chứng nhận: chuyển nhượng cho ông (bà) {ten2} theo hồ sơ số {so}.",
        "Sơ đồ thửa đất kèm theo, các cạnh thửa được xác định theo mốc giới ngoài thực địa.",
        'Ghi chú: thửa đất có {dt2} m² thuộc hành lang bảo vệ an toàn đường bộ.',
        'Công trình xây dựng khác: nhà kho, diện tích xây dựng {dt2} m².',
        'Rừng sản xuất là rừng trồng: không. Cây lâu năm: cây ăn quả, diện tích {dt2} m².',
        'Nơi cấp: Sở Tài nguyên và Môi trường tỉnh {tinh}; ngày cấp {ngay}.',
    ],
    "hop_dong": [
        "Bên chuyển nhượng (Bên A): ông {ten}, sinh năm {namsinh}, căn cước công dân số {cccd}.",
        "Bên nhận chuyển nhượng (Bên B): bà {ten2}, sinh năm {namsinh}.",
        "Hai bên đồng ý thực hiện việc chuyển nhượng quyền sử dụng đất với các thỏa thuận sau đây:",
        "Giá chuyển nhượng quyền sử dụng đất là {tien} đồng, bằng chữ theo thỏa thuận của hai bên.",
        "Bên A có nghĩa vụ giao đất và bản chính giấy chứng nhận cho Bên B đúng thời hạn.",
        "Bên B có nghĩa vụ trả đủ tiền và nộp lệ phí trước bạ theo quy định.",
        "Hợp đồng được lập thành {songay} bản có giá trị pháp lý như nhau, công chứng tại Văn phòng công chứng {xa}.",
        "Lời chứng của công chứng viên: hợp đồng được giao kết tự nguyện, nội dung không vi phạm pháp luật.",
        'Điều 1. Quyền sử dụng đất chuyển nhượng là thửa đất số {thua}, tờ bản đồ số {to}.',
        'Điều 2. Giá chuyển nhượng và phương thức thanh toán: trả một lần bằng tiền mặt.',
        'Điều 3. Việc giao và đăng ký quyền sử dụng đất được thực hiện trong {songay} ngày.',
        'Điều 4. Trách nhiệm nộp thuế, lệ phí: Bên B chịu lệ phí trước bạ, Bên A chịu thuế thu nhập cá nhân.',
        'Điều 5. Phương thức giải quyết tranh chấp hợp đồng: thương lượng, hòa giải, khởi kiện tại Tòa án.',
        'Số công chứng {so}, quyển số {to}/{nam} TP/CC-SCC/HĐGD.',
    ],
    "van_ban_thua_ke": [
        "Người để lại di sản: ông {ten}, chết ngày {ngay} theo trích lục khai tử số {so}.",
        "Di sản là quyền sử dụng thửa đất số {thua}, tờ bản đồ số {to}, diện tích {dt} m².",
        "Những người thừa kế theo pháp luật hàng thứ nhất gồm: bà {ten2} và các con.",
        "Chúng tôi thỏa thuận phân chia di sản thừa kế như sau và cam kết không có tranh chấp.",
        "Văn bản thỏa thuận phân chia di sản đã được niêm yết công khai tại Ủy ban nhân dân xã {xa}.",
        'Bà {ten2} được hưởng toàn bộ di sản là quyền sử dụng đất nêu trên.',
        'Các đồng thừa kế khác tự nguyện tặng cho phần di sản mình được hưởng cho bà {ten2}.',
        'Bản sao trích lục khai tử của người để lại di sản do Ủy ban nhân dân xã {xa} cấp.',
    ],
    "giay_uy_quyen": [
        "Bên ủy quyền: ông {ten}. Bên được ủy quyền: bà {ten2}.",
        "Nội dung ủy quyền: thay mặt bên ủy quyền nộp hồ sơ, nhận kết quả giải quyết thủ tục hành chính.",
        "Thời hạn ủy quyền: kể từ ngày ký đến khi hoàn thành công việc được ủy quyền.",
        'Bên được ủy quyền không được ủy quyền lại cho người khác.',
        'Giấy ủy quyền có chứng thực chữ ký tại Ủy ban nhân dân xã {xa}, số chứng thực {so}.',
    ],
    "trich_do_ban_ve": [
        "Trích lục bản đồ địa chính thửa đất số {thua}, tờ bản đồ số {to}, tỷ lệ 1/500.",
        "Bảng tọa độ các điểm góc thửa theo hệ tọa độ VN-2000, kinh tuyến trục 105°00'.",
        "Chiều dài các cạnh thửa: {dt} m; {dt2} m; diện tích đo đạc thực tế {dt} m².",
        "Đơn vị đo đạc: Công ty trắc địa bản đồ {tinh}; người đo vẽ: {ten}.",
        "Bản vẽ thiết kế mặt bằng tầng 1, tầng 2 và mặt đứng trục chính của công trình.",
        'Mảnh trích đo địa chính số {so}-{nam}, tỷ lệ 1/200, hệ tọa độ VN-2000.',
        'Người kiểm tra: {ten2}; ngày kiểm tra {ngay}.',
        'Ranh giới thửa đất được các chủ sử dụng liền kề ký xác nhận.',
    ],
    "bien_lai": [
        "Biên lai thu phí, lệ phí số {so}; ký hiệu BL/{nam}.",
        "Tên khoản thu: lệ phí cấp giấy chứng nhận quyền sử dụng đất. Số tiền: {tien} đồng.",
        "Người nộp tiền: {ten}. Hình thức thanh toán: tiền mặt.",
        "Giấy nộp tiền vào ngân sách nhà nước qua Kho bạc Nhà nước huyện {huyen}.",
        'Mẫu số 01BLP2-001; ký hiệu {seri}; số {so}.',
        'Đơn vị thu: {cq}; mã số thuế {sdt}.',
        'Nội dung thu: phí thẩm định hồ sơ cấp giấy chứng nhận, số tiền {tien} đồng.',
    ],
    "giay_phep_xay_dung": [
        "Cấp cho: ông (bà) {ten}. Được phép xây dựng công trình nhà ở riêng lẻ.",
        "Theo thiết kế: số tầng {tang}, chiều cao công trình {dt2} m, tổng diện tích sàn {dt} m².",
        "Chủ đầu tư phải thông báo khởi công cho Ủy ban nhân dân xã {xa} trước khi khởi công xây dựng.",
        "Giấy phép này có hiệu lực khởi công xây dựng trong thời hạn 12 tháng kể từ ngày cấp.",
        'Vị trí xây dựng: thửa đất số {thua}, tờ bản đồ số {to}, xã {xa}, huyện {huyen}.',
        'Cốt xây dựng công trình: +0,45 m so với cốt mặt đường {duong}.',
        'Mật độ xây dựng: 80%; hệ số sử dụng đất: {tang}.',
        'Chỉ giới đường đỏ, chỉ giới xây dựng: cách tim đường {dt2} m.',
    ],
    "giay_chung_nhan_dang_ky_kinh_doanh": [
        "Tên hộ kinh doanh: Hộ kinh doanh {ten}. Ngành, nghề kinh doanh: {nganh}.",
        "Địa điểm kinh doanh: số {sonha} đường {duong}, xã {xa}, huyện {huyen}.",
        "Vốn kinh doanh: {tien} đồng. Số giấy chứng nhận đăng ký hộ kinh doanh: {so}.",
        'Số lượng lao động: {songay} người. Đăng ký lần đầu ngày {ngay}.',
        'Họ và tên đại diện hộ kinh doanh: {TEN}; số định danh cá nhân {cccd}.',
    ],
    "quyet_dinh": [
        "QUYẾT ĐỊNH về việc công nhận quyền sử dụng đất cho hộ gia đình ông {ten}.",
        "Điều 1. Giao đất cho hộ gia đình, cá nhân để sử dụng vào mục đích {muc_dich}.",
        "Điều 2. Giao Phòng Tài nguyên và Môi trường huyện {huyen} chỉ đạo cập nhật hồ sơ địa chính.",
        "Điều 3. Chánh Văn phòng, Trưởng phòng Tài nguyên và Môi trường chịu trách nhiệm thi hành quyết định này.",
        "Quyết định về việc thu hồi đất để thực hiện dự án mở rộng đường {duong}.",
        "Phê duyệt phương án bồi thường, hỗ trợ và tái định cư cho các hộ gia đình bị thu hồi đất.",
        "Quyết định xử phạt vi phạm hành chính trong lĩnh vực đất đai đối với ông {ten}.",
        "Cho phép chuyển mục đích sử dụng đất từ {muc_dich} sang đất ở.",
        'Quyết định giao đất tái định cư cho hộ ông {ten} tại khu tái định cư thôn {thon}.',
        'Quyết định gia hạn sử dụng đất nông nghiệp cho hộ gia đình, cá nhân tại xã {xa}.',
        'Quyết định điều chỉnh quyết định số {so}/QĐ-UBND ngày {ngay} do sai sót thông tin.',
        'Quyết định này có hiệu lực thi hành kể từ ngày ký.',
        'Công nhận kết quả đấu giá quyền sử dụng đất tại thửa đất số {thua}.',
    ],
    "cong_van": [
        "V/v trả lời đơn kiến nghị của ông {ten} về việc cấp giấy chứng nhận quyền sử dụng đất.",
        "{cq} nhận được văn bản số {so}/UBND ngày {ngay} đề nghị hướng dẫn thủ tục.",
        "Sau khi xem xét, {cq} có ý kiến như sau:",
        "Đề nghị Ủy ban nhân dân xã {xa} kiểm tra, xác minh và báo cáo kết quả trước ngày {ngay}.",
        "Đề nghị các đơn vị phối hợp thực hiện và báo cáo kết quả về Văn phòng trước ngày {ngay}.",
        'Kính gửi: Chi nhánh Văn phòng đăng ký đất đai huyện {huyen}.',
        'Để có cơ sở giải quyết, đề nghị ông (bà) {ten} bổ sung giấy tờ chứng minh nguồn gốc đất.',
        'Trân trọng đề nghị quý cơ quan quan tâm, phối hợp.',
        'Nơi nhận: như trên; Chủ tịch, các Phó Chủ tịch; lưu VT, TNMT.',
    ],
    "thong_bao": [
        "Thông báo về việc niêm yết công khai hồ sơ đề nghị cấp giấy chứng nhận quyền sử dụng đất.",
        "Thời gian niêm yết: 15 ngày, từ ngày {ngay}. Địa điểm: nhà văn hóa thôn {thon}.",
        "Thông báo nộp tiền sử dụng đất: số tiền phải nộp {tien} đồng, thời hạn nộp 30 ngày.",
        "Thông báo kết quả thẩm định hồ sơ: hồ sơ đủ điều kiện giải quyết.",
        "Mọi ý kiến phản ánh gửi về Ủy ban nhân dân xã {xa} trong thời gian niêm yết.",
        'Thông báo về việc thu hồi đất để thực hiện dự án đường giao thông liên xã {xa}.',
        'Thông báo về việc không đủ điều kiện cấp giấy chứng nhận quyền sử dụng đất.',
        'Lý do: thửa đất đang có tranh chấp, chưa được giải quyết dứt điểm.',
    ],
    "bien_ban": [
        "Biên bản kiểm tra hiện trạng sử dụng đất tại thửa đất số {thua}, tờ bản đồ số {to}.",
        "Thành phần gồm: đại diện Ủy ban nhân dân xã {xa}, cán bộ địa chính {ten} và các hộ liền kề.",
        "Hiện trạng: trên đất có nhà cấp bốn, tường bao xây gạch, không có tranh chấp với các hộ liền kề.",
        "Biên bản bàn giao mốc giới ngoài thực địa cho hộ gia đình ông {ten}.",
        "Biên bản kết thúc lúc {gio} giờ cùng ngày, đã đọc lại cho mọi người cùng nghe và nhất trí ký tên.",
        "Biên bản vi phạm hành chính về việc xây dựng công trình không phép trên đất nông nghiệp.",
        'Biên bản họp xét nguồn gốc sử dụng đất của Hội đồng tư vấn xã {xa}.',
        'Biên bản hòa giải tranh chấp đất đai giữa ông {ten} và ông {ten2}.',
        'Kết quả hòa giải: hai bên thống nhất ranh giới theo hiện trạng.',
        'Biên bản xác minh thực địa có sự tham gia của trưởng thôn {thon}.',
    ],
    "to_trinh": [
        "Tờ trình về việc đề nghị cấp giấy chứng nhận quyền sử dụng đất lần đầu cho {songay} hộ gia đình.",
        "Kính trình Ủy ban nhân dân huyện {huyen} xem xét, phê duyệt.",
        "Qua kiểm tra hồ sơ và hiện trạng, Phòng Tài nguyên và Môi trường nhận thấy đủ điều kiện.",
        'Tờ trình về việc phê duyệt phương án bồi thường, hỗ trợ khi Nhà nước thu hồi đất.',
        'Tổng kinh phí bồi thường, hỗ trợ: {tien} đồng.',
        'Danh sách {songay} hộ gia đình kèm theo tờ trình này.',
    ],
    "bao_cao": [
        "Báo cáo kết quả thực hiện công tác cấp giấy chứng nhận quyền sử dụng đất năm {nam}.",
        "Tổng số hồ sơ tiếp nhận trong kỳ: {so}; đã giải quyết đúng hạn {so2}; quá hạn {songay}.",
        "Nguyên nhân chậm giải quyết: hồ sơ phức tạp, nguồn gốc đất chưa rõ ràng.",
        "Phương hướng, nhiệm vụ thời gian tới: đẩy mạnh số hóa hồ sơ, kết quả giải quyết thủ tục hành chính.",
        'Tỷ lệ hồ sơ giải quyết đúng hạn đạt {songay}%.',
        'Số hồ sơ tiếp nhận qua dịch vụ công trực tuyến: {so}.',
        'Kiến nghị: bổ sung biên chế cán bộ địa chính cho xã {xa}.',
    ],
    "khac": [
        "Sơ yếu lý lịch của ông (bà) {ten}, quê quán xã {xa}, huyện {huyen}.",
        "Giấy xác nhận cư trú do Công an xã {xa} cấp ngày {ngay}.",
        "Danh sách các hộ gia đình đề nghị cấp giấy chứng nhận đợt {songay} năm {nam}.",
        'Bản khai nhân khẩu của ông (bà) {ten}, nghề nghiệp: làm ruộng.',
        'Giấy xác nhận thông tin về cư trú; nơi thường trú: thôn {thon}, xã {xa}.',
        'Sổ mục kê đất đai xã {xa}, trang số {so}.',
    ],
}

TYPES: dict[str, tuple[str, list[str]]] = {
    "phieu_tiep_nhan": ("Phiếu tiếp nhận hồ sơ", ["PHIẾU TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"]),
    "don_de_nghi": ("Đơn đề nghị", ["ĐƠN ĐỀ NGHỊ", "ĐƠN ĐĂNG KÝ BIẾN ĐỘNG ĐẤT ĐAI, TÀI SẢN GẮN LIỀN VỚI ĐẤT"]),
    "to_khai": ("Tờ khai", ["TỜ KHAI ĐĂNG KÝ KHAI SINH", "TỜ KHAI LỆ PHÍ TRƯỚC BẠ"]),
    "can_cuoc": ("Căn cước / Căn cước công dân", ["CĂN CƯỚC CÔNG DÂN"]),
    "ho_chieu": ("Hộ chiếu", ["HỘ CHIẾU"]),
    "giay_khai_sinh": ("Giấy khai sinh", ["GIẤY KHAI SINH", "TRÍCH LỤC KHAI SINH"]),
    "giay_chung_sinh": ("Giấy chứng sinh", ["GIẤY CHỨNG SINH"]),
    "giay_chung_nhan_ket_hon": ("Giấy chứng nhận kết hôn", ["GIẤY CHỨNG NHẬN KẾT HÔN"]),
    "xac_nhan_tinh_trang_hon_nhan": ("Giấy xác nhận tình trạng hôn nhân", ["GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN"]),
    "giay_chung_nhan_qsdd": ("Giấy chứng nhận quyền sử dụng đất",
                             ["GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở VÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT"]),
    "hop_dong": ("Hợp đồng", ["HỢP ĐỒNG CHUYỂN NHƯỢNG QUYỀN SỬ DỤNG ĐẤT", "HỢP ĐỒNG TẶNG CHO QUYỀN SỬ DỤNG ĐẤT"]),
    "van_ban_thua_ke": ("Văn bản thừa kế", ["VĂN BẢN THỎA THUẬN PHÂN CHIA DI SẢN THỪA KẾ"]),
    "giay_uy_quyen": ("Giấy ủy quyền", ["GIẤY ỦY QUYỀN"]),
    "trich_do_ban_ve": ("Trích đo, bản vẽ", ["TRÍCH LỤC BẢN ĐỒ ĐỊA CHÍNH", "BẢN VẼ THIẾT KẾ"]),
    "bien_lai": ("Biên lai thu phí, lệ phí", ["BIÊN LAI THU PHÍ, LỆ PHÍ"]),
    "giay_phep_xay_dung": ("Giấy phép xây dựng", ["GIẤY PHÉP XÂY DỰNG"]),
    "giay_chung_nhan_dang_ky_kinh_doanh": ("Giấy chứng nhận đăng ký kinh doanh",
                                           ["GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH"]),
    "quyet_dinh": ("Quyết định", ["QUYẾT ĐỊNH"]),
    "cong_van": ("Công văn", ["CÔNG VĂN"]),
    "thong_bao": ("Thông báo", ["THÔNG BÁO"]),
    "bien_ban": ("Biên bản", ["BIÊN BẢN"]),
    "to_trinh": ("Tờ trình", ["TỜ TRÌNH"]),
    "bao_cao": ("Báo cáo", ["BÁO CÁO"]),
    "khac": ("Tài liệu khác", []),
}
# Dossiers are mostly land and civil-status files: weights for picking a component's type.
TYPE_WEIGHTS = {"don_de_nghi": 8, "can_cuoc": 8, "giay_chung_nhan_qsdd": 6, "hop_dong": 5, "quyet_dinh": 5,
                "phieu_tiep_nhan": 4, "to_khai": 4, "bien_lai": 4, "trich_do_ban_ve": 3, "bien_ban": 3}
SIGLA = {"quyet_dinh": "QĐ-UBND", "cong_van": "UBND-TNMT", "thong_bao": "TB-UBND", "to_trinh": "TTr-TNMT",
         "bao_cao": "BC-UBND", "giay_phep_xay_dung": "GPXD", "bien_ban": "BB-ĐC"}
HEADER = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
CHUC_VU = ["Chủ tịch", "Phó Chủ tịch", "Trưởng phòng", "Phó Trưởng phòng", "Giám đốc", "cán bộ địa chính"]
QUAN_HE = ["cha", "mẹ", "ông nội", "bà ngoại", "người giám hộ"]


def templates() -> list[str]:
    """Every sentence template (with slots), for counting; `Căn cứ {luat}` is one per law."""
    out = [s for s in COMMON if "{luat}" not in s] + [f"Căn cứ {law};" for law in LUAT]
    return out + [s for pool in BY_TYPE.values() for s in pool]


# -- documents ----------------------------------------------------------------------------------


class Corpus:
    """Deterministic synthetic dossiers: the same seed gives the same text everywhere."""

    def __init__(self, seed: int = 7):
        self.rng = random.Random(seed)
        self.type_codes = list(TYPES)
        self.type_weights = [TYPE_WEIGHTS.get(c, 1) for c in self.type_codes]
        self.numbers: list[str] = []  # some document numbers and CCCDs, for queries
        self.names: list[str] = []

    def name(self) -> str:
        r = self.rng
        return f"{r.choice(HO)} {r.choice(DEM)} {r.choice(TEN)}"

    def date(self) -> tuple[str, str]:
        r = self.rng
        y, m, d = r.randint(1995, 2024), r.randint(1, 12), r.randint(1, 28)
        return f"{y:04d}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y:04d}"

    def slots(self, place: dict[str, str], person: str) -> dict[str, object]:
        r = self.rng
        return {
            **place,
            "luat": r.choice(LUAT),
            "ten": person,
            "TEN": person.upper(),
            "ten2": self.name(),
            "so": r.randint(1, 9999),
            "so2": r.randint(1, 999),
            "ngay": self.date()[1],
            "nam": r.randint(1980, 2024),
            "namsinh": r.randint(1940, 2005),
            "thua": r.randint(1, 999),
            "to": r.randint(1, 60),
            "dt": f"{r.randint(30, 900)},{r.randint(0, 9)}",
            "dt2": f"{r.randint(3, 300)},{r.randint(0, 9)}",
            "muc_dich": r.choice(MUC_DICH),
            "nganh": r.choice(NGANH),
            "cccd": f"0{r.randint(1, 96):02d}{r.randint(0, 1)}{r.randint(40, 99):02d}{r.randint(0, 999999):06d}",
            "tien": f"{r.randint(1, 999)}.{r.randint(0, 999):03d}.000",
            "sdt": f"09{r.randint(10000000, 99999999)}",
            "sonha": r.randint(1, 300),
            "duong": r.choice(DUONG),
            "chuc_vu": r.choice(CHUC_VU),
            "songay": r.randint(2, 30),
            "tang": r.randint(1, 5),
            "gioitinh": r.choice(["Nam", "Nữ"]),
            "quanhe": r.choice(QUAN_HE),
            "gio": r.randint(7, 17),
            "cannang": r.randint(2500, 4000),
            "seri": f"{r.choice(['BA', 'BD', 'CĐ', 'DG'])} {r.randint(100000, 999999)}",
            "mahs": f"{r.randint(100, 999)}.{r.randint(10, 99)}.{r.randint(1, 99)}.H{r.randint(10, 60)}-{r.randint(2019, 2024)}",
        }

    def page(self, code: str, first: bool, slots: dict[str, object]) -> str:
        r = self.rng
        lines: list[str] = []
        if first:
            lines.append(str(slots["cq"]).upper())
            lines += HEADER
            titles = TYPES[code][1]
            if titles:
                lines.append(r.choice(titles))
        pool = BY_TYPE[code]
        for _ in range(r.randint(8, 22)):
            template = r.choice(pool) if r.random() < 0.55 else r.choice(COMMON)
            lines.append(template.format(**slots))
        return unicodedata.normalize("NFC", "\n".join(lines))

    def component(self, dossier_id: str, k: int, place: dict[str, str]) -> tuple[Component, list[str]]:
        r = self.rng
        code = r.choices(self.type_codes, self.type_weights)[0]
        person = self.name()
        slots = self.slots(place, person)
        texts = [self.page(code, i == 0, slots) for i in range(r.choice((1, 1, 2, 2, 3)))]
        iso, _ = self.date()
        meta: dict[str, object] = {"ngay": iso, "co_quan": slots["cq"]}
        if code in SIGLA:
            meta["so_ky_hieu"] = f"{r.randint(1, 9999)}/{SIGLA[code]}"
            meta["trich_yeu"] = texts[0].splitlines()[-1][:120]
            if r.random() < 0.05:
                self.numbers.append(str(meta["so_ky_hieu"]))
        if code in ("can_cuoc", "don_de_nghi", "hop_dong"):
            meta["cccd"] = [str(slots["cccd"])]
            meta["ho_ten"] = [person]
            if r.random() < 0.02:
                self.numbers.append(str(slots["cccd"]))
        if r.random() < 0.01:
            self.names.append(person)
        comp = Component(
            id=f"{dossier_id}-{k}", type=code, type_name=TYPES[code][0], confidence=0.9,
            needs_review=False, pages=[], metadata=Metadata(**meta),
        )
        return comp, texts

    def dossiers(self, docs: int) -> Iterator[tuple[Manifest, int]]:
        """(manifest, number of components) until `docs` components were made."""
        r = self.rng
        made = 0
        serial = 0
        while made < docs:
            serial += 1
            dossier_id = f"HS-{2019 + serial % 6}-{serial:06d}"
            tinh, huyen, xa = r.choice(TINH), r.choice(HUYEN), r.choice(XA)
            place = {"tinh": tinh, "huyen": huyen, "xa": xa, "thon": f"{r.choice(['Đoài', 'Đông', 'Nam', 'Bắc', 'Trung'])} {r.randint(1, 9)}"}
            place["cq"] = r.choice(CO_QUAN).format(**place)
            count = min(r.randint(1, 6), docs - made)
            pages: list[Page] = []
            comps: list[Component] = []
            for k in range(1, count + 1):
                comp, texts = self.component(dossier_id, k, place)
                first = len(pages) + 1
                comp.pages = list(range(first, first + len(texts)))
                pages += [Page(n=first + i, text=t, text_source="ocr", ocr_confidence=0.9) for i, t in enumerate(texts)]
                comps.append(comp)
            made += count
            yield Manifest(
                dossier_id=dossier_id, status="done",
                source=Source(path=f"/scans/{dossier_id}.pdf", sha256=f"{serial:064x}", pages=len(pages)),
                pages=pages, components=comps, settings_version="bench", created_at="2024-03-01T08:00:00+07:00",
            ), count


# -- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    text: str
    type: str | None = None
    kind: str = ""


PHRASES = [
    "quyền sử dụng đất", "giấy chứng nhận", "hồ sơ địa chính", "ủy ban nhân dân", "thửa đất số",
    "tờ bản đồ", "đăng ký khai sinh", "chuyển nhượng quyền sử dụng đất", "căn cước công dân",
    "lệ phí trước bạ", "hộ gia đình", "tài nguyên và môi trường", "giấy phép xây dựng", "mốc giới",
    "niêm yết công khai", "thừa kế", "tình trạng hôn nhân", "bồi thường hỗ trợ tái định cư",
    "hộ kinh doanh", "nhà ở riêng lẻ", "kho bạc nhà nước", "văn phòng công chứng", "đất trồng lúa",
    "biên bản kiểm tra hiện trạng", "thu hồi đất", "không có tranh chấp", "ngày hẹn trả kết quả",
    "đo đạc thực tế", "số định danh cá nhân", "xử phạt vi phạm hành chính", "bản sao có chứng thực",
    "nguồn gốc sử dụng đất", "cơ sở dữ liệu đất đai", "phân chia di sản", "nơi thường trú",
]
WORDS = [
    "đất", "hồ sơ", "quyết định", "biên bản", "hợp đồng", "thông báo", "chứng nhận", "đơn", "xã",
    "huyện", "ông", "bà", "sinh", "nộp", "lệ phí", "cấp", "diện tích", "tranh chấp", "khai sinh", "kết hôn",
    "xây dựng", "công chứng", "ủy quyền", "thừa kế", "niêm yết", "bồi thường", "trích lục", "tọa độ",
]
NO_HIT = ["tàu vũ trụ", "blockchain", "xyzzy", "kim cương đỏ", "pizza hải sản", "lượng tử", "robot",
          "sao hỏa", "khủng long", "bitcoin", "ngân hà", "quantum", "tàu ngầm", "đàn violin", "sa mạc"]


def query_mix(corpus: Corpus, count: int = 240, seed: int = 11) -> list[Query]:
    """A fixed mix of searches users make, about a quarter of each kind; deterministic."""
    r = random.Random(seed)
    names = corpus.names or ["Nguyễn Văn An"]
    numbers = corpus.numbers or ["1534/QĐ-UBND"]
    out: list[Query] = []

    def add(text: str, kind: str, type: str | None = None) -> None:
        out.append(Query(text, type, kind))

    places = XA + HUYEN + TINH
    while len(out) < count:
        roll = len(out) % 12
        if roll == 0:
            add(r.choice(WORDS), "word")
        elif roll == 1:
            add(fold(r.choice(WORDS + TEN + XA)), "word, no tones")
        elif roll == 2:
            add(r.choice(PHRASES), "phrase")
        elif roll == 3:
            add(fold(r.choice(PHRASES)), "phrase, no tones")
        elif roll == 4:
            add(f'"{r.choice(PHRASES)}"', "quoted phrase")
        elif roll == 5:
            add(r.choice(names), "name")
        elif roll == 6:
            add(f"{r.choice(PHRASES)} {r.choice(places)}", "phrase + place")
        elif roll == 7:
            add(r.choice(WORDS + PHRASES), "type filter", type=r.choice(list(TYPE_WEIGHTS)))
        elif roll == 8:
            add(r.choice(numbers), "number")
        elif roll == 9:
            add(r.choice(NO_HIT), "no hit")
        elif roll == 10:
            add(fold(r.choice(names)), "name, no tones")
        else:
            add(f"{r.choice(XA)} {r.choice(TEN)}", "place + name")
    return out


# -- running ------------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    docs: int
    ingest_rate: float
    times_ms: list[float]
    hits: int

    def row(self) -> str:
        t = sorted(self.times_ms)
        p95 = t[min(len(t) - 1, round(0.95 * (len(t) - 1)))]
        return (f"{self.backend:<10} {self.docs:>8} {self.ingest_rate:>14.0f} {statistics.median(t):>13.1f}"
                f" {p95:>11.1f} {t[-1]:>10.1f}")


HEAD = f"{'backend':<10} {'docs':>8} {'ingest docs/s':>14} {'search p50 ms':>13} {'p95 ms':>11} {'max ms':>10}"


def ingest(catalog: Catalog, docs: int, seed: int) -> tuple[Corpus, float]:
    corpus = Corpus(seed)
    start = time.perf_counter()
    done = 0
    for manifest, count in corpus.dossiers(docs):
        catalog.index_dossier(manifest)
        done += count
        if done % 10000 < count:
            rate = done / (time.perf_counter() - start)
            print(f"  {done:>8} docs  {rate:7.0f} docs/s", file=sys.stderr, flush=True)
    return corpus, docs / (time.perf_counter() - start)


def time_queries(catalog: Catalog, queries: list[Query], rounds: int = 1) -> tuple[list[float], int]:
    for q in queries:  # warm-up: caches as a running service has them
        catalog.search(q.text, type=q.type)
    times: list[float] = []
    hits = 0
    for _ in range(rounds):
        for q in queries:
            start = time.perf_counter()
            found = catalog.search(q.text, type=q.type)
            times.append((time.perf_counter() - start) * 1000)
            hits += len(found)
    return times, hits


def slowest(catalog: Catalog, queries: list[Query], n: int = 8) -> list[tuple[float, Query]]:
    out = []
    for q in queries:
        start = time.perf_counter()
        catalog.search(q.text, type=q.type)
        out.append(((time.perf_counter() - start) * 1000, q))
    return sorted(out, key=lambda x: -x[0])[:n]


PG_BENCH_SETTINGS = {
    # Durable like the SQLite catalog (WAL, synchronous=NORMAL): a crash may lose the last
    # commits, never corrupts. A little more memory than the 128 MB default, as a server would.
    "fsync": "on",
    "full_page_writes": "on",
    "synchronous_commit": "off",
    "shared_buffers": "512MB",
    "max_wal_size": "4GB",
}


def open_backend(name: str, args: argparse.Namespace, stack: list) -> Catalog:
    if name == "sqlite":
        from pipeline.catalog.sqlite import SqliteCatalog

        path = Path(args.sqlite_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return SqliteCatalog(path)
    if name == "postgres":
        from pipeline.catalog.postgres import PostgresCatalog

        url = args.pg_url or os.environ.get("SOHOA_BENCH_PG")
        if not url:
            sys.path.insert(0, str(REPO / "tests"))
            from pgserver import PgServer

            server = PgServer(settings=PG_BENCH_SETTINGS)
            stack.append(server)
            url = server.start()
            print(f"  started PostgreSQL on 127.0.0.1:{server.port} in {server.root}", file=sys.stderr)
        cat = PostgresCatalog(url)
        with cat._conn() as conn:  # a bench starts from an empty catalog
            row = conn.execute("SELECT COUNT(*) FROM dossiers").fetchone()
            if row and row[0] and not args.truncate:
                cat.close()
                raise SystemExit(f"{cat.url} already holds {row[0]} dossiers: pass --truncate to empty it")
            conn.execute("TRUNCATE dossiers, components, pages, page_search")
        return cat
    raise SystemExit(f"unknown backend {name!r} (sqlite, postgres)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-url", help="an existing PostgreSQL database instead of a throwaway server")
    parser.add_argument("--truncate", action="store_true", help="empty the --pg-url catalog if it holds data")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file afterwards")
    parser.add_argument("--sqlite-path", default=str(Path(tempfile.gettempdir()) / "sohoa-bench" / "catalog.sqlite"))
    parser.add_argument("--queries", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=1, help="timed passes over the query mix")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--slowest", type=int, default=0, help="also list the N slowest queries")
    args = parser.parse_args(argv)
    print(f"{len(templates())} sentence templates; {args.docs} documents; {args.queries} queries", file=sys.stderr)
    results: list[Result] = []
    for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
        stack: list = []
        try:
            print(f"{name}: ingesting", file=sys.stderr)
            with open_backend(name, args, stack) as catalog:
                corpus, rate = ingest(catalog, args.docs, args.seed)
                queries = query_mix(corpus, args.queries)
                times, hits = time_queries(catalog, queries, args.rounds)
                results.append(Result(name, args.docs, rate, times, hits))
                print(f"{name}: {hits} hits over {len(times)} searches", file=sys.stderr)
                for ms, q in slowest(catalog, queries, args.slowest) if args.slowest else []:
                    print(f"  {ms:7.1f} ms  {q.text!r} type={q.type} ({q.kind})", file=sys.stderr)
        finally:
            for server in stack:
                server.stop()
            if name == "sqlite" and not args.keep:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{args.sqlite_path}{suffix}").unlink(missing_ok=True)
    print(HEAD)
    for r in results:
        print(r.row())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
