"""Key fields of a component, read from its OCR text: number, date, issuer, subject, people.

Each field has its own pure function that returns None (or []) when the text does not say it
clearly: a missing value sends a clerk to the page, a wrong value that looks certain does not.
Patterns are matched on tone-folded text aligned character by character with the original, so
"So: 1534/QD-UBND" (tones lost) is found, while values are cut from the original NFC text.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable

from rapidfuzz import fuzz

from pipeline.manifest import Metadata
from pipeline.textnorm import fold, nfc, squash
from pipeline.understand.classify import (
    clean_title,
    compact,
    has_place_date,
    is_agency_line,
    is_noise_line,
    is_so_line,
    is_upper_line,
    starts_like_title,
)
from pipeline.understand.idcard import read_card
from pipeline.understand.number_date import Evidence, decide_date, decide_number
from pipeline.understand.overlays import split_overlays
from pipeline.understand.taxonomy import Taxonomy, load_taxonomy

HEADER_LINES = 14
CARD_TYPES = frozenset({"can_cuoc", "ho_chieu"})  # copies of cards have no issuing-agency header
ID_CARD_TYPES = frozenset({"can_cuoc"})  # read by `pipeline.understand.idcard`

# Province codes of the 12-digit personal identification number (Thông tư 07/2016/TT-BCA).
PROVINCES = frozenset({
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020", "022",
    "024", "025", "026", "027", "030", "031", "033", "034", "035", "036", "037", "038", "040", "042",
    "044", "045", "046", "048", "049", "051", "052", "054", "056", "058", "060", "062", "064", "066",
    "067", "068", "070", "072", "074", "075", "077", "079", "080", "082", "083", "084", "086", "087",
    "089", "091", "092", "093", "094", "095", "096",
})
CENTURY_DIGITS = "0123"  # 0/1: born 1900-1999, 2/3: 2000-2099 (4-9: later centuries, not yet issued)

_FOLD_CACHE: dict[str, str] = {}


def fold_aligned(text: str) -> str:
    """`fold()` that keeps one character per input character, so match positions map back."""
    out = []
    for ch in text:
        f = _FOLD_CACHE.get(ch)
        if f is None:
            folded = fold(ch)
            f = folded if len(folded) == 1 else ch.lower() if len(ch.lower()) == 1 else ch
            _FOLD_CACHE[ch] = f
        out.append(f)
    return "".join(out)


def _lines(text: str) -> list[str]:
    return [squash(x) for x in text.splitlines() if x.strip()]


# --------------------------------------------------------------------------- số, ký hiệu

_SO_PREFIX = re.compile(r"[^a-z0-9]{0,3}s[o0]\s*(?:/\s*no\.?\s*)?[:.;]?\s*"
                        r"([0-9]{1,7}(?:\s*/\s*(?:19|20)[0-9]{2})?)\s*/\s*")
_CODE = re.compile(r"[A-ZĐ][A-Za-zĐđ0-9]{0,9}(?:\s*[-–—]\s*[A-ZĐ][A-Za-zĐđ0-9]{0,9}){0,4}")
# Đ read as D (only where D is impossible), and OCR misreadings of NĐ 30 type abbreviations.
_RESTORE_D = {"QD": "QĐ", "ND": "NĐ", "HDND": "HĐND", "TIT": "TTr", "TTR": "TTr", "TTI": "TTr"}


_SO_ONLY = re.compile(r"[^a-z0-9]{0,3}s[o0]\s*:\s*([0-9]{1,7})(?![0-9/])")
_SO_IN_LINE = re.compile(r"(?<=\s)S[ỐốOoÔô0]\s*:")  # "HUYỆN CÁT HẢI Số: 1534/…" (columns merged)
# Where a type keeps its number under another label (certificate register, notarisation, business code).
_TYPE_NUMBER_LABELS = {
    "giay_chung_nhan_qsdd": re.compile(r"vao so cap (?:gcn[a-z]?|giay chung nhan)\s*:\s*"),  # "Số" often misread
    "hop_dong": re.compile(r"so cong chung\s*:\s*"),
    "giay_chung_nhan_dang_ky_kinh_doanh": re.compile(r"ma so (?:ho kinh doanh|doanh nghiep)\s*:\s*"),
}
_LABELLED_NUMBER = re.compile(r"[A-ZĐ]{0,3}\s?[0-9][0-9A-Za-z/.\-]{0,20}")


def so_ky_hieu(text: str, type_code: str | None = None) -> str | None:
    """"Số: 1534/QĐ-UBND" -> "1534/QĐ-UBND", from a line that starts with "Số" in the header.

    Fallbacks, in order: the type's own number label ("Số công chứng: 123/2025" of a contract),
    then a bare "Số: 0001234" at the start of a header line (receipts, civil-status registers).
    """
    lines = _lines(nfc(text))
    for i, line in enumerate(lines):
        if i >= HEADER_LINES and not line.lstrip().startswith(("Số:", "SỐ:")):
            continue
        folded = fold_aligned(line)
        for start in _so_starts(line, header=i < HEADER_LINES):
            m = _SO_PREFIX.match(folded, start)
            code = _CODE.match(line, m.end()) if m else None
            if m and code:
                parts = [_RESTORE_D.get(p.strip(), p.strip()) for p in re.split(r"[-–—]", code.group(0))]
                number = "".join(m.group(1).split())
                return f"{number}/{'-'.join(parts)}"
    label = _TYPE_NUMBER_LABELS.get(type_code or "")
    if label:
        for line in lines:
            m = label.search(fold_aligned(line))
            value = _LABELLED_NUMBER.match(line, m.end()) if m else None
            if value:
                return squash(value.group(0)).rstrip(".,;-/")
    if type_code in CARD_TYPES:
        return None  # "Số / No.: 0310…" of a card is the person's number, not the document's
    for line in lines[:HEADER_LINES]:
        folded = fold_aligned(line)
        for start in _so_starts(line, header=True):
            m = _SO_ONLY.match(folded, start)
            if m:
                return m.group(1)
    return None


_SO_ANY = re.compile(r"[^a-z0-9]{0,3}s[o0]\s*[:.;]?\s*([^/\n]{0,10}?)\s*/\s*(?:((?:19|20)[0-9]{2})\s*/\s*)?")


@functools.lru_cache(maxsize=1)
def _packaged() -> Taxonomy:
    return load_taxonomy()


def warm() -> None:
    """Parse the packaged taxonomy ahead of need (~0.12 s), while a first page's OCR runs."""
    _packaged()


