"""What is laid over a document page and is not the document: signature boxes, reception stamps.

A signed scan carries the signers' boxes ("Ký bởi: …", "Cơ quan: …", "Thời gian ký: …", an e-mail
address, a time stamp "07.01.2025 10:44:25 +07:00") beside the seal of whoever signed it, often
above the header; a received document carries the office's stamp ("CV ĐẾN", "Số: … Ngày: …
Chuyển: …") and an urgency mark ("HỎA TỐC", "KHẨN"). Read as document text they break the layout
rules: the header no longer starts the page, "TRUNG TÂM CÔNG BÁO" looks like the issuing agency,
"CÔNG VĂN ĐẾN" like a title and the stamp's "Số:" like the document number.

`split_overlays()` takes those lines out of a page's text for understanding (the page text itself
is kept as read) and returns what they say: the signing times are evidence for the date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from pipeline.textnorm import fold, nfc, squash

TOP_LINES = 30  # signature boxes and stamps sit above or beside the header
ABOVE = 2  # short lines just above a signature line belong to its box (the signer's name by the seal)

_SIGN_KEYS = re.compile(
    # "ngày ký", "người ký" only as a box's labels: "… có hiệu lực kể từ ngày ký." is a document's sentence
    r"\b(?:k[yi] boi|thoi gian ky|ngay ky\s*(?::|\d)|nguoi ky\s*:|digitally signed|signed by|signature (?:not )?valid"
    r"|signature not verified|reason:|location:)"
)
_AGENCY_KEY = re.compile(r"^(?:\W{0,3})co quan\s*:")  # "Cơ quan: Tỉnh Quảng Ngãi" of a signature box
_EMAIL = re.compile(r"\bemail\s*:|[\w.]+@[\w.]+|^\W{0,2}\S{3,40}\.(?:gov|com|org|edu)\.v\s?n?\W{0,2}$")
_TIME = re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b|^\W{0,2}[+-]\s?\d{2}:\d{2}\W{0,2}$")
_STAMP = re.compile(
    r"^\W{0,3}(?:c\s?v\s*(?:den|đen)\b|cong van den\b|van ban den\b|den\s*[:.]?\s*so\b|den\s*$"
    r"|chuyen\s*[:.]|luu ho so so\b|so\s*[:.]?[^/]{0,12}ngay\s*[:.]?\s*\d{1,2}\s*[/.-]\s*\d{1,2}\b)"
)
_URGENCY = re.compile(r"^\W{0,3}(?:hoa toc|thuong khan|khan|mat|toi mat|tuyet mat|hoa toc hen gio)\W{0,3}$")
_SIGN_TIME = re.compile(
    r"(?:thoi gian ky|ngay ky|date)\s*[:.]?\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
_STAMP_TIME = re.compile(r"^\W{0,2}(\d{2})[./](\d{2})[./](\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})")


@dataclass
class Overlays:
    """A page's text without its overlays, and what the overlays said."""

    text: str  # the page text, overlay lines removed (line breaks kept)
    lines: list[str] = field(default_factory=list)  # the overlay lines, as read
    signed_at: list[dt.datetime] = field(default_factory=list)  # "Thời gian ký: …" of signature boxes
    stamped_at: list[dt.datetime] = field(default_factory=list)  # time stamps of signing seals ("07.01.2025 10:44:25")
    urgency: str | None = None  # "HỎA TỐC", "KHẨN", …
    received: bool = False  # an incoming-mail stamp ("CV ĐẾN") is on the page


def _folded(line: str) -> str:
    return " ".join(fold(line).split())


MAX_OVERLAY_LINE = 200  # a box or stamp line is short; longer lines are text (and keep the regexes linear)


def is_signature_line(line: str) -> bool:
    """A line of a digital-signature box ("Ký bởi: …", "Thời gian ký: …", an e-mail, a time stamp)."""
    if len(line) > MAX_OVERLAY_LINE:
        return False
    f = _folded(line)
    return bool(_SIGN_KEYS.search(f) or _EMAIL.search(f) or _TIME.search(f))


def _is_box_agency(line: str) -> bool:
    """ "Cơ quan: Tỉnh …" — of a signature box only next to one of its other lines (forms say "Cơ quan:" too)."""
    return bool(_AGENCY_KEY.match(_folded(line)))


def is_stamp_line(line: str) -> bool:
    """A line of an incoming-mail stamp ("CV ĐẾN", "Số: 123 Ngày: 12/3", "Chuyển: …") or an urgency mark."""
    if len(line) > MAX_OVERLAY_LINE:
        return False
    f = _folded(line)
    return bool(_STAMP.match(f) or _URGENCY.match(f))


def _datetime(groups: tuple[str | None, ...]) -> dt.datetime | None:
    day, month, year, hh, mm, ss = (list(groups) + [None] * 6)[:6]
    try:
        return dt.datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0))
    except (TypeError, ValueError):
        return None


def _short(line: str) -> bool:
    return len(line.split()) <= 6 and not any(c.isdigit() for c in line)


def split_overlays(text: str) -> Overlays:
    """The page text without signature-box and stamp lines (see the module docstring)."""
    lines = nfc(text or "").split("\n")
    drop: set[int] = set()
    out = Overlays(text="")
    content = [i for i, x in enumerate(lines) if x.strip()]
    top = content[:TOP_LINES]
    strong = [i for i in top if is_signature_line(lines[i])]
    near = {top[k] for k, i in enumerate(top) for j in strong if abs(top.index(j) - k) <= 2}
    sign = sorted(set(strong) | {i for i in top if i in near and _is_box_agency(lines[i])})
    for i in top:
        if i in sign:
            drop.add(i)
        elif is_stamp_line(lines[i]):
            drop.add(i)
            f = _folded(lines[i])
            if _URGENCY.match(f):
                out.urgency = out.urgency or squash(lines[i]).strip(" .:-").upper()
            else:
                out.received = True
    if sign:
        # Lines between two signature lines, and short lines just above the first: the same box.
        for a, b in zip(sign, sign[1:], strict=False):
            between = [i for i in top if a < i < b]
            if len(between) <= 3 and all(_short(lines[i]) or len(lines[i].strip()) <= 3 for i in between):
                drop.update(between)
        first = top.index(sign[0])
        for i in reversed(top[max(0, first - ABOVE):first]):
            if not _short(lines[i]):
                break
            drop.add(i)
        last = top.index(sign[-1])
        for i in top[last + 1:last + 2]:  # a lone fragment of a wrapped e-mail ("n")
            if len(lines[i].strip()) <= 2:
                drop.add(i)
    for i in sorted(drop):
        line = lines[i]
        out.lines.append(squash(line))
        f = _folded(line)
        m = _SIGN_TIME.search(f)
        if m and (when := _datetime(m.groups())):
            out.signed_at.append(when)
        m = _STAMP_TIME.match(f)
        if m and (when := _datetime(m.groups())):
            out.stamped_at.append(when)
    out.text = "\n".join("" if i in drop else x for i, x in enumerate(lines))
    return out
