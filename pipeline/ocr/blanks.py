"""The number and the day written into the header's blanks, read a second time.

An office prints "Số:      /QĐ-UBND" and "ngày    tháng 01 năm 2025" and fills the blanks by hand
or with a stamp when the document is signed. Tesseract's page model reads those digits badly
("Ø2", "0+", "04" for a handwritten 01) and its confidence is only a hint. So each blank is
cropped from the OCR image (between "Số:" and "/…", between "ngày" and "tháng") and re-read
with a digit-only whitelist as one line at three sizes (Tesseract's single-word and raw-line modes
drop glyphs of handwriting; a change of scale gives an independent reading of all of them):
readings that agree are evidence, readings that disagree send the field to review
(`pipeline.understand.number_date`). Where Tesseract's boxes of the handwriting are evidently wrong
(the number glued to its code, a label's box that swallowed the day) the crop is placed from the
printed anchors instead (`pipeline.ocr.blank_anchors`).
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from pipeline.manifest import BlankRead
from pipeline.ocr import blank_anchors, handdigits, tesseract
from pipeline.ocr.words import Word
from pipeline.textnorm import fold

TOP = 0.45  # the header's blanks are in the top part of the page
SCALES = (1.0, 0.6, 2.0)  # one line read at three sizes: independent readings of the same ink
DIGITS = "0123456789"
MARGIN = 0.35  # of the line height, above and below the crop
PAD = 0.4  # of the line height: white added around the crop
UNCUT = 0.6  # of the line height: how far left a crop's edge is moved to take a stroke it cuts whole
DIGIT_WIDTH = 1.0  # of the line height: ink wider than this that the edge cuts is no single digit
INSIDE = 0.5  # of a cut stroke's ink inside the crop: the blank's (a label's letter only pokes in)
LABEL_RATIO = {"so": 1.3, "ngay": 2.0, "thang": 2.45}  # width / height of the printed label words
_SO = re.compile(r"^s[o0]\s*[:.;]")
_SO_BARE = re.compile(r"^s[o0]$")


def _rows(words: list[Word]) -> list[list[Word]]:
    """Words grouped by Tesseract line, each line left to right, lines top to bottom."""
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        lines.setdefault((w.block, w.par, w.line), []).append(w)
    out = [sorted(ws, key=lambda w: w.box[0]) for ws in lines.values()]
    return sorted(out, key=lambda ws: min(w.box[1] for w in ws))


def _row_words(words: list[Word], anchor: Word) -> list[Word]:
    """Every word on the anchor's printed row (Tesseract may put the right column in another line)."""
    y0, h = anchor.box[1], anchor.box[3]
    mid = y0 + h / 2
    row = [w for w in words if abs((w.box[1] + w.box[3] / 2) - mid) <= 0.6 * max(h, w.box[3])]
    return sorted(row, key=lambda w: w.box[0])


def _crop(image: np.ndarray, x0: float, x1: float, ref: Word) -> np.ndarray:
    h = ref.box[3]
    y0 = int(max(0, ref.box[1] - MARGIN * h))
    y1 = int(min(image.shape[0], ref.box[1] + (1 + MARGIN) * h))
    x0, x1 = int(max(0, x0)), int(min(image.shape[1], x1))
    if x1 - x0 < 0.3 * h or y1 <= y0:
        return np.zeros((0, 0), np.uint8)
    x0 = _uncut_left(image, x0, x1, y0, y1, h)
    crop = image[y0:y1, x0:x1]
    return np.pad(crop, _pad(ref), constant_values=255)


def _crop_band(image: np.ndarray, x0: float, x1: float, row: blank_anchors.Band) -> np.ndarray:
    """The blank between two printed anchors, over the printed row's band plus margin."""
    y0, y1 = row.crop_rows(image.shape)
    x0, x1 = int(max(0, x0)), int(min(image.shape[1], x1))
    if x1 - x0 < 0.3 * row.height or y1 <= y0:
        return np.zeros((0, 0), np.uint8)
    x0 = _uncut_left(image, x0, x1, y0, y1, row.height)
    return np.pad(image[y0:y1, x0:x1], int(PAD * row.height), constant_values=255)


