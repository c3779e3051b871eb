"""Plausible Vietnamese administrative content: people, places, dates, and one builder per document type.

A dossier is about one case (a land parcel changing hands, a newborn, a house to build...), so all
its documents share a `Case`: the same applicant, CCCD, parcel and a consistent chronology. Each
builder returns a `DocSpec` (blocks for `samples.render` plus the component metadata the pipeline
should extract). Names, places and numbers are invented; CCCD numbers follow the real structure
(province of birth registration, century/sex digit, year of birth, 6 digits).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from pipeline.textnorm import fold, nfc
from pipeline.understand.mrz import make_td1
from samples.cards import CardSpec
from samples.render import (
    BLACK_INK,
    BLUE_INK,
    BODY,
    Columns,
    Para,
    SignGap,
    Space,
    StampSpec,
    Style,
    Tabs,
)

# --------------------------------------------------------------------------------------------
# Reference data

# Province codes of the 12-digit CCCD / personal identification number (Thông tư 07/2016/TT-BCA).
PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh",
    "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}  # fmt: skip


def valid_cccd(number: str, birth_year: int | None = None) -> bool:
    """Structural check of a 12-digit CCCD: province code, century/sex digit, year of birth."""
    if len(number) != 12 or not number.isdigit() or number[:3] not in PROVINCE_CODES:
        return False
    century = {"0": 1900, "1": 1900, "2": 2000, "3": 2000, "4": 2100, "5": 2100}.get(number[3])
    if century is None:
        return False
    return birth_year is None or century + int(number[4:6]) == birth_year


@dataclass(frozen=True)
class Place:
    province: str
    province_kind: str  # "thành phố" | "tỉnh"
    code: str  # CCCD province code
    district: str
    communes: tuple[str, ...]
    town: str  # thị trấn
    unit: str  # agency code used in "mã hồ sơ"

    @property
    def province_full(self) -> str:
        return f"{self.province_kind} {self.province}"

    @property
    def province_short(self) -> str:
        return ("TP. " if self.province_kind == "thành phố" else "TỈNH ") + self.province.upper()


PLACES = (
    Place(
        "Hải Phòng",
        "thành phố",
        "031",
        "Cát Hải",
        ("Hiền Hào", "Xuân Đám", "Trân Châu", "Gia Luận", "Phù Long"),
        "Cát Bà",
        "H31",
    ),
    Place(
        "Hà Nội",
        "thành phố",
        "001",
        "Đông Anh",
        ("Uy Nỗ", "Vân Nội", "Kim Chung", "Cổ Loa", "Xuân Canh"),
        "Đông Anh",
        "H26",
    ),
    Place(
        "Hồ Chí Minh",
        "thành phố",
        "079",
        "Củ Chi",
        ("Tân Thạnh Đông", "Phước Vĩnh An", "Tân An Hội", "Trung An"),
        "Củ Chi",
        "H29",
    ),
    Place(
        "Nam Định",
        "tỉnh",
        "036",
        "Hải Hậu",
        ("Hải Minh", "Hải Anh", "Hải Bắc", "Hải Phương"),
        "Yên Định",
        "H40",
    ),
    Place(
        "Thanh Hóa",
        "tỉnh",
        "038",
        "Hoằng Hóa",
        ("Hoằng Đạt", "Hoằng Quang", "Hoằng Trinh", "Hoằng Lộc"),
        "Bút Sơn",
        "H56",
    ),
    Place(
        "Nghệ An",
        "tỉnh",
        "040",
        "Nghi Lộc",
        ("Nghi Trung", "Nghi Diên", "Nghi Long", "Nghi Xá"),
        "Quán Hành",
        "H42",
    ),
)

SURNAMES = [
    "Nguyễn",
    "Nguyễn",
    "Nguyễn",
    "Trần",
    "Trần",
    "Lê",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
]
MIDDLE_M = ["Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thành", "Xuân", "Tiến"]
MIDDLE_F = ["Thị", "Thị", "Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Thị Bích", "Thị Thu"]
GIVEN_M = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hùng",
    "Khánh",
    "Long",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Tuấn",
    "Việt",
    "Hải",
    "Thắng",
    "Hiếu",
    "Đạt",
    "Trung",
]
GIVEN_F = [
    "Anh",
    "Ngọc",
    "Hà",
    "Hương",
    "Lan",
    "Linh",
    "Mai",
    "Nga",
    "Phương",
    "Thảo",
    "Trang",
    "Yến",
    "Hoa",
    "Huyền",
    "Loan",
    "Hạnh",
]
FEATURES = [
    "Nốt ruồi C: 2cm trên sau đuôi mắt phải",
    "Sẹo chấm C: 1cm dưới trước cánh mũi trái",
    "Nốt ruồi C: 1,5cm dưới mép phải",
    "Sẹo chấm C: 2cm trên đầu lông mày trái",
]
CARD_SIGNERS = ["Nguyễn Văn Long", "Trần Quốc Hưng", "Lê Văn Tuyến"]


@dataclass
class Person:
    name: str
    male: bool
    birth: date
    cccd: str
    cccd_issued: date
    address: str
    hometown: str
    phone: str

    @property
    def title(self) -> str:
        return "Ông" if self.male else "Bà"

    @property
    def sex(self) -> str:
        return "Nam" if self.male else "Nữ"


def cccd_number(rng: random.Random, province_code: str, birth: date, male: bool) -> str:
    """12 digits: province code, century/sex digit (0/1 = 1900s M/F, 2/3 = 2000s), yy, 6 digits."""
    digit = (0 if birth.year < 2000 else 2) + (0 if male else 1)
    return f"{province_code}{digit}{birth.year % 100:02d}{rng.randrange(10**6):06d}"


def _rand_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(max(1, (end - start).days)))


def person_name(rng: random.Random, male: bool, surname: str | None = None) -> str:
    sur = surname or rng.choice(SURNAMES)
    if male:
        return f"{sur} {rng.choice(MIDDLE_M)} {rng.choice(GIVEN_M)}"
    return f"{sur} {rng.choice(MIDDLE_F)} {rng.choice(GIVEN_F)}"


def home_address(rng: random.Random, place: Place, commune: str) -> str:
    lead = rng.choice(
        [f"Thôn {rng.randint(1, 9)}", f"Xóm {rng.randint(1, 12)}", f"Tổ dân phố số {rng.randint(1, 15)}"]
    )
    return f"{lead}, xã {commune}, huyện {place.district}, {place.province_full}"


def make_person(
    rng: random.Random,
    place: Place,
    *,
    male: bool | None = None,
    years: tuple[int, int] = (1958, 1999),
    surname: str | None = None,
    commune: str | None = None,
) -> Person:
    male = rng.random() < 0.5 if male is None else male
    birth = _rand_date(rng, date(years[0], 1, 1), date(years[1], 12, 31))
    origin = place if rng.random() < 0.75 else rng.choice(PLACES)
    com = commune or rng.choice(place.communes)
    issued = _rand_date(rng, max(date(2021, 1, 15), birth + timedelta(days=14 * 365)), date(2023, 12, 31))
    return Person(
        name=person_name(rng, male, surname),
        male=male,
        birth=birth,
        cccd=cccd_number(rng, origin.code, birth, male),
        cccd_issued=issued,
        address=home_address(rng, place, com),
        hometown=f"{rng.choice(origin.communes)}, {origin.district}, {origin.province}",
        phone=f"09{rng.randint(0, 9)}{rng.randint(0, 9)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
    )


# --------------------------------------------------------------------------------------------
# Numbers and dates written the Vietnamese way

_DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]


def _read3(n: int, full: bool) -> list[str]:
    h, t, u = n // 100, n // 10 % 10, n % 10
    out: list[str] = []
    if full or h:
        out += [_DIGITS[h], "trăm"]
    if t == 0 and u and (full or h):
        out.append("linh")
    elif t == 1:
        out.append("mười")
    elif t > 1:
        out += [_DIGITS[t], "mươi"]
    if u:
        if u == 1 and t > 1:
            out.append("mốt")
        elif u == 5 and t > 0:
            out.append("lăm")
        else:
            out.append(_DIGITS[u])
    return out


def number_words(n: int) -> str:
    """`1250000000` -> `một tỷ hai trăm năm mươi triệu`."""
    if n == 0:
        return "không"
    groups = []
    while n:
        groups.append(n % 1000)
        n //= 1000
    names = ["", "nghìn", "triệu", "tỷ", "nghìn tỷ"]
    out: list[str] = []
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if not g:
            continue
        out += _read3(g, full=i < len(groups) - 1)
        if names[i]:
            out.append(names[i])
    return " ".join(out)


def money(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def money_words(n: int) -> str:
    w = number_words(n)
    return w[0].upper() + w[1:] + " đồng"


def decimal(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


def dmy(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def date_words(d: date) -> str:
    return f"Ngày {number_words(d.day)}, tháng {number_words(d.month)}, năm {number_words(d.year)}"


def date_line(d: date, place: str | None = None, cap: bool = False) -> str:
    """`Cát Hải, ngày 03 tháng 10 năm 2025`: a leading zero for days < 10 and months 1-2 (NĐ 30)."""
    day = f"{d.day:02d}"
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    core = f"ngày {day} tháng {month} năm {d.year}"
    if place:
        return f"{place}, {core}"
    return core[0].upper() + core[1:] if cap else core


# --------------------------------------------------------------------------------------------
# The case shared by the documents of one dossier


@dataclass
class Parcel:
    so_thua: int
    to_ban_do: int
    area: float
    purpose: str
    address: str
    gcn_serial: str
    gcn_book: str
    gcn_date: date
    price: int


@dataclass
class Case:
    """Everything the documents of one dossier have in common."""

    rng: random.Random
    place: Place
    commune: str
    applicant: Person
    other: Person  # transferee, spouse, authorised person...
    child: str
    child_birth: date
    contract: date  # notarised contract / authorisation date, before `received`
    parcel: Parcel
    received: date
    officials: dict[str, str]
    ma_ho_so: str
    body_pt: float
    stamp_ink: tuple[int, int, int] = BLUE_INK
    seq: dict[str, int] = field(default_factory=dict)

    @property
    def district_agency(self) -> list[str]:
        return ["ỦY BAN NHÂN DÂN", f"HUYỆN {self.place.district.upper()}"]

    @property
    def district_agency_name(self) -> str:
        return f"ỦY BAN NHÂN DÂN HUYỆN {self.place.district.upper()}"

    @property
    def commune_agency_name(self) -> str:
        return f"ỦY BAN NHÂN DÂN XÃ {self.commune.upper()}"

    def stamp(self, agency: str) -> StampSpec:
        return StampSpec(f"{agency} * {self.place.province_short} *")

    def number(self, key: str, lo: int = 12, hi: int = 2400) -> int:
        if key not in self.seq:
            self.seq[key] = self.rng.randint(lo, hi)
        return self.seq[key]


def make_case(rng: random.Random, place: Place | None = None) -> Case:
    place = place or rng.choice(PLACES)
    commune = rng.choice(place.communes)
    applicant = make_person(rng, place, commune=commune)
    other = make_person(rng, place, male=not applicant.male)
    received = _rand_date(rng, date(2024, 3, 1), date(2025, 11, 20))
    child_birth = received - timedelta(days=rng.randint(5, 50))
    father = applicant if applicant.male else other
    contract = received - timedelta(days=rng.randint(3, 25))
    child = person_name(rng, rng.random() < 0.5, father.name.split()[0])
    area = round(rng.uniform(60, 320) * 2) / 2
    price = rng.randint(8, 90) * 50_000_000
    parcel = Parcel(
        so_thua=rng.randint(12, 980),
        to_ban_do=rng.randint(1, 48),
        area=area,
        purpose=rng.choice(["Đất ở tại nông thôn", "Đất ở tại nông thôn và đất trồng cây lâu năm"]),
        address=f"{rng.choice(['Thôn', 'Xóm'])} {rng.randint(1, 9)}, xã {commune}, huyện {place.district}, {place.province_full}",
        gcn_serial=f"{rng.choice(['AB', 'BV', 'CĐ', 'DA', 'CS'])} {rng.randint(100000, 999999)}",
        gcn_book=f"CS {rng.randint(1, 9999):05d}",
        gcn_date=_rand_date(rng, applicant.cccd_issued + timedelta(days=30), received - timedelta(days=60)),
        price=price,
    )
    officials = {
        "chu_tich": person_name(rng, rng.random() < 0.8),
        "pho_chu_tich": person_name(rng, rng.random() < 0.7),
        "chu_tich_xa": person_name(rng, rng.random() < 0.8),
        "pho_chu_tich_xa": person_name(rng, rng.random() < 0.7),
        "tiep_nhan": person_name(rng, rng.random() < 0.4),
        "thu_tien": person_name(rng, rng.random() < 0.3),
        "cong_chung": person_name(rng, rng.random() < 0.6),
        "giam_doc_yte": person_name(rng, rng.random() < 0.5),
        "ho_sinh": person_name(rng, False),
        "truong_phong": person_name(rng, rng.random() < 0.6),
        "cuc_truong": rng.choice(CARD_SIGNERS),
    }
    seq = rng.randint(1, 250)
    ma = f"000.00.{rng.randint(10, 35)}.{place.unit}-{received.strftime('%y%m%d')}-{seq:04d}"
    return Case(
        rng=rng,
        place=place,
        commune=commune,
        applicant=applicant,
        other=other,
        child=child,
        child_birth=child_birth,
        contract=contract,
        parcel=parcel,
        received=received,
        officials=officials,
        ma_ho_so=ma,
        body_pt=rng.choice([13.0, 13.5, 14.0]),
        stamp_ink=rng.choice([BLUE_INK, BLUE_INK, BLACK_INK]),
    )


# --------------------------------------------------------------------------------------------
# Document specification and block helpers


@dataclass
class DocSpec:
    """One document (component) to render: its type, title, blocks and expected metadata."""

    type: str
    title: str
    blocks: list
    metadata: dict
    footer: bool = False
    max_pages: int | None = None  # shrink text (down to 85 %) to fit, as clerks do
    paper: tuple[int, int, int] = (255, 255, 255)
    seed: int = 0


def meta(
    *,
    so_ky_hieu: str | None = None,
    ngay: date | None = None,
    co_quan: str | None = None,
    trich_yeu: str | None = None,
    cccd: list[str] | None = None,
    ho_ten: list[str] | None = None,
    ma_ho_so: str | None = None,
    ngay_sinh: date | None = None,
) -> dict:
    """Component metadata in the manifest's shape (`pipeline.manifest.Metadata`), NFC."""
    return {
        "so_ky_hieu": nfc(so_ky_hieu) if so_ky_hieu else None,
        "ngay": ngay.isoformat() if ngay else None,
        "co_quan": nfc(co_quan) if co_quan else None,
        "trich_yeu": nfc(trich_yeu) if trich_yeu else None,
        "cccd": list(dict.fromkeys(cccd or [])),
        "ho_ten": [nfc(n) for n in dict.fromkeys(ho_ten or [])],
        "ma_ho_so": ma_ho_so,
        "ngay_sinh": ngay_sinh.isoformat() if ngay_sinh else None,
    }


