"""Page classification, first cut: rules over the Nghị định 30/2020/NĐ-CP page layout.

A page of an administrative document starts with a header (agency, "Số: …", Quốc hiệu, Tiêu ngữ,
place and date), then the upper-case title ("QUYẾT ĐỊNH"). The title decides the type; the body's
cue words are a weaker signal. OCR loses tone marks and splits or merges lines, so everything is
compared on folded text (`fold`) with edit-distance similarity.

A trained model comes later: it only has to implement `PageClassifier.classify_page(text)`;
`segment()` takes any such classifier. The layout helpers here (`is_quoc_hieu`, `is_so_line`,
`has_place_date`, `is_agency_line`) are shared with `pipeline.understand.extract`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from pipeline.textnorm import fold, nfc, squash
from pipeline.understand.mrz import find_td1
from pipeline.understand.overlays import split_overlays
from pipeline.understand.taxonomy import FALLBACK, DocType, Taxonomy

MAX_CHARS = 20_000  # text scanned per page: bounds the cost of garbage or huge OCR output
MAX_LINES = 80  # lines read for the layout (header, title)
HEADER_LINES = 14  # the header of a page never runs longer than this
TITLE_WINDOW = 8  # the title is within this many lines after the header
MATCH = 0.75  # prefix similarity from which a title counts as matched
CLEAR = 0.90  # prefix similarity of a clear title match

# Calibrated scores (see module docstring of tests/test_classify.py for the expectations).
SCORE_NOTHING = 0.2
SCORE_UNREADABLE = 0.1
SCORE_HEADER_ONLY = 0.25
SCORE_CARD_BACK = 0.7
SCORE_CONG_VAN = 0.8
SCORE_LINE_MATCH = 0.75
CONFLICT_CAP = 0.55  # under the review threshold: the title and the number's type code disagree
SCORE_KY_HIEU = 0.75  # no title read, but the number's code names the type ("Số: 12/QĐ-UBND")
SCORE_CONG_VAN_KINH_GUI = 0.7  # no title, a number with no type code and "Kính gửi:"

_QUOC_HIEU = ("conghoaxahoichunghiavietnam", "socialistrepublicofvietnam")
_TIEU_NGU = ("doclaptudohanhphuc", "independencefreedomhappiness")

# Agency lines. Single syllables are compared with their tone marks (SỞ is an agency, SỔ a
# document); longer prefixes on folded text, which survives lost tones.
_AGENCY_EXACT = {"SỞ", "BỘ", "CỤC", "HỘI", "ĐOÀN", "TRƯỜNG", "PHÒNG", "UBND", "HĐND", "BHXH"}
_AGENCY_FOLDED = (
    "uy ban", "ubnd", "hdnd", "hoi dong", "phong", "cong an", "chi nhanh", "van phong", "trung tam",
    "chi cuc", "tong cuc", "cuc thue", "toa an", "vien kiem sat", "kho bac", "bo phan", "ngan hang",
    "cong ty", "benh vien", "dang uy", "mat tran", "bao hiem xa hoi", "bhxh", "thanh tra", "bo cong an",
    "bo tai nguyen", "so tai nguyen", "so tu phap", "so xay dung", "so ke hoach", "so noi vu",
    "so tai chinh", "so giao", "so nong nghiep", "so cong thuong", "so y te", "ban quan ly", "ban chi dao",
    "ban chi huy", "ban dan toc", "ban tiep cong dan",
)
_ADMIN_UNITS = ("huyen", "xa", "tinh", "thanh pho", "tp", "quan", "phuong", "thi xa", "thi tran")
# Lines that are upper-case but never a title: signatures, roles, body headings.
_NOT_TITLE = (
    "chu tich", "pho chu tich", "giam doc", "pho giam doc", "truong phong", "pho truong", "cuc truong",
    "thu truong", "chanh van phong", "kt", "tm", "tl", "tuq", "nguoi", "kinh gui", "noi nhan",
    "ben a", "ben b", "ben chuyen", "ben nhan", "dieu", "can cu", "ve viec", "v/v", "dai dien",
    "can bo", "phu luc", "danh sach kem theo", "ho va ten", "full name", "quyet dinh:",
)
_STAMPS = ("saoybanchinh", "bansaoybanchinh", "bansao", "chungthucbansaodungvoibanchinh", "chungthuc",
           "dakyso", "daky")
_ACTING = re.compile(r"^q\s*\.")  # "Q. CHỦ TỊCH" (acting), not the Q of a spaced-out "Q U Y Ế T"
_FORM_LINE = re.compile(r"^(mau so|mau\b|ky hieu|ma ho so|ma so|quyen so|so seri|seri)")
_SO_LINE = re.compile(r"^s[o0]\s*(?:/\s*no\.?\s*)?[:.]?\s*(?:\d|[._…]{2,}|/)")
_PLACE_DATE = re.compile(r"ngay\s*[\d.…_o ]{1,5}\s*thang\s*[\d.…_o ]{1,5}\s*nam\b")
_VV = re.compile(r"^(?:v\s*/\s*v|v\.v|ve viec)\b")
_TRANG = re.compile(r"\btrang\s*(\d{1,3})\s*(?:/|tren|of)\s*\d{1,3}\b")
_PAGE_NO = re.compile(r"^[-–(]?\s*(\d{1,3})\s*[-–)]?$")
_DIEU = re.compile(r"^(?:dieu|khoan|muc|chuong)\s*\d+")
_ITEM = re.compile(r"^(?:\d{1,2}\s*[.)]\s+|[a-zđ]\)\s*|[-+•*]\s*\w)")
_CARD_BACK_STRONG = ("dac diem nhan dang", "idvnm", "personal identification", "ngon tro trai",
                     "ngon tro phai", "left index finger", "right index finger")
_CARD_BACK_WEAK = ("ngay, thang, nam", "date, month, year", "cuc canh sat quan ly hanh chinh", "noi dang ky khai sinh",
                   "ministry of public security", "date of issue")
# The code of "Số: 12/QĐ-UBND" (its first part, "QĐ", names the type: Phụ lục III NĐ 30/2020, the
# taxonomy's `ky_hieu`); the number may be a handwritten blank the OCR read as junk ("Ø2 /CT-UBND").
_KY_HIEU = re.compile(r"^s[o0]\s*[:.;]?\s*[^\s/]{0,6}\s*/\s*(?:(?:19|20)\d{2}\s*/\s*)?([a-z]{1,5})\s*[-–]\s*[a-z]")
_VV_SHORT = re.compile(r"^\W{0,3}v\s*/\s*v\b")  # "V/v" (not "Về việc", which follows any title)
_KINH_GUI = re.compile(r"^\W{0,3}kinh\s*gui\b")
CONG_VAN_LINES = 30  # "V/v" and "Kính gửi:" of a công văn are this near the top
_NON_ALNUM = re.compile(r"[^a-z0-9]")
# A Vietnamese syllable once tones and vowel marks are folded away (onset, vowel cluster, coda).
_SYLLABLE = re.compile(r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?$")
_TOKEN = re.compile(r"[^\W_]+")
UNREADABLE_WORDS = 20  # a page needs this many words before it can be called unreadable
UNREADABLE_SHARE = 0.5  # below this share of Vietnamese-looking words a page is unreadable
_EDGE_NOISE = re.compile(r"^(?:[^\w(]|_)+|(?:[^\w)]|_)+$")


@dataclass(frozen=True)
class PageGuess:
    """What one page looks like. `cues` lists the evidence, for review and debugging."""

    code: str
    score: float
    title: str | None = None
    is_start: bool = False
    cues: tuple[str, ...] = ()
    card_back: bool = False  # back side of an identity card (MRZ, "Đặc điểm nhận dạng")
    continuation: bool = False  # explicit sign the page continues a document ("Trang 2/3", "Điều 4.")


class PageClassifier(Protocol):
    """The seam for a trained model: anything that turns one page's OCR text into a guess."""

    def classify_page(self, text: str) -> PageGuess: ...


