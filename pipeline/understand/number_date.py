"""Số ký hiệu and ngày ban hành of an issued document, checked against every piece of evidence.

The number and the day are often written or stamped into the header's blanks at signing
("Số: 47 /QĐ-UBND", "ngày 17 tháng 01"), and Tesseract reads handwriting badly. A wrong number
that looks certain is worse than none: it files the document under another one. So each value is
decided from what is known and, when the evidence is weak, left empty with the reason in
`Metadata.review` ("so_ky_hieu: …"), which sends the component to a person:

- the page OCR's own reading of the blank and its confidence (`Page.blanks`, `pipeline.ocr.blanks`);
- the digit-only re-reads of the blank's crop: they must agree with each other and with every digit
  the page OCR did read;
- handwritten 1s, which Tesseract reads as 4 or 7 (an up-stroke and a flag): a handwritten reading
  with a 4 or a 7 is not trusted;
- the signing time of a digital signature (the PDF's own signatures, `Page.signed_at`, else the
  "Thời gian ký" of a signature box read on the page): a document is not dated after it was signed,
  nor long before, and a handwritten day every reading of which fits the signing day is that day;
- the printed parts (the code "/QĐ-UBND", the month and year) are kept from the text.

Without blank re-reads (text only: born-digital pages, tests) a value made of clean digits is taken
as read and a junk one ("Ø2", "0+") is left empty and flagged.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from pipeline.manifest import BlankRead

SURE = 0.9  # Tesseract word confidence from which a clean-digit reading stands on its own
HANDWRITING_DOUBT = "47"  # digits a handwritten 1 is misread as
SIGNED_BEFORE_DAYS = 92  # a document is signed at most this long after its date


@dataclass
class Evidence:
    """What the understanding step knows of a component's first page besides its text."""

    blanks: list[BlankRead] = field(default_factory=list)
    signed_at: list[dt.datetime] = field(default_factory=list)  # digital signatures' signing times


VN = dt.timezone(dt.timedelta(hours=7))


def signing_times(*iso: str | None) -> list[dt.datetime]:
    """Signing times (ISO 8601, as `Page.signed_at`) as wall-clock times in Vietnam, where the date is."""
    out = []
    for value in iso:
        try:
            when = dt.datetime.fromisoformat(value) if value else None
        except ValueError:
            continue
        if when is not None:
            out.append((when.astimezone(VN) if when.tzinfo else when).replace(tzinfo=None))
    return out


@dataclass
class Decision:
    value: str | None
    reason: str | None = None  # why the value is empty or doubtful (None: no doubt)


def _blank(evidence: Evidence | None, name: str) -> BlankRead | None:
    if evidence is None:
        return None
    return next((b for b in evidence.blanks if b.field == name), None)


def _agrees(main: str, value: str) -> bool:
    """Every digit the page OCR read is where the re-read has it (junk characters say nothing)."""
    main = main.strip()
    if not main:
        return True
    if len(main) != len(value):
        return False
    return all(not a.isdigit() or a == b for a, b in zip(main, value, strict=True))


def decide_digits(main: str, blank: BlankRead | None, what: str) -> Decision:
    """The digits of one blank (number, day or month) from the text's reading and the blank's re-reads."""
    main = (main or "").strip()
    if blank is None:
        if main.isdigit():
            return Decision(main)
        return Decision(None, f"{what} not readable ({main!r})" if main else f"{what} missing")
    read = blank.text.strip() or main
    if read.isdigit() and blank.confidence >= SURE and (not blank.rereads or _consistent(read, blank.rereads)):
        return Decision(read)
    reads = [r for r in blank.rereads if r]
    tried = "/".join(r or "–" for r in blank.rereads) or "none"
    if not (blank.rereads and blank.rereads[0] and len(reads) >= 2 and len({int(r) for r in reads}) == 1):
        return Decision(None, f"{what} not readable (OCR {read!r}, re-read {tried})")
    value = max(reads, key=len)
    if not _agrees(read, value):
        return Decision(None, f"{what} read differently (OCR {read!r}, re-read {tried})")
    if any(d in value for d in HANDWRITING_DOUBT):
        return Decision(None, f"{what} handwritten, read {value!r}: a 4 or 7 may be a 1")
    return Decision(value)


def _consistent(read: str, rereads: list[str]) -> bool:
    reads = [r for r in rereads if r]
    return all(int(r) == int(read) for r in reads)


# --------------------------------------------------------------------------- số ký hiệu