def _code(raw: str) -> str:
    """The code of a number, cleaned: Đ read as D restored, a letter OCR doubled in the type abbreviation
    ("QĐĐ-UBND") undone when that gives the abbreviation of a type of the packaged taxonomy."""
    parts = [_RESTORE_D.get(p.strip(), p.strip()) for p in re.split(r"[-–—]", raw)]
    first = parts[0]
    if first and _packaged().by_ky_hieu(first) is None:
        single = re.sub(r"(.)\1", r"\1", first)
        if single != first and _packaged().by_ky_hieu(single) is not None:
            parts[0] = single
    return "-".join(parts)


def header_number(text: str) -> tuple[str, str, str] | None:
    """(number as read, year or "", code) of the header's "Số: … /QĐ-UBND" line, whatever the number
    looks like: a handwritten blank the OCR read as junk ("Ø2", "0+") still has its printed code."""
    lines = _lines(nfc(text))[:HEADER_LINES]
    for line in lines:
        folded = fold_aligned(line)
        for start in _so_starts(line, header=True):
            m = _SO_ANY.match(folded, start)
            code = _CODE.match(line, m.end()) if m else None
            if m and code and re.search(r"[-–—]", code.group(0)):
                return line[m.start(1):m.end(1)].strip(), m.group(2) or "", _code(code.group(0))
    return _split_number(lines)


_SO_ALONE = re.compile(r"^[^a-z0-9]{0,3}s[o0]\s*[:.;]?\s*([^\s/]{1,8})\s*/?\s*$")
_CODE_ALONE = re.compile(r"^\s*/\s*(?:((?:19|20)[0-9]{2})\s*/\s*)?")


def _split_number(lines: list[str]) -> tuple[str, str, str] | None:
    """"Số: 542" and "/TB-UBND" on lines of their own: how a Word document's text boxes come out of
    its PDF text layer."""
    for i, line in enumerate(lines):
        m = _SO_ALONE.match(fold_aligned(line))
        if not m:
            continue
        for nxt in lines[i + 1: i + 6]:
            c = _CODE_ALONE.match(nxt)
            code = _CODE.fullmatch(nxt[c.end():].strip()) if c else None
            if code and re.search(r"[-–—]", code.group(0)):
                return line[m.start(1):m.end(1)], c.group(1) or "", _code(code.group(0))
        return None
    return None


_HEADER_DATE = re.compile(r"([^\W\d_]{2,})\s*([,;.]?)\s*ngay\s*(.{0,6}?)\s*thang\s*(.{0,6}?)\s*nam\s*([0-9]{4})\b")


def header_date(text: str) -> tuple[str, str, str] | None:
    """(day, month, year) as read on the header's place-date line ("Quảng Ngãi, ngày 17 tháng 01 năm 2025");
    day and month may be junk where they were written into blanks."""
    for line in _lines(nfc(text))[:HEADER_LINES]:
        folded = fold_aligned(line)
        if _BODY_START.match(folded):
            break  # the body has begun: its dates ("Căn cứ Quyết định số 12/QĐ-UBND ngày …") are not the header's
        for m in _HEADER_DATE.finditer(folded):
            # "Cát Hải, ngày" — the comma may be lost, the place name's capital is not ("cấp ngày" is body),
            # and a place name is no code ("… 12/QĐ-UBND ngày" quotes another document)
            word = line[m.start(1):m.end(1)]
            if m.group(2) or (word[:1].isupper() and not word.isupper()):
                return tuple(line[m.start(k):m.end(k)].strip(" .,'‘’`") for k in (3, 4, 5))  # type: ignore[return-value]
    return None