# --------------------------------------------------------------------------- layout helpers


def compact(text: str) -> str:
    """Folded letters and digits only: robust to lost tones, broken spacing and punctuation."""
    return _NON_ALNUM.sub("", fold(text))


def _folded(line: str) -> str:
    return " ".join(fold(line).split())


def _fuzzy_contains(comp: str, targets: tuple[str, ...]) -> bool:
    for target in targets:
        if len(comp) >= 0.8 * len(target) and fuzz.partial_ratio(target, comp, score_cutoff=85):
            return True
    return False


def is_quoc_hieu(line: str) -> bool:
    """Quốc hiệu or Tiêu ngữ (Vietnamese or English), also when merged into another line."""
    comp = compact(line)
    return _fuzzy_contains(comp, _QUOC_HIEU) or _fuzzy_contains(comp, _TIEU_NGU)


def is_so_line(line: str) -> bool:
    """The "Số: 1534/QĐ-UBND" line (also blank "Số: …/…" of drafts)."""
    return bool(_SO_LINE.match(_folded(line)))


def has_place_date(line: str) -> bool:
    """Contains "ngày … tháng … năm" (filled in or left blank)."""
    return bool(_PLACE_DATE.search(_folded(line)))


def _starts_with(folded: str, prefixes: tuple[str, ...]) -> bool:
    return any(folded == p or folded.startswith(p + " ") or folded.startswith(p + ".")
               or folded.startswith(p + ":") for p in prefixes)


