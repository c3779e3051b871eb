"""Photocopied identity cards (CCCD 2016 and 2021 chip, Căn cước 2024), front and back, enlarged.

Copies of ID cards are in almost every dossier and are where CCCD numbers and names are read
from, so they are drawn with the printed fields of the real card, enlarged (as clerks do on the
copier) so that the smallest print stays above ~9 pt. The photo, emblem and fingerprints are
plain shapes; all text is kept out of them so the reading order is simply top to bottom.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.textnorm import nfc
from samples.render import (
    INK,
    Atom,
    Ctx,
    Line,
    Op,
    ScribbleOp,
    ShapeOp,
    StampOp,
    Style,
    TextOp,
    _union,
    get_font,
    wrap,
)


@dataclass
class CardSpec:
    """A photocopied ID card (front or back), enlarged so its print stays legible."""

    side: str  # front | back
    fields: dict[str, str]  # the back's "mrz" holds the zone's three lines joined by newlines
    model: str = "2021"  # 2016 (CCCD, barcode), 2021 (chip CCCD, MRZ on the back), 2024 (Căn cước, MRZ)
    width_mm: float = 136.0
    seed: int = 0
    before_pt: float = 4.0
    after_pt: float = 5.0

    def atom(self, ctx: Ctx, x0: float, width: float) -> Atom:
        return card_atom(self, ctx, x0, width)


LABEL = Style(10.0)
VALUE = Style(11.0)
VALUE_B = Style(12.0, "bold")
NUMBER = Style(13.5, "bold")
HEAD_B = Style(9.5, "bold")
HEAD = Style(9.0)
TITLE = Style(14.5, "bold")
CARD_BG = (238, 238, 235)
CARD_EDGE = (200, 200, 200)  # light: a dark outline makes OCR see brackets, bars and underscores

Run = tuple[str, Style, float]  # text, style, gap before in mm


def bi(vi: str, en: str, st: Style = LABEL) -> list[Run]:
    """A bilingual label `Số / No.:`, with the slash spaced widely enough to stay a separate word."""
    return [(vi, st, 0.0), ("/", st, 1.4), (en, st, 1.4)]


class _Pen:
    """Writes run-lines (mixed sizes on one baseline) top to bottom and records their boxes."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.ops: list[Op] = []
        self.lines: list[Line] = []

    def _measure(self, runs: list[Run]) -> tuple[float, float, float]:
        width = 0.0
        asc = desc = 0.0
        for i, (text, st, gap) in enumerate(runs):
            f = get_font(st.face, round(self.ctx.pt(st.pt)))
            a, d = f.getmetrics()
            asc, desc = max(asc, a), max(desc, d)
            if i:
                width += max(f.getlength(" "), self.ctx.mm(gap))
            width += f.getlength(nfc(text))
        return width, asc, desc

    def line(self, runs: list[Run], x: float, y: float, align_w: float | None = None) -> float:
        """Draw runs from x (or centred in [x, x+align_w]); return the y of the next line."""
        width, asc, desc = self._measure(runs)
        if align_w is not None:
            x += (align_w - width) / 2
        boxes = []
        texts = []
        for i, (text, st, gap) in enumerate(runs):
            text = nfc(text)
            px = round(self.ctx.pt(st.pt))
            f = get_font(st.face, px)
            if i:
                x += max(f.getlength(" "), self.ctx.mm(gap))
            yy = y + asc - f.getmetrics()[0]
            self.ops.append(TextOp(x, yy, text, st.face, px, st.fill))
            x0b, t, r, b = f.getbbox(text)
            boxes.append((x + x0b, yy + t, x + r, yy + b))
            texts.append(text)
            x += f.getlength(text)
        self.lines.append(Line(" ".join(texts), _union(boxes)))
        return y + (asc + desc) * 1.12

    def wrapped(self, text: str, st: Style, x: float, y: float, width: float) -> float:
        f = get_font(st.face, round(self.ctx.pt(st.pt)))
        for row in wrap(nfc(text), f, width):
            y = self.line([(row, st, 0.0)], x, y)
        return y


