"""The ID card's machine-readable zone: ICAO check digits, OCR confusions, front-vs-zone cross-check."""

from __future__ import annotations

import datetime as dt

from pipeline.understand.idcard import read_card
from pipeline.understand.mrz import check_digit, find_td1, make_td1, parse_td1

ZONE = make_td1(number12="001079012345", birth=dt.date(1979, 1, 2), sex="M", expiry=dt.date(2039, 1, 2),
                surname="NGUYEN", given_names="VAN AN")


def test_check_digit_icao_example():
    # ICAO 9303 part 3 worked examples
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"
    assert check_digit("120415") == "9"


def test_generated_zone_parses_and_checks():
    td = parse_td1(ZONE)
    assert td is not None and td.valid, td.problems
    assert td.issuer == "VNM" and td.document_code == "ID"
    assert td.document_number == "079012345"
    assert td.personal_number == "001079012345"
    assert td.birth == dt.date(1979, 1, 2) and td.expiry == dt.date(2039, 1, 2) and td.sex == "M"
    assert td.name == "NGUYEN VAN AN"
    assert all(len(line) == 30 for line in ZONE)


def test_a_wrong_digit_is_caught():
    a, b, c = ZONE
    wrong_number = a[:9] + str((int(a[9]) + 1) % 10) + a[10:]
    td = parse_td1((wrong_number, b, c))
    assert not td.number_ok and not td.composite_ok and not td.valid
    wrong_birth = b[:3] + str((int(b[3]) + 3) % 10) + b[4:]
    td = parse_td1((a, wrong_birth, c))
    assert not td.birth_ok and not td.valid
    assert any("birth date" in p for p in td.problems)


def test_ocr_confusions_are_undone_by_position():
    a, b, c = ZONE
    ocr_a = a.replace("0", "O").replace("1", "I")  # letters where digits belong
    ocr_b = b[:18] + "«««««" + "<" + b[29]  # guillemets for fillers
    td = find_td1(f"Lê Văn Tuyến\n{ocr_a}\n{ocr_b}\n{c.replace('<<<<', '<< <<')}\nCHỨNG THỰC")
    assert td is not None and td.valid, td
    assert td.personal_number == "001079012345"


def test_front_and_zone_agree():
    front = "Số / No.: 001079012345\nHọ và tên / Full name:\nNGUYỄN VĂN AN\nNgày sinh / Date of birth: 02/01/1979\n"
    card = read_card(front + "\n".join(ZONE))
    assert (card.number, card.name, card.birth) == ("001079012345", "Nguyễn Văn An", "1979-01-02")
    assert card.review == [] and card.sources == {"number": "both", "name": "both", "birth": "both"}


def test_front_misread_against_the_zone_goes_to_review():
    front = "Số / No.: 001079012845\nHọ và tên / Full name:\nNGUYỄN VĂN AN\nNgày sinh / Date of birth: 02/07/1979\n"
    card = read_card(front + "\n".join(ZONE))
    assert card.number == "001079012345" and card.birth == "1979-01-02"  # what the check digits vouch for
    assert any("CCCD number" in r and "disagree" in r for r in card.review)
    assert any("birth date" in r and "disagree" in r for r in card.review)


def test_a_zone_that_fails_its_checks_vouches_for_nothing():
    a, b, c = ZONE
    bad = (a[:9] + str((int(a[9]) + 1) % 10) + a[10:], b, c)
    card = read_card("Số / No.: 001079012345\n" + "\n".join(bad))
    assert card.number == "001079012345" and card.sources["number"] == "front"
    assert any("check digits fail" in r for r in card.review)