_BODY_START = re.compile(r"^\W{0,3}(?:can cu\b|kinh gui\b|xet de nghi\b|dieu 1\b)")


def _so_starts(line: str, header: bool) -> list[int]:
    """Where a "Số" label may start: the line start, and in the header a "Số:" after merged columns."""
    return [0] + ([m.start() for m in _SO_IN_LINE.finditer(line)] if header else [])


# --------------------------------------------------------------------------- ngày

_D = r"[z'‘’`]?([0-9o]{1,2})"  # "o": OCR reads 0 as O; a stray mark before it ("tháng Z7", "tháng '9")
_THANG = r"(?:thang|[a-z]{2,6})"  # "tháng", or a word OCR garbled between two numbers ("ngày 09 lun 8 năm")
_PLACE_DATE = re.compile(
    r"([^\W\d_][^\W_]{0,30})[,;]\s*ngay\s*(?::\s*)?" + _D + r"\s*(?:" + _THANG + r"\s*" + _D + r"\s*nam\s*([0-9]{4})"
    r"|[/.-]\s*" + _D + r"\s*[/.-]\s*([0-9]{4}))"
)
# "Ngày, tháng, năm / Date, month, year: 10/08/2021" (card back), "Ngày, tháng, năm đăng ký: …".
_LABEL_DATE = re.compile(
    r"ngay\W{0,3}thang\W{0,3}nam(?:\s+dang\s+ky|\s+cap)?\s*(?:/\s*date(?:\W{0,3}month\W{0,3}year|\s+of\s+issue)\s*)?:\s*"
    r"([0-9o]{1,2})\s*[/.-]\s*([0-9o]{1,2})\s*[/.-]\s*([0-9]{4})"
)
_LINE_DATE = re.compile(
    r"^[^a-z0-9]{0,3}ngay\s*(?::\s*)?" + _D + r"\s*(?:" + _THANG + r"\s*" + _D + r"\s*nam\s*([0-9]{4})"
    r"|[/.-]\s*" + _D + r"\s*[/.-]\s*([0-9]{4}))", re.MULTILINE
)


def _iso(day: str, month: str, year: str, today: dt.date | None = None) -> str | None:
    try:
        d = dt.date(int(year), int(month.replace("o", "0")), int(day.replace("o", "0")))
    except ValueError:
        return None
    today = today or dt.date.today()
    # Not in the future (a month of slack for wrong clocks); nothing older than 1900 is digitised.
    return d.isoformat() if dt.date(1900, 1, 1) <= d <= today + dt.timedelta(days=31) else None


def _date_groups(m: re.Match[str]) -> tuple[str, str, str]:
    g = m.groups()[-5:]
    day = g[0]
    return (day, g[1], g[2]) if g[1] is not None else (day, g[3], g[4])


# Where a type keeps its own key date: a birth certificate is about the birth, not the day it was written.
_TYPE_DATE_LABELS = {
    "giay_chung_sinh": re.compile(r"sinh con vao luc[^\n]{0,40}?ngay\s*" + _D + r"\s*" + _THANG + r"\s*" + _D
                                  + r"\s*nam\s*([0-9]{4})"),
}


def place_date(text: str, today: dt.date | None = None) -> str | None:
    """ISO date of a "Cát Hải, ngày 03 tháng 10 năm 2025" line (a place name, a comma, the date)."""
    text = nfc(text)
    for m in _PLACE_DATE.finditer(fold_aligned(text)):
        word = text[m.start(1):m.end(1)]
        if word[:1].isupper() or m.group(1) == "nay":  # "Cát Hải," / "Hôm nay,"
            iso = _iso(*_date_groups(m), today=today)
            if iso:
                return iso
    return None