def is_agency_line(line: str) -> bool:
    """A line naming an agency ("ỦY BAN NHÂN DÂN", "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG", "UBND …")."""
    stripped = _EDGE_NOISE.sub("", line)
    first = stripped.split(maxsplit=1)[0].upper() if stripped.split() else ""
    return first in _AGENCY_EXACT or _starts_with(_folded(stripped), _AGENCY_FOLDED)


def is_admin_unit_line(line: str) -> bool:
    """"HUYỆN CÁT HẢI", "XÃ …": the second line of an agency name."""
    return _starts_with(_folded(_EDGE_NOISE.sub("", line)), _ADMIN_UNITS)


def _letters(line: str) -> list[str]:
    return [c for c in line if c.isalpha()]


def is_noise_line(line: str) -> bool:
    """Separator rules, stray marks, stamps: lines that carry no layout information."""
    letters = _letters(line)
    visible = [c for c in line if not c.isspace()]
    if len(letters) < 3 or len(letters) < 0.5 * len(visible):
        return True
    comp = compact(line)
    return any(comp.startswith(stamp) and len(comp) - len(stamp) <= 8 for stamp in _STAMPS)


def is_upper_line(line: str) -> bool:
    """Mostly upper-case letters (OCR noise and the odd lower-case misread allowed)."""
    letters = _letters(line)
    if len(letters) < 3:
        return False
    visible = [c for c in line if not c.isspace()]
    upper = sum(1 for c in letters if c.isupper())
    return upper >= 0.75 * len(letters) and len(letters) >= 0.6 * len(visible)


def clean_title(line: str) -> str:
    return squash(_EDGE_NOISE.sub("", line))


def _title_candidate(line: str) -> bool:
    if not is_upper_line(line) or is_quoc_hieu(line) or is_so_line(line) or has_place_date(line):
        return False
    if is_agency_line(line) or line.rstrip().endswith(":"):
        return False
    folded = _folded(clean_title(line))
    return not (_starts_with(folded, _NOT_TITLE) or _ACTING.match(folded))


def upper_prefix(line: str) -> str | None:
    """The leading upper-case words of a line ("QUYẾT ĐỊNH Về việc …" -> "QUYẾT ĐỊNH"), if a title-like run."""
    run: list[str] = []
    for word in line.split():
        letters = _letters(word)
        if not letters or not all(c.isupper() for c in letters):
            break
        run.append(word)
    if len(run) < 2 or len(run) == len(line.split()) or sum(len(_letters(w)) for w in run) < 5:
        return None
    text = " ".join(run)
    return text if _title_candidate(text) else None