MRZ = Style(12.5, "mono")


def _card_box(spec: CardSpec, ctx: Ctx, cx: float, w: float, y: float, pad: float) -> tuple[float, list[Op]]:
    h = max(w * 54 / 85.6, y + pad)
    return h, [ShapeOp("rrect", cx, 0, cx + w, h, outline=CARD_EDGE, fill=CARD_BG, width=ctx.mm(0.3))]


def _front(spec: CardSpec, ctx: Ctx, x0: float, width: float) -> Atom:
    """The front: 2016 and 2021 CCCD (number, name, birth, sex, nationality, origin, residence,
    expiry), 2024 Căn cước (personal number, birth name, birth, sex, nationality only)."""
    f = spec.fields
    w = ctx.mm(spec.width_mm)
    cx = x0 + (width - w) / 2
    pad = ctx.mm(4)
    pen = _Pen(ctx)
    em = ctx.mm(15)
    pen.ops.append(
        ShapeOp("ellipse", cx + pad, pad, cx + pad + em, pad + em, outline=(200, 200, 200), width=ctx.mm(0.5))
    )
    pen.ops.append(
        ShapeOp(
            "ellipse",
            cx + pad + em * 0.3,
            pad + em * 0.3,
            cx + pad + em * 0.7,
            pad + em * 0.7,
            fill=(200, 200, 200),
        )
    )
    new = spec.model == "2024"
    hx = cx + pad + em + ctx.mm(3)
    hw = cx + w - pad - hx - (ctx.mm(14) if spec.model == "2021" else 0)
    if spec.model == "2021":  # the QR code, top right
        q = ctx.mm(12)
        pen.ops.append(ShapeOp("rect", cx + w - pad - q, pad, cx + w - pad, pad + q, fill=(150, 150, 150),
                               outline=(150, 150, 150), width=1))
    y = pad
    y = pen.line([("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", HEAD_B, 0)], hx, y, hw)
    y = pen.line([("Độc lập - Tự do - Hạnh phúc", HEAD_B, 0)], hx, y, hw)
    y = pen.line([("SOCIALIST REPUBLIC OF VIET NAM", HEAD, 0)], hx, y, hw)
    y = pen.line([("Independence - Freedom - Happiness", HEAD, 0)], hx, y, hw)
    y += ctx.mm(1)
    y = pen.line([("CĂN CƯỚC" if new else "CĂN CƯỚC CÔNG DÂN", TITLE, 0)], hx, y, hw)
    y = pen.line([("IDENTITY CARD" if new else "Citizen Identity Card", LABEL, 0)], hx, y, hw)
    y += ctx.mm(2.5)
    photo_w, photo_h = ctx.mm(27), ctx.mm(36)
    pen.ops.append(ShapeOp("photo", cx + pad, y, cx + pad + photo_w, y + photo_h, width=ctx.mm(0.3)))
    fx = cx + pad + photo_w + ctx.mm(5)
    fw = cx + w - pad - fx
    if new:
        y = pen.line([*bi("Số định danh cá nhân", "Personal identification number:")], fx, y)
        y = pen.line([(f["so"], NUMBER, 0)], fx, y)
        y = pen.line([*bi("Họ, chữ đệm và tên khai sinh", "Full name:")], fx, y)
    else:
        y = pen.line([*bi("Số", "No.:"), (f["so"], NUMBER, 0)], fx, y)
        y = pen.line([*bi("Họ và tên", "Full name:")], fx, y)
    y = pen.line([(f["ho_ten"].upper(), VALUE_B, 0)], fx, y)
    y = pen.line([*bi("Ngày, tháng, năm sinh" if new else "Ngày sinh", "Date of birth:"), (f["ngay_sinh"], VALUE, 0)],
                 fx, y)
    y = pen.line(
        [
            *bi("Giới tính", "Sex:"),
            (f["gioi_tinh"], VALUE, 0),
            ("Quốc tịch", LABEL, 6),
            ("/", LABEL, 1.4),
            ("Nationality:", LABEL, 1.4),
            ("Việt Nam", VALUE, 0),
        ],
        fx,
        y,
    )
    if not new:
        y = pen.line([*bi("Quê quán", "Place of origin:")], fx, y)
        y = pen.wrapped(f["que_quan"], VALUE, fx, y, fw)
        y = pen.line([*bi("Nơi thường trú", "Place of residence:")], fx, y)
        y = pen.wrapped(f["thuong_tru"], VALUE, fx, y, fw)
        y = pen.line([*bi("Có giá trị đến", "Date of expiry:"), (f["het_han"], VALUE, 0)], fx, y)
    h, ops = _card_box(spec, ctx, cx, w, y, pad)
    return Atom(
        height=h,
        ops=ops + pen.ops,
        lines=pen.lines,
        before=ctx.pt(spec.before_pt),
        after=ctx.pt(spec.after_pt),
    )