def ngay(text: str, today: dt.date | None = None, type_code: str | None = None) -> str | None:
    """ISO date of the document: the "Cát Hải, ngày 03 tháng 10 năm 2025" line, else a labelled
    issue/registration date ("Ngày, tháng, năm: 10/08/2021" of a card), else a line starting with
    "Ngày …". Dates quoted in the body ("Căn cứ Luật … ngày …") are not used."""
    text = nfc(text)
    folded = fold_aligned(text)
    label = _TYPE_DATE_LABELS.get(type_code or "")
    if label:
        for m in label.finditer(folded):
            iso = _iso(*m.groups(), today=today)
            if iso:
                return iso
    for m in _PLACE_DATE.finditer(folded):
        word = text[m.start(1):m.end(1)]
        if not (word[:1].isupper() or m.group(1) == "nay"):  # "Cát Hải," / "Hôm nay,"
            continue
        iso = _iso(*_date_groups(m), today=today)
        if iso:
            return iso
    for m in _LABEL_DATE.finditer(folded):
        iso = _iso(*m.groups(), today=today)
        if iso:
            return iso
    for m in _LINE_DATE.finditer(folded):
        iso = _iso(*_date_groups(m), today=today)
        if iso:
            return iso
    return None


# --------------------------------------------------------------------------- cơ quan

_RIGHT_COLUMN = ("cong hoa xa hoi chu nghia viet nam", "doc lap - tu do - hanh phuc",
                 "socialist republic of viet nam", "independence - freedom - happiness")


def left_column(line: str) -> str:
    """A header line without the Quốc hiệu/Tiêu ngữ that Tesseract merged into it (either side)."""
    for target in _RIGHT_COLUMN:
        if len(compact(line)) < 0.5 * len(compact(target)):
            continue
        al = fuzz.partial_ratio_alignment(target, fold_aligned(line), score_cutoff=80)
        if al is not None and (al.dest_end - al.dest_start) >= 0.6 * len(target):
            line = line[: al.dest_start] + " " + line[al.dest_end:]
    line = squash(line)
    # The right column of receipts and forms: "Mẫu số: 01BLP2-001", "Ký hiệu: …", "Số: 0001234".
    cut = re.search(r"\b(?:mau so|ky hieu)\s*:|\bs[o0]\s*[:.]\s*\d", fold_aligned(line))
    if cut and cut.start() > 0:
        line = line[: cut.start()]
    return line.strip(" -–—_|")


def _upper_run(line: str) -> str:
    """The upper-case words a header line starts with, without the trailing debris OCR made of the
    rule under the agency ("VÀ TRẢ KẾT QUẢ m.————" -> "VÀ TRẢ KẾT QUẢ"); other lines unchanged."""
    words = line.split()
    keep: list[str] = []
    for word in words:
        letters = [c for c in word if c.isalpha()]
        if letters and all(c.isupper() for c in letters) or not letters and word in {"-", "–", "&"}:
            keep.append(word)
        else:
            break
    while keep and keep[-1] in {"-", "–", "&"}:
        keep.pop()
    if not keep or len(keep) == len(words):
        return line
    rest = " ".join(words[len(keep):])
    letters = [c for c in rest if c.isalpha()]
    return " ".join(keep) if len(letters) <= 3 else line


def co_quan(text: str, type_code: str | None = None) -> str | None:
    """Issuing body from the header's agency lines, joined ("ỦY BAN NHÂN DÂN HUYỆN CÁT HẢI")."""
    if type_code in CARD_TYPES:
        return None
    found: list[str] = []
    for line in _lines(nfc(text))[:HEADER_LINES]:
        left = _upper_run(left_column(line[:300]))  # header lines are short; longer ones are body text
        if not left:
            if found:
                break
            continue
        if not found:
            if is_agency_line(left) and is_upper_line(left):
                found.append(clean_title(left))
            elif is_so_line(left) or is_noise_line(left) or fold(left).startswith("mau"):
                continue
            else:
                break
            continue
        if (len(found) >= 3 or is_noise_line(left) or is_so_line(left) or has_place_date(left)
                or not is_upper_line(left) or starts_like_title(left) or left.rstrip().endswith(":")):
            break
        found.append(clean_title(left))
    if not found and type_code in _BODY_ISSUER:
        return _BODY_ISSUER[type_code](text)
    return squash(" ".join(found)) or None


def _issuer_under_title(text: str) -> str | None:
    """A land certificate names its issuer under the title ("ỦY BAN NHÂN DÂN HUYỆN … / chứng nhận:")."""
    for line in _lines(nfc(text))[:HEADER_LINES + 4]:
        if is_agency_line(line) and is_upper_line(line) and not starts_like_title(line):
            return clean_title(line)
    return None


_NOTARY = re.compile(r"\b(?:van phong|phong) cong chung\b")


def _notary_office(text: str) -> str | None:
    """A notarised contract is certified by "Văn phòng công chứng X" / "Phòng Công chứng số N"."""
    text = nfc(text)
    m = _NOTARY.search(fold_aligned(text))
    if not m:
        return None
    out = [squash(text[m.start():m.end()])]
    for word in text[m.end():m.end() + 80].split()[:5]:
        bare = word.rstrip(",.;:")
        if not bare or not (bare[0].isupper() or bare.isdigit() or bare.lower() == "số"):
            break
        out.append(bare)
        if bare != word:
            break
    return squash(" ".join(out)).rstrip(",.;:") if len(out) > 1 else None