@dataclass
class Layout:
    """What the top of a page looks like."""

    header_end: int = 0  # index of the first line after the header
    strong_header: bool = False  # Quốc hiệu, "Số:" or place-date seen: this is a first page
    date_only: bool = False  # the only header evidence is a place-date line (as above a signature)
    has_vv: bool = False  # "V/v …" in the header: a công văn
    ky_hieu: str | None = None  # the first code part of "Số: 12/QĐ-UBND" ("QĐ"), as printed
    kinh_gui: bool = False  # "Kính gửi:" near the top (a công văn, tờ trình, đơn)
    continuation: str | None = None  # why the page continues a document, if it visibly does
    page_number: int | None = None  # a bare page number (≥ 2) on top: weaker, a clear title overrides it
    blocks: tuple[tuple[str, ...], ...] = ()  # candidate titles: upper-case line blocks after the header
    top_lines: tuple[str, ...] = ()  # other lines near the top, for a title OCR'd in lower case


def read_layout(text: str) -> Layout:
    """Split the top of a page into header, title candidates and the first body lines."""
    all_lines = [squash(x) for x in nfc((text or "")[:MAX_CHARS]).splitlines() if x.strip()]
    lines = all_lines[:MAX_LINES]
    lay = Layout()
    prev = ""
    agency_open = False  # an agency name started and no "Số"/date line closed the left column yet
    seen: set[str] = set()
    # Lines above the Quốc hiệu that are no agency name are debris (a seal's text, a punched hole).
    motto = next((i for i, x in enumerate(lines[:HEADER_LINES]) if is_quoc_hieu(x)), 0)
    for i, line in enumerate(lines[:HEADER_LINES]):
        f = _folded(line)
        kind = ""
        if is_quoc_hieu(line) or is_so_line(line) or has_place_date(line):
            kind = "strong"
            seen.add("date" if has_place_date(line) and not (is_quoc_hieu(line) or is_so_line(line)) else "strong")
            if is_so_line(line) or _KY_HIEU.match(f):
                m = _KY_HIEU.match(f)
                lay.ky_hieu = lay.ky_hieu or (_original(line, f, m) if m else None)
            if is_so_line(line) or has_place_date(line):
                agency_open = False
            elif is_agency_line(line):  # "UBND HUYỆN … CỘNG HÒA XÃ HỘI …": columns merged
                agency_open = True
        elif _VV.match(f):
            kind = "vv"
            lay.has_vv = True
        elif prev == "vv" and line[:1].islower():
            kind = "vv"
        elif _FORM_LINE.match(f) or is_noise_line(line):
            kind = "skip"
        elif is_agency_line(line) or (agency_open and (
                is_admin_unit_line(line) or (is_upper_line(line) and not starts_like_title(line)))):
            kind = "agency"
            agency_open = True
        elif (i < 2 and len(line.split()) <= 5 and not is_upper_line(line)
              and any(is_quoc_hieu(x) or is_so_line(x) or is_agency_line(x) for x in lines[i + 1: i + 3])):
            kind = "skip"  # OCR debris above the header ("vn: Mẫu số: 01/LPTB", a punched-hole mark)
        elif i < motto:
            kind = "skip"
        if not kind:
            break
        lay.strong_header = lay.strong_header or kind == "strong"
        if kind == "agency":
            seen.add("agency")
        lay.header_end = i + 1
        prev = kind if kind != "skip" else prev
    lay.date_only = seen == {"date"}
    for line in lines[:CONG_VAN_LINES]:
        f = _folded(line)
        lay.has_vv = lay.has_vv or bool(_VV_SHORT.match(f) and lay.strong_header)
        lay.kinh_gui = lay.kinh_gui or bool(_KINH_GUI.match(f))
    first = _PAGE_NO.match(lines[0]) if lines else None
    if first and int(first.group(1)) >= 2 and not lay.strong_header:
        lay.page_number = int(first.group(1))  # NĐ 30 numbers pages from 2, at the top
    edges = all_lines[:3] + all_lines[-3:]
    for line in edges:
        m = _TRANG.search(_folded(line))
        if m and int(m.group(1)) >= 2:
            lay.continuation = squash(line)
    blocks: list[tuple[str, ...]] = []
    top: list[str] = []
    counted = 0
    i = lay.header_end
    end = min(len(lines), lay.header_end + TITLE_WINDOW)
    first_content = True
    while i < end and counted < 3:
        line = lines[i]
        if is_noise_line(line):
            m = _PAGE_NO.match(line.strip())
            if first_content and not lay.strong_header and m and int(m.group(1)) >= 2:
                lay.page_number = lay.page_number or int(m.group(1))
            i += 1
            continue
        if first_content and not lay.strong_header:
            reason = _continuation_start(line)
            if reason:
                lay.continuation = lay.continuation or reason
                break
        first_content = False
        if _is_header_line(line):
            i += 1  # a header line the OCR placed late (the date line under a stray fragment)
            continue
        if len(line.split()) <= 2 and not _title_candidate(line):
            top.append(clean_title(line))  # a fragment ("của:") or a lower-case title ("Biên bản")
            i += 1
            continue
        counted += 1
        if _title_candidate(line):
            block = [clean_title(line)]
            j = i + 1
            while j < len(lines) and len(block) < 3 and _joins_title(lines[j]) \
                    and sum(len(b) for b in block) + len(lines[j]) <= 160:
                block.append(clean_title(lines[j]))
                j += 1
            blocks.append(tuple(block))
            i = j
            continue
        prefix = upper_prefix(line)
        if prefix:
            blocks.append((clean_title(prefix),))
        top.append(clean_title(line))
        i += 1
    lay.blocks = tuple(blocks)
    lay.top_lines = tuple(top)
    return lay


