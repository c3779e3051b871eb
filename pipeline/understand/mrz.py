"""The machine-readable zone of an identity card (ICAO 9303 TD1: 3 lines of 30 characters).

The back of a Vietnamese chip CCCD (2021) and of the 2024 Căn cước carries

    IDVNM0790123456001079012345<<4     document code, state, document number (the last 9 digits of
    9001017M3001015VNM<<<<<<<<<<<8     the personal number) + check, optional data (the 12-digit
    NGUYEN<<VAN<AN<<<<<<<<<<<<<<<<     personal number); birth YYMMDD + check, sex, expiry + check,
                                       nationality, composite check; surname<<given<names

Every number in it is protected by a check digit (weights 7, 3, 1), so a read that passes its checks
is a reliable witness for the number and birth date printed on the front. Written here rather than
taken from PyPI: `mrz` (the one maintained-looking parser) has had no release since 2020 and checks
the Vietnamese optional data as a plain filler; the format itself is a page of code.

Pure functions only: text in, `Td1` out. `find_td1()` takes OCR text (Tesseract's reading of the
zone, with its usual confusions of O/0, I/1, « for <<) and returns the best-checking parse.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from pipeline.ocr.mrz_zone import fit_line

LINE = 30
_VALUES = {**{str(d): d for d in range(10)}, **{chr(ord("A") + i): 10 + i for i in range(26)}, "<": 0}
_WEIGHTS = (7, 3, 1)
# OCR confusions, by what a position must hold
_TO_DIGIT = str.maketrans({"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "T": "1", "Z": "2",
                           "S": "5", "G": "6", "B": "8", "A": "4"})
_TO_ALPHA = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"})
_MRZ_CHARS = re.compile(r"^[A-Z0-9<]+$")


def check_digit(field_text: str) -> str:
    """ICAO 9303 check digit of a field: weights 7-3-1, letters A=10 … Z=35, filler < = 0."""
    total = 0
    for i, ch in enumerate(field_text):
        total += _VALUES.get(ch, 0) * _WEIGHTS[i % 3]
    return str(total % 10)


def _date(yymmdd: str, *, future: bool) -> dt.date | None:
    """YYMMDD -> date. Birth dates are in the past (19xx when 20xx would be in the future); expiry
    dates within a century from today."""
    if not re.fullmatch(r"\d{6}", yymmdd):
        return None
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    this = dt.date.today().year % 100
    century = 2000 if (future or yy <= this) else 1900
    try:
        return dt.date(century + yy, mm, dd)
    except ValueError:
        return None


@dataclass(frozen=True)
class Td1:
    """One parsed TD1 zone; `*_ok` say whether each check digit holds."""

    lines: tuple[str, str, str]
    document_code: str
    issuer: str
    document_number: str
    optional1: str
    birth: dt.date | None
    sex: str  # M, F or <
    expiry: dt.date | None  # None also for "no expiry" (<<<<<<)
    nationality: str
    optional2: str
    surname: str
    given_names: str
    number_ok: bool
    birth_ok: bool
    expiry_ok: bool
    composite_ok: bool
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def valid(self) -> bool:
        """Every check digit holds: the numbers are as printed."""
        return self.number_ok and self.birth_ok and self.expiry_ok and self.composite_ok

    @property
    def personal_number(self) -> str | None:
        """The 12-digit personal number (số định danh cá nhân) of a Vietnamese card: the first 12 digits of
        the optional data, which end in the 9-digit document number."""
        m = re.match(r"(\d{12})", self.optional1)
        if m and m.group(1).endswith(self.document_number):
            return m.group(1)
        return None

    @property
    def name(self) -> str:
        """SURNAME GIVEN NAMES, as the zone spells it (no tone marks)."""
        return " ".join(p for p in (self.surname, self.given_names) if p)


def _fix(text: str, table: dict) -> str:
    return text.translate(table)


def normalise_line(raw: str) -> str:
    """One OCR'd zone line: upper case, spaces out, « and similar read as fillers."""
    s = raw.upper().replace("«", "<<").replace("‹", "<").replace("≤", "<").replace("K<", "<<")
    s = re.sub(r"\s+", "", s)
    return re.sub(r"[^A-Z0-9<]", "<", s)