def _uncut_left(image: np.ndarray, x0: int, x1: int, y0: int, y1: int, h: float) -> int:
    """The crop's left edge moved left past any pen stroke it cuts, to clean paper: the label's printed
    width is an estimate, and a handwritten digit started close to the label is cut in two by it (the
    left half of a 3 dropped reads as another digit, or as nothing). A stroke is followed only as far as
    `UNCUT` line heights and only when it is digit-sized: a stroke joined to the label's letters (ink
    wider than a digit) is not followed, nor one mostly left of the edge (the tail of the label's last
    letter): the edge then stays where it was."""
    xa = int(max(0, x0 - UNCUT * h))
    if xa >= x0 or x1 <= x0:
        return x0
    region = image[y0:y1, xa:x1]
    if region.ndim == 3:
        region = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)
    _, ink = cv2.threshold(region, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    edge = x0 - xa
    cut = set(np.unique(labels[:, edge])) - {0}
    left = edge
    for i in cut:
        x, _, w, hh, area = stats[i]
        inside = int((labels[:, edge:] == i).sum())
        if x > 0 and w <= DIGIT_WIDTH * h and inside >= INSIDE * area:  # within reach, digit-sized, nicked
            left = min(left, int(x) - 2)
    return xa + max(0, left)


def _pad(ref: Word) -> int:
    return int(PAD * ref.box[3])


def _sizes(crop: np.ndarray) -> list[np.ndarray]:
    """The crop at each of `SCALES`: independent readings of the same ink."""
    return [crop if scale == 1.0 else cv2.resize(
        crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        for scale in SCALES]


Pending = list[tuple[BlankRead, np.ndarray]]  # blanks whose crop is still to be re-read


def _read(field: str, text: str, conf: float, crop: np.ndarray | None, pending: Pending,
          models_dir: Path | None, *, sure: bool = False, pad: int = 0) -> BlankRead:
    """One blank: the page OCR's reading; unless that reading is `sure` (clean digits Tesseract is
    sure of: `number_date` then takes it as it is), with a crop, the handwritten-digit reader's
    probabilities, and the crop goes to `pending` for its digit-only re-reads (all of a page's in one
    Tesseract process, by `read_blanks`). A printed number thus never loads the reader."""
    if sure or crop is None or not crop.size:
        return BlankRead(field=field, text=text, confidence=round(conf, 3))
    hand = handdigits.read_digits(crop, models_dir, margin=pad)
    read = BlankRead(field=field, text=text, confidence=round(conf, 3),
                     hand=[list(p) for p in hand.probs] if hand is not None else [])
    pending.append((read, crop))
    return read


def _text_between(row: list[Word], a: Word, b: Word | None) -> tuple[str, float]:
    inside = [w for w in row if w.box[0] > a.box[0] and (b is None or w.box[0] < b.box[0])]
    if not inside:
        return "", 0.0
    return " ".join(w.text for w in inside), min(w.conf for w in inside)


def read_blanks(image: np.ndarray, words: list[Word], *, timeout_s: float = 20,
                models_dir: Path | None = None) -> list[BlankRead]:
    """Re-read the "Số" number and the date's day and month in the header (see the module docstring);
    `models_dir` holds the handwritten-digit reader (default `<SOHOA_HOME>/models`)."""
    if image is None or image.size == 0 or not words:
        return []
    limit = TOP * image.shape[0]
    top = [w for w in words if w.box[1] < limit]
    out: list[BlankRead] = []
    pending: Pending = []
    so = _find_so(top)
    if so is not None:
        out.append(_read_so(image, top, so, pending, models_dir))
    date = _find_date(top)
    if date is not None:
        out += _read_date(image, top, *date, pending=pending, models_dir=models_dir)
    if pending:  # a process start costs more than reading a crop: the page's crops at all sizes in one
        texts = tesseract.read_lines([img for _, crop in pending for img in _sizes(crop)], whitelist=DIGITS,
                                     psm=7, timeout_s=timeout_s)
        for i, (read, _) in enumerate(pending):
            read.rereads = texts[i * len(SCALES):(i + 1) * len(SCALES)]
    return [r for r in out if r is not None]


def _find_so(words: list[Word]) -> Word | None:
    for w in words:
        f = fold(w.text)
        if _SO.match(f) or _SO_BARE.match(f):
            row = _row_words(words, w)
            if any("/" in x.text and x.box[0] >= w.box[0] for x in row):
                return w
    return None


def _read_so(image: np.ndarray, top: list[Word], label: Word, pending: Pending,
             models_dir: Path | None) -> BlankRead | None:
    row = _row_words(top, label)
    slash = next((w for w in row if w.box[0] >= label.box[0] and "/" in w.text), None)
    if slash is None:
        return None
    h = label.box[3]
    if slash is label:  # "Số:04/QĐ-UBND" or "Số:04+": one word
        pre = label.text.split("/", 1)[0]
        m = re.match(r"^\W{0,2}s[o0]\W{0,3}", fold(pre))
        digits = pre[m.end():] if m else ""
        if not digits or digits.isdigit():
            return _read("so", digits, label.conf, None, pending, models_dir)
        x0 = label.box[0] + LABEL_RATIO["so"] * h
        x1 = label.box[0] + label.box[2] * len(pre) / max(1, len(label.text))
        return _read("so", digits, label.conf, _crop(image, x0, x1, label), pending, models_dir, pad=_pad(label))
    text, conf = _text_between(row, label, slash)
    pre_slash = slash.text.split("/", 1)[0]
    if pre_slash:  # "04/TTr-UBND" after the label: the number is part of the code's word
        text, conf = (text + " " + pre_slash).strip(), min(conf or 1.0, slash.conf)
    label_digits = ""
    f = fold(label.text)
    m = re.match(r"^\W{0,2}s[o0]\W{0,3}", f)
    if m and len(label.text) > m.end():
        label_digits = label.text[m.end():]
        text, conf = (label_digits + " " + text).strip(), min(conf or 1.0, label.conf)
    x0 = label.box[0] + (LABEL_RATIO["so"] * h if label_digits else label.box[2])
    x1 = slash.box[0] + (slash.box[2] * len(pre_slash) / max(1, len(slash.text)) if pre_slash else 0)
    compact = text.replace(" ", "")
    sure = compact.isdigit() and conf >= 0.9
    crop, pad = _crop(image, x0, x1, label), _pad(label)
    row_band = blank_anchors.band([(label, "so")])
    if row_band is not None and pre_slash:
        # the number glued to the code ("4/UBND-KTTH"): its end is the slash stroke found in the image
        start = blank_anchors.label_end(label, "so", row_band.height)
        stroke = blank_anchors.slash_left(image, start, slash, row_band.crop_rows(image.shape), near=x1)
        if stroke is not None and stroke - start >= 0.3 * row_band.height:
            crop, pad = _crop_band(image, start, stroke, row_band), int(PAD * row_band.height)
    return _read("so", compact, conf, crop, pending, models_dir, sure=sure, pad=pad)


def _find_date(words: list[Word]) -> tuple[Word, list[Word]] | None:
    """The "ngày" word of the place-date line (its row also says "tháng" … "năm")."""
    for w in words:
        f = fold(w.text)
        if f.startswith("ngay") or f.endswith(",ngay"):  # "ngày", "ngày0P", "Thiết,ngày"
            row = _row_words(words, w)
            after = [x for x in row if x.box[0] >= w.box[0]]
            folded = " ".join(fold(x.text) for x in after)
            if "thang" in folded and "nam" in folded:
                return w, after
    return None


def _read_date(image: np.ndarray, top: list[Word], ngay: Word, after: list[Word],
               pending: Pending, models_dir: Path | None) -> list[BlankRead]:
    out: list[BlankRead] = []
    thang = next((w for w in after if "thang" in fold(w.text)), None)
    nam = next((w for w in after if fold(w.text).startswith("nam") and (thang is None or w.box[0] > thang.box[0])),
               None)
    if thang is None:
        return out
    h = ngay.box[3]
    # day: after the "ngày" label, before the "tháng" label (the two may be one glued word)
    glued_day = fold(ngay.text).startswith("ngay") and len(fold(ngay.text)) > 4
    x0 = ngay.box[0] + (LABEL_RATIO["ngay"] * h if glued_day else ngay.box[2])
    if thang is ngay:
        x1 = thang.box[0] + thang.box[2] - LABEL_RATIO["thang"] * h
        raw = re.sub(r"(?i)^ng[aà]y|th[aá]ng$", "", ngay.text)
        text, conf = raw, ngay.conf
    else:
        f = fold(thang.text)
        x1 = thang.box[0] + (thang.box[2] - LABEL_RATIO["thang"] * h if not f.startswith("thang") else 0)
        text, conf = _text_between(after, ngay, thang)
        head = re.sub(r"(?i)^ng[aà]y", "", ngay.text) if glued_day else ""
        tail = re.sub(r"(?i)th[aá]ng$", "", thang.text) if not f.startswith("thang") else ""
        involved = [c for c, part in ((ngay.conf, head), (conf, text), (thang.conf, tail)) if part]
        text, conf = (head + text + tail).strip(), min(involved) if involved else 0.0
    compact = text.replace(" ", "")
    sure = compact.isdigit() and conf >= 0.9
    crop, pad = _crop(image, x0, x1, ngay), _pad(ngay)
    row_band = blank_anchors.band([(ngay, "ngay"), (thang, "thang")], nam)
    if row_band is not None and thang is ngay:
        # "ngày4Dtháng": the box's height is the handwriting's; the labels' printed widths from the row's
        start = blank_anchors.label_end(ngay, "ngay", row_band.height)
        end = blank_anchors.label_start(thang, "thang", row_band.height)
        if end - start >= 0.3 * row_band.height:
            crop, pad = _crop_band(image, start, end, row_band), int(PAD * row_band.height)
    if row_band is not None and thang is not ngay:
        # the label's box swallowed the handwriting ("ngày" 170 px wide for 100 px of print: the old
        # crop is a sliver or nothing): placed from the printed "ngày" and "tháng" instead
        start = blank_anchors.label_end(ngay, "ngay", row_band.height)
        end = blank_anchors.label_start(thang, "thang", row_band.height)
        if x1 - x0 < 0.6 * row_band.height and end - start >= 0.3 * row_band.height:
            crop, pad = _crop_band(image, start, end, row_band), int(PAD * row_band.height)
    out.append(_read("day", compact, conf, crop, pending, models_dir, sure=sure, pad=pad))
    if nam is not None:
        f = fold(thang.text)
        m_text = re.sub(r"(?i)^.*th[aá]ng", "", thang.text) if f != "thang" else ""
        between, m_conf = _text_between(after, thang, nam)
        month = (m_text + between).replace(" ", "")
        m_conf = min(m_conf or 1.0, thang.conf if m_text else 1.0)
        sure = month.isdigit() and m_conf >= 0.9
        # "tháng" or "{tháng" (the day glued before it) end where the box ends; "tháng01" has the month in it
        x0 = thang.box[0] + (thang.box[2] if f.endswith("thang") else LABEL_RATIO["thang"] * h)
        out.append(_read("month", month, m_conf, _crop(image, x0, nam.box[0], thang), pending, models_dir,
                         sure=sure, pad=_pad(thang)))
    return out