def _original(line: str, folded: str, m: re.Match[str]) -> str:
    """The matched code part as printed ("QĐ", "TTr"): folded text lost Đ, the taxonomy keeps it."""
    start = len(folded[:m.start(1)].replace(" ", ""))
    raw = "".join(line.split())
    return raw[start:start + len(m.group(1))] if raw else m.group(1)


def _is_header_line(line: str) -> bool:
    return is_quoc_hieu(line) or is_so_line(line) or has_place_date(line) or bool(_FORM_LINE.match(_folded(line)))


def _joins_title(line: str) -> bool:
    """A title wrapped onto this line ("VÀ TÀI SẢN KHÁC …"), not a table heading like "STT"."""
    return _title_candidate(line) and (len(line.split()) >= 2 or len(_letters(line)) >= 4)


def starts_like_title(line: str) -> bool:
    """An upper-case line after an agency line that is plainly a title, not agency continuation."""
    return _title_candidate(line) and _starts_with(
        _folded(clean_title(line)),
        ("quyet dinh", "thong bao", "giay", "don", "to khai", "to trinh", "bao cao", "bien ban", "bien lai",
         "hop dong", "phieu", "van ban", "trich", "cong van", "ke hoach", "hoa don", "ban ve", "can cuoc",
         "chi thi", "nghi quyet", "quy che", "quy dinh", "thong cao", "huong dan", "chuong trinh", "phuong an",
         "de an", "du an", "cong dien", "ban ghi nho", "ban thoa thuan", "thu ", "chung minh nhan dan"),
    )


def _continuation_start(line: str) -> str | None:
    """Why a page that begins with this line continues a document (None: it does not say)."""
    s = line.strip()
    f = _folded(s)
    if _DIEU.match(f):
        return "starts with " + " ".join(s.split()[:2])
    if len([w for w in s.split() if any(c.isalpha() for c in w)]) < 3:
        return None  # too short to tell body text from OCR debris
    first_letter = next((c for c in s if c.isalpha()), "")
    if _ITEM.match(f):
        return "starts with a list item"
    if first_letter.islower():
        return "starts mid-sentence"
    return None


def readable_share(text: str) -> tuple[float, int]:
    """(share of words that look like Vietnamese syllables or numbers, number of words).

    Text OCR'd from a page scanned upside down, a photo or a drawing comes out as fragments like
    "8u0'] ñH uaÁn8N": most of its words are no Vietnamese syllable. English and other languages
    score low too, which is also right: they are no document of the taxonomy.
    """
    words = _TOKEN.findall(fold(nfc((text or "")[:MAX_CHARS])))
    if not words:
        return 0.0, 0
    good = sum(1 for w in words if w.isdigit() or _SYLLABLE.match(w))
    return good / len(words), len(words)