_BODY_ISSUER = {"giay_chung_nhan_qsdd": _issuer_under_title, "hop_dong": _notary_office}


# --------------------------------------------------------------------------- trích yếu

_VV_LABEL = re.compile(r"^[^a-z0-9]{0,2}(v\s*/\s*v|v\.\s*v\.?|ve\s+viec|v\s*/(?=\s+[a-z]))\s*[:.]?\s*")
_STOP = re.compile(r"^(?:can cu|kinh gui|noi nhan|dieu \d|chu tich|quyet dinh\s*:|so\s*[:.]|thuc hien|theo de nghi"
                   r"|xet de nghi)")
_DATE_AFTER_PLACE = re.compile(r",\s*ngay\s*[\do]")


def _cut_right_column(segment: str) -> str:
    """Drop the right column merged into a header line: Quốc hiệu, Tiêu ngữ, "Cát Hải, ngày …"."""
    segment = left_column(segment)
    m = _DATE_AFTER_PLACE.search(fold_aligned(segment))
    if m:
        words = segment[: m.start()].split(" ")
        keep = len(words)
        while keep > 0 and len(words) - keep < 4 and words[keep - 1][:1].isupper():
            keep -= 1
        segment = " ".join(words[:keep])
    return segment


def trich_yeu(text: str, under_title: bool = True) -> str | None:
    """The subject line(s) as printed: the "Về việc …"/"V/v …" paragraph (label kept, as in document
    registers) with its wrapped lines, else (`under_title`: an issued document, with a "Số: …/…" header)
    the paragraph right under the title (a thông báo or báo cáo states its subject without a label:
    "Kết luận của …", "Tình hình …")."""
    raw = nfc(text).splitlines()
    for i, line in enumerate(raw[:40]):
        m = _VV_LABEL.match(fold_aligned(line.strip()))
        if not m:
            continue
        label = line.strip()[m.start(1):m.end(1)]
        label = "V/v" if label.replace(" ", "") == "V/" else label  # OCR lost the second v
        parts = [label, _cut_right_column(line.strip()[m.end():][:300]), *_paragraph_rest(raw, i + 1)]
        content = squash(" ".join(parts[1:])).strip(" .;,:-")
        return f"{squash(label)} {content}" if len(content) >= 3 else None
    return _under_title(raw) if under_title else None


_BODY_DATE = re.compile(r"^(?:Ngày|NGÀY)\s*\d")  # "Ngày 03/01/2025, …" opens the body (a wrapped subject says "ngày")


def _paragraph_rest(raw: list[str], start: int, limit: int = 6) -> list[str]:
    """The lines that wrap a subject: the same paragraph (no blank line), no body or signature line."""
    out: list[str] = []
    for nxt in raw[start: start + limit]:
        s = nxt.strip()
        if not s:
            break
        f = " ".join(fold(s).split())
        cont = _cut_right_column(s[:300])
        if _STOP.match(f) or is_upper_line(s) or not cont or _BODY_DATE.match(s):
            break
        out.append(cont)
    return out


def _under_title(raw: list[str]) -> str | None:
    lines = [x.strip() for x in raw[:40]]
    title = next((i for i, x in enumerate(lines) if x and starts_like_title(x) and is_upper_line(x)
                  and not is_agency_line(x)), None)
    if title is None:
        return None
    i = title + 1
    while i < len(lines) and (not lines[i] or (is_upper_line(lines[i]) and i == title + 1)):
        i += 1  # the blank line under the title, or the title's second line
    if i >= len(lines) or i > title + 3:
        return None
    first = lines[i]
    f = " ".join(fold(first).split())
    if (_STOP.match(f) or is_upper_line(first) or not first[:1].isalpha() or has_place_date(first)
            or ":" in first[:40]):
        return None  # a body line, or a form's "Họ và tên: …"
    content = squash(" ".join([_cut_right_column(first[:300]), *_paragraph_rest(raw, i + 1)])).strip(" .;,:-")
    return content if len(content.split()) >= 3 else None


# --------------------------------------------------------------------------- CCCD

_CCCD_PLAIN = re.compile(r"(?<!\d)([0-9]{12})(?!\d)")
_CCCD_LABEL = re.compile(
    r"(?:\bso\b|\bcccd\b|dinh danh(?: ca nhan)?|can cuoc(?: cong dan)?)[^\d\n]{0,12}?"
    r"(?<!\d)([0-9]{3} [0-9]{3} [0-9]{3} [0-9]{3}|[0-9]{4} [0-9]{4} [0-9]{4})(?!\s?\d)"
)
# The number on a card copy ("Số / No.: 031085001234"). OCR often drops its leading zero; every
# province code starts with 0, so 11 digits there that do not start with 0 lost exactly that zero.
_CARD_NO = re.compile(r"\bs[o0]\s*/\s*no\.?\s*:?\s*([1-9][0-9]{10})(?![0-9])")
_MRZ = re.compile(r"idvnm[0-9]{10}([0-9]{12})(?![0-9])")  # document number, check digit, personal number