def bold(pt: float = 13.5) -> Style:
    return Style(pt, "bold")


def ital(pt: float = 13.5) -> Style:
    return Style(pt, "italic")


def header(
    agency: list[tuple[str, bool]], so: str | None, place: str, d: date, extra_left: list[str] | None = None
) -> Columns:
    """Two-column heading of NĐ 30: agency + number on the left, national motto + date on the right."""
    left: list = []
    for i, (text, is_bold) in enumerate(agency):
        last = i == len(agency) - 1
        left.append(
            Para(
                text,
                Style(12.5, "bold" if is_bold else "regular"),
                align="center",
                after_pt=0,
                leading=1.3,
                rule_below=0.4 if last else 0,
            )
        )
    tail: list = []
    if so:
        tail.append(Para(f"Số: {so}", Style(13), align="center", after_pt=0))
    for t in extra_left or []:
        tail.append(Para(t, Style(12), align="center", after_pt=0, leading=1.3))
    left.append(Space(3))
    right: list = [
        Para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold(12.5), align="center", after_pt=0, leading=1.3),
        Para("Độc lập - Tự do - Hạnh phúc", bold(13.5), align="center", after_pt=0, rule_below=1.0),
        Space(3),
    ]
    cols = [
        (0.4, left + [_group(tail)]),
        (0.6, right + [Para(date_line(d, place), ital(13.5), align="center", after_pt=0)]),
    ]
    return Columns(cols, bleed_left_mm=12, bleed_right_mm=0, sync_last=True, after_pt=14)


SIGNED_SHARE = 0.5  # share of issued documents drawn as signed scans (ký số) with a signature box


def signer_name(case: Case, agency: list[str]) -> str:
    """The signing body as a signature box names it: "Ủy ban nhân dân huyện Cát Hải", "Phòng tài nguyên
    và môi trường huyện Cát Hải" (the header's lines in sentence case, place names kept)."""
    lines = [x for a in agency for x in a.split("\n") if x.strip()]
    if len(lines) > 1 and lines[0].startswith("UBND "):  # a district office: its name, then whose
        lines = [*lines[1:], lines[0][len("UBND "):]]
    text = " ".join(lines).replace("UBND", "ỦY BAN NHÂN DÂN").lower()
    for name in (case.place.district, case.place.province, case.commune):
        text = text.replace(name.lower(), name)
    return text[:1].upper() + text[1:]


def signature_box(case: Case, kind: str, agency: list[str], d: date) -> list:
    """The box a digital signature (ký số) adds in the top margin of a signed scan, half the time:
    who signed, which body, when (the day of the document or the next). Drawn from its own random
    stream, so a dossier's other documents do not change with it, and laid in the margin, so the
    page's text is laid out as without it."""
    rng = random.Random(f"{case.ma_ho_so}|{kind}|signature")
    if rng.random() >= SIGNED_SHARE:
        return []
    when = f"{dmy(d + timedelta(days=rng.choice([0, 0, 1])))} {rng.randint(7, 17):02d}:{rng.randint(0, 59):02d}:" \
           f"{rng.randint(0, 59):02d}"
    small = Style(9)
    body = case.place.province_full
    lines = [f"Ký bởi: {signer_name(case, agency)}", f"Cơ quan: {body[:1].upper()}{body[1:]}",
             f"Thời gian ký: {when}"]
    box = [Para(x, small, align="left", after_pt=0, leading=1.2) for x in lines]
    return [Columns([(0.58, [Space(1)]), (0.42, box)], after_pt=0, top_margin=True)]


def _group(blocks: list) -> Columns:
    """Blocks kept together as one unit (so `sync_last` treats them as the last block)."""
    return Columns([(1.0, blocks)], after_pt=0)


def motto_centered() -> list:
    """National motto alone, centred: the heading of forms, contracts and certificates."""
    return [
        Para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold(13), align="center", after_pt=0, leading=1.3),
        Para("Độc lập - Tự do - Hạnh phúc", bold(14), align="center", after_pt=14, rule_below=1.0),
    ]


def title(text: str, sub: str | None = None, sub_style: Style | None = None) -> list:
    blocks: list = [
        Para(text, bold(14.5), align="center", after_pt=2 if sub else 10, before_pt=6, keep_with_next=True)
    ]
    if sub:
        blocks.append(
            Para(
                sub,
                sub_style or bold(14),
                align="center",
                after_pt=10,
                keep_with_next=True,
                rule_below=0.3 if sub_style is None else 0,
            )
        )
    return blocks


def sign_column(
    role: list[str],
    name: str | None,
    *,
    date_text: str | None = None,
    hint: str | None = None,
    stamp: StampSpec | None = None,
    ink: tuple[int, int, int] = BLUE_INK,
    signed: bool = True,
) -> list:
    """A signature block: date, role lines (bold), hint, the signature band, the signer's name."""
    blocks: list = []
    if date_text:
        blocks.append(Para(date_text, ital(13.5), align="center", after_pt=0))
    for r in role:
        blocks.append(Para(r, bold(13.5), align="center", after_pt=0, leading=1.3))
    if hint:
        blocks.append(Para(hint, ital(12.5), align="center", after_pt=0))
    blocks.append(SignGap(stamp=stamp, ink=ink, signed=signed and name is not None))
    if name:
        blocks.append(Para(name, bold(13.5), align="center", after_pt=0))
    return blocks


def noi_nhan(items: list[str]) -> list:
    """'Nơi nhận:' list in the bottom-left corner of official letters."""
    blocks: list = [Para("Nơi nhận:", Style(12, "bolditalic"), align="left", after_pt=0, leading=1.3)]
    for it in items:
        blocks.append(Para(it, Style(11.5), align="left", after_pt=0, leading=1.3))
    return blocks


def sign_row(left: list, right: list, before_pt: float = 10) -> Columns:
    return Columns([(0.45, left), (0.55, right)], before_pt=before_pt, after_pt=0)


def p(text: str, st: Style | None = None, **kw) -> Para:
    kw.setdefault("indent_mm", 10.0)
    return Para(text, st or BODY, **kw)


def field_(label: str, value: str, st: Style | None = None, **kw) -> Para:
    """A labelled form field, e.g. `Họ và tên: Nguyễn Văn An` (value printed, no dotted leaders)."""
    kw.setdefault("align", "left")
    kw.setdefault("after_pt", 2)
    return Para(f"{label}: {value}", st or BODY, **kw)


# --------------------------------------------------------------------------------------------
# Document builders, one per type


def _body(case: Case, face: str = "regular") -> Style:
    return Style(case.body_pt, face)