def is_unreadable(text: str) -> bool:
    """Enough text, but mostly not Vietnamese words: the OCR read nonsense or another language."""
    share, n = readable_share(text)
    return n >= UNREADABLE_WORDS and share < UNREADABLE_SHARE


def is_card_back(text: str) -> bool:
    """Back side of an identity card: "Đặc điểm nhận dạng", fingerprints, the MRZ (`IDVNM…`, or any
    ICAO zone), the 2024 card's "Nơi đăng ký khai sinh" under "BỘ CÔNG AN"."""
    text = nfc((text or "")[:MAX_CHARS])
    # the 2024 card's front says "Personal identification number": not the back's "Personal identification"
    f = _folded(text).replace("personal identification number", "")
    strong = sum(1 for c in _CARD_BACK_STRONG if c in f)
    weak = sum(1 for c in _CARD_BACK_WEAK if c in f)
    return strong >= 2 or (strong >= 1 and weak >= 1) or "idvnm" in f or find_td1(text) is not None


# --------------------------------------------------------------------------- title matching


@dataclass(frozen=True)
class TitleMatch:
    code: str
    title: str  # the taxonomy title that matched
    sim: float  # prefix similarity 0..1
    coverage: float  # share of the page title that the taxonomy title explains

    @property
    def weight(self) -> float:
        """Longer matched titles are more specific: "GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT" beats "GIẤY"."""
        return self.sim * len(compact(self.title))


def prefix_similarity(candidate: str, title: str) -> float:
    """How well `title` matches the start of `candidate` (compact forms), 0..1."""
    c, t = candidate, title
    if not c or not t:
        return 0.0
    best = 0.0
    for n in range(max(1, len(t) - 2), len(t) + 3):
        best = max(best, Levenshtein.normalized_similarity(t, c[:n]))
        if n >= len(c):
            break
    return best


