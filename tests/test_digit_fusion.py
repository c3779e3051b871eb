"""The posterior over a handwritten blank's value from every reader of it (pipeline.understand.digit_fusion)
and its use by number_date: Tesseract's known confusions explained, disagreeing re-reads fading, a value taken
only near-certain and when every OCR reading is one Tesseract's usual errors make of it."""

from __future__ import annotations

import datetime as dt

from pipeline.manifest import BlankRead
from pipeline.understand import digit_fusion
from pipeline.understand.number_date import Evidence, decide_date, decide_digits


def probs(rows: list[dict[int, float]]) -> list[list[float]]:
    """Reader probabilities from the named classes of each digit, the rest spread evenly."""
    out = []
    for named in rows:
        rest = (1 - sum(named.values())) / (10 - len(named))
        out.append([named.get(d, rest) for d in range(10)])
    return out


def test_a_handwritten_one_read_4_by_every_reread_is_a_one_when_the_reader_is_sure():
    post = digit_fusion.posterior("04", ["04", "04", "04"], probs([{0: 0.98}, {1: 0.99}]), confidence=0.76)
    assert post.best == "01"


def test_unanimous_rereads_outweigh_a_confident_reader_of_another_value():
    # a printed italic "24" the reader (trained on handwriting) takes for 47
    post = digit_fusion.posterior("“", ["24", "24", "24"], probs([{4: 0.99}, {7: 0.94}]), confidence=0.06)
    assert post.best == "24"


def test_rereads_that_disagree_fade_and_the_reader_decides():
    # a crossed 7 read as 1, as 4 and dropped by three sizes of one crop
    post = digit_fusion.posterior("4", ["54", "514", "544"], probs([{5: 0.96}, {7: 0.82, 9: 0.12}, {4: 0.87, 9: 0.11}]),
                                  confidence=0.5)
    assert post.best == "574"
    assert post.probability < 0.99  # the re-reads still argue: not certain


def test_explained_readings():
    assert digit_fusion.explained("54", "574")  # a glyph dropped
    assert digit_fusion.explained("514", "574")  # the crossed 7 read as 1
    assert digit_fusion.explained("-{ệ", "16")  # junk symbols for pen strokes
    assert digit_fusion.explained("", "16")
    assert not digit_fusion.explained("7385", "785")  # a digit added: the ink holds more
    assert not digit_fusion.explained("45", "5")
    assert not digit_fusion.explained("839", "299")  # an unrelated digit


def test_a_near_certain_fused_value_is_taken_when_the_rules_flag_it():
    # re-reads agree on a typed 157, the rules doubt the 7 (a handwritten 1?); the reader sees 1?7
    b = BlankRead(field="so", text="I57", confidence=0.53, rereads=["157", "157", "157"],
                  hand=probs([{1: 1.0}, {3: 0.48, 7: 0.21, 5: 0.1}, {7: 1.0}]))
    assert decide_digits("I57", b, "number").value == "157"


def test_both_engines_misreading_one_glyph_alike_is_flagged_not_taken():
    # a handwritten 9 that both Tesseract and the reader see as 7; the re-reads add a digit: not explained
    b = BlankRead(field="so", text="?8,$", confidence=0.08, rereads=["7385", "7385", "785"],
                  hand=probs([{7: 0.7, 9: 0.26}, {8: 0.97}, {5: 0.99}]))
    d = decide_digits("?8,$", b, "number")
    assert d.value is None and "likeliest '785'" in d.reason


def test_the_day_is_never_taken_after_the_signature():
    # the re-reads and the reader say 27, the document was signed on the 17th: 27 is impossible
    day = BlankRead(field="day", text="27", confidence=0.5, rereads=["27", "27", "27"],
                    hand=probs([{2: 0.9}, {7: 0.95}]))
    month = BlankRead(field="month", text="01", confidence=0.97)
    d = decide_date("27", "01", "2025", Evidence([day, month], [dt.datetime(2025, 1, 17, 9, 0)]))
    assert d.value is None and d.reason


def test_a_reread_split_into_words_is_one_reading():
    b = BlankRead(field="so", text="z522", confidence=0.3, rereads=["224", "646 4", "66 34"], hand=[])
    d = decide_digits("z522", b, "number")  # no crash on int("646 4")
    assert d.value is None and d.reason


def test_a_page_reading_tesseract_doubts_vetoes_nothing():
    # re-reads 299/299/99 and the reader '?99' make 299 near certain; the page OCR's '839' (confidence 0.31)
    b = BlankRead(field="so", text="839", confidence=0.31, rereads=["299", "299", "99"],
                  hand=probs([{2: 0.31, 8: 0.3}, {9: 0.98}, {9: 0.86}]))
    assert decide_digits("839", b, "number").value == "299"
    sure = b.model_copy(update={"confidence": 0.8})  # the same reading given with confidence does veto
    assert decide_digits("839", sure, "number").value is None