def parse_td1(lines: list[str] | tuple[str, ...]) -> Td1 | None:
    """Parse three zone lines; OCR confusions are undone by position (digits where digits belong).
    None when the lines are not a TD1 zone at all."""
    if len(lines) != 3:
        return None
    a, b, c = (fit_line(normalise_line(x)) for x in lines)
    if not a[:1].isalpha() and a[:1] not in "I1":
        return None
    code = _fix(a[0:2], _TO_ALPHA)
    issuer = _fix(a[2:5], _TO_ALPHA)
    number = a[5:14]
    if issuer == "VNM":  # the Vietnamese document number is all digits
        number = _fix(number, _TO_DIGIT)
    number_cd = _fix(a[14], _TO_DIGIT)
    opt1 = a[15:30]
    if issuer == "VNM":
        opt1 = _fix(opt1[:12], _TO_DIGIT) + opt1[12:]
    birth_s, birth_cd = _fix(b[0:6], _TO_DIGIT), _fix(b[6], _TO_DIGIT)
    sex = {"H": "M", "P": "F"}.get(b[7], b[7])
    expiry_s, expiry_cd = b[8:14], b[14]
    if expiry_s.strip("<"):
        expiry_s, expiry_cd = _fix(expiry_s, _TO_DIGIT), _fix(expiry_cd, _TO_DIGIT)
    nationality = _fix(b[15:18], _TO_ALPHA)
    opt2 = b[18:29]
    composite_cd = _fix(b[29], _TO_DIGIT)
    names = _fix(c, _TO_ALPHA).rstrip("<")
    surname, _, given = names.partition("<<")
    problems = []
    number_ok = check_digit(number) == number_cd
    birth_ok = check_digit(birth_s) == birth_cd
    expiry_ok = check_digit(expiry_s) == expiry_cd or (not expiry_s.strip("<") and expiry_cd in "<0")
    composite = number + number_cd + opt1 + birth_s + birth_cd + expiry_s + expiry_cd + opt2
    composite_ok = check_digit(composite) == composite_cd
    for ok, what in ((number_ok, "document number"), (birth_ok, "birth date"), (expiry_ok, "expiry date"),
                     (composite_ok, "composite")):
        if not ok:
            problems.append(f"MRZ check digit of the {what} fails")
    birth = _date(birth_s, future=False)
    if birth is None:
        problems.append(f"MRZ birth date {birth_s!r} is no date")
    return Td1(
        lines=(a, b, c), document_code=code.rstrip("<"), issuer=issuer, document_number=number.rstrip("<"),
        optional1=opt1.rstrip("<"), birth=birth, sex=sex, expiry=_date(expiry_s, future=True),
        nationality=nationality, optional2=opt2.rstrip("<"), surname=surname.replace("<", " ").strip(),
        given_names=given.replace("<", " ").strip(), number_ok=number_ok, birth_ok=birth_ok,
        expiry_ok=expiry_ok, composite_ok=composite_ok, problems=tuple(problems),
    )


def looks_like_zone_line(raw: str) -> bool:
    """A line that could be one of the zone's: long, upper-case letters, digits and fillers only."""
    s = re.sub(r"\s+", "", raw.replace("«", "<<"))
    if len(s) < 14 or len(s) > 40:
        return False
    good = sum(1 for ch in s if ch.isascii() and (ch.isupper() or ch.isdigit() or ch == "<"))
    return good >= 0.85 * len(s) and ("<" in s or s[:2].upper() in ("ID", "I<", "1D"))


def find_td1(text: str) -> Td1 | None:
    """The zone in a page's text: three consecutive zone-like lines starting with the document line;
    of several candidates the one whose check digits hold best."""
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    best: Td1 | None = None
    best_score = -1
    for i in range(len(lines) - 2):
        window = lines[i:i + 3]
        if not all(looks_like_zone_line(x) for x in window):
            continue
        td = parse_td1(window)
        if td is None:
            continue
        score = sum((td.number_ok, td.birth_ok, td.expiry_ok, td.composite_ok)) + (td.issuer == "VNM")
        if score > best_score:
            best, best_score = td, score
    return best


def make_td1(*, number12: str, birth: dt.date, sex: str, expiry: dt.date | None, surname: str,
             given_names: str, issuer: str = "VNM", code: str = "ID") -> tuple[str, str, str]:
    """The zone of a Vietnamese card, check digits computed (for generated test cards)."""
    number = number12[-9:]
    opt1 = (number12 + "<<" + check_digit(number12))[:15]
    a = f"{code:<<2}{issuer}{number}{check_digit(number)}{opt1}".replace(" ", "<")
    a = (a + "<" * LINE)[:LINE]
    b_birth = birth.strftime("%y%m%d")
    b_exp = expiry.strftime("%y%m%d") if expiry else "<<<<<<"
    exp_cd = check_digit(b_exp) if expiry else "<"
    opt2 = "<" * 11
    head = f"{b_birth}{check_digit(b_birth)}{sex}{b_exp}{exp_cd}{issuer}{opt2}"
    composite = a[5:30] + b_birth + check_digit(b_birth) + b_exp + exp_cd + opt2
    b = head + check_digit(composite)
    name = (surname.replace(" ", "<") + "<<" + given_names.replace(" ", "<")).upper()
    c = (name + "<" * LINE)[:LINE]
    return a, b, c


__all__ = ["Td1", "check_digit", "find_td1", "looks_like_zone_line", "make_td1", "normalise_line", "parse_td1"]