class RuleClassifier:
    """Rule-based `PageClassifier` over one taxonomy."""

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self._titles: list[tuple[DocType, str, str]] = [
            (t, title, compact(title)) for t in taxonomy.types for title in t.titles if compact(title)
        ]
        counts: dict[str, int] = {}
        for t in taxonomy.types:
            for cue in {_folded(c) for c in t.cues}:
                counts[cue] = counts.get(cue, 0) + 1
        self._cues: list[tuple[str, str, re.Pattern[str], float]] = []
        for t in taxonomy.types:
            for cue in t.cues:
                f = _folded(cue)
                if f:
                    pattern = re.compile(r"(?<![a-z0-9])" + re.escape(f) + r"(?![a-z0-9])")
                    self._cues.append((t.code, cue, pattern, 1.0 / counts[f]))

    # -- title
    def match_title(self, title: str) -> list[TitleMatch]:
        """Every type whose title matches the start of `title`, best first."""
        c = compact(_strip_copy_mark(title))
        best: dict[str, TitleMatch] = {}
        for doc, t_text, t_comp in self._titles:
            sim = prefix_similarity(c, t_comp)
            if sim < MATCH:
                continue
            m = TitleMatch(doc.code, t_text, sim, min(1.0, len(t_comp) / max(1, len(c))))
            old = best.get(doc.code)
            if old is None or (m.sim, m.weight) > (old.sim, old.weight):
                best[doc.code] = m
        return sorted(best.values(), key=lambda m: (m.weight, m.sim), reverse=True)

    def _line_match(self, line: str) -> TitleMatch | None:
        """A top line that is nothing but a title, written in lower case by OCR ("Quyết định")."""
        c = compact(line)
        found = None
        for doc, t_text, t_comp in self._titles:
            sim = Levenshtein.normalized_similarity(c, t_comp)
            if sim >= 0.85 and (found is None or sim * len(t_comp) > found.weight):
                found = TitleMatch(doc.code, t_text, sim, 1.0)
        return found

    def first_match(self, blocks: tuple[tuple[str, ...], ...]) -> tuple[str, list[TitleMatch]] | None:
        """The first block (or tail of a block: an unknown line may precede the title) that matches."""
        for block in blocks:
            for k in range(len(block)):
                candidate = " ".join(block[k:])
                found = self.match_title(candidate)
                if found:
                    return candidate, found
        return None

    # -- cues
    def cue_scores(self, folded_text: str) -> tuple[dict[str, float], dict[str, list[str]]]:
        """Weighted cue hits per type; a cue shared by k types weighs 1/k."""
        scores: dict[str, float] = {}
        hits: dict[str, list[str]] = {}
        for code, cue, pattern, weight in self._cues:
            if pattern.search(folded_text):
                scores[code] = scores.get(code, 0.0) + weight
                hits.setdefault(code, []).append(cue)
        return scores, hits

    def classify_page(self, text: str) -> PageGuess:
        try:
            return self._classify(text)
        except Exception:  # pragma: no cover - a guess must never stop a dossier
            return PageGuess(FALLBACK, SCORE_NOTHING, cues=("error",))

    def _classify(self, text: str) -> PageGuess:
        text = nfc((text or "")[:MAX_CHARS])
        if is_unreadable(text):
            # Its own component, flagged: merging nonsense into the previous document would hide a
            # document scanned upside down; a layout read from nonsense means nothing.
            return PageGuess(FALLBACK, SCORE_UNREADABLE, None, True, ("unreadable text",))
        text = split_overlays(text).text  # signature boxes and stamps are not the document
        lay = read_layout(text)
        folded = _folded(text)
        cue_scores, cue_hits = self.cue_scores(folded)
        kind = self.taxonomy.by_ky_hieu(lay.ky_hieu) if lay.ky_hieu else None
        if kind is not None:
            cue_scores[kind.code] = cue_scores.get(kind.code, 0.0) + 1.5
            cue_hits.setdefault(kind.code, []).append(f"ký hiệu {lay.ky_hieu}")
        back = is_card_back(text)
        evidence: list[str] = []
        if lay.strong_header:
            evidence.append("header")
        if back:
            evidence.append("card back")

        title = " ".join(lay.blocks[0]) if lay.blocks else None
        match: TitleMatch | None = None
        runner_up: TitleMatch | None = None
        hit = self.first_match(lay.blocks)
        if hit:
            title, found = hit
            match = found[0]
            runner_up = next((m for m in found[1:] if m.code != match.code), None)
        if lay.page_number and not (match and match.sim >= CLEAR):
            lay.continuation = lay.continuation or f"page number {lay.page_number}"
        continuing = lay.continuation is not None
        if continuing:
            evidence.append(f"continuation: {lay.continuation}")
        line_match = None
        if match is None:
            for line in lay.top_lines:
                line_match = self._line_match(line)
                if line_match:
                    title = line
                    break

        if match is not None and kind is not None and kind.code != match.code and match.sim < CLEAR:
            # A title read fuzzily against the printed code of the number: the code decides.
            evidence.append(f"ký hiệu {lay.ky_hieu} over title {match.title} ({match.sim:.2f})")
            return PageGuess(kind.code, SCORE_KY_HIEU, title, not continuing, tuple(evidence), back, continuing)
        if match is not None:
            if match.sim >= CLEAR:
                score = 0.88 + 0.08 * (match.sim - CLEAR) / (1 - CLEAR) + 0.03 * match.coverage
            else:
                score = 0.65 + 0.23 * (match.sim - MATCH) / (CLEAR - MATCH)
            if runner_up is not None and runner_up.weight >= 0.9 * match.weight:
                score -= 0.1  # two types fit about equally well
            score += min(0.02, 0.01 * len(cue_hits.get(match.code, [])))
            if kind is not None and kind.code == match.code:
                score += 0.03
            elif kind is not None:
                score = min(score, CONFLICT_CAP)  # a clear title and a number of another type: a person looks
                evidence.append(f"ký hiệu {lay.ky_hieu} of another type")
            evidence.append(f"title: {match.title} ({match.sim:.2f})")
            evidence += [f"cue: {c}" for c in cue_hits.get(match.code, [])]
            return PageGuess(match.code, _clip(score), title, not continuing, tuple(evidence), back, continuing)
        if line_match is not None and (kind is None or kind.code == line_match.code):
            evidence.append(f"title line: {line_match.title} ({line_match.sim:.2f})")
            return PageGuess(line_match.code, SCORE_LINE_MATCH, title, not continuing, tuple(evidence), back,
                             continuing)
        if kind is not None and lay.strong_header and not continuing:
            evidence.append(f"ký hiệu {lay.ky_hieu} (no title read)")
            return PageGuess(kind.code, SCORE_KY_HIEU, title, True, tuple(evidence), back, continuing)
        if lay.has_vv and lay.strong_header and self.taxonomy.get("cong_van") and not continuing:
            evidence.append("V/v in header")
            return PageGuess("cong_van", SCORE_CONG_VAN, title, True, tuple(evidence), back, continuing)
        if (lay.kinh_gui and lay.ky_hieu and lay.strong_header and not continuing
                and self.taxonomy.get("cong_van")):
            # "Số: 299/UBND-TTHC" (no type code: a công văn's number) and "Kính gửi:", no title
            evidence.append(f"number {lay.ky_hieu}-… with no type code, Kính gửi")
            return PageGuess("cong_van", SCORE_CONG_VAN_KINH_GUI, title, True, tuple(evidence), back, continuing)
        if back and self.taxonomy.get("can_cuoc"):
            return PageGuess("can_cuoc", SCORE_CARD_BACK, title, False, tuple(evidence), True, continuing)
        # A place-date line alone, with no title, is the date above a signature ("Làm tại: xã …, ngày …")
        # on the last page of a form, not the header of a new document.
        starts = lay.strong_header and not continuing and not lay.date_only
        if cue_scores:
            ranked = sorted(cue_scores.items(), key=lambda kv: kv[1], reverse=True)
            code, weight = ranked[0]
            if weight >= 1.0:
                score = min(0.55, 0.35 + 0.1 * weight)
                if len(ranked) > 1 and ranked[1][1] >= 0.8 * weight:
                    score -= 0.1  # cues of two types: no real evidence either way
                evidence += [f"cue: {c}" for c in cue_hits.get(code, [])]
                return PageGuess(code, _clip(score), title, starts, tuple(evidence), back, continuing)
        score = SCORE_HEADER_ONLY if lay.strong_header else SCORE_NOTHING
        return PageGuess(FALLBACK, score, title, starts, tuple(evidence), back, continuing)


