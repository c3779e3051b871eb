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
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.manifest import BlankRead
from pipeline.understand import digit_fusion

SURE = 0.9  # Tesseract word confidence from which a clean-digit reading stands on its own
HANDWRITING_DOUBT = "47"  # digits a handwritten 1 is misread as
SIGNED_BEFORE_DAYS = 92  # a document is signed at most this long after its date
USUAL_DAYS = 7  # ... and usually within this many days: the prior of a date given its signing day
TAIL = 0.05  # prior weight of a day beyond USUAL_DAYS, relative to one within
MIN_MASS = 0.2  # the reader's probability of the candidate days below which its reading decides nothing
DATE_SURE = 0.9  # posterior of a date given the handwriting and the signing day, taken without a flag
DATE_LIKELY = 0.6  # ... named to the reviewer (the field left empty)
HAND_AGREE = 0.5  # lowest digit probability of a handwritten reading another reader read exactly
HAND_VETO = 0.9  # ... of a reading that differs from the OCR's re-read value and so flags it
HAND_ONE = 0.5  # ... that an OCR reading has with a 4 or 7 for the reader's 1
FUSED_SURE = 0.9  # posterior of a value given every reading (`digit_fusion`) taken when the rules are unsure
LIMITS = {"day": 31, "month": 12}
PAGE_DOUBT = 0.5  # the page OCR's confidence below which its reading of a blank is more likely wrong than right


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


def decide_digits(main: str, blank: BlankRead | None, what: str,
                  prior: Callable[[str], float] | None = None) -> Decision:
    """The digits of one blank (number, day or month) by the rules (`_decide_by_rules`); when they leave
    it empty, the value every reading together makes near certain (`_decide_fused`; `prior` weighs
    the values, e.g. the days the signing date allows)."""
    if blank is not None and any(" " in r for r in blank.rereads):  # a re-read split into words: "646 4"
        blank = blank.model_copy(update={"rereads": [r.replace(" ", "") for r in blank.rereads]})
    d = _decide_by_rules(main, blank, what)
    if d.value is not None or blank is None or not blank.hand:
        return d  # two engines or none: Tesseract's readings alone are the rules' to judge
    return _decide_fused(main, blank, what, d, prior)


def _decide_fused(main: str, blank: BlankRead, what: str, base: Decision,
                  prior: Callable[[str], float] | None) -> Decision:
    """The likeliest value given the page OCR, the re-reads and the reader as noisy observers
    (`digit_fusion`), taken from `FUSED_SURE` when one of them read it whole (the fusion explains
    the others' misreadings, it does not invent a value nobody read) and every OCR reading is one
    Tesseract's usual errors make of it (`digit_fusion.explained`: a reading with a glyph more, or
    an unrelated digit, says the ink is not that value; a page reading Tesseract itself gives less than
    `PAGE_DOUBT` is weighed in the posterior but vetoes nothing); otherwise named to the reviewer."""
    limit = LIMITS.get(what)

    def key(form: str) -> str | None:
        if limit is None:
            return form
        return str(int(form)) if 1 <= int(form) <= limit else None

    post = digit_fusion.posterior(blank.text.strip() or main or "", blank.rereads, blank.hand,
                                  confidence=blank.confidence if blank.text.strip() else 0.5, key=key, prior=prior)
    if not post.best:
        return base
    whole = {"".join(c for c in r if c.isdigit()) for r in [blank.text, main or "", *blank.rereads]} | {hand_text(blank)}
    forms = {post.best} if limit is None else {post.best, f"{int(post.best):02d}"}
    page = (blank.text.strip() or main or "") if blank.confidence >= PAGE_DOUBT or not blank.text.strip() else ""
    readings = [r for r in [page, *blank.rereads] if r.strip()]  # a page reading Tesseract doubts vetoes nothing
    if (post.probability >= FUSED_SURE and forms & whole
            and all(any(digit_fusion.explained(r, f) for f in forms) for r in readings)):
        return Decision(post.best)
    return Decision(None, f"{base.reason}; likeliest {post.best!r} ({post.probability:.0%})")


