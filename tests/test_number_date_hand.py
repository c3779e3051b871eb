"""The handwritten-digit reader's evidence in the number and date decisions (pipeline.understand.number_date):
taken when the OCR's readings or the signing date back it, never alone, and never a wrong value without a flag."""

from __future__ import annotations

import datetime as dt

from pipeline.manifest import BlankRead
from pipeline.understand.number_date import Evidence, decide_date, decide_digits, hand_text


def probs(digits: str, p: float | list[float]) -> list[list[float]]:
    """Reader probabilities: each digit of `digits` at p, the rest spread over the other classes."""
    ps = p if isinstance(p, list) else [p] * len(digits)
    out = []
    for d, q in zip(digits, ps, strict=True):
        row = [(1 - q) / 9] * 10
        row[int(d)] = q
        out.append(row)
    return out


def hand(field: str, text: str, conf: float, digits: str, p, *rereads: str) -> BlankRead:
    return BlankRead(field=field, text=text, confidence=conf, rereads=list(rereads), hand=probs(digits, p))


def test_reader_and_page_ocr_that_saw_the_same_glyphs_decide():
    assert decide_digits("4‡", hand("so", "4‡", 0.9, "47", [0.96, 0.88], "", "", ""), "number").value == "47"


def test_a_handwritten_one_read_as_4_or_7_by_tesseract():
    b = hand("so", "Ø2", 0.2, "01", [1.0, 0.6], "04", "07", "04")
    assert decide_digits("Ø2", b, "number").value == "01"


def test_readings_that_disagree_leave_it_empty_with_every_reading_named():
    b = hand("so", "0+", 0.5, "09", [1.0, 0.9], "04", "04", "04")
    d = decide_digits("0+", b, "number")
    assert d.value is None and "handwriting '09'" in d.reason and "04" in d.reason


def test_the_reader_alone_never_decides():
    d = decide_digits("#", hand("so", "#", 0.1, "07", 0.99, "", "", ""), "number")
    assert d.value is None and "handwriting '07'" in d.reason
    assert hand_text(hand("so", "", 0.0, "574", 0.9)) == "574"


def _evidence(day: BlankRead, signed: dt.datetime) -> Evidence:
    return Evidence([day, BlankRead(field="month", text="01", confidence=0.96)], [signed])


def test_the_signing_day_makes_a_handwritten_day_certain():
    day = hand("day", "-{ệ", 0.2, "16", [0.56, 0.92], "46", "46", "46")
    assert decide_date("-{ệ", "01", "2025", _evidence(day, dt.datetime(2025, 1, 17, 9))).value == "2025-01-16"


def test_a_day_only_likely_is_named_not_taken():
    # "14" read, signed on the 26th: the 24th is likelier than the 14th but not certain
    day = hand("day", "4", 0.4, "14", [0.54, 0.99])
    d = decide_date("4", "01", "2025", _evidence(day, dt.datetime(2025, 1, 26, 9)))
    assert d.value is None and "24/01/2025 is the likeliest" in d.reason


def test_a_day_far_before_the_signature_is_never_taken_unflagged():
    # a crop cut through "20" leaves "2": the 2nd, nineteen days before signing, is the only fit
    day = hand("day", "4D", 0.2, "2", [0.95], "", "", "")
    d = decide_date("4D", "01", "2025", _evidence(day, dt.datetime(2025, 1, 21, 9)))
    assert d.value is None and d.reason


def test_without_a_signature_the_reader_needs_the_ocr():
    day = hand("day", "22", 0.6, "77", 0.99)  # a typewritten 22 the reader takes for 77
    d = decide_date("22", "02", "1999", Evidence([day], []))
    assert d.value is None and "handwriting '77'" in d.reason