def _strip_copy_mark(title: str) -> str:
    """ "BẢN SAO TRÍCH LỤC KHAI SINH" -> "TRÍCH LỤC KHAI SINH"."""
    f = _folded(title)
    for mark in ("ban sao ", "ban chinh ", "trich sao "):
        if f.startswith(mark):
            return title.split(maxsplit=2)[2] if len(title.split()) > 2 else title
    return title


def _clip(score: float) -> float:
    return round(min(0.99, max(0.0, score)), 3)


_CACHE: dict[str, RuleClassifier] = {}


def rule_classifier(taxonomy: Taxonomy) -> RuleClassifier:
    """One compiled classifier per taxonomy content (cached by fingerprint)."""
    key = taxonomy.fingerprint
    if key not in _CACHE:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = RuleClassifier(taxonomy)
    return _CACHE[key]


def find_title(text: str, taxonomy: Taxonomy | None = None) -> str | None:
    """The title of a page (upper-case block after the header), or None on a continuation page.

    With a taxonomy, the first block that matches a known title wins over an earlier unknown
    upper-case line (e.g. an agency line the layout rules did not recognise).
    """
    lay = read_layout(split_overlays(text).text)
    if taxonomy is not None:
        hit = rule_classifier(taxonomy).first_match(lay.blocks)
        if hit:
            return hit[0]
    return " ".join(lay.blocks[0]) if lay.blocks else None


def classify_page(text: str, taxonomy: Taxonomy) -> PageGuess:
    """Classify one page's OCR text with the rule-based classifier."""
    return rule_classifier(taxonomy).classify_page(text)