def _decide_by_rules(main: str, blank: BlankRead | None, what: str) -> Decision:
    """The OCR's readings first (`_decide_ocr`), flagged when the OCR had to re-read the blank and the
    handwritten-digit reader is sure of another value; when they leave it empty, the reader's, if the
    OCR's readings back it (`_decide_hand`)."""
    base = _decide_ocr(main, blank, what)
    if blank is None or not blank.hand:
        return base
    if base.value is not None:
        value = hand_text(blank)
        if (blank.rereads and value != base.value and len(value) >= len(base.value)
                and min(max(p) for p in blank.hand) >= HAND_VETO):
            # the OCR was unsure of the blank (it was re-read) and the reader is sure of something else:
            # a crop that lost a glyph ("25" of 1525) reads as a clean, shorter number. (A reader that
            # sees fewer digits dropped one itself: a glyph cut by the crop's edge.)
            tried = "/".join(r or "–" for r in blank.rereads)
            return Decision(None, f"{what} read {base.value!r} (OCR {blank.text!r}, re-read {tried}) but "
                                  f"{_hand_note(blank)}")
        return base
    return _decide_hand(main, blank, what, base)


def _decide_ocr(main: str, blank: BlankRead | None, what: str) -> Decision:
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


def hand_text(blank: BlankRead | None) -> str:
    """The handwritten-digit reader's best reading of a blank ('' when it read nothing)."""
    if blank is None or not blank.hand:
        return ""
    return "".join(str(max(range(10), key=p.__getitem__)) for p in blank.hand)


def hand_likelihood(blank: BlankRead, digits: str) -> float:
    """How probable the reader finds exactly these digits in the blank (0 for another digit count)."""
    if len(digits) != len(blank.hand):
        return 0.0
    out = 1.0
    for p, d in zip(blank.hand, digits, strict=True):
        out *= p[int(d)]
    return out


def _compatible(ocr: str, value: str) -> bool:
    """An OCR reading that says the same digits, a handwritten 1 read as 4 or 7 allowed."""
    return len(ocr) == len(value) and all(a == b or (a in HANDWRITING_DOUBT and b == "1")
                                          for a, b in zip(ocr, value, strict=True))


def _hand_note(blank: BlankRead) -> str:
    value = hand_text(blank)
    probs = ", ".join(f"{max(p):.2f}" for p in blank.hand)
    return f"handwriting {value!r} ({probs})"


def _decide_hand(main: str, blank: BlankRead, what: str, base: Decision) -> Decision:
    """The reader's digits, taken when the evidence agrees:
    - another reader (the page OCR or a re-read) read exactly them, or the page OCR read as many glyphs
      with the same digit wherever it read a digit ("4‡" for 47), and the reader is not unsure of any
      digit (`HAND_AGREE`);
    - or an OCR reading is the same but for a 4 or 7 where the reader sees a 1 (Tesseract's way with a
      handwritten 1, `HAND_ONE`);
    and in every case no other OCR reading says otherwise (one of another digit count half), unless two
    or more readings agree with the reader and outnumber those that do not.
    The reader alone never decides (a crop cut through a digit reads as another number, confidently);
    for a day, the signing date can back it (`_from_hand`). Otherwise the field stays empty, the reason
    naming every reading."""
    value = hand_text(blank)
    low = min(max(p) for p in blank.hand)
    page = (blank.text.strip() or main or "").replace(" ", "")
    reads = [r for r in [page, *blank.rereads] if r.isdigit()]  # whole readings: "4D" is no reading of "4"
    same = [r for r in reads if len(r) == len(value)]
    exact = any(r == value for r in same) or (  # the page OCR saw as many glyphs, its digits where the reader's are
        any(c.isdigit() for c in page) and _agrees(page, value))
    close = any(_compatible(r, value) for r in same)
    support = sum(_compatible(r, value) for r in same)
    # every other whole reading is against: fully with as many digits, half with another count
    # (a re-read that drops or adds a glyph says the OCR is unsure, not that the reader is wrong)
    against = sum(1.0 if len(r) == len(value) else 0.5 for r in reads if not _compatible(r, value))
    if against and not (support >= 2 and support > against):
        return Decision(None, f"{base.reason}; {_hand_note(blank)}")
    if (exact and low >= HAND_AGREE) or (close and low >= HAND_ONE):
        return Decision(value)
    return Decision(None, f"{base.reason}; {_hand_note(blank)}")


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
    mm = decide_digits(month, _blank(evidence, "month"), "month")
    signed = sorted(evidence.signed_at) if evidence and evidence.signed_at else []
    dd = decide_digits(day, _blank(evidence, "day"), "day", _day_prior(signed, mm.value, year))
    hint = f"; signed {signed[0]:%d/%m/%Y}" if signed else ""
    if dd.value is None or mm.value is None:
        by_hand = _from_hand(year, evidence, signed, dd.value, mm.value)
        if by_hand is not None:
            return by_hand
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