def _fingers(pen: _Pen, spec: CardSpec, ctx: Ctx, right: float, top: float, labels: bool) -> tuple[float, float]:
    """Two fingerprint boxes ending at `right`; (their left edge, their bottom)."""
    fw, fh = ctx.mm(20), ctx.mm(24)
    gap = ctx.mm(6)
    bottom = top + fh
    for k in range(2):
        x1 = right - k * (fw + gap)
        pen.ops.append(ShapeOp("rect", x1 - fw, top, x1, top + fh, outline=(180, 180, 180), width=ctx.mm(0.3)))
        pen.ops.append(ShapeOp("finger", x1 - fw + ctx.mm(3), top + ctx.mm(3), x1 - ctx.mm(3), top + fh - ctx.mm(3),
                               width=ctx.mm(0.25), seed=spec.seed + k))
    if labels:  # "Ngón trỏ trái / Left index finger" under the left box, the right one under the other
        y = bottom + ctx.mm(0.5)
        small = Style(8.5)
        for k, vi in enumerate(("Ngón trỏ phải", "Ngón trỏ trái")):
            x1 = right - k * (fw + gap)
            pen.line([(vi, small, 0)], x1 - fw - ctx.mm(2), y, fw + ctx.mm(4))
        y2 = pen.lines[-1].box[3] + ctx.mm(0.3)
        lines = pen.lines[-2:]
        del pen.lines[-2:]
        pen.lines.append(Line(" ".join(ln.text for ln in reversed(lines)), _union([ln.box for ln in lines])))
        for k, en in enumerate(("Right index finger", "Left index finger")):
            x1 = right - k * (fw + gap)
            pen.line([(en, small, 0)], x1 - fw - ctx.mm(2), y2, fw + ctx.mm(4))
        lines = pen.lines[-2:]
        del pen.lines[-2:]
        pen.lines.append(Line(" ".join(ln.text for ln in reversed(lines)), _union([ln.box for ln in lines])))
        bottom = pen.lines[-1].box[3]
    return right - 2 * fw - gap, bottom


def _signer(pen: _Pen, spec: CardSpec, ctx: Ctx, tx: float, y: float, sw: float, head: list[str]) -> float:
    for line in head:
        y = pen.line([(line, HEAD_B, 0)], tx, y, sw)
    r = ctx.mm(9)
    band = 2 * r + ctx.mm(2)
    mid = tx + sw / 2
    pen.ops.append(
        ScribbleOp(mid - ctx.mm(16), y + band * 0.2, mid + ctx.mm(16), y + band * 0.8, INK, spec.seed + 5)
    )
    pen.ops.append(
        StampOp(mid - ctx.mm(10), y + band / 2, r, nfc("BỘ CÔNG AN * CỤC CẢNH SÁT QLHC VỀ TTXH *"),
                (205, 28, 38), spec.seed + 6)
    )
    y += band
    return pen.line([(spec.fields["nguoi_ky"], Style(11.5, "bold"), 0)], tx, y, sw)