def valid_cccd(number: str, today: dt.date | None = None) -> bool:
    """Structure of a 12-digit personal number: province, century/sex digit, plausible birth year."""
    if len(number) != 12 or not number.isascii() or not number.isdigit() or number[:3] not in PROVINCES:
        return False
    century, year = number[3], int(number[4:6])
    if century not in CENTURY_DIGITS:
        return False
    if century in "23":
        return year <= (today or dt.date.today()).year % 100
    return True


def cccd(text: str, today: dt.date | None = None) -> list[str]:
    """Every structurally valid CCCD number, in order, without duplicates."""
    text = nfc(text)
    folded = fold_aligned(text)
    found: list[tuple[int, str]] = []
    for m in _CCCD_PLAIN.finditer(text):
        found.append((m.start(), m.group(1)))
    for m in _CCCD_LABEL.finditer(folded):
        found.append((m.start(1), m.group(1).replace(" ", "")))
    for m in _MRZ.finditer(folded):
        found.append((m.start(1), m.group(1)))
    for m in _CARD_NO.finditer(folded):
        found.append((m.start(1), "0" + m.group(1)))
    out: list[str] = []
    for _, number in sorted(found):
        if valid_cccd(number, today) and number not in out:
            out.append(number)
    return out


def reconcile_cccd(numbers_per_component: list[list[str]], card_components: set[int] | None = None) -> list[list[str]]:
    """Fix one-digit OCR misreadings of a CCCD using the other documents of the same dossier.

    The same person's number is printed on several documents (application, card copy, contract).
    A number that differs in exactly one digit from another number of the dossier is a misreading
    when the other is read more often, or as often but on a card copy (large print): it is
    replaced by that number. Numbers with no such neighbour are kept as read.
    """
    cards = card_components or set()
    count: dict[str, int] = {}
    on_card: set[str] = set()
    for i, numbers in enumerate(numbers_per_component):
        for n in numbers:
            count[n] = count.get(n, 0) + 1
            if i in cards:
                on_card.add(n)

    def better(a: str) -> str:
        for b in count:
            if b == a or len(b) != len(a) or sum(x != y for x, y in zip(a, b, strict=True)) != 1:
                continue
            if count[b] > count[a] or (count[b] == count[a] and b in on_card and a not in on_card):
                return b
        return a

    out = []
    for numbers in numbers_per_component:
        fixed = list(dict.fromkeys(better(n) for n in numbers))
        out.append(fixed)
    return out


# --------------------------------------------------------------------------- họ tên

_NAME_LABEL = re.compile(
    r"(?:ho\s+va\s+ten(?:\s+[^:\n]{0,40})?|(?:ten\s+)?nguoi\s+nop\s+(?:tien|thue|ho\s+so)|ten\s+chu\s+dau\s+tu"
    r"|nguoi\s+yeu\s+cau|du\s+dinh\s+dat\s+ten\s+con|cap\s+cho|toi\s+(?:ten\s+)?la|ho,\s*chu\s+dem,?\s*(?:va\s+)?ten(?:\s+[^:\n]{0,30})?"
    r"|ho\s+ten(?:\s+[^:\n]{0,30})?|full\s+name|ong\s*\(?\s*/?\s*ba\s*\)?|ong|ba"
    r"|ben\s+(?:nhan\s+)?chuyen\s+nhuong(?:\s*\(\s*ben\s+[ab]\s*\))?)"
    r"\s*(?:/\s*full\s+name\s*)?:"
)
_HONORIFICS = {"ong", "ba", "anh", "chi"}
# Words that end a name. Compared with tone marks where a name could differ only by tone
# ("năm" ends "Sinh năm", "Nam" is a given name).
_NOT_NAME_EXACT = {
    "sinh", "năm", "ngày", "số", "địa", "chỉ", "quốc", "tịch", "nơi", "giới", "tính", "dân", "tộc", "điện",
    "thoại", "là", "và", "có", "chức", "vụ", "cùng", "tại", "thường", "trú", "quê", "quán", "họ", "tên",
    "định", "danh", "người", "bên", "đại", "diện", "theo", "giấy", "cấp", "thôn", "xã", "huyện", "phường",
    "tỉnh", "phố", "nghề", "nghiệp", "mã", "căn", "cước", "hộ", "chiếu", "hiện", "nay", "ở", "trình",
    "độ", "với", "của", "cho", "được",
}
_NOT_NAME_FOLDED = {"cccd", "cmnd", "date", "sex", "nationality", "place", "of", "birth", "no", "ubnd", "tp",
                    "sdt", "dt", "email", "full", "name"}