_NUMBER = re.compile(r"^(.*?)/\s*((?:19|20)\d{2}\s*/\s*)?$")


def decide_number(number: str, code: str, evidence: Evidence | None) -> Decision:
    """"{number}/{code}" once the number is decided (`code` already cleaned, e.g. "QĐ-UBND")."""
    year = ""
    m = re.match(r"^(.*?)\s*/\s*((?:19|20)\d{2})$", number.strip())
    if m:
        number, year = m.group(1), m.group(2)
    d = decide_digits(number.replace(" ", ""), _blank(evidence, "so"), "number")
    if d.value is None:
        return Decision(None, f"so_ky_hieu: {d.reason} in '…/{year + '/' if year else ''}{code}'")
    return Decision(f"{d.value}/{year + '/' if year else ''}{code}")


# --------------------------------------------------------------------------- ngày


def decide_date(day: str, month: str, year: str, evidence: Evidence | None, today: dt.date | None = None) -> Decision:
    """The header date from its day, month (blanks) and year, checked against the signing time."""
    dd = decide_digits(day, _blank(evidence, "day"), "day")
    mm = decide_digits(month, _blank(evidence, "month"), "month")
    signed = sorted(evidence.signed_at) if evidence and evidence.signed_at else []
    hint = f"; signed {signed[0]:%d/%m/%Y}" if signed else ""
    if dd.value is None or mm.value is None:
        by_signature = _from_signature(day, month, year, evidence, signed, dd.value, mm.value)
        if by_signature is not None:
            return by_signature
        return Decision(None, f"ngay: {dd.reason or mm.reason}{hint}")
    try:
        date = dt.date(int(year), int(mm.value), int(dd.value))
    except ValueError:
        return Decision(None, f"ngay: no such date ({dd.value}/{mm.value}/{year}){hint}")
    today = today or dt.date.today()
    if not dt.date(1900, 1, 1) <= date <= today + dt.timedelta(days=31):
        return Decision(None, f"ngay: implausible date {date:%d/%m/%Y}")
    if signed:
        first = signed[0].date()
        if date > first + dt.timedelta(days=1):
            return Decision(None, f"ngay: read {date:%d/%m/%Y}, after the signature{hint}")
        if date < first - dt.timedelta(days=SIGNED_BEFORE_DAYS):
            return Decision(None, f"ngay: read {date:%d/%m/%Y}, long before the signature{hint}")
    return Decision(date.isoformat())


def _readings(main: str, blank: BlankRead | None) -> list[str]:
    """The digits of every reading of a blank (page OCR and re-reads), empty ones left out."""
    raw = [(blank.text if blank is not None and blank.text else main) or ""]
    raw += blank.rereads if blank is not None else []
    return [d for d in ("".join(c for c in r if c.isdigit()) for r in raw) if d]


def _fits(readings: list[str], n: int) -> tuple[bool, bool]:
    """(no reading contradicts n, one reading is all of n): a reading fits when n starts or ends with its
    digits (a mode that reads one glyph of two drops the other)."""
    forms = (f"{n:02d}", str(n))
    fits = all(any(f.endswith(r) or f.startswith(r) for f in forms) for r in readings)
    return fits, any(int(r) == n and len(r) >= len(str(n)) for r in readings)


def _from_signature(day: str, month: str, year: str, evidence: Evidence | None, signed: list[dt.datetime],
                    day_value: str | None, month_value: str | None) -> Decision | None:
    """The signing day when the handwritten day (or month) is unreadable but every digit read of it fits:
    offices sign a document on its date or within days, and the partial reading must agree.
    Taken without a flag when one reading is the whole signing day, else kept and flagged."""
    if not signed or not year.isdigit():
        return None
    s = signed[0].date()
    if s.year != int(year):
        return None
    day_reads = [day_value] if day_value else _readings(day, _blank(evidence, "day"))
    month_reads = [month_value] if month_value else _readings(month, _blank(evidence, "month"))
    day_fits, day_full = _fits(day_reads, s.day)
    month_fits, month_full = _fits(month_reads, s.month)
    if not (day_fits and month_fits and day_reads and month_reads):
        return None
    if day_full and month_full:
        return Decision(s.isoformat())
    return Decision(s.isoformat(), f"ngay: day read {'/'.join(day_reads)!r}, month {'/'.join(month_reads)!r}: "
                                   f"the signing date {s:%d/%m/%Y} fits, check")
