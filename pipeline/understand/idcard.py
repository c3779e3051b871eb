"""Identity cards: the holder's number, name and birth date, the front checked against the back's MRZ.

The front of a 2016 or 2021 CCCD prints `Số / No.: 001079012345`, `Họ và tên / Full name:` over the
name and `Ngày sinh / Date of birth: 02/01/1979`; the 2024 Căn cước prints the number under
`Số định danh cá nhân / Personal identification number:`, the name under `Họ, chữ đệm và tên khai
sinh / Full name:` and `Ngày, tháng, năm sinh / Date of birth:`. The back of the chip cards carries
the machine-readable zone (`pipeline.understand.mrz`) whose check digits vouch for its number and
birth date. When both sides are there they must agree; when they do not, the field the zone vouches
for is taken from the zone and the component goes to review with the reason. A wrong value is never
returned silently: a front read that nothing confirms is kept, one the zone contradicts is flagged.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from pipeline.textnorm import fold, nfc
from pipeline.understand.mrz import Td1, find_td1

_NUMBER = re.compile(
    r"(?:\bs[o0]\s*/\s*no\.?|personal\s+identification\s+number|so\s+dinh\s+danh\s+ca\s+nhan)[^\d]{0,60}?"
    r"([0-9][0-9 ]{10,14}[0-9])"
)
_NAME_LABEL = re.compile(r"(?:ho\s+va\s+ten|ho,?\s*chu\s+dem\s+va\s+ten(?:\s+khai\s+sinh)?)\s*/?\s*(?:full\s+name)?\s*:?")
_BIRTH = re.compile(
    r"(?:ngay\s+sinh|ngay\W{0,3}thang\W{0,3}nam\s+sinh|date\s+of\s+birth)[^\d\n]{0,30}?"
    r"([0-9o]{1,2})\s*[/.-]\s*([0-9o]{1,2})\s*[/.-]\s*([0-9]{4})"
)
_NAME_WORD = re.compile(r"^[^\W\d_]{1,8}$")


@dataclass
class CardReading:
    number: str | None = None  # the 12-digit personal number
    name: str | None = None  # as printed on the front (tone marks kept), title case
    birth: str | None = None  # ISO date
    zone: Td1 | None = None
    review: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # field -> front | mrz | both


def _folded_lines(text: str) -> list[str]:
    return [fold(ln) for ln in text.splitlines()]


def front_number(text: str) -> str | None:
    m = _NUMBER.search("\n".join(_folded_lines(text)))
    if not m:
        return None
    digits = m.group(1).replace(" ", "")
    if len(digits) == 11 and digits[0] != "0":
        digits = "0" + digits  # every province code starts with 0; OCR drops it
    return digits if len(digits) == 12 else None


def front_name(text: str) -> str | None:
    """The line under (or after) the name label, in upper case on the card: title-cased here."""
    lines = nfc(text).splitlines()
    for i, line in enumerate(lines):
        m = _NAME_LABEL.search(fold(line))
        if not m:
            continue
        rest = line[m.end():].strip(" :/")
        cands = [rest] if rest else []
        cands += [ln for ln in lines[i + 1:i + 3] if ln.strip()]
        for cand in cands:
            words = [w.strip(".,:;") for w in cand.split()]
            if 2 <= len(words) <= 6 and all(_NAME_WORD.match(w) for w in words) and \
                    sum(w.isupper() for w in words) >= len(words) - 1:
                return " ".join(w[:1].upper() + w[1:].lower() for w in words)
    return None


def front_birth(text: str) -> str | None:
    m = _BIRTH.search("\n".join(_folded_lines(text)))
    if not m:
        return None
    try:
        d = dt.date(int(m.group(3)), int(m.group(2).replace("o", "0")), int(m.group(1).replace("o", "0")))
    except ValueError:
        return None
    return d.isoformat() if dt.date(1900, 1, 1) <= d <= dt.date.today() else None


def _against_zone(out: CardReading, key: str, label: str, from_zone: str | None) -> None:
    """The zone's value (its check digits hold) wins; a front that disagrees sends the card to review."""
    if not from_zone:
        return
    front = getattr(out, key)
    if front == from_zone:
        out.sources[key] = "both"
        return
    if front is not None:
        out.review.append(f"{label} on the front ({front}) and in the MRZ ({from_zone}) disagree")
    setattr(out, key, from_zone)
    out.sources[key] = "mrz"


def _zone_name(zone: Td1) -> str:
    return " ".join((zone.surname + " " + zone.given_names).split())


def read_card(text: str) -> CardReading:
    """Number, name and birth date of a card copy's pages, the front checked against the zone."""
    text = nfc(text or "")
    out = CardReading(front_number(text), front_name(text), front_birth(text), find_td1(text))
    for key in ("number", "name", "birth"):
        if getattr(out, key):
            out.sources[key] = "front"
    zone = out.zone
    if zone is None:
        return out
    if not zone.valid:
        out.review.append("MRZ read, but its check digits fail (" + "; ".join(zone.problems) + ")")
    z_number = zone.personal_number if zone.number_ok and zone.composite_ok else None
    z_birth = zone.birth.isoformat() if zone.birth and zone.birth_ok else None
    _against_zone(out, "number", "CCCD number", z_number)
    _against_zone(out, "birth", "birth date", z_birth)
    z_name = _zone_name(zone)
    if out.name and z_name:
        # the zone spells the name without tone marks and cuts long names at 30 characters
        front = fold(out.name).upper().replace("Đ", "D").split()
        zone_words = z_name.split()
        if front[: len(zone_words)] != zone_words and front != zone_words:
            out.review.append(f"name on the front ({out.name}) and in the MRZ ({z_name}) disagree")
        else:
            out.sources["name"] = "both"
    return out


__all__ = ["CardReading", "front_birth", "front_name", "front_number", "read_card"]