def _syllable(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    if len(letters) < 2 or len(letters) != len(word) or len(word) > 7:
        return False  # one letter is more likely a word OCR split ("T hị") than a syllable
    if not word[0].isupper():
        return False
    rest = word[1:]
    return rest == rest.lower() or rest == rest.upper()


def _read_name(words: Iterable[str]) -> str | None:
    run: list[str] = []
    for raw in words:
        word = raw.strip(".,;:()")
        if not run and fold(word).lower() in _HONORIFICS:
            continue
        if not _syllable(word) or word.lower() in _NOT_NAME_EXACT or fold(word) in _NOT_NAME_FOLDED:
            break
        run.append(word[0].upper() + word[1:].lower())
        if raw.rstrip(".,;:)") != raw:
            break  # punctuation ends the name
        if len(run) > 5:
            return None  # not a name we can delimit with confidence
    return nfc(" ".join(run)) if 2 <= len(run) <= 5 else None


# "… từ ông Nguyễn Văn An sang bà Trần Thị Bình": a lower-case honorific inside a sentence.
_PROSE_NAME = re.compile(r"(?<!\w)(?:ông|bà)\s+(?=[A-ZĐÀ-Ỹ])")


def _prose_name(rest: str, next_line: str) -> str | None:
    """A name inside a sentence, which may wrap onto the next line ("bà Lý / Hồng Mai sang …").

    Only a name that visibly ends (punctuation or a lower-case word after it) is taken: a name cut
    by the line end with nothing after it could be half a name.
    """
    words = rest.split() + ["\n"] + next_line.split()[:6]
    run: list[str] = []
    for raw in words:
        if raw == "\n":
            continue
        word = raw.strip(".,;:()")
        if _syllable(word) and word.lower() not in _NOT_NAME_EXACT and fold(word) not in _NOT_NAME_FOLDED:
            run.append(raw)
            if raw != word or len(run) > 5:
                break
            continue
        if not run or not (raw[:1].islower() or not raw[:1].isalnum()):
            return None  # the name is not followed by a clear end
        break
    else:
        return None
    return _read_name(run)


def ho_ten(text: str) -> list[str]:
    """People named after "Họ và tên:", "Ông:", "Bà:", "Bên chuyển nhượng:" … or after a lower-case
    "ông"/"bà" in a sentence; title case, in reading order, deduplicated."""
    text = nfc(text)
    lines = text.splitlines()
    found: list[tuple[int, int, str]] = []
    for i, line in enumerate(lines):
        folded = fold_aligned(line)
        for m in _NAME_LABEL.finditer(folded):
            if m.start() > 0 and folded[m.start() - 1].isalnum():
                continue  # "...ông:" inside a word
            rest = line[m.end(): m.end() + 120]  # a name is short: bounds the work on garbage
            if not any(c.isalpha() for c in rest):
                nxt = next((x for x in lines[i + 1: i + 3] if x.strip()), "")[:120]
                rest = nxt if not _NAME_LABEL.match(fold_aligned(nxt.strip())) else ""
            name = _read_name(rest.split())
            if name:
                found.append((i, m.start(), name))
        for m in _PROSE_NAME.finditer(line):
            name = _prose_name(line[m.end(): m.end() + 120], lines[i + 1] if i + 1 < len(lines) else "")
            if name:
                found.append((i, m.start(), name))
    out: list[str] = []
    seen: dict[str, int] = {}
    folded_text = " ".join(fold(text).split())
    for _, _, name in sorted(found):
        key = fold(name)
        if key in seen:  # "Võ Thành Thắng" / "Võ Thành Thăng": one person, OCR lost a tone once
            continue
        if re.search(re.escape(key) + _OFFICIAL_AFTER, folded_text):
            continue  # "ông Phạm Văn Dũng, Phó Chủ tịch": an official acting for the agency, not a party
        seen[key] = len(out)
        out.append(name)
    return out


_OFFICIAL_AFTER = r"\s*[,(-]\s*(?:pho\s+)?(?:chu tich|giam doc|truong phong|cong chuc|can bo|cong chung vien)\b"


# --------------------------------------------------------------------------- mã hồ sơ

_MA_LABEL = re.compile(r"ma\s+ho\s+so\s*[:.]?\s*([a-z0-9][a-z0-9.:\-/ ]{5,60})")
_MA_CODE = re.compile(r"(?<![\w.])((?:\d{2,3}\s*[.:]\s*)+[a-z]\d{2}|[a-z][a-z0-9.]{2,20})\s*-\s*(\d{6})\s*-\s*(\d{3,5})(?!\d)")


def _valid_yymmdd(s: str) -> bool:
    try:
        dt.date(2000 + int(s[:2]), int(s[2:4]), int(s[4:]))
    except ValueError:
        return False
    return True


def ma_ho_so(text: str) -> str | None:
    """Dossier code of the one-stop office, e.g. "000.00.20.H26-250305-0012"."""
    text = nfc(text)
    folded = fold_aligned(text)
    m = _MA_LABEL.search(folded)
    if m:
        code = _MA_CODE.search(folded, m.start(1), m.end(1))
        if code and _valid_yymmdd(code.group(2)):
            return _ma(text[code.start(1):code.end(3)])
        token = text[m.start(1):m.end(1)].split()[0].strip(".-/")
        if len(token) >= 6 and any(c.isdigit() for c in token):
            return token.upper()
    for code in _MA_CODE.finditer(folded):
        if _valid_yymmdd(code.group(2)) and any(c.isdigit() for c in code.group(1)):
            return _ma(text[code.start(1):code.end(3)])
    return None


def _ma(raw: str) -> str:
    """Spaces dropped, a dot that OCR read as a colon restored ("000.00:32.H56-…")."""
    return re.sub(r"\s+", "", raw).replace(":", ".").upper()


# --------------------------------------------------------------------------- all fields


def extract_fields(text: str, type_code: str | None = None, evidence: Evidence | None = None) -> Metadata:
    """All key fields of a component (its pages' NFC text joined); unknown fields stay empty.

    Signature boxes and stamps are left out first (`pipeline.understand.overlays`; their signing times join the
    evidence). The header's number and date are decided by `pipeline.understand.number_date`: a doubtful one is
    left empty and the reason goes to `Metadata.review`.
    """
    over = split_overlays(nfc(text or ""))
    text = over.text
    evidence = evidence or Evidence()
    if over.signed_at and not evidence.signed_at:
        evidence = Evidence(evidence.blanks, list(over.signed_at))
    review: list[str] = []
    number = None
    kind = _packaged().get(type_code or "")
    issued = kind is not None and bool(kind.ky_hieu or kind.code == "cong_van")
    head = header_number(text) if type_code not in CARD_TYPES else None
    if head is not None:
        decided = decide_number(f"{head[0]}/{head[1]}" if head[1] else head[0], head[2], evidence)
        number = decided.value
        review += [decided.reason] if decided.reason else []
    else:
        number = so_ky_hieu(text, type_code)
        if number and "/" not in number and issued:
            # an issued document's number always has its code ("12/QĐ-UBND"): a bare one is half read
            review.append(f"so_ky_hieu: only '{number}' read, without its code")
            number = None
        elif number is None and issued and any(b.field == "so" for b in evidence.blanks):
            # the page has a "Số … /…" row (its blank was cut) but its text gave no number
            review.append("so_ky_hieu: the header's 'Số: …/…' line was not read")
    date = None
    when = header_date(text) if type_code not in _TYPE_DATE_LABELS else None
    if when is not None:
        decided = decide_date(*when, evidence)
        date = decided.value
        review += [decided.reason] if decided.reason else []
    elif issued:
        # an issued document is dated on its header's place-date line only: a date at a line start
        # elsewhere is a wrapped body reference ("… Tờ trình số 397/TTr-TNMT\nngày 15 tháng 8 năm 2025")
        date = place_date(text)
        if date is None:
            review.append("ngay: the header's place-date line was not read")
    else:
        date = ngay(text, type_code=type_code)
    meta = Metadata(
        so_ky_hieu=number,
        ngay=date,
        co_quan=co_quan(text, type_code),
        trich_yeu=trich_yeu(text, under_title=head is not None),
        cccd=cccd(text),
        ho_ten=ho_ten(text),
        ma_ho_so=ma_ho_so(text),
        review=review,
    )
    if type_code in ID_CARD_TYPES:
        # the holder read from the card's own labels, the front checked against the back's MRZ
        card = read_card(text)
        update: dict = {"review": [*review, *card.review], "ngay_sinh": card.birth}
        if card.number:
            update["cccd"] = [card.number, *(n for n in meta.cccd if n != card.number)]
        if card.name:
            update["ho_ten"] = [card.name, *(n for n in meta.ho_ten if fold(n) != fold(card.name))]
        meta = meta.model_copy(update=update)
    return meta


def extract_components(texts: list[str], types: list[str], evidence: list[Evidence | None] | None = None) -> list[Metadata]:
    """Fields of every component of one dossier: `extract_fields` each, then CCCD numbers checked
    across the dossier (`reconcile_cccd`), so one digit misread on one page is put right."""
    evidence = evidence or [None] * len(texts)
    metas = [extract_fields(t, c, e) for t, c, e in zip(texts, types, evidence, strict=True)]
    cards = {i for i, c in enumerate(types) if c in CARD_TYPES}
    fixed = reconcile_cccd([m.cccd for m in metas], cards)
    return [m.model_copy(update={"cccd": f}) if f != m.cccd else m for m, f in zip(metas, fixed, strict=True)]