def _back(spec: CardSpec, ctx: Ctx, x0: float, width: float) -> Atom:
    """The back: 2016 (fingerprints, features, date, signer), 2021 (the same, the chip, the MRZ),
    2024 (residence, place of birth, issue and expiry dates, the chip, the MRZ)."""
    f = spec.fields
    w = ctx.mm(spec.width_mm)
    cx = x0 + (width - w) / 2
    pad = ctx.mm(5)
    pen = _Pen(ctx)
    right = cx + w - pad
    tx = cx + pad
    sw = (w - 2 * pad) * 0.62
    if spec.model == "2024":
        chip = ctx.mm(14)
        pen.ops.append(ShapeOp("rrect", right - chip, pad, right, pad + chip * 0.8, fill=(205, 185, 120),
                               outline=(170, 150, 90), width=ctx.mm(0.3)))
        tw = right - chip - ctx.mm(4) - tx
        y = pad
        y = pen.line([*bi("Nơi cư trú", "Place of residence:")], tx, y)
        y = pen.wrapped(f["thuong_tru"], VALUE, tx, y, tw)
        y = pen.line([*bi("Nơi đăng ký khai sinh", "Place of birth:")], tx, y)
        y = pen.wrapped(f["noi_sinh"], VALUE, tx, y, tw)
        y = pen.line([*bi("Ngày, tháng, năm cấp", "Date of issue:"), (f["ngay_cap"], VALUE, 0)], tx, y)
        y = pen.line([*bi("Ngày, tháng, năm hết hạn", "Date of expiry:"), (f["het_han"], VALUE, 0)], tx, y)
        y += ctx.mm(1.5)
        y = _signer(pen, spec, ctx, tx, y, sw, ["BỘ CÔNG AN", "MINISTRY OF PUBLIC SECURITY"])
    else:
        y = pad
        if spec.model == "2021":  # the chip, top left; the text under it
            chip = ctx.mm(13)
            pen.ops.append(ShapeOp("rrect", tx, pad, tx + chip, pad + chip * 0.8, fill=(205, 185, 120),
                                   outline=(170, 150, 90), width=ctx.mm(0.3)))
            y += chip * 0.8 + ctx.mm(2)
        # (the real 2021 back labels each box; the labels beside the signer block made Tesseract read
        # the searchable layer column by column, so the generated card leaves them out)
        fx0, fbottom = _fingers(pen, spec, ctx, right, pad, labels=False)
        x = tx
        tw = fx0 - ctx.mm(3) - x
        y = pen.line([*bi("Đặc điểm nhân dạng", "Personal identification:")], x, y)
        y = pen.wrapped(f["dac_diem"], VALUE, x, y, tw)
        y = pen.line([*bi("Ngày, tháng, năm", "Date, month, year:")], x, y)
        y = pen.line([(f["ngay_cap"], VALUE, 0)], x, y)
        y = max(y, fbottom) + ctx.mm(2)
        head = (["CỤC TRƯỞNG CỤC CẢNH SÁT", "QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI"] if spec.model == "2021"
                else ["CỤC TRƯỞNG CỤC CẢNH SÁT", "ĐKQL CƯ TRÚ VÀ DLQG VỀ DÂN CƯ"])
        y = _signer(pen, spec, ctx, tx, y, sw, head)
        # the lines drawn beside the fingerprints are read before the fingerprint labels
        pen.lines.sort(key=lambda ln: ln.box[1])
    if f.get("mrz"):
        y += ctx.mm(2.5)
        for zone_line in f["mrz"].splitlines():
            y = pen.line([(zone_line, MRZ, 0)], tx, y)
    h, ops = _card_box(spec, ctx, cx, w, y, pad)
    return Atom(
        height=h,
        ops=ops + pen.ops,
        lines=pen.lines,
        before=ctx.pt(spec.before_pt),
        after=ctx.pt(spec.after_pt),
    )


def card_atom(spec: CardSpec, ctx: Ctx, x0: float, width: float) -> Atom:
    """One card as an unbreakable atom."""
    return _front(spec, ctx, x0, width) if spec.side == "front" else _back(spec, ctx, x0, width)