def _day_prior(signed: list[dt.datetime], month: str | None, year: str) -> Callable[[str], float] | None:
    """P(day) from the signing date (the prior of `_from_hand`): a document is dated on the day it is
    signed or up to `USUAL_DAYS` before, rarely up to `SIGNED_BEFORE_DAYS`, never after."""
    if not signed or month is None or not year.isdigit():
        return None
    s = signed[0].date()

    def prior(day: str) -> float:
        try:
            back = (s - dt.date(int(year), int(month), int(day))).days
        except ValueError:
            return 0.0
        if back < -1 or back > SIGNED_BEFORE_DAYS:
            return 0.0
        return 1.0 if back <= USUAL_DAYS else TAIL

    return prior


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


def _from_hand(year: str, evidence: Evidence | None, signed: list[dt.datetime], day_value: str | None,
               month_value: str | None) -> Decision | None:
    """The date most probable given the handwritten day (and month) and the signing day.

    Candidates are the dates from `SIGNED_BEFORE_DAYS` before the first signature to the day after, of the
    printed year and of the month when it was read; the prior favours the `USUAL_DAYS` before signing
    (offices date a document on the day it is signed or a few days before) and the reader must give the candidate days
    `MIN_MASS` at least; the likelihood is the reader's probability of the day's digits (and the month's when it
    is handwritten too). Taken when the best date's posterior is `DATE_SURE` and it is one of the usual
    days; from `DATE_LIKELY` (or further back) it is named in the review reason and the field left empty;
    otherwise None (the other rules, then review)."""
    if not signed or not year.isdigit() or evidence is None:
        return None
    day_blank, month_blank = _blank(evidence, "day"), _blank(evidence, "month")
    if day_value is None and (day_blank is None or not day_blank.hand):
        return None
    if month_value is None and (month_blank is None or not month_blank.hand):
        return None
    s = signed[0].date()
    scored: list[tuple[float, dt.date]] = []
    for back in range(-1, SIGNED_BEFORE_DAYS + 1):
        d = s - dt.timedelta(days=back)
        if d.year != int(year) or (month_value is not None and int(month_value) != d.month):
            continue
        if day_value is not None and int(day_value) != d.day:
            continue
        like = 1.0
        if day_value is None:
            like *= _hand_day(day_blank, d.day)
        if month_value is None:
            like *= _hand_day(month_blank, d.month)
        prior = 1.0 if back <= USUAL_DAYS else TAIL
        scored.append((prior * like, d))
    if not scored:
        return None
    best, date = max(scored)
    total = sum(p for p, _ in scored)
    posterior = best / total if total else 0.0
    if day_value is None and _mass(scored, day_blank) < MIN_MASS:
        return None  # the reader sees none of the candidate days: the prior alone decides nothing
    note = _hand_note(day_blank) if day_value is None else f"day {day_value}"
    if month_value is None:
        note += f", month {_hand_note(month_blank)}"
    if posterior >= DATE_SURE and -1 <= (s - date).days <= USUAL_DAYS:
        return Decision(date.isoformat())
    if posterior >= DATE_LIKELY:  # said, not taken: the reviewer confirms it in one look
        return Decision(None, f"ngay: {note}: {date:%d/%m/%Y} is the likeliest date before the "
                              f"signature ({posterior:.0%}); signed {signed[0]:%d/%m/%Y}")
    return None


def _hand_day(blank: BlankRead, n: int) -> float:
    """The reader's probability that the blank says n (written "05" or "5")."""
    return max(hand_likelihood(blank, f"{n:02d}"), hand_likelihood(blank, str(n)))


def _mass(scored: list[tuple[float, dt.date]], day_blank: BlankRead) -> float:
    """The reader's probability that the day is one of the candidate days."""
    return sum(_hand_day(day_blank, n) for n in {d.day for _, d in scored})