def doc_phieu_tiep_nhan(case: Case, procedure_name: str, items: list[str]) -> DocSpec:
    a = case.applicant
    pl = case.place
    st = _body(case)
    due = case.received + timedelta(days=case.rng.choice([10, 15, 20]))
    agency = [
        (f"UBND HUYỆN {pl.district.upper()}", False),
        ("BỘ PHẬN TIẾP NHẬN", True),
        ("VÀ TRẢ KẾT QUẢ", True),
    ]
    blocks: list = [header(agency, None, pl.district, case.received)]
    blocks += title("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", f"Mã hồ sơ: {case.ma_ho_so}", bold(13.5))
    blocks += [
        p(f"Bộ phận tiếp nhận và trả kết quả Ủy ban nhân dân huyện {pl.district} tiếp nhận hồ sơ của:", st),
        field_("Ông/Bà", a.name, st, left_mm=10),
        field_("Địa chỉ", a.address, st, left_mm=10),
        field_("Số điện thoại", a.phone, st, left_mm=10),
        field_("Nội dung yêu cầu giải quyết", procedure_name, st, left_mm=10),
        p("1. Thành phần hồ sơ và số lượng mỗi loại giấy tờ gồm:", st, after_pt=2),
    ]
    for it in items:
        blocks.append(Para(f"- {it}", st, align="left", left_mm=10, after_pt=1))
    blocks += [
        p("2. Số lượng hồ sơ: 01 (bộ).", st, after_pt=2),
        p(
            f"3. Thời gian giải quyết hồ sơ theo quy định là: {(due - case.received).days} ngày làm việc.",
            st,
            after_pt=2,
        ),
        p(
            f"4. Thời gian nhận hồ sơ: {case.rng.randint(7, 10):02d} giờ {case.rng.choice(['00', '15', '30', '45'])} phút, ngày {dmy(case.received)}.",
            st,
            after_pt=2,
        ),
        p(f"5. Thời gian trả kết quả giải quyết hồ sơ: ngày {dmy(due)}.", st, after_pt=2),
        p("6. Đăng ký nhận kết quả tại: Bộ phận tiếp nhận và trả kết quả của huyện.", st, after_pt=2),
        p("Vào Sổ theo dõi hồ sơ, Quyển số: 01.", st),
    ]
    hint = "(Ký và ghi rõ họ tên)"
    blocks.append(
        sign_row(
            sign_column(["NGƯỜI NỘP HỒ SƠ"], a.name, hint=hint, ink=case.stamp_ink),
            sign_column(["NGƯỜI TIẾP NHẬN HỒ SƠ"], case.officials["tiep_nhan"], hint=hint, ink=BLUE_INK),
        )
    )
    md = meta(
        ngay=case.received,
        co_quan=" ".join(t for t, _ in agency),
        cccd=[],
        ho_ten=[a.name],
        ma_ho_so=case.ma_ho_so,
    )
    return DocSpec("phieu_tiep_nhan", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", blocks, md)


def _person_fields(pe: Person, st: Style, *, year_only: bool = False, left_mm: float = 0.0) -> list:
    birth = str(pe.birth.year) if year_only else dmy(pe.birth)
    return [
        field_("Họ và tên", pe.name, st, left_mm=left_mm),
        field_("Năm sinh" if year_only else "Ngày sinh", birth, st, left_mm=left_mm),
        field_("Số CCCD", f"{pe.cccd}, cấp ngày {dmy(pe.cccd_issued)}", st, left_mm=left_mm),
        field_("Địa chỉ thường trú", pe.address, st, left_mm=left_mm),
    ]


def doc_don_dang_ky_bien_dong(case: Case) -> DocSpec:
    a, b, pc = case.applicant, case.other, case.parcel
    st = _body(case)
    d = case.received - timedelta(days=case.rng.randint(0, 3))
    t = "ĐƠN ĐĂNG KÝ BIẾN ĐỘNG ĐẤT ĐAI, TÀI SẢN GẮN LIỀN VỚI ĐẤT"
    blocks: list = motto_centered() + title(t)
    blocks += [
        Para(
            f"Kính gửi: Chi nhánh Văn phòng đăng ký đất đai huyện {case.place.district}",
            st,
            align="center",
            after_pt=8,
        ),
        Para(
            "I. PHẦN KÊ KHAI CỦA NGƯỜI ĐĂNG KÝ",
            bold(case.body_pt),
            align="left",
            after_pt=3,
            keep_with_next=True,
        ),
        Para("1. Người sử dụng đất, chủ sở hữu tài sản gắn liền với đất", st, align="left", after_pt=2),
        *_person_fields(b, st, year_only=True, left_mm=8),
        Para("2. Giấy chứng nhận đã cấp đối với thửa đất", st, align="left", after_pt=2),
        field_("Số vào sổ cấp Giấy chứng nhận", pc.gcn_book, st, left_mm=8),
        field_(
            "Số phát hành Giấy chứng nhận", f"{pc.gcn_serial}, cấp ngày {dmy(pc.gcn_date)}", st, left_mm=8
        ),
        Para("3. Nội dung biến động", st, align="left", after_pt=2),
        p(
            f"Chuyển nhượng toàn bộ thửa đất số {pc.so_thua}, tờ bản đồ số {pc.to_ban_do}, diện tích {decimal(pc.area)} m2, "
            f"địa chỉ tại {pc.address} từ {a.title.lower()} {a.name} sang {b.title.lower()} {b.name}.",
            st,
        ),
        p(
            "4. Lý do biến động: Nhận chuyển nhượng quyền sử dụng đất theo hợp đồng đã được công chứng "
            f"số {case.number('cong_chung')}/{case.contract.year}/CCGD.",
            st,
        ),
        p(
            "5. Giấy tờ liên quan đến nội dung biến động nộp kèm theo đơn này gồm có: Hợp đồng chuyển nhượng quyền sử dụng đất; "
            "bản gốc Giấy chứng nhận đã cấp; tờ khai lệ phí trước bạ; bản sao căn cước công dân của các bên.",
            st,
        ),
        p(
            "Tôi cam đoan nội dung kê khai trên đơn là đúng sự thật, nếu sai tôi hoàn toàn chịu trách nhiệm trước pháp luật.",
            st,
        ),
        sign_row(
            [],
            sign_column(
                ["Người viết đơn"],
                b.name,
                date_text=date_line(d, case.commune),
                hint="(Ký và ghi rõ họ tên)",
                ink=case.stamp_ink,
            ),
        ),
    ]
    return DocSpec("don_de_nghi", t, blocks, meta(ngay=d, cccd=[b.cccd], ho_ten=[b.name, a.name]))


def doc_don_xay_dung(case: Case) -> DocSpec:
    a, pc = case.applicant, case.parcel
    rng = case.rng
    st = _body(case)
    d = case.received - timedelta(days=rng.randint(0, 5))
    floors = rng.randint(2, 4)
    ground = round(min(pc.area * 0.8, rng.uniform(55, 120)), 1)
    t = "ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP XÂY DỰNG"
    blocks: list = motto_centered() + title(t, "(Sử dụng cho nhà ở riêng lẻ)", ital(13.5))
    blocks += [
        Para(f"Kính gửi: Ủy ban nhân dân huyện {case.place.district}", st, align="center", after_pt=8),
        Para("1. Thông tin về chủ đầu tư:", bold(case.body_pt), align="left", after_pt=2),
        field_("- Tên chủ đầu tư", f"{a.title} {a.name}", st, left_mm=6),
        field_("- Số CCCD", f"{a.cccd}, cấp ngày {dmy(a.cccd_issued)}", st, left_mm=6),
        field_("- Địa chỉ liên hệ", a.address, st, left_mm=6),
        field_("- Số điện thoại", a.phone, st, left_mm=6),
        Para("2. Thông tin công trình:", bold(case.body_pt), align="left", after_pt=2),
        field_(
            "- Địa điểm xây dựng",
            f"Thửa đất số {pc.so_thua}, tờ bản đồ số {pc.to_ban_do}, {pc.address}",
            st,
            left_mm=6,
        ),
        field_("- Loại công trình", "Nhà ở riêng lẻ; cấp công trình: III", st, left_mm=6),
        field_("- Diện tích xây dựng tầng 1", f"{decimal(ground)} m2", st, left_mm=6),
        field_("- Tổng diện tích sàn", f"{decimal(ground * floors)} m2", st, left_mm=6),
        field_(
            "- Chiều cao công trình", f"{decimal(3.6 * floors + 0.6)} m; số tầng: {floors}", st, left_mm=6
        ),
        Para(
            f"3. Dự kiến thời gian hoàn thành công trình: {rng.choice([6, 8, 10, 12])} tháng.",
            st,
            align="left",
            after_pt=2,
        ),
        p(
            "4. Cam kết: Tôi xin cam đoan làm theo đúng giấy phép được cấp, nếu sai tôi xin hoàn toàn chịu trách nhiệm "
            "và bị xử lý theo quy định của pháp luật.",
            st,
        ),
        sign_row(
            [],
            sign_column(
                ["NGƯỜI LÀM ĐƠN"],
                a.name,
                date_text=date_line(d, case.commune),
                hint="(Ký, ghi rõ họ tên)",
                ink=case.stamp_ink,
            ),
        ),
    ]
    return DocSpec("don_de_nghi", t, blocks, meta(ngay=d, cccd=[a.cccd], ho_ten=[a.name]))


def doc_don_ho_kinh_doanh(case: Case, shop: str, trade: str, capital: int) -> DocSpec:
    a = case.applicant
    st = _body(case)
    d = case.received - timedelta(days=case.rng.randint(0, 3))
    ty = "Về việc đăng ký thành lập hộ kinh doanh"
    blocks: list = motto_centered() + title("ĐƠN ĐỀ NGHỊ", ty, ital(14))
    blocks += [
        Para(
            f"Kính gửi: Phòng Tài chính - Kế hoạch huyện {case.place.district}",
            st,
            align="center",
            after_pt=8,
        ),
        p(
            f"Tôi là: {a.name}, giới tính: {a.sex.lower()}, sinh ngày {dmy(a.birth)}, dân tộc: Kinh, quốc tịch: Việt Nam.",
            st,
        ),
        field_("Số định danh cá nhân", a.cccd, st),
        field_("Địa chỉ thường trú", a.address, st),
        field_("Điện thoại", a.phone, st),
        p("Đăng ký hộ kinh doanh với các nội dung sau:", st, after_pt=2),
        field_("1. Tên hộ kinh doanh", shop, st),
        field_("2. Địa chỉ trụ sở hộ kinh doanh", a.address, st),
        field_("3. Ngành, nghề kinh doanh", trade, st),
        field_("4. Vốn kinh doanh", f"{money(capital)} đồng", st),
        field_("5. Số lượng lao động dự kiến", f"{case.rng.randint(1, 6):02d} người", st),
        p(
            "Tôi cam kết bản thân không thuộc diện bị cấm đăng ký hộ kinh doanh; trụ sở hộ kinh doanh thuộc quyền sử dụng "
            "hợp pháp của tôi; chịu trách nhiệm trước pháp luật về tính hợp pháp, chính xác và trung thực của nội dung đăng ký trên.",
            st,
        ),
        sign_row(
            [],
            sign_column(
                ["CHỦ HỘ KINH DOANH"],
                a.name,
                date_text=date_line(d, case.commune),
                hint="(Ký và ghi họ tên)",
                ink=case.stamp_ink,
            ),
        ),
    ]
    return DocSpec(
        "don_de_nghi", "ĐƠN ĐỀ NGHỊ", blocks, meta(ngay=d, trich_yeu=ty, cccd=[a.cccd], ho_ten=[a.name])
    )


def _anniversary(d: date, years: int) -> date:
    """The date `years` later; 29 February falls back to the 28th in common years."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


CARD_MODELS = (("2021", 5), ("2024", 3), ("2016", 2))  # model, weight


def card_zone(pe: Person, expiry: date | None) -> str:
    """The back's machine-readable zone (ICAO TD1, check digits computed) of a generated person."""
    parts = fold(pe.name).upper().split()
    lines = make_td1(number12=pe.cccd, birth=pe.birth, sex="M" if pe.male else "F", expiry=expiry,
                     surname=parts[0], given_names=" ".join(parts[1:]))
    return "\n".join(lines)


def doc_can_cuoc(case: Case, pe: Person, *, model: str | None = None, back_alone: bool | None = None) -> DocSpec:
    """A certified copy of an identity card: the front, and the back under it or on a page of its own.

    The card model (2016, 2021 chip, 2024 Căn cước) and the page layout are drawn from the card's own
    seed (not the case's generator), so choosing them does not move the rest of a generated dossier.
    """
    rng = case.rng
    age_at_issue = pe.cccd_issued.year - pe.birth.year
    expiry = "Không thời hạn"
    expiry_date: date | None = None
    for age in (25, 40, 60):
        if age - age_at_issue > 2:
            expiry_date = _anniversary(pe.birth, age)
            expiry = dmy(expiry_date)
            break
    front = {
        "so": pe.cccd, "ho_ten": pe.name, "ngay_sinh": dmy(pe.birth), "gioi_tinh": pe.sex,
        "que_quan": pe.hometown, "thuong_tru": pe.address.replace("huyện ", "").replace("xã ", "").replace(case.place.province_kind + " ", ""),
        "het_han": expiry,
    }  # fmt: skip
    back = {
        "dac_diem": rng.choice(FEATURES),
        "ngay_cap": dmy(pe.cccd_issued),
        "nguoi_ky": case.officials["cuc_truong"],
    }
    seed = rng.randrange(1 << 30)
    own = random.Random(seed)
    model = model or own.choices([m for m, _ in CARD_MODELS], [w for _, w in CARD_MODELS])[0]
    alone = own.random() < 0.3 if back_alone is None else back_alone
    if model in ("2021", "2024"):
        back["mrz"] = card_zone(pe, expiry_date)
    if model == "2024":
        back["thuong_tru"] = front["thuong_tru"]
        back["noi_sinh"] = pe.hometown
        back["het_han"] = expiry
    blocks: list = [CardSpec("front", front, model=model, seed=seed)]
    if alone:  # the back on a page of its own (a filler as tall as a page pushes it there)
        blocks.append(Space(250.0))
    blocks.append(CardSpec("back", back, model=model, seed=seed + 11))
    certified = case.received - timedelta(days=rng.randint(1, 20))
    if rng.random() < 0.85:  # certified copy ("chứng thực bản sao") under the cards
        agency = case.commune_agency_name
        right = [
            Para(
                "CHỨNG THỰC BẢN SAO ĐÚNG VỚI BẢN CHÍNH", bold(12.5), align="center", after_pt=0, leading=1.3
            ),
            Para(
                f"Số chứng thực: {rng.randint(10, 900)}, quyển số 01/{certified.year}-SCT/BS",
                Style(12),
                align="center",
                after_pt=0,
                leading=1.3,
            ),
            Para(date_line(certified, cap=True), ital(12.5), align="center", after_pt=0, leading=1.3),
            *sign_column(
                ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"],
                case.officials["pho_chu_tich_xa"],
                stamp=StampSpec(case.stamp(agency).ring_text, 15.0),
                ink=case.stamp_ink,
            ),
        ]
        blocks.append(sign_row([], right, before_pt=0))
    md = meta(ngay=pe.cccd_issued, cccd=[pe.cccd], ho_ten=[pe.name], ngay_sinh=pe.birth)
    title = "CĂN CƯỚC" if model == "2024" else "CĂN CƯỚC CÔNG DÂN"
    return DocSpec("can_cuoc", title, blocks, md, max_pages=2 if alone else 1)


def doc_gcn_qsdd(case: Case) -> DocSpec:
    a, pc = case.applicant, case.parcel
    st = _body(case)
    t = "GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở VÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT"
    agency = case.district_agency_name
    blocks: list = motto_centered() + title(t)
    blocks += [
        Para(agency, bold(13.5), align="center", after_pt=0),
        Para("chứng nhận:", ital(13.5), align="center", after_pt=8),
        Para(
            "I. Người sử dụng đất, chủ sở hữu nhà ở và tài sản khác gắn liền với đất",
            bold(case.body_pt),
            align="left",
            after_pt=3,
        ),
        p(f"{a.title}: {a.name}, sinh năm {a.birth.year}, CCCD số: {a.cccd}", st, align="left", indent_mm=0),
        p(f"Địa chỉ thường trú: {a.address}", st, indent_mm=0),
        Para(
            "II. Thửa đất, nhà ở và tài sản khác gắn liền với đất",
            bold(case.body_pt),
            align="left",
            after_pt=3,
        ),
        Para("1. Thửa đất:", st, align="left", after_pt=2),
        field_("a) Thửa đất số", f"{pc.so_thua}; tờ bản đồ số: {pc.to_ban_do}", st, left_mm=6),
        field_("b) Địa chỉ", pc.address, st, left_mm=6),
        field_("c) Diện tích", f"{decimal(pc.area)} m2 (bằng chữ: {_area_words(pc.area)})", st, left_mm=6),
        field_("d) Hình thức sử dụng", "Sử dụng riêng", st, left_mm=6),
        field_("đ) Mục đích sử dụng", pc.purpose, st, left_mm=6),
        field_("e) Thời hạn sử dụng", "Lâu dài", st, left_mm=6),
        field_(
            "g) Nguồn gốc sử dụng",
            "Nhà nước công nhận quyền sử dụng đất như giao đất có thu tiền sử dụng đất",
            st,
            left_mm=6,
        ),
        Para("2. Nhà ở: -/-", st, align="left", after_pt=2),
        Para("3. Ghi chú: Không", st, align="left", after_pt=4),
    ]
    right = sign_column(
        ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"],
        case.officials["pho_chu_tich"],
        date_text=date_line(pc.gcn_date, case.place.district),
        stamp=case.stamp(agency),
        ink=case.stamp_ink,
    )
    blocks.append(sign_row([], right, before_pt=2))
    # register numbers in the bottom-left corner, below the signature (read after it)
    blocks += [
        Para(f"Số vào sổ cấp GCN: {pc.gcn_book}", Style(12.5), align="left", after_pt=0, before_pt=4),
        Para(f"Số phát hành: {pc.gcn_serial}", Style(12.5), align="left", after_pt=0),
    ]
    md = meta(so_ky_hieu=pc.gcn_book, ngay=pc.gcn_date, co_quan=agency, cccd=[a.cccd], ho_ten=[a.name])
    return DocSpec("giay_chung_nhan_qsdd", t, blocks, md, paper=(253, 244, 244), max_pages=1)


def _area_words(x: float) -> str:
    whole = int(x)
    frac = round((x - whole) * 10)
    w = number_words(whole)
    if frac:
        w += f" phẩy {number_words(frac)}"
    return w + " mét vuông"


def doc_hop_dong(case: Case) -> DocSpec:
    a, b, pc = case.applicant, case.other, case.parcel
    rng = case.rng
    st = _body(case)
    d = case.contract
    office = f"Văn phòng công chứng {rng.choice(['Cát Bà', 'Hồng Bàng', 'Thành Đô', 'Nam Việt', 'Phạm Gia'])}"
    so_cc = f"{case.number('cong_chung')}/{d.year}"
    t = "HỢP ĐỒNG CHUYỂN NHƯỢNG QUYỀN SỬ DỤNG ĐẤT"
    blocks: list = motto_centered() + title(t)

    def party(label: str, pe: Person) -> list:
        return [
            Para(label, bold(case.body_pt), align="left", after_pt=2, keep_with_next=True),
            field_(pe.title, f"{pe.name}, sinh ngày {dmy(pe.birth)}", st, left_mm=6),
            field_(
                "CCCD số",
                f"{pe.cccd} do Cục Cảnh sát quản lý hành chính về trật tự xã hội cấp ngày {dmy(pe.cccd_issued)}",
                st,
                left_mm=6,
            ),
            field_("Địa chỉ thường trú", pe.address, st, left_mm=6),
        ]

    blocks += [
        p(f"Hôm nay, {date_line(d)}, tại {office}, {case.place.province_full}, chúng tôi gồm có:", st),
        *party("BÊN CHUYỂN NHƯỢNG (sau đây gọi là Bên A):", a),
        *party("BÊN NHẬN CHUYỂN NHƯỢNG (sau đây gọi là Bên B):", b),
        p("Hai bên đồng ý thực hiện việc chuyển nhượng quyền sử dụng đất với các thỏa thuận sau đây:", st),
    ]
    articles = [
        ("ĐIỀU 1. QUYỀN SỬ DỤNG ĐẤT CHUYỂN NHƯỢNG", [
            f"Quyền sử dụng đất của Bên A đối với thửa đất theo Giấy chứng nhận số {pc.gcn_serial}, số vào sổ cấp GCN: {pc.gcn_book} "
            f"do Ủy ban nhân dân huyện {case.place.district} cấp ngày {dmy(pc.gcn_date)}, cụ thể như sau: thửa đất số {pc.so_thua}, "
            f"tờ bản đồ số {pc.to_ban_do}; địa chỉ thửa đất: {pc.address}; diện tích: {decimal(pc.area)} m2; hình thức sử dụng: riêng; "
            f"mục đích sử dụng: {pc.purpose.lower()}; thời hạn sử dụng: lâu dài.",
        ]),
        ("ĐIỀU 2. GIÁ CHUYỂN NHƯỢNG VÀ PHƯƠNG THỨC THANH TOÁN", [
            f"Giá chuyển nhượng quyền sử dụng đất nêu tại Điều 1 của Hợp đồng này là: {money(pc.price)} đồng "
            f"(bằng chữ: {money_words(pc.price)}).",
            "Phương thức thanh toán: Bên B thanh toán cho Bên A bằng tiền mặt một lần ngay sau khi Hợp đồng này được công chứng. "
            "Việc giao và nhận số tiền nêu trên do hai bên tự thực hiện và chịu trách nhiệm trước pháp luật.",
        ]),
        ("ĐIỀU 3. VIỆC GIAO VÀ ĐĂNG KÝ QUYỀN SỬ DỤNG ĐẤT", [
            "Bên A có nghĩa vụ giao thửa đất nêu tại Điều 1 cùng với bản chính Giấy chứng nhận cho Bên B ngay sau khi nhận đủ tiền.",
            "Bên B có nghĩa vụ thực hiện đăng ký biến động quyền sử dụng đất tại cơ quan có thẩm quyền theo quy định của pháp luật.",
        ]),
        ("ĐIỀU 4. TRÁCH NHIỆM NỘP THUẾ, LỆ PHÍ", [
            "Thuế thu nhập cá nhân, lệ phí trước bạ và các loại phí, lệ phí liên quan đến việc chuyển nhượng quyền sử dụng đất "
            f"theo Hợp đồng này do Bên {rng.choice(['A', 'B'])} chịu trách nhiệm nộp.",
        ]),
        ("ĐIỀU 5. PHƯƠNG THỨC GIẢI QUYẾT TRANH CHẤP", [
            "Trong quá trình thực hiện Hợp đồng, nếu phát sinh tranh chấp, các bên cùng nhau thương lượng giải quyết trên nguyên tắc "
            "tôn trọng quyền lợi của nhau; trong trường hợp không thương lượng được thì một trong hai bên có quyền khởi kiện "
            "để yêu cầu Tòa án có thẩm quyền giải quyết theo quy định của pháp luật.",
        ]),
        ("ĐIỀU 6. CAM ĐOAN CỦA CÁC BÊN", [
            "Bên A cam đoan: những thông tin về nhân thân, về thửa đất đã ghi trong Hợp đồng này là đúng sự thật; thửa đất thuộc "
            "trường hợp được chuyển nhượng quyền sử dụng đất theo quy định của pháp luật; tại thời điểm giao kết Hợp đồng này, "
            "thửa đất không có tranh chấp, không bị kê biên để bảo đảm thi hành án.",
            "Bên B cam đoan: những thông tin về nhân thân đã ghi trong Hợp đồng này là đúng sự thật; đã xem xét kỹ, biết rõ về thửa "
            "đất nêu tại Điều 1 của Hợp đồng này và các giấy tờ về quyền sử dụng đất.",
            "Hai bên cam đoan việc giao kết Hợp đồng này hoàn toàn tự nguyện, không bị lừa dối, không bị ép buộc; thực hiện đúng "
            "và đầy đủ tất cả các thỏa thuận đã ghi trong Hợp đồng này.",
        ]),
        ("ĐIỀU 7. ĐIỀU KHOẢN CUỐI CÙNG", [
            "Hai bên công nhận đã hiểu rõ quyền, nghĩa vụ và lợi ích hợp pháp của mình, ý nghĩa và hậu quả pháp lý của việc giao "
            "kết Hợp đồng này. Hai bên đã tự đọc lại Hợp đồng, đã hiểu và đồng ý tất cả các điều khoản ghi trong Hợp đồng và "
            "cùng ký tên dưới đây để làm bằng chứng.",
        ]),
    ]  # fmt: skip
    for head, paras in articles:
        blocks.append(
            Para(head, bold(case.body_pt), align="left", after_pt=3, before_pt=3, keep_with_next=True)
        )
        blocks += [p(x, st) for x in paras]
    hint = "(Ký, ghi rõ họ tên)"
    blocks.append(sign_row(
        sign_column(["BÊN A"], a.name, hint=hint, ink=case.stamp_ink),
        sign_column(["BÊN B"], b.name, hint=hint, ink=rng.choice([BLUE_INK, BLACK_INK])),
        before_pt=8,
    ))  # fmt: skip
    blocks += [
        Para(
            "LỜI CHỨNG CỦA CÔNG CHỨNG VIÊN",
            bold(14),
            align="center",
            before_pt=14,
            after_pt=6,
            keep_with_next=True,
        ),
        p(
            f"Hôm nay, {date_line(d)}, tại {office}, tôi {case.officials['cong_chung']}, công chứng viên, chứng nhận: "
            f"Hợp đồng chuyển nhượng quyền sử dụng đất được giao kết giữa Bên A là {a.title.lower()} {a.name} và Bên B là "
            f"{b.title.lower()} {b.name}; các bên đã tự nguyện thỏa thuận giao kết Hợp đồng và cam đoan chịu trách nhiệm trước "
            "pháp luật về nội dung Hợp đồng.",
            st,
        ),
        p(
            "Tại thời điểm công chứng, các bên đã giao kết Hợp đồng có năng lực hành vi dân sự phù hợp theo quy định của pháp luật; "
            "nội dung thỏa thuận của các bên trong Hợp đồng không vi phạm điều cấm của luật, không trái đạo đức xã hội.",
            st,
        ),
        p(f"Số công chứng: {so_cc}, quyển số 01/{d.year}/TP/CC-SCC/HĐGD.", st),
        sign_row(
            [],
            sign_column(
                ["CÔNG CHỨNG VIÊN"],
                case.officials["cong_chung"],
                stamp=StampSpec(f"{office.upper()} * {case.place.province_short} *", 16.0),
                ink=BLACK_INK,
            ),
            before_pt=4,
        ),
    ]
    md = meta(so_ky_hieu=so_cc, ngay=d, co_quan=office, cccd=[a.cccd, b.cccd], ho_ten=[a.name, b.name])
    return DocSpec("hop_dong", t, blocks, md, footer=True)


def doc_to_khai_truoc_ba(case: Case) -> DocSpec:
    b, pc = case.other, case.parcel
    st = _body(case)
    d = case.received - timedelta(days=case.rng.randint(0, 2))
    t = "TỜ KHAI LỆ PHÍ TRƯỚC BẠ"
    blocks: list = [Para("Mẫu số: 01/LPTB", ital(12), align="right", after_pt=0)]
    blocks += motto_centered() + title(t, "(Áp dụng đối với nhà, đất)", ital(13.5))
    blocks += [
        field_("1. Tên người nộp thuế", b.name, st),
        field_("2. Mã số thuế", f"8{case.rng.randint(100000000, 999999999)}", st),
        field_("3. Số CCCD", b.cccd, st),
        field_("4. Địa chỉ", b.address, st),
        field_("5. Điện thoại", b.phone, st),
        Para("ĐẶC ĐIỂM NHÀ ĐẤT:", bold(case.body_pt), align="left", after_pt=2, before_pt=4),
        field_("1. Địa chỉ thửa đất", pc.address, st),
        field_("2. Vị trí thửa đất", f"thửa đất số {pc.so_thua}, tờ bản đồ số {pc.to_ban_do}", st),
        field_("3. Mục đích sử dụng đất", pc.purpose, st),
        field_("4. Diện tích đất chịu lệ phí trước bạ", f"{decimal(pc.area)} m2", st),
        field_("5. Nguồn gốc nhà đất", "Nhận chuyển nhượng quyền sử dụng đất", st),
        field_("6. Giá trị đất thực tế chuyển giao", f"{money(pc.price)} đồng", st),
        field_("7. Giấy tờ có liên quan", "Hợp đồng chuyển nhượng quyền sử dụng đất đã được công chứng", st),
        p(
            "Tôi cam đoan số liệu khai trên là đúng và chịu trách nhiệm trước pháp luật về số liệu đã khai./.",
            st,
            before_pt=4,
        ),
        sign_row(
            [],
            sign_column(
                ["NGƯỜI NỘP THUẾ"],
                b.name,
                date_text=date_line(d, case.place.district),
                hint="(Ký, ghi rõ họ tên)",
                ink=case.stamp_ink,
            ),
        ),
    ]
    return DocSpec("to_khai", t, blocks, meta(ngay=d, cccd=[b.cccd], ho_ten=[b.name]))


def doc_to_khai_khai_sinh(case: Case) -> DocSpec:
    a, o = case.applicant, case.other
    father, mother = (a, o) if a.male else (o, a)
    st = _body(case)
    d = case.received
    cb = case.child_birth
    male_child = case.rng.random() < 0.5
    t = "TỜ KHAI ĐĂNG KÝ KHAI SINH"
    blocks: list = motto_centered() + title(t)
    blocks += [
        Para(f"Kính gửi: Ủy ban nhân dân xã {case.commune}", st, align="center", after_pt=8),
        field_("Họ, chữ đệm, tên người yêu cầu", a.name, st),
        field_("Nơi cư trú", a.address, st),
        field_("Giấy tờ tùy thân", f"CCCD số {a.cccd}, cấp ngày {dmy(a.cccd_issued)}", st),
        field_("Quan hệ với người được khai sinh", "Cha" if a.male else "Mẹ", st),
        Para("Đề nghị cơ quan đăng ký khai sinh cho người dưới đây:", st, align="left", after_pt=2, before_pt=3),
        field_("Họ, chữ đệm, tên", case.child, st),
        field_("Ngày, tháng, năm sinh", f"{dmy(cb)}, ghi bằng chữ: {date_words(cb)}", st),
        Tabs([(0, f"Giới tính: {'Nam' if male_child else 'Nữ'}"), (50, "Dân tộc: Kinh"), (100, "Quốc tịch: Việt Nam")], st, after_pt=2),
        field_("Nơi sinh", f"Trung tâm Y tế huyện {case.place.district}, {case.place.province_full}", st),
        field_("Quê quán", father.hometown, st),
        field_("Họ, chữ đệm, tên người mẹ", mother.name, st, before_pt=3),
        Tabs([(0, f"Năm sinh: {mother.birth.year}"), (50, "Dân tộc: Kinh"), (100, "Quốc tịch: Việt Nam")], st, after_pt=2),
        field_("Nơi cư trú", mother.address, st),
        field_("Họ, chữ đệm, tên người cha", father.name, st, before_pt=3),
        Tabs([(0, f"Năm sinh: {father.birth.year}"), (50, "Dân tộc: Kinh"), (100, "Quốc tịch: Việt Nam")], st, after_pt=2),
        field_("Nơi cư trú", father.address, st),
        p("Tôi cam đoan nội dung đề nghị đăng ký khai sinh trên đây là đúng sự thật, được sự thỏa thuận nhất trí của các bên "
          "liên quan theo quy định pháp luật. Tôi chịu hoàn toàn trách nhiệm trước pháp luật về nội dung cam đoan của mình.", st, before_pt=4),
        sign_row([], sign_column(["Người yêu cầu"], a.name, date_text=f"Làm tại: xã {case.commune}, {date_line(d)}",
                                 hint="(Ký, ghi rõ họ, chữ đệm, tên)", ink=case.stamp_ink)),
    ]  # fmt: skip
    return DocSpec(
        "to_khai",
        t,
        blocks,
        meta(ngay=d, cccd=[a.cccd], ho_ten=[a.name, case.child, mother.name, father.name]),
    )


def doc_giay_chung_sinh(case: Case) -> DocSpec:
    a, o = case.applicant, case.other
    mother, father = (o, a) if a.male else (a, o)
    rng = case.rng
    st = _body(case)
    cb = case.child_birth
    so = f"{rng.randint(100, 2999)}/GCS"
    agency = [
        (
            f"SỞ Y TẾ {case.place.province_short if case.place.province == 'Hồ Chí Minh' else case.place.province.upper()}",
            False,
        ),
        ("TRUNG TÂM Y TẾ", True),
        (f"HUYỆN {case.place.district.upper()}", True),
    ]
    blocks: list = [header(agency, so, case.place.district, cb + timedelta(days=rng.randint(1, 3)))]
    blocks += title("GIẤY CHỨNG SINH")
    blocks += [
        field_("Họ và tên mẹ", mother.name, st),
        Tabs([(0, f"Năm sinh: {mother.birth.year}"), (60, "Dân tộc: Kinh")], st, after_pt=2),
        field_("Số CCCD", mother.cccd, st),
        field_("Nơi đăng ký thường trú", mother.address, st),
        field_("Họ và tên cha", father.name, st),
        field_("Đã sinh con vào lúc", f"{rng.randint(0, 23):02d} giờ {rng.randint(0, 59):02d} phút, {date_line(cb)}", st),
        field_("Tại", f"Khoa Sản, Trung tâm Y tế huyện {case.place.district}", st),
        field_("Số con trong lần sinh", "01", st),
        Tabs([(0, f"Giới tính của con: {rng.choice(['Nam', 'Nữ'])}"), (75, f"Cân nặng: {money(rng.randint(26, 40) * 100)} gram")], st, after_pt=2),
        field_("Tình trạng trẻ", "Khỏe mạnh", st),
        field_("Dự định đặt tên con", case.child, st),
        field_("Người đỡ đẻ", f"Hộ sinh {case.officials['ho_sinh']}", st),
        sign_row(
            sign_column(["NGƯỜI ĐỠ ĐẺ"], case.officials["ho_sinh"], hint="(Ký, ghi rõ họ tên)", ink=BLUE_INK),
            sign_column(["GIÁM ĐỐC"], case.officials["giam_doc_yte"], stamp=StampSpec(f"TRUNG TÂM Y TẾ HUYỆN {case.place.district.upper()} * {case.place.province_short} *"), ink=case.stamp_ink),
        ),
    ]  # fmt: skip
    md = meta(
        so_ky_hieu=so,
        ngay=cb,
        co_quan=" ".join(t for t, _ in agency),
        cccd=[mother.cccd],
        ho_ten=[mother.name, father.name, case.child],
    )
    return DocSpec("giay_chung_sinh", "GIẤY CHỨNG SINH", blocks, md)


def doc_ket_hon(case: Case) -> DocSpec:
    a, o = case.applicant, case.other
    husband, wife = (a, o) if a.male else (o, a)
    rng = case.rng
    st = _body(case)
    reg = _rand_date(
        rng, max(husband.birth, wife.birth) + timedelta(days=20 * 365), case.child_birth - timedelta(days=300)
    )
    so = f"{rng.randint(5, 120)}"
    agency = [("ỦY BAN NHÂN DÂN", True), (f"XÃ {case.commune.upper()}", True)]
    blocks: list = [header(agency, so, case.commune, reg, extra_left=[f"Quyển số: 01/{reg.year}"])]
    blocks += title("GIẤY CHỨNG NHẬN KẾT HÔN")

    def spouse(label: str, pe: Person) -> list:
        return [
            field_(f"Họ, chữ đệm, tên {label}", pe.name, bold(case.body_pt), before_pt=4),
            field_("Ngày, tháng, năm sinh", dmy(pe.birth), st),
            Tabs([(0, "Dân tộc: Kinh"), (60, "Quốc tịch: Việt Nam")], st, after_pt=2),
            field_("Nơi cư trú", pe.address, st),
            field_("Giấy tờ tùy thân", f"CCCD số {pe.cccd}", st),
        ]

    blocks += spouse("chồng", husband) + spouse("vợ", wife)
    blocks += [
        field_("Ngày, tháng, năm đăng ký", dmy(reg), st, before_pt=4),
        field_(
            "Nơi đăng ký",
            f"Ủy ban nhân dân xã {case.commune}, huyện {case.place.district}, {case.place.province_full}",
            st,
        ),
        sign_row(
            [],
            sign_column(
                ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"],
                case.officials["chu_tich_xa"],
                stamp=case.stamp(case.commune_agency_name),
                ink=case.stamp_ink,
            ),
        ),
    ]
    # the register holds the national numbers of both spouses
    md = meta(
        so_ky_hieu=so,
        ngay=reg,
        co_quan=" ".join(t for t, _ in agency),
        cccd=[husband.cccd, wife.cccd],
        ho_ten=[husband.name, wife.name],
    )
    return DocSpec("giay_chung_nhan_ket_hon", "GIẤY CHỨNG NHẬN KẾT HÔN", blocks, md)


def doc_bien_lai(case: Case, content: str, amount: int, payer: Person | None = None) -> DocSpec:
    payer = payer or case.applicant
    rng = case.rng
    st = _body(case)
    d = case.received
    so = f"{rng.randint(1, 99999):07d}"
    unit = f"Chi nhánh Văn phòng đăng ký đất đai huyện {case.place.district}"
    agency = [
        (f"UBND HUYỆN {case.place.district.upper()}", False),
        ("CHI NHÁNH VĂN PHÒNG", True),
        ("ĐĂNG KÝ ĐẤT ĐAI", True),
    ]
    right = [
        Para("Mẫu số: 01BLP2-001", Style(12.5), align="center", after_pt=0),
        Para(f"Ký hiệu: AA-{d.strftime('%y')}P", Style(12.5), align="center", after_pt=0),
        Para(f"Số: {so}", bold(13), align="center", after_pt=0),
    ]
    left = [
        Para(t, Style(12.5, "bold" if is_bold else "regular"), align="center", after_pt=0, leading=1.3)
        for t, is_bold in agency
    ]
    blocks: list = [Columns([(0.5, left), (0.5, right)], bleed_left_mm=12, after_pt=12)]
    blocks += title("BIÊN LAI THU PHÍ, LỆ PHÍ", "(Liên 2: Giao cho người nộp tiền)", ital(13))
    blocks += [
        field_("Tên đơn vị thu", unit, st),
        field_("Người nộp tiền", payer.name, st),
        field_("Địa chỉ", payer.address, st),
        field_("Nội dung thu", content, st),
        field_("Số tiền", f"{money(amount)} đồng", st),
        field_("Bằng chữ", f"{money_words(amount)}.", st),
        field_("Hình thức thanh toán", rng.choice(["Tiền mặt", "Chuyển khoản"]), st),
        Para(date_line(d, cap=True), ital(13.5), align="right", right_mm=10, before_pt=6, after_pt=0),
        sign_row(
            sign_column(["NGƯỜI NỘP TIỀN"], payer.name, hint="(Ký, ghi rõ họ tên)", ink=case.stamp_ink),
            sign_column(
                ["NGƯỜI THU TIỀN"], case.officials["thu_tien"], hint="(Ký, ghi rõ họ tên)", ink=BLUE_INK
            ),
            before_pt=2,
        ),
    ]
    md = meta(so_ky_hieu=so, ngay=d, co_quan=" ".join(t for t, _ in agency), ho_ten=[payer.name])
    return DocSpec("bien_lai", "BIÊN LAI THU PHÍ, LỆ PHÍ", blocks, md)


QD_SUBJECTS = [
    ("Về việc cho phép chuyển mục đích sử dụng đất", "chuyen_muc_dich"),
    ("Về việc cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất", "cap_gcn"),
    ("Về việc thu hồi và cấp đổi Giấy chứng nhận quyền sử dụng đất", "cap_doi"),
]


def doc_quyet_dinh(case: Case, subject: int | None = None) -> DocSpec:
    a, pc = case.applicant, case.parcel
    rng = case.rng
    st = _body(case)
    d = case.received + timedelta(days=rng.randint(5, 20))
    trich_yeu, kind = QD_SUBJECTS[rng.randrange(len(QD_SUBJECTS)) if subject is None else subject]
    so = f"{rng.randint(100, 4999)}/QĐ-UBND"
    pl = case.place
    agency = case.district_agency
    blocks: list = [*signature_box(case, "quyet_dinh", list(agency), d),
                    header([(t, True) for t in agency], so, pl.district, d)]
    blocks += title("QUYẾT ĐỊNH", trich_yeu)
    blocks.append(Para(f"ỦY BAN NHÂN DÂN HUYỆN {pl.district.upper()}", bold(14), align="center", after_pt=8))
    it_style = ital(case.body_pt)
    prev = d - timedelta(days=rng.randint(2, 9))
    can_cu = [
        "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015; Luật sửa đổi, bổ sung một số điều của Luật "
        "Tổ chức Chính phủ và Luật Tổ chức chính quyền địa phương ngày 22 tháng 11 năm 2019;",
        "Căn cứ Luật Đất đai ngày 18 tháng 01 năm 2024;",
        f"Xét đề nghị của Trưởng phòng Tài nguyên và Môi trường tại Tờ trình số {rng.randint(20, 900)}/TTr-TNMT {date_line(prev)}.",
    ]
    if rng.random() < 0.5:
        can_cu.insert(
            2,
            "Căn cứ Nghị định số 102/2024/NĐ-CP ngày 30 tháng 7 năm 2024 của Chính phủ quy định chi tiết thi hành "
            "một số điều của Luật Đất đai;",
        )
    blocks += [p(x, it_style, after_pt=2) for x in can_cu]
    blocks.append(Para("QUYẾT ĐỊNH:", bold(14), align="center", before_pt=8, after_pt=8, keep_with_next=True))
    who = f"{a.title.lower()} {a.name}"
    if kind == "chuyen_muc_dich":
        art1 = [
            f"Điều 1. Cho phép {who}, CCCD số {a.cccd}, địa chỉ thường trú tại {a.address} được chuyển mục đích sử dụng "
            f"{decimal(min(pc.area, 100.0))} m2 đất từ đất trồng cây lâu năm sang đất ở tại nông thôn thuộc thửa đất số {pc.so_thua}, "
            f"tờ bản đồ số {pc.to_ban_do} tại xã {case.commune}.",
        ]
        if rng.random() < 0.5:
            art1.append(
                f"Vị trí, ranh giới khu đất được xác định theo trích lục bản đồ địa chính số {rng.randint(10, 600)}/TL-VPĐK "
                "do Chi nhánh Văn phòng đăng ký đất đai lập."
            )
        art2 = [
            f"Điều 2. {a.title} {a.name} có trách nhiệm nộp tiền sử dụng đất, lệ phí trước bạ theo quy định; sử dụng đất đúng "
            "mục đích, đúng ranh giới đã được xác định.",
            f"Giao Phòng Tài nguyên và Môi trường chủ trì, phối hợp với Ủy ban nhân dân xã {case.commune} bàn giao đất trên thực "
            "địa và chỉnh lý hồ sơ địa chính theo quy định.",
        ]
    else:
        art1 = [
            f"Điều 1. Cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất cho {who}, CCCD số {a.cccd}, "
            f"đối với thửa đất số {pc.so_thua}, tờ bản đồ số {pc.to_ban_do}, diện tích {decimal(pc.area)} m2, mục đích sử dụng: "
            f"{pc.purpose.lower()}, tại xã {case.commune}.",
        ]
        if kind == "cap_doi":
            art1.append(
                f"Thu hồi Giấy chứng nhận số {pc.gcn_serial} do Ủy ban nhân dân huyện cấp ngày {dmy(pc.gcn_date)}."
            )
        art2 = [
            "Điều 2. Giao Chi nhánh Văn phòng đăng ký đất đai có trách nhiệm trao Giấy chứng nhận cho người được cấp sau khi "
            "người sử dụng đất đã hoàn thành nghĩa vụ tài chính; cập nhật, chỉnh lý hồ sơ địa chính theo quy định.",
        ]
    art3 = [
        "Điều 3. Quyết định này có hiệu lực kể từ ngày ký. Chánh Văn phòng HĐND và UBND huyện, Trưởng phòng Tài nguyên và "
        f"Môi trường, Chủ tịch Ủy ban nhân dân xã {case.commune} và {who} chịu trách nhiệm thi hành Quyết định này./.",
    ]
    blocks += [p(x, st) for x in art1 + art2 + art3]
    nn = noi_nhan(
        [
            "- Như Điều 3;",
            "- Sở Tài nguyên và Môi trường;",
            "- Chủ tịch, các PCT UBND huyện;",
            "- Lưu: VT, TNMT.",
        ]
    )
    signer = rng.choice(
        [
            (["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"], "chu_tich"),
            (["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"], "pho_chu_tich"),
        ]
    )
    blocks.append(
        sign_row(
            nn,
            sign_column(
                signer[0],
                case.officials[signer[1]],
                stamp=case.stamp(case.district_agency_name),
                ink=case.stamp_ink,
            ),
        )
    )
    md = meta(
        so_ky_hieu=so, ngay=d, co_quan=" ".join(agency), trich_yeu=trich_yeu, cccd=[a.cccd], ho_ten=[a.name]
    )
    return DocSpec("quyet_dinh", "QUYẾT ĐỊNH", blocks, md, max_pages=1)


def doc_giay_phep_xay_dung(case: Case) -> DocSpec:
    a, pc = case.applicant, case.parcel
    rng = case.rng
    st = _body(case)
    d = case.received + timedelta(days=rng.randint(10, 20))
    so = f"{rng.randint(10, 900)}/GPXD"
    floors = rng.randint(2, 4)
    ground = round(min(pc.area * 0.8, rng.uniform(55, 120)), 1)
    agency = case.district_agency
    blocks: list = [header([(t, True) for t in agency], so, case.place.district, d)]
    blocks += title("GIẤY PHÉP XÂY DỰNG", "(Sử dụng cho nhà ở riêng lẻ)", ital(13.5))
    blocks += [
        field_("1. Cấp cho", f"{a.title} {a.name}", st),
        field_("Địa chỉ", a.address, st, left_mm=6),
        Para("2. Được phép xây dựng công trình: Nhà ở riêng lẻ", st, align="left", after_pt=2),
        field_(
            "- Theo thiết kế",
            f"do Công ty TNHH Tư vấn Xây dựng {rng.choice(['Minh Phát', 'Hưng Thịnh', 'An Khang', 'Đại Việt'])} lập",
            st,
            left_mm=6,
        ),
        field_(
            "- Vị trí xây dựng",
            f"thửa đất số {pc.so_thua}, tờ bản đồ số {pc.to_ban_do}, {pc.address}",
            st,
            left_mm=6,
        ),
        field_(
            "- Cốt nền xây dựng công trình",
            f"+{decimal(rng.uniform(0.3, 0.6), 2)} m so với cốt mặt đường",
            st,
            left_mm=6,
        ),
        field_("- Mật độ xây dựng", f"{decimal(min(90.0, ground / pc.area * 100))}%", st, left_mm=6),
        field_("- Diện tích xây dựng tầng 1", f"{decimal(ground)} m2", st, left_mm=6),
        field_("- Tổng diện tích sàn", f"{decimal(ground * floors)} m2", st, left_mm=6),
        field_(
            "- Chiều cao công trình", f"{decimal(3.6 * floors + 0.6)} m; số tầng: {floors}", st, left_mm=6
        ),
        field_(
            "3. Giấy tờ về đất đai",
            f"Giấy chứng nhận quyền sử dụng đất số {pc.gcn_serial} cấp ngày {dmy(pc.gcn_date)}",
            st,
        ),
        p(
            "4. Giấy phép này có hiệu lực khởi công xây dựng trong thời hạn 12 tháng kể từ ngày cấp; quá thời hạn trên thì phải "
            "đề nghị gia hạn giấy phép xây dựng.",
            st,
            indent_mm=0,
        ),
    ]
    nn = noi_nhan(["- Chủ đầu tư;", f"- UBND xã {case.commune};", "- Lưu: VT, KTHT."])
    blocks.append(
        sign_row(
            nn,
            sign_column(
                ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"],
                case.officials["pho_chu_tich"],
                stamp=case.stamp(case.district_agency_name),
                ink=case.stamp_ink,
            ),
        )
    )
    md = meta(so_ky_hieu=so, ngay=d, co_quan=" ".join(agency), cccd=[], ho_ten=[a.name])
    return DocSpec("giay_phep_xay_dung", "GIẤY PHÉP XÂY DỰNG", blocks, md)


def doc_uy_quyen(case: Case) -> DocSpec:
    a, b, pc = case.applicant, case.other, case.parcel
    st = _body(case)
    d = case.received - timedelta(days=case.rng.randint(1, 10))
    t = "GIẤY ỦY QUYỀN"
    blocks: list = motto_centered() + title(t, "(Dành cho cá nhân)", ital(13.5))
    blocks += [
        p("Căn cứ Bộ luật Dân sự ngày 24 tháng 11 năm 2015;", ital(case.body_pt), after_pt=2),
        p(f"Hôm nay, {date_line(d)}, tại Ủy ban nhân dân xã {case.commune}, chúng tôi gồm:", st),
        Para("I. BÊN ỦY QUYỀN:", bold(case.body_pt), align="left", after_pt=2, keep_with_next=True),
        *_person_fields(a, st, left_mm=6),
        Para("II. BÊN ĐƯỢC ỦY QUYỀN:", bold(case.body_pt), align="left", after_pt=2, keep_with_next=True),
        *_person_fields(b, st, left_mm=6),
        Para("III. NỘI DUNG ỦY QUYỀN:", bold(case.body_pt), align="left", after_pt=2, keep_with_next=True),
        p(f"Bên được ủy quyền được thay mặt bên ủy quyền liên hệ với các cơ quan nhà nước có thẩm quyền để lập, nộp hồ sơ và nhận "
          f"kết quả thủ tục đăng ký biến động đối với thửa đất số {pc.so_thua}, tờ bản đồ số {pc.to_ban_do}, tại {pc.address}.", st),
        p("Thời hạn ủy quyền: kể từ ngày ký đến khi hoàn thành công việc được ủy quyền.", st),
        Para("IV. CAM KẾT", bold(case.body_pt), align="left", after_pt=2, keep_with_next=True),
        p("Hai bên cam kết sẽ hoàn toàn chịu trách nhiệm trước pháp luật về mọi thông tin ủy quyền ở trên. Mọi tranh chấp phát "
          "sinh giữa bên ủy quyền và bên được ủy quyền sẽ do hai bên tự giải quyết.", st),
        p("Giấy ủy quyền trên được lập thành 03 bản, mỗi bên giữ 01 bản, 01 bản lưu tại cơ quan chứng thực.", st),
        sign_row(
            sign_column(["BÊN ĐƯỢC ỦY QUYỀN"], b.name, hint="(Ký, ghi rõ họ tên)", ink=BLUE_INK),
            sign_column(["BÊN ỦY QUYỀN"], a.name, hint="(Ký, ghi rõ họ tên)", ink=case.stamp_ink),
        ),
        Para(f"XÁC NHẬN CỦA ỦY BAN NHÂN DÂN XÃ {case.commune.upper()}", bold(13.5), align="center", before_pt=10, after_pt=2, keep_with_next=True),
        p(f"Chứng thực chữ ký của {a.title.lower()} {a.name} và {b.title.lower()} {b.name} trong Giấy ủy quyền này. "
          f"Số chứng thực: {case.rng.randint(10, 900)}, quyển số 01/{d.year}-SCT/CK.", st),
        sign_row([], sign_column(["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"], case.officials["chu_tich_xa"], stamp=case.stamp(case.commune_agency_name), ink=case.stamp_ink), before_pt=2),
    ]  # fmt: skip
    return DocSpec(
        "giay_uy_quyen", t, blocks, meta(ngay=d, cccd=[a.cccd, b.cccd], ho_ten=[a.name, b.name]), footer=True
    )


SHOPS = [
    ("HỘ KINH DOANH TẠP HÓA {n}", "Bán lẻ lương thực, thực phẩm, đồ uống trong các cửa hàng chuyên doanh"),
    ("HỘ KINH DOANH QUÁN ĂN {n}", "Dịch vụ ăn uống phục vụ lưu động và nhà hàng, quán ăn"),
    ("HỘ KINH DOANH SỬA CHỮA XE MÁY {n}", "Bảo dưỡng và sửa chữa mô tô, xe máy"),
]


def shop_for(case: Case) -> tuple[str, str, int]:
    tpl, trade = case.rng.choice(SHOPS)
    return tpl.format(n=case.applicant.name.split()[-1].upper()), trade, case.rng.randint(2, 30) * 50_000_000


def doc_gcn_ho_kinh_doanh(case: Case, shop: str, trade: str, capital: int) -> DocSpec:
    a = case.applicant
    st = _body(case)
    d = case.received + timedelta(days=case.rng.randint(3, 5))
    agency = [(f"UBND HUYỆN {case.place.district.upper()}", False), ("PHÒNG TÀI CHÍNH - KẾ HOẠCH", True)]
    ma = f"{case.place.code[1:]}H8{case.rng.randint(0, 999999):06d}"
    blocks: list = [header(agency, None, case.place.district, d)]
    t = "GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH"
    blocks += title(t)
    blocks += [
        Para(f"Mã số hộ kinh doanh: {ma}", bold(case.body_pt), align="center", after_pt=0),
        Para(f"Đăng ký lần đầu: {date_line(d)}", ital(case.body_pt), align="center", after_pt=8),
        field_("1. Tên hộ kinh doanh", shop, st),
        field_("2. Địa chỉ trụ sở hộ kinh doanh", a.address, st),
        field_("Điện thoại", a.phone, st, left_mm=6),
        field_("3. Ngành, nghề kinh doanh", trade, st),
        field_("4. Vốn kinh doanh", f"{money(capital)} đồng ({money_words(capital)})", st),
        Para("5. Thông tin về chủ hộ kinh doanh:", st, align="left", after_pt=2),
        Tabs([(6, f"Họ và tên: {a.name.upper()}"), (95, f"Giới tính: {a.sex}")], st, after_pt=2),
        Tabs([(6, f"Sinh ngày: {dmy(a.birth)}"), (60, "Dân tộc: Kinh"), (100, "Quốc tịch: Việt Nam")], st, after_pt=2),
        field_("Số định danh cá nhân", a.cccd, st, left_mm=6),
        field_("Nơi thường trú", a.address, st, left_mm=6),
        sign_row([], sign_column(["TRƯỞNG PHÒNG"], case.officials["truong_phong"], stamp=StampSpec(f"PHÒNG TÀI CHÍNH - KẾ HOẠCH * HUYỆN {case.place.district.upper()} *", 16.0), ink=case.stamp_ink)),
    ]  # fmt: skip
    md = meta(so_ky_hieu=ma, ngay=d, co_quan=" ".join(t for t, _ in agency), cccd=[a.cccd], ho_ten=[a.name])
    return DocSpec("giay_chung_nhan_dang_ky_kinh_doanh", t, blocks, md)


# --------------------------------------------------------------------------------------------
# Administrative and result documents (thông báo, công văn, tờ trình, biên bản, báo cáo)
# NĐ 30 layout; some run over two pages so segmentation sees continuation pages.


def _sub_agency(case: Case, unit: str) -> list[tuple[str, bool]]:
    """A district office: "UBND HUYỆN X" (regular) over its own name (bold, wrapped as printed)."""
    return [(f"UBND HUYỆN {case.place.district.upper()}", False), *((t, True) for t in unit.split("\n"))]


def _official_sign(case: Case, *, district: bool = True) -> list:
    key, role = case.rng.choice([("chu_tich", ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]),
                                 ("pho_chu_tich", ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"])])
    if not district:
        key += "_xa"
    agency = case.district_agency_name if district else case.commune_agency_name
    return sign_column(role, case.officials[key], stamp=case.stamp(agency), ink=case.stamp_ink)


def _filler(case: Case, n: int) -> list[str]:
    """Body paragraphs of a report or letter (varied, so pages differ)."""
    pc = case.parcel
    pool = [
        f"Qua kiểm tra hồ sơ địa chính, thửa đất số {pc.so_thua}, tờ bản đồ số {pc.to_ban_do} tại xã {case.commune} "
        "có nguồn gốc sử dụng ổn định, không có tranh chấp, phù hợp với quy hoạch sử dụng đất đã được phê duyệt.",
        "Trong kỳ, bộ phận một cửa đã tiếp nhận và giải quyết đúng hạn phần lớn hồ sơ; số hồ sơ quá hạn chủ yếu do "
        "phải xác minh nguồn gốc đất, chờ ý kiến của các cơ quan có liên quan hoặc người sử dụng đất chưa bổ sung giấy tờ.",
        "Công tác cập nhật, chỉnh lý biến động đất đai được thực hiện thường xuyên; cơ sở dữ liệu địa chính từng bước "
        "được hoàn thiện, phục vụ kịp thời việc tra cứu, cung cấp thông tin cho tổ chức và công dân.",
        "Việc niêm yết công khai hồ sơ được thực hiện tại trụ sở Ủy ban nhân dân xã và nhà văn hóa thôn trong thời hạn "
        "15 ngày; trong thời gian niêm yết không có ý kiến phản ánh, khiếu nại liên quan đến thửa đất.",
        "Đề nghị các phòng, ban chuyên môn phối hợp chặt chẽ, rút ngắn thời gian luân chuyển hồ sơ giữa các cơ quan, "
        "tăng cường ứng dụng công nghệ thông tin trong tiếp nhận và trả kết quả giải quyết thủ tục hành chính.",
        "Một số hồ sơ còn thiếu thành phần theo quy định, bản sao giấy tờ chưa được chứng thực, thông tin kê khai "
        "chưa thống nhất giữa đơn đăng ký và giấy chứng nhận đã cấp, phải hướng dẫn người dân bổ sung, hoàn thiện.",
        f"Diện tích đất thực tế sử dụng là {decimal(pc.area)} m2, ranh giới thửa đất rõ ràng, mốc giới được các hộ "
        "liền kề thống nhất ký xác nhận; hiện trạng trên đất có nhà ở cấp IV và cây lâu năm.",
        "Kinh phí thực hiện được bố trí từ nguồn ngân sách huyện theo phân cấp hiện hành; các đơn vị có trách nhiệm "
        "sử dụng kinh phí đúng mục đích, tiết kiệm, hiệu quả và thanh quyết toán theo quy định.",
    ]
    rng = case.rng
    return rng.sample(pool, k=min(n, len(pool)))


THONG_BAO_SUBJECTS = [
    "Về việc nộp tiền sử dụng đất",
    "Về việc kết quả giải quyết hồ sơ đăng ký biến động đất đai",
    "Về việc bổ sung hồ sơ đề nghị cấp Giấy chứng nhận",
]


def doc_thong_bao(case: Case) -> DocSpec:
    a, pc = case.applicant, case.parcel
    rng = case.rng
    st = _body(case)
    d = case.received + timedelta(days=rng.randint(3, 15))
    ty = rng.choice(THONG_BAO_SUBJECTS)
    district = rng.random() < 0.5
    if district:
        agency = [(t, True) for t in case.district_agency]
        so = f"{rng.randint(10, 999)}/TB-UBND"
    else:
        agency = _sub_agency(case, "CHI NHÁNH VĂN PHÒNG\nĐĂNG KÝ ĐẤT ĐAI")
        so = f"{rng.randint(10, 999)}/TB-CNVPĐK"
    blocks: list = [*signature_box(case, "thong_bao", [t for t, _ in agency], d),
                    header(agency, so, case.place.district, d)]
    blocks += title("THÔNG BÁO", ty)
    body = [
        f"Căn cứ hồ sơ do {a.title.lower()} {a.name}, CCCD số {a.cccd}, thường trú tại {a.address} nộp ngày {dmy(case.received)};",
        f"Sau khi xem xét hồ sơ đối với thửa đất số {pc.so_thua}, tờ bản đồ số {pc.to_ban_do} tại xã {case.commune}, "
        "cơ quan thông báo như sau:",
    ]
    if "nộp tiền" in ty:
        amount = rng.randint(20, 400) * 1_000_000
        body += [
            f"1. Số tiền sử dụng đất phải nộp: {money(amount)} đồng (bằng chữ: {money_words(amount)}).",
            "2. Thời hạn nộp: trong thời hạn 30 ngày kể từ ngày ký Thông báo này. Quá thời hạn trên, người sử dụng đất phải "
            "nộp tiền chậm nộp theo quy định của pháp luật về quản lý thuế.",
            "3. Nơi nộp: Kho bạc Nhà nước huyện hoặc ngân hàng thương mại được ủy nhiệm thu.",
        ]
    elif "kết quả" in ty:
        body += [
            "1. Hồ sơ đủ điều kiện giải quyết theo quy định; kết quả đã được cập nhật vào hồ sơ địa chính.",
            "2. Đề nghị người sử dụng đất mang theo giấy tiếp nhận hồ sơ và căn cước công dân đến Bộ phận tiếp nhận và trả "
            "kết quả để nhận kết quả.",
        ]
    else:
        body += [
            "1. Hồ sơ chưa đủ thành phần theo quy định, cần bổ sung: bản sao hợp đồng đã được công chứng; sơ đồ thửa đất.",
            "2. Thời hạn bổ sung: 10 ngày làm việc kể từ ngày nhận được Thông báo này.",
        ]
    body += _filler(case, rng.randint(0, 2))
    blocks += [p(x, st) for x in body]
    blocks.append(sign_row(noi_nhan([f"- {a.title} {a.name};", f"- UBND xã {case.commune};", "- Lưu: VT."]),
                           _official_sign(case)))
    md = meta(so_ky_hieu=so, ngay=d, co_quan=" ".join(t for t, _ in agency), trich_yeu=ty, cccd=[a.cccd],
              ho_ten=[a.name])
    return DocSpec("thong_bao", "THÔNG BÁO", blocks, md)


CONG_VAN_SUBJECTS = [
    "V/v xác minh nguồn gốc sử dụng đất",
    "V/v cung cấp thông tin thửa đất",
    "V/v đề nghị phối hợp giải quyết hồ sơ",
]


def doc_cong_van(case: Case) -> DocSpec:
    """An official letter: no title, the subject ("V/v …") under the number in the left column."""
    a, pc = case.applicant, case.parcel
    rng = case.rng
    st = _body(case)
    d = case.received + timedelta(days=rng.randint(1, 10))
    ty = rng.choice(CONG_VAN_SUBJECTS)
    agency = [(t, True) for t in case.district_agency]
    so = f"{rng.randint(100, 3999)}/UBND-{rng.choice(['TNMT', 'VP', 'ĐC'])}"
    blocks: list = [*signature_box(case, "cong_van", [t for t, _ in agency], d),
                    header(agency, so, case.place.district, d, extra_left=[ty])]
    blocks.append(Para(f"Kính gửi: Ủy ban nhân dân xã {case.commune}", st, align="center", after_pt=8,
                       before_pt=4))
    body = [
        f"Ủy ban nhân dân huyện {case.place.district} nhận được hồ sơ của {a.title.lower()} {a.name} (CCCD số {a.cccd}) "
        f"đề nghị giải quyết thủ tục đối với thửa đất số {pc.so_thua}, tờ bản đồ số {pc.to_ban_do} tại xã {case.commune}.",
        f"Để có cơ sở giải quyết hồ sơ theo quy định, Ủy ban nhân dân huyện đề nghị Ủy ban nhân dân xã {case.commune} "
        "kiểm tra, xác minh và có văn bản trả lời về nguồn gốc, thời điểm sử dụng đất, tình trạng tranh chấp và sự phù "
        "hợp với quy hoạch của thửa đất nêu trên.",
        *_filler(case, rng.randint(1, 5)),
        "Văn bản trả lời gửi về Ủy ban nhân dân huyện (qua Phòng Tài nguyên và Môi trường) trước ngày "
        f"{dmy(d + timedelta(days=10))} để tổng hợp, giải quyết theo quy định./.",
    ]
    blocks += [p(x, st) for x in body]
    blocks.append(sign_row(noi_nhan(["- Như trên;", "- Phòng TN&MT;", "- Lưu: VT."]), _official_sign(case)))
    md = meta(so_ky_hieu=so, ngay=d, co_quan=" ".join(t for t, _ in agency), trich_yeu=ty, cccd=[a.cccd],
              ho_ten=[a.name])
    return DocSpec("cong_van", "CÔNG VĂN", blocks, md)


def doc_to_trinh(case: Case) -> DocSpec:
    a, pc = case.applicant, case.parcel
    rng = case.rng
    st = _body(case)
    d = case.received + timedelta(days=rng.randint(2, 8))
    ty = rng.choice(["Về việc đề nghị cấp Giấy chứng nhận quyền sử dụng đất",
                     "Về việc đề nghị cho phép chuyển mục đích sử dụng đất"])
    agency = _sub_agency(case, "PHÒNG TÀI NGUYÊN\nVÀ MÔI TRƯỜNG")
    so = f"{rng.randint(20, 900)}/TTr-TNMT"
    blocks: list = [*signature_box(case, "to_trinh", [t for t, _ in agency], d),
                    header(agency, so, case.place.district, d)]
    blocks += title("TỜ TRÌNH", ty)
    blocks.append(Para(f"Kính gửi: Ủy ban nhân dân huyện {case.place.district}", st, align="center", after_pt=8))
    body = [
        "Căn cứ Luật Đất đai ngày 18 tháng 01 năm 2024 và các văn bản hướng dẫn thi hành;",
        f"Xét hồ sơ của {a.title.lower()} {a.name}, CCCD số {a.cccd}, địa chỉ thường trú tại {a.address};",
        f"Phòng Tài nguyên và Môi trường đã kiểm tra hồ sơ, thẩm định thực địa thửa đất số {pc.so_thua}, tờ bản đồ số "
        f"{pc.to_ban_do}, diện tích {decimal(pc.area)} m2 tại xã {case.commune}. Kết quả: hồ sơ đủ điều kiện theo quy định.",
        *_filler(case, rng.randint(0, 3)),
        "Phòng Tài nguyên và Môi trường kính trình Ủy ban nhân dân huyện xem xét, quyết định./.",
    ]
    blocks += [p(x, st) for x in body]
    blocks.append(sign_row(noi_nhan(["- Như trên;", "- Lưu: VT, TNMT."]),
                           sign_column(["TRƯỞNG PHÒNG"], case.officials["truong_phong"],
                                       stamp=StampSpec(f"PHÒNG TÀI NGUYÊN VÀ MÔI TRƯỜNG * HUYỆN {case.place.district.upper()} *", 16.0),
                                       ink=case.stamp_ink)))
    md = meta(so_ky_hieu=so, ngay=d, co_quan=" ".join(t for t, _ in agency), trich_yeu=ty, cccd=[a.cccd],
              ho_ten=[a.name])
    return DocSpec("to_trinh", "TỜ TRÌNH", blocks, md)


def doc_bien_ban(case: Case) -> DocSpec:
    a, b, pc = case.applicant, case.other, case.parcel
    rng = case.rng
    st = _body(case)
    d = case.received + timedelta(days=rng.randint(2, 10))
    ty = rng.choice(["Về việc xác minh nguồn gốc sử dụng đất", "Về việc kiểm tra hiện trạng sử dụng đất"])
    agency = [("ỦY BAN NHÂN DÂN", True), (f"XÃ {case.commune.upper()}", True)]
    so = f"{rng.randint(5, 300)}/BB-UBND"
    blocks: list = [header(agency, so, case.commune, d)]
    blocks += title("BIÊN BẢN", ty)
    body = [
        f"Hôm nay, vào hồi {rng.randint(7, 15)} giờ {rng.choice(['00', '30'])} phút, {date_line(d)}, tại thửa đất số "
        f"{pc.so_thua}, tờ bản đồ số {pc.to_ban_do}, xã {case.commune}, chúng tôi gồm:",
        f"1. Đại diện Ủy ban nhân dân xã: ông {case.officials['pho_chu_tich_xa']}, Phó Chủ tịch; công chức địa chính xã.",
        f"2. Người sử dụng đất: {a.title.lower()} {a.name}, CCCD số {a.cccd}.",
        f"3. Chủ sử dụng đất liền kề: {b.title.lower()} {b.name}.",
        "Tiến hành xác minh, kiểm tra thực địa, kết quả như sau:",
        *_filler(case, rng.randint(1, 4)),
        "Biên bản kết thúc vào hồi cùng ngày, đã đọc lại cho các thành viên cùng nghe, thống nhất ký tên./.",
    ]
    blocks += [p(x, st) for x in body]
    blocks.append(sign_row(sign_column(["NGƯỜI SỬ DỤNG ĐẤT"], a.name, hint="(Ký, ghi rõ họ tên)", ink=BLUE_INK),
                           sign_column(["ĐẠI DIỆN UBND XÃ"], case.officials["pho_chu_tich_xa"],
                                       stamp=case.stamp(case.commune_agency_name), ink=case.stamp_ink)))
    md = meta(so_ky_hieu=so, ngay=d, co_quan=" ".join(t for t, _ in agency), trich_yeu=ty, cccd=[a.cccd],
              ho_ten=[a.name, b.name])
    return DocSpec("bien_ban", "BIÊN BẢN", blocks, md, footer=rng.random() < 0.5)


def doc_bao_cao(case: Case) -> DocSpec:
    """A report of one to three pages (numbered "Trang i/n" or not)."""
    rng = case.rng
    st = _body(case)
    d = case.received + timedelta(days=rng.randint(1, 20))
    ty = rng.choice(["Về việc kết quả giải quyết thủ tục hành chính về đất đai",
                     "Về việc tình hình cấp Giấy chứng nhận quyền sử dụng đất"])
    agency = [(t, True) for t in case.district_agency]
    so = f"{rng.randint(10, 800)}/BC-UBND"
    blocks: list = [*signature_box(case, "bao_cao", [t for t, _ in agency], d),
                    header(agency, so, case.place.district, d)]
    blocks += title("BÁO CÁO", ty)
    sections = [("I. KẾT QUẢ THỰC HIỆN", 4), ("II. TỒN TẠI, HẠN CHẾ", 3), ("III. NHIỆM VỤ, GIẢI PHÁP", 3)]
    for head, n in sections[: rng.randint(2, 3)]:
        blocks.append(Para(head, bold(case.body_pt), align="left", after_pt=3, before_pt=3, keep_with_next=True))
        total = rng.randint(40, 400)
        blocks.append(p(f"Tổng số hồ sơ tiếp nhận: {total} hồ sơ; đã giải quyết {total - rng.randint(0, 30)} hồ sơ; "
                        f"đang giải quyết trong hạn {rng.randint(0, 20)} hồ sơ.", st))
        blocks += [p(x, st) for x in _filler(case, n)]
    blocks.append(sign_row(noi_nhan(["- Thường trực Huyện ủy;", "- Sở Tài nguyên và Môi trường;", "- Lưu: VT."]),
                           _official_sign(case)))
    md = meta(so_ky_hieu=so, ngay=d, co_quan=" ".join(t for t, _ in agency), trich_yeu=ty)
    return DocSpec("bao_cao", "BÁO CÁO", blocks, md, footer=rng.random() < 0.5)


# --------------------------------------------------------------------------------------------
# Procedures: which documents a dossier holds, in filing order

PROCEDURES: dict[str, str] = {
    "chuyen_nhuong_qsdd": "Đăng ký biến động quyền sử dụng đất do chuyển nhượng",
    "dang_ky_khai_sinh": "Đăng ký khai sinh",
    "cap_phep_xay_dung": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
    "uy_quyen": "Chứng thực giấy ủy quyền",
    "dang_ky_ho_kinh_doanh": "Đăng ký thành lập hộ kinh doanh",
    "chuyen_muc_dich_su_dung_dat": "Chuyển mục đích sử dụng đất",
    "van_ban_ket_qua": "Văn bản xử lý, trả kết quả hồ sơ",
}

# (component key, probability of being included)
PROCEDURE_PARTS: dict[str, list[tuple[str, float]]] = {
    "chuyen_nhuong_qsdd": [
        ("phieu_tiep_nhan", 1.0), ("don_de_nghi", 1.0), ("can_cuoc:applicant", 1.0), ("can_cuoc:other", 1.0),
        ("giay_chung_nhan_qsdd", 1.0), ("hop_dong", 1.0), ("to_khai", 0.8), ("bien_lai", 0.8), ("quyet_dinh", 0.3),
    ],
    "dang_ky_khai_sinh": [("to_khai", 1.0), ("giay_chung_sinh", 1.0), ("can_cuoc:applicant", 1.0), ("giay_chung_nhan_ket_hon", 0.9)],
    "cap_phep_xay_dung": [
        ("phieu_tiep_nhan", 1.0), ("don_de_nghi", 1.0), ("giay_chung_nhan_qsdd", 1.0), ("can_cuoc:applicant", 1.0),
        ("bien_lai", 0.7), ("giay_phep_xay_dung", 0.8),
    ],
    "uy_quyen": [("giay_uy_quyen", 1.0), ("can_cuoc:applicant", 1.0), ("can_cuoc:other", 1.0), ("giay_chung_nhan_qsdd", 0.6)],
    "dang_ky_ho_kinh_doanh": [
        ("phieu_tiep_nhan", 0.8), ("don_de_nghi", 1.0), ("can_cuoc:applicant", 1.0), ("giay_chung_nhan_dang_ky_kinh_doanh", 0.9),
    ],
    "chuyen_muc_dich_su_dung_dat": [
        ("phieu_tiep_nhan", 0.7), ("don_de_nghi", 1.0), ("can_cuoc:applicant", 1.0), ("giay_chung_nhan_qsdd", 1.0), ("quyet_dinh", 1.0),
    ],
    "van_ban_ket_qua": [
        ("to_trinh", 0.6), ("bien_ban", 0.5), ("cong_van", 0.7), ("quyet_dinh", 1.0), ("thong_bao", 0.8), ("bao_cao", 0.5),
    ],
}  # fmt: skip

_ITEM_NAMES = {
    "don_de_nghi": "Đơn đề nghị: 01 bản chính",
    "can_cuoc": "Bản sao căn cước công dân: 01 bản sao",
    "giay_chung_nhan_qsdd": "Giấy chứng nhận quyền sử dụng đất: 01 bản gốc",
    "hop_dong": "Hợp đồng chuyển nhượng quyền sử dụng đất: 01 bản chính",
    "to_khai": "Tờ khai: 01 bản chính",
    "bien_lai": "Biên lai thu phí, lệ phí: 01 bản chính",
    "giay_uy_quyen": "Giấy ủy quyền: 01 bản chính",
}


_RESULT_BUILDERS = {"thong_bao": doc_thong_bao, "cong_van": doc_cong_van, "to_trinh": doc_to_trinh,
                    "bien_ban": doc_bien_ban, "bao_cao": doc_bao_cao}


def choose_parts(rng: random.Random, procedure: str) -> list[str]:
    return [k for k, prob in PROCEDURE_PARTS[procedure] if prob >= 1.0 or rng.random() < prob]


def build_documents(case: Case, procedure: str, parts: list[str]) -> list[DocSpec]:
    """The DocSpecs of a dossier, in the order the parts are listed."""
    docs: list[DocSpec] = []
    shop = shop_for(case) if procedure == "dang_ky_ho_kinh_doanh" else None
    items = [_ITEM_NAMES[k.split(":")[0]] for k in parts if k.split(":")[0] in _ITEM_NAMES]
    items = list(dict.fromkeys(items))
    for key in parts:
        kind, _, who = key.partition(":")
        if kind == "phieu_tiep_nhan":
            d = doc_phieu_tiep_nhan(case, PROCEDURES[procedure], items)
        elif kind == "don_de_nghi":
            if procedure == "cap_phep_xay_dung":
                d = doc_don_xay_dung(case)
            elif procedure == "dang_ky_ho_kinh_doanh":
                assert shop is not None
                d = doc_don_ho_kinh_doanh(case, *shop)
            else:
                d = doc_don_dang_ky_bien_dong(case)
        elif kind == "can_cuoc":  # "can_cuoc:applicant", "can_cuoc:other:together" (the back under the front)
            who, _, layout = who.partition(":")
            alone = {"together": False, "alone": True}.get(layout)
            d = doc_can_cuoc(case, case.other if who == "other" else case.applicant, back_alone=alone)
        elif kind == "giay_chung_nhan_qsdd":
            d = doc_gcn_qsdd(case)
        elif kind == "hop_dong":
            d = doc_hop_dong(case)
        elif kind == "to_khai":
            d = (
                doc_to_khai_khai_sinh(case)
                if procedure == "dang_ky_khai_sinh"
                else doc_to_khai_truoc_ba(case)
            )
        elif kind == "bien_lai":
            if procedure == "cap_phep_xay_dung":
                d = doc_bien_lai(case, "Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ", 75_000)
            else:
                d = doc_bien_lai(
                    case,
                    "Lệ phí đăng ký biến động đất đai",
                    case.rng.choice([30_000, 50_000, 100_000]),
                    case.other,
                )
        elif kind == "quyet_dinh":
            d = doc_quyet_dinh(case, 0 if procedure == "chuyen_muc_dich_su_dung_dat" else None)
        elif kind == "giay_chung_sinh":
            d = doc_giay_chung_sinh(case)
        elif kind == "giay_chung_nhan_ket_hon":
            d = doc_ket_hon(case)
        elif kind == "giay_phep_xay_dung":
            d = doc_giay_phep_xay_dung(case)
        elif kind == "giay_uy_quyen":
            d = doc_uy_quyen(case)
        elif kind == "giay_chung_nhan_dang_ky_kinh_doanh":
            assert shop is not None
            d = doc_gcn_ho_kinh_doanh(case, *shop)
        elif kind in _RESULT_BUILDERS:
            d = _RESULT_BUILDERS[kind](case)
        else:
            raise ValueError(f"unknown component {key!r}")
        d.seed = case.rng.randrange(1 << 30)
        docs.append(d)
    return docs
