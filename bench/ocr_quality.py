"""OCR quality of the cleaning chain on a degraded corpus, with an ablation of every step.

    python bench/ocr_quality.py [--pages-per-group 3] [--seed 7] [--jobs 2] [--cache DIR]
                                [--steps all|none|STEP,...] [--write-doc docs/cleaning.md]

The corpus is generated with the samples generator (`samples.generate`): prose pages of the
dossier documents, ruled tables, dotted-leader forms with check boxes, ID-card copies and sparse
pages (a few lines and a signature), each damaged alone (skew, rotation, scanner border, shadow,
yellowed paper, photocopy, speckle, noise, blur + JPEG, a stamp and signature over the text) and
in realistic mixes, at 300 and 200 dpi, plus blank backs (scanner noise, bleed-through, copier
grey, borders). Every page is cleaned with the full chain, OCRed by Tesseract `vie`, and again
with each step switched off. OCR results are cached on disk by (image hash, Tesseract settings)
so an ablation only OCRs the pages a step actually changes, and a rerun OCRs nothing.

CER is measured against `row_major_text(lines)` (the reference in Tesseract's row order), word F1
on word multisets (order-insensitive). Tesseract runs at most `--jobs` at a time, single-threaded.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from pipeline.imaging import cleaning  # noqa: E402
from pipeline.ocr.fixes import refine_words  # noqa: E402
from pipeline.ocr.quality import page_quality  # noqa: E402
from pipeline.ocr.tesseract import OSD_DPI  # noqa: E402
from pipeline.ocr.words import parse_tsv, word_text, words_to_text  # noqa: E402
from pipeline.settings import CleaningSettings  # noqa: E402
from pipeline.textnorm import cer, nfc  # noqa: E402
from samples import content  # noqa: E402
from samples.generate import LOWRES_DPI, bleed_through, damage, degrade, render_document, row_major_text  # noqa: E402
from samples.render import (  # noqa: E402
    INK,
    Ctx,
    LaidPage,
    Line,
    Para,
    RuleOp,
    ShapeOp,
    Style,
    TextOp,
    get_font,
    layout,
    rasterise,
)

KINDS = ("prose", "table", "form", "idcard", "sparse")
# degradation -> (paper damage, max |skew|, rotated, scan damage)
DEGRADATIONS: dict[str, tuple[tuple[str, ...], float, bool, tuple[str, ...]]] = {
    "clean": ((), 0.0, False, ()),
    "skew": ((), 12.0, False, ()),
    "rotated": ((), 1.0, True, ()),
    "border": ((), 0.0, False, ("border",)),
    "shadow": ((), 0.0, False, ("shadow",)),
    "yellow": (("yellow",), 0.0, False, ()),
    "photocopy": ((), 0.0, False, ("photocopy",)),
    "speckle": ((), 0.0, False, ("speckle",)),
    "noise": ((), 0.0, False, ("noise",)),
    "blur_jpeg": ((), 0.0, False, ("blur_jpeg",)),
    "stamp": (("stamp",), 0.0, False, ()),
    "mix_office": (("stamp",), 2.5, False, ("border", "noise")),
    "mix_archive": (("yellow",), 4.0, True, ("photocopy", "speckle", "border")),
    "mix_camera": ((), 6.0, False, ("shadow", "blur_jpeg")),
    "reduced": ((), 0.0, False, ("reduced",)),
    "tiny": ((), 0.0, False, ("tiny",)),
    "lowres": ((), 0.0, False, ("lowres",)),
}
GROUP_KINDS = {"tiny": ("idcard", "prose")}  # tiny print: ID-card copies (and a page copied at half size)
BLANKS = ("scanner", "bleed", "bleed_strong", "yellow", "photocopy", "speckle", "border", "shadow")
DPIS = (300, 200)


# --------------------------------------------------------------------------------------------
# Page kinds the dossier generator does not draw: ruled tables, dotted-leader forms, sparse pages


class _Canvas:
    """Positioned text and rules on one page, with a ground-truth line per text run."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.ops: list = []
        self.lines: list[Line] = []
        self.marks: list[tuple[float, float, float, float, int]] = []  # check marks (X), drawn after

    def font(self, st: Style):
        return get_font(st.face, round(self.ctx.pt(st.pt)))

    def text(self, x: float, y: float, text: str, st: Style, *, width: float | None = None, align: str = "left",
             record: bool = True) -> tuple[float, float, float, float]:
        text = nfc(text)
        f = self.font(st)
        w = f.getlength(text)
        if width is not None and align == "center":
            x += (width - w) / 2
        elif width is not None and align == "right":
            x += width - w
        self.ops.append(TextOp(x, y, text, st.face, round(self.ctx.pt(st.pt)), st.fill))
        x0, t, r, b = f.getbbox(text)
        box = (x + x0, y + t, x + r, y + b)
        if record:
            self.lines.append(Line(text, box))
        return box

    def rule(self, x0: float, y0: float, x1: float, y1: float, width_mm: float) -> None:
        w = max(1.0, self.ctx.mm(width_mm))
        if abs(y1 - y0) < 1e-6:
            self.ops.append(RuleOp(x0, y0, x1, w))
        else:  # vertical: a thin filled rectangle
            self.ops.append(ShapeOp("rect", x0 - w / 2, y0, x0 + w / 2, y1, fill=INK, outline=INK, width=1))

    def blocks(self, blocks: list, y: float) -> float:
        """Lay out ordinary blocks from `y`; returns the y under them."""
        pages = layout(blocks, self.ctx)
        page = pages[0]
        dy = y - self.ctx.top
        from samples.render import _shift

        self.ops += [_shift(o, 0, dy) for o in page.ops]
        self.lines += [ln.shifted(0, dy) for ln in page.lines]
        bottom = max((ln.box[3] for ln in page.lines), default=self.ctx.top) + dy
        return bottom

    def page(self) -> LaidPage:
        return LaidPage(self.ops, self.lines)

    def image(self) -> Image.Image:
        img = rasterise(self.page(), self.ctx)
        draw = ImageDraw.Draw(img)
        for x0, y0, x1, y1, w in self.marks:
            draw.line((x0, y0, x1, y1), fill=INK, width=w)
            draw.line((x0, y1, x1, y0), fill=INK, width=w)
        return img


def _motto(cv: _Canvas, y: float) -> float:
    return cv.blocks([
        Para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", Style(13, "bold"), align="center", after_pt=0),
        Para("Độc lập - Tự do - Hạnh phúc", Style(13.5, "bold"), align="center", after_pt=0, rule_below=0.9),
    ], y)


def table_page(rng: random.Random, dpi: int) -> _Canvas:
    """A ruled list (danh sách): title, a full grid of cells, a total line and a signature."""
    ctx = Ctx(dpi)
    case = content.make_case(rng)
    cv = _Canvas(ctx)
    y = cv.blocks([
        Para(f"ỦY BAN NHÂN DÂN XÃ {case.commune.upper()}", Style(12.5, "bold"), align="left", after_pt=8),
        Para("DANH SÁCH CÁC HỘ GIA ĐÌNH, CÁ NHÂN ĐỀ NGHỊ CẤP GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT",
             Style(13.5, "bold"), align="center", after_pt=0),
        Para(f"(Kèm theo Tờ trình số {rng.randint(10, 300)}/TTr-UBND ngày {content.dmy(case.received)})",
             Style(13, "italic"), align="center", after_pt=0),
    ], ctx.top) + ctx.mm(7)
    cols = [("STT", 11, "center"), ("Họ và tên", 44, "left"), ("Năm sinh", 19, "center"),
            ("Thôn, xóm", 27, "left"), ("Thửa số", 17, "center"), ("Tờ BĐ", 14, "center"),
            ("Diện tích (m²)", 33, "right")]
    scale = (ctx.text_x1 - ctx.text_x0) / ctx.mm(sum(c[1] for c in cols))
    xs = [ctx.text_x0]
    for _, wmm, _ in cols:
        xs.append(xs[-1] + ctx.mm(wmm) * scale)
    row_h = ctx.mm(rng.uniform(7.5, 9.0))
    body = Style(12.5)
    head = Style(12.5, "bold")
    pad = ctx.mm(1.6)
    n_rows = rng.randint(12, 17)
    rows: list[list[str]] = []
    total = 0.0
    for i in range(n_rows):
        pe = content.make_person(rng, case.place, commune=case.commune)
        area = round(rng.uniform(45, 480), 1)
        total += area
        rows.append([str(i + 1), pe.name, str(pe.birth.year), f"{rng.choice(['Thôn', 'Xóm'])} {rng.randint(1, 12)}",
                     str(rng.randint(12, 980)), str(rng.randint(1, 48)), content.decimal(area)])
    grid_top = y
    full_grid = rng.random() < 0.8
    asc = cv.font(body).getmetrics()[0]
    for r, cells in enumerate([[c[0] for c in cols], *rows]):
        st = head if r == 0 else body
        ty = y + (row_h - asc * 1.15) / 2
        for (_, _, align), x0, x1, cell in zip(cols, xs, xs[1:], cells, strict=False):
            cv.text(x0 + pad, ty, cell, st, width=x1 - x0 - 2 * pad, align=align)
        cv.rule(xs[0], y, xs[-1], y, 0.4 if r == 0 else 0.25)
        y += row_h
    cv.rule(xs[0], y, xs[-1], y, 0.4)
    if full_grid:
        for i, x in enumerate(xs):
            cv.rule(x, grid_top, x, y, 0.4 if i in (0, len(xs) - 1) else 0.25)
    y += ctx.mm(4)
    y = cv.blocks([
        Para(f"Tổng cộng: {n_rows} hộ, tổng diện tích {content.decimal(total)} m².", body, align="left", after_pt=6),
        Para("NGƯỜI LẬP BIỂU", Style(13, "bold"), align="right", right_mm=20, after_pt=0),
    ], y)
    return cv


LEADERS = (".", "…", "_")


def form_page(rng: random.Random, dpi: int) -> _Canvas:
    """A filled-in form: labels, typed values on dotted leaders, empty leaders, check boxes."""
    ctx = Ctx(dpi)
    case = content.make_case(rng)
    pe = case.applicant
    cv = _Canvas(ctx)
    y = _motto(cv, ctx.top) + ctx.mm(8)
    title = rng.choice(["TỜ KHAI THAY ĐỔI THÔNG TIN CƯ TRÚ", "PHIẾU ĐỀ NGHỊ CẤP BẢN SAO TRÍCH LỤC",
                        "ĐƠN ĐỀ NGHỊ XÁC NHẬN TÌNH TRẠNG HÔN NHÂN"])
    y = cv.blocks([Para(title, Style(14, "bold"), align="center", after_pt=0)], y) + ctx.mm(6)
    st = Style(case.body_pt)
    dot = rng.choice(LEADERS[:2])
    under = rng.random() < 0.5
    f = cv.font(st)
    lh = ctx.pt(st.pt) * 1.9
    x_end = ctx.text_x1

    def leader(x0: float, x1: float, base_y: float) -> None:
        if x1 - x0 < ctx.mm(4):
            return
        n = int((x1 - x0) / f.getlength(dot))
        cv.text(x1 - n * f.getlength(dot), base_y, dot * n, st, record=False)

    def field_line(pairs: list[tuple[str, str, float]]) -> None:
        """pairs: (label, value, end as a fraction of the text width)."""
        nonlocal y
        texts, boxes = [], []
        x = ctx.text_x0
        for label, value, end in pairs:
            xe = ctx.text_x0 + (x_end - ctx.text_x0) * end
            lab = f"{label}:"
            b = cv.text(x, y, lab, st, record=False)
            texts.append(lab)
            boxes.append(b)
            x = b[2] + f.getlength(" ")
            if value:
                if under:  # typed over a dotted line that runs the whole field
                    leader(x, xe - ctx.mm(1), y)
                b = cv.text(x + ctx.mm(4), y, value, st, record=False)
                texts.append(value)
                boxes.append(b)
                x = b[2] + f.getlength(" ")
            if not (value and under):
                leader(x, xe - ctx.mm(1), y)
            x = xe + ctx.mm(2)
        cv.lines.append(Line(" ".join(texts), (min(b[0] for b in boxes), min(b[1] for b in boxes),
                                               max(b[2] for b in boxes), max(b[3] for b in boxes))))
        y += lh

    def box_line(label: str, options: list[str], checked: int) -> None:
        nonlocal y
        texts, boxes = [f"{label}:"], [cv.text(ctx.text_x0, y, f"{label}:", st, record=False)]
        x = boxes[0][2] + ctx.mm(6)
        side = ctx.mm(3.6)
        asc = f.getmetrics()[0]
        for i, opt in enumerate(options):
            top = y + asc - side + ctx.mm(0.2)
            cv.ops.append(ShapeOp("rect", x, top, x + side, top + side, outline=INK, width=max(1, ctx.mm(0.25))))
            if i == checked:
                cv.marks.append((x + side * 0.18, top + side * 0.18, x + side * 0.82, top + side * 0.82,
                                 max(1, round(ctx.mm(0.3)))))
            b = cv.text(x + side + ctx.mm(2), y, opt, st, record=False)
            texts.append(opt)
            boxes.append(b)
            x = b[2] + ctx.mm(10)
        cv.lines.append(Line(" ".join(texts), (min(b[0] for b in boxes), min(b[1] for b in boxes),
                                               max(b[2] for b in boxes), max(b[3] for b in boxes))))
        y += lh

    y = cv.blocks([Para(f"Kính gửi: Ủy ban nhân dân xã {case.commune}", st, align="left", left_mm=20, after_pt=0)],
                  y) + ctx.mm(4)
    field_line([("Họ, chữ đệm và tên", pe.name, 1.0)])
    field_line([("Ngày, tháng, năm sinh", content.dmy(pe.birth), 0.55), ("Dân tộc", "Kinh", 1.0)])
    box_line("Giới tính", ["Nam", "Nữ"], 0 if pe.male else 1)
    field_line([("Số định danh cá nhân", pe.cccd, 1.0)])
    field_line([("Nơi thường trú", pe.address if f.getlength(pe.address) < ctx.mm(110) else pe.address.split(",")[0], 1.0)])
    field_line([("Nơi ở hiện tại", "", 1.0)])
    field_line([("Số điện thoại liên hệ", pe.phone, 0.6), ("Email", "", 1.0)])
    box_line("Tình trạng hôn nhân", ["Chưa kết hôn", "Đã kết hôn", "Ly hôn"], rng.randrange(3))
    field_line([("Nội dung đề nghị", rng.choice(["Xác nhận tình trạng hôn nhân", "Cấp bản sao trích lục",
                                                  "Điều chỉnh thông tin cư trú"]), 1.0)])
    field_line([("Lý do", "", 1.0)])
    field_line([("Giấy tờ kèm theo", "", 1.0)])
    y += ctx.mm(4)
    cv.blocks([
        Para("Tôi xin cam đoan những nội dung khai trên đây là đúng sự thật và chịu trách nhiệm trước pháp luật.",
             st, align="justify", indent_mm=10, after_pt=6),
        Para(content.date_line(case.received, case.commune, cap=True), Style(13, "italic"), align="right",
             right_mm=5, after_pt=0),
        Para("NGƯỜI ĐỀ NGHỊ", Style(13, "bold"), align="right", right_mm=25, after_pt=0),
    ], y)
    return cv


def sparse_page(rng: random.Random, dpi: int) -> _Canvas:
    """The last page of a document: a line or two and a signature block, little text to go on."""
    ctx = Ctx(dpi)
    case = content.make_case(rng)
    blocks: list = []
    if rng.random() < 0.6:
        blocks.append(content.p(f"Quyết định này có hiệu lực kể từ ngày {content.dmy(case.received)}.", Style(13.5)))
    stamp = case.stamp(case.commune_agency_name) if rng.random() < 0.5 else None
    blocks.append(content.sign_row([], content.sign_column(["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"],
                                                           case.officials["chu_tich_xa"], stamp=stamp)))
    cv = _Canvas(ctx)
    cv.blocks(blocks, ctx.top + ctx.mm(rng.uniform(0, 60)))
    return cv


def prose_page(rng: random.Random, dpi: int, kind: str) -> tuple[list, Image.Image]:
    case = content.make_case(rng)
    if kind == "idcard":
        doc = content.build_documents(case, "uy_quyen", ["can_cuoc:applicant"])[0]
    else:
        proc, part = rng.choice([
            ("chuyen_muc_dich_su_dung_dat", "quyet_dinh"), ("chuyen_nhuong_qsdd", "hop_dong"),
            ("chuyen_nhuong_qsdd", "don_de_nghi"), ("uy_quyen", "giay_uy_quyen"),
            ("chuyen_nhuong_qsdd", "phieu_tiep_nhan"), ("cap_phep_xay_dung", "giay_phep_xay_dung"),
            ("dang_ky_khai_sinh", "giay_chung_nhan_ket_hon"), ("chuyen_nhuong_qsdd", "bien_lai"),
        ])
        doc = content.build_documents(case, proc, [part])[0]
    pages = render_document(doc, dpi, rng)
    pg = pages[rng.randrange(len(pages))] if kind == "prose" else pages[0]
    return pg.lines, pg.image


# --------------------------------------------------------------------------------------------
# The corpus


@dataclass
class CorpusPage:
    id: str
    kind: str  # a KINDS entry or "blank"
    degradation: str
    dpi: int
    path: Path
    lines: list[dict]
    rotation: int = 0
    skew_deg: float = 0.0
    ops: list[str] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        return self.kind == "blank"

    @property
    def reference(self) -> str:
        return row_major_text(self.lines)


def render_kind(kind: str, rng: random.Random, dpi: int) -> tuple[list[Line], Image.Image]:
    if kind in ("prose", "idcard"):
        return prose_page(rng, dpi, kind)
    cv = {"table": table_page, "form": form_page, "sparse": sparse_page}[kind](rng, dpi)
    return cv.lines, cv.image()


def build_corpus(out: Path, seed: int, per_group: int) -> list[CorpusPage]:
    """Render (or reuse) the corpus under `out`; deterministic for (seed, per_group)."""
    spec = hashlib.sha1(json.dumps([DEGRADATIONS, BLANKS, KINDS, DPIS, GROUP_KINDS]).encode()).hexdigest()[:8]
    index = out / f"corpus-{seed}-{per_group}-{spec}.json"
    if index.exists():
        data = json.loads(index.read_text(encoding="utf-8"))
        return [CorpusPage(**{**d, "path": out / d["path"]}) for d in data]
    out.mkdir(parents=True, exist_ok=True)
    pages: list[CorpusPage] = []
    for dpi in DPIS:
        for gi, (deg, (paper, max_skew, rotated, scan)) in enumerate(DEGRADATIONS.items()):
            for j in range(per_group):
                kinds = GROUP_KINDS.get(deg, KINDS)
                kind = kinds[(gi * per_group + j + (dpi == 200)) % len(kinds)]
                rng = random.Random(f"{seed}-{dpi}-{deg}-{j}")
                lines, img = render_kind(kind, rng, dpi)
                ops: list[str] = []
                for d in paper:
                    img, op = damage(img, d, rng, dpi=dpi)
                    ops.append(op)
                skew = round(rng.uniform(max_skew / 4, max_skew) * rng.choice((-1, 1)), 2) if max_skew else 0.0
                rotation = rng.choice((90, 180, 270)) if rotated else 0
                img, rotation, skew, gops = degrade(img, "none", rng, rotation=rotation, skew_deg=skew, dpi=dpi)
                ops += gops
                for d in scan:
                    img, op = damage(img, d, rng, dpi=dpi)
                    ops.append(op)
                pid = f"{dpi}-{deg}-{j}-{kind}"
                sdpi = LOWRES_DPI if "lowres" in scan else dpi  # what the scanner wrote
                img.save(out / f"{pid}.png", dpi=(sdpi, sdpi), compress_level=1)
                pages.append(CorpusPage(pid, kind, deg, sdpi, out / f"{pid}.png",
                                        [{"text": ln.text, "box": list(ln.box)} for ln in lines],
                                        rotation, skew, ops))

    for variant in BLANKS:
        for dpi in DPIS:
            rng = random.Random(f"{seed}-blank-{variant}-{dpi}")
            img = Image.new("RGB", Ctx(dpi).size, (255, 255, 255))
            ops = []
            if variant.startswith("bleed"):
                _, back = render_kind("prose", rng, dpi)
                img, op = bleed_through(img, back, rng)
                if variant == "bleed_strong":
                    img, op2 = bleed_through(img, back, random.Random(1))
                    op += "+" + op2
                ops.append(op)
            elif variant != "scanner":
                img, op = damage(img, variant, rng, dpi=dpi)
                ops.append(op)
            img, _, _, gops = degrade(img, "light", rng, rotation=0, skew_deg=0.0, dpi=dpi)
            ops += gops
            pid = f"{dpi}-blank-{variant}"
            img.save(out / f"{pid}.png", dpi=(dpi, dpi), compress_level=1)
            pages.append(CorpusPage(pid, "blank", variant, dpi, out / f"{pid}.png", [], 0, 0.0, ops))
    data = [{**p.__dict__, "path": p.path.name} for p in pages]
    index.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return pages


# --------------------------------------------------------------------------------------------
# OCR with an on-disk cache, at most `jobs` Tesseract processes at once


def _run_child(cmd: list[str], timeout_s: float) -> tuple[int, float]:
    """Run a command, return (exit status, CPU seconds of that child) — os.wait4 gives the child's
    own rusage even when other children run at the same time."""
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(cmd, stdout=null, stderr=null, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, ru.ru_utime + ru.ru_stime
        if time.monotonic() > deadline:
            proc.kill()
        time.sleep(0.02)


class OcrCache:
    """Tesseract results on disk, keyed by (image hash, dpi, psm, lang, Tesseract version)."""

    def __init__(self, root: Path, jobs: int, lang: str = "vie") -> None:
        self.root = root / "ocr"
        self.root.mkdir(parents=True, exist_ok=True)
        self.lang = lang
        self.version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split()[1]
        self.pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="tess")
        self.tmp = Path(tempfile.mkdtemp(prefix="sohoa-bench-"))
        self.hits = self.misses = 0

    def key(self, image: np.ndarray, dpi: float, psm: int) -> str:
        h = hashlib.sha1(image.tobytes())
        h.update(f"{image.shape}|{round(dpi)}|{psm}|{self.lang}|{self.version}".encode())
        return h.hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        p = self.path(key)
        if p.exists():
            self.hits += 1
            return json.loads(p.read_text(encoding="utf-8"))
        return None

    def submit(self, key: str, image: np.ndarray, dpi: float, psm: int) -> Future:
        """Start OCR of `image` (PNG written here, in the caller's thread); the future gives the record."""
        self.misses += 1
        src = self.tmp / f"{key}.png"
        cv2.imwrite(str(src), image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        return self.pool.submit(self._ocr, key, src, dpi, psm)

    def _ocr(self, key: str, src: Path, dpi: float, psm: int) -> dict:
        base = self.tmp / key
        t0 = time.perf_counter()
        status, cpu = _run_child(["tesseract", str(src), str(base), "-l", self.lang, "--dpi", str(round(dpi)),
                                  "--psm", str(psm), "tsv"], 600)
        wall = time.perf_counter() - t0
        tsv = Path(f"{base}.tsv")
        words = parse_tsv(tsv.read_text(encoding="utf-8", errors="replace")) if tsv.exists() else []
        tsv.unlink(missing_ok=True)
        src.unlink(missing_ok=True)
        rec = {"status": status, "cpu": cpu, "wall": wall,
               "words": [[w.text, w.conf, list(w.box), w.block, w.par, w.line] for w in words]}
        p = self.path(key)
        p.parent.mkdir(exist_ok=True)
        p.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
        return rec

    def osd(self, image: np.ndarray, dpi: float) -> tuple[tuple[int, float] | None, float]:
        """Tesseract OSD as the pipeline runs it, cached: (result, CPU seconds)."""
        small = cv2.resize(image, None, fx=min(1.0, OSD_DPI / dpi), fy=min(1.0, OSD_DPI / dpi), interpolation=cv2.INTER_AREA)
        key = "osd-" + self.key(small, min(dpi, OSD_DPI), 0)
        p = self.path(key)
        if p.exists():
            rec = json.loads(p.read_text(encoding="utf-8"))
        else:
            src = self.tmp / f"{key}.png"
            cv2.imwrite(str(src), small)
            out = self.tmp / f"{key}.osd"
            fut = self.pool.submit(lambda: _run_child(["tesseract", str(src), str(out), "--psm", "0", "--dpi",
                                                       str(round(min(dpi, OSD_DPI)))], 60))
            _, cpu = fut.result()
            txt = Path(f"{out}.osd").read_text() if Path(f"{out}.osd").exists() else ""
            m = re.search(r"Orientation in degrees:\s*(\d+)", txt)
            c = re.search(r"Orientation confidence:\s*([\d.]+)", txt)
            rec = {"rotation": int(m.group(1)) if m else None, "conf": float(c.group(1)) if c else 0.0, "cpu": cpu}
            p.parent.mkdir(exist_ok=True)
            p.write_text(json.dumps(rec), encoding="utf-8")
            src.unlink(missing_ok=True)
        result = (rec["rotation"], rec["conf"]) if rec["rotation"] is not None else None
        return result, rec["cpu"]


# --------------------------------------------------------------------------------------------
# Metrics

_TOKEN = re.compile(r"\w+", re.UNICODE)


def word_counts(text: str) -> Counter:
    return Counter(_TOKEN.findall(nfc(text)))


@dataclass
class PageResult:
    page: CorpusPage
    text: str = ""
    blank: bool = False
    rotation: int = 0
    skew: float = 0.0
    steps: list[str] = field(default_factory=list)
    clean_cpu: float = 0.0
    ocr_cpu: float = 0.0
    confidence: float = 0.0
    errors: float = 0.0  # edit operations (CER x reference length)
    ref_chars: int = 0
    matches: int = 0
    hyp_words: int = 0
    ref_words: int = 0
    needs_review: bool = False

    @property
    def cer(self) -> float:
        return self.errors / self.ref_chars if self.ref_chars else 0.0


def score(res: PageResult) -> None:
    ref = res.page.reference
    from pipeline.textnorm import squash

    res.ref_chars = len(squash(nfc(ref)))
    res.errors = cer(res.text, ref) * res.ref_chars if res.ref_chars else 0.0
    rc, hc = word_counts(ref), word_counts(res.text)
    res.matches = sum((rc & hc).values())
    res.hyp_words, res.ref_words = sum(hc.values()), sum(rc.values())


# --------------------------------------------------------------------------------------------
# Running a variant of the chain over the corpus

STEPS = ("orientation", "deskew", "border", "background", "stamps", "rules", "leaders", "checkboxes",
         "signatures", "denoise", "despeckle", "small_text")  # on by default
OPTIONAL = ("upscale", "binarize")  # off by default: the bench shows them switched on
TARGETS = {  # what each step is for: (degradations, page kinds, dpis) it should help
    "orientation": (("rotated", "mix_archive"), (), ()),
    "deskew": (("skew", "mix_office", "mix_archive", "mix_camera"), (), ()),
    "border": (("border", "mix_office", "mix_archive"), (), ()),
    "background": (("shadow", "yellow", "photocopy", "mix_archive", "mix_camera"), (), ()),
    "stamps": (("stamp", "mix_office"), (), ()),
    "rules": ((), ("table",), ()),
    "leaders": ((), ("form",), ()),
    "checkboxes": ((), ("form",), ()),
    "signatures": ((), ("prose", "idcard", "sparse"), ()),  # the page kinds with a signature block
    "denoise": (("noise", "mix_office"), (), ()),
    "despeckle": (("speckle", "photocopy", "mix_archive"), (), ()),
    "upscale": (("lowres",), (), ()),
    "small_text": (("reduced", "tiny"), (), ()),
    "binarize": ((), (), ()),
}


def variant_settings(name: str) -> CleaningSettings:
    base = CleaningSettings()
    if name == "full":
        return base
    if name == "none":
        return base.model_copy(update={s: False for s in STEPS})
    if name.startswith("-"):
        return base.model_copy(update={name[1:]: False})
    if name.startswith("+"):
        return base.model_copy(update={name[1:]: True})
    raise ValueError(name)


def run_variant(name: str, corpus: list[CorpusPage], cache: OcrCache, log=print) -> list[PageResult]:
    cfg = variant_settings(name)
    results: list[PageResult] = []
    pending: list[tuple[PageResult, Future]] = []
    for cp in corpus:
        pixels = np.asarray(Image.open(cp.path).convert("RGB"))
        osd_cpu = [0.0]

        def osd(gray, dpi, _acc=osd_cpu):
            r, c = cache.osd(gray, dpi)
            _acc[0] += c
            return r

        # this thread's CPU only: the OCR pool's threads (parsing TSV, writing the cache) run meanwhile
        t0 = time.thread_time()
        prep = cleaning.clean_page(pixels, cp.dpi, cfg, osd=osd)
        clean_cpu = time.thread_time() - t0 + osd_cpu[0]
        res = PageResult(cp, blank=prep.blank, rotation=prep.rotation, skew=prep.skew_deg, steps=prep.steps,
                         clean_cpu=clean_cpu)
        results.append(res)
        if prep.blank:
            score(res)
            continue
        psm = prep.psm or 3
        key = cache.key(prep.ocr, prep.ocr_dpi, psm)
        rec = cache.get(key)
        if rec is not None:
            _finish(res, rec, cfg, prep.ocr)
        else:
            pending.append((res, cache.submit(key, prep.ocr, prep.ocr_dpi, psm), prep.ocr))
        del prep, pixels
        while len(pending) > 3:
            r, fut, img = pending.pop(0)
            _finish(r, fut.result(), cfg, img)
    for r, fut, img in pending:
        _finish(r, fut.result(), cfg, img)
    return results


def _finish(res: PageResult, rec: dict, cfg: CleaningSettings, image: np.ndarray | None) -> None:
    """Score one page from Tesseract's (cached) words, refined on the OCR image as `ocr_image()` does."""
    from pipeline.ocr.words import Word, mean_confidence

    words = [Word(word_text(t), c, tuple(b), bl, pa, li) for t, c, b, bl, pa, li in rec["words"]]
    words = refine_words([w for w in words if w.text], image)
    res.text = words_to_text(words)
    res.ocr_cpu = rec["cpu"]
    res.confidence = mean_confidence(words)
    q = page_quality(res.text, res.confidence, min_confidence=cfg.review_confidence,
                     min_plausibility=cfg.review_plausibility)
    res.needs_review = q.needs_review
    score(res)


# --------------------------------------------------------------------------------------------
# Report


def upright_twins(corpus: list[CorpusPage], cache: OcrCache) -> list[PageResult]:
    """The turned pages turned back by hand (exact quarter turns, the small skew left in), through
    the full chain: the same pages upright, to compare the turned ones with."""
    results: list[PageResult] = []
    turn_back = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}
    for cp in corpus:
        if cp.blank or not cp.rotation:
            continue
        twin = CorpusPage(cp.id + "~upright", cp.kind, cp.degradation, cp.dpi, cp.path, cp.lines)
        pixels = cv2.rotate(np.asarray(Image.open(cp.path).convert("RGB")), turn_back[cp.rotation])
        prep = cleaning.clean_page(pixels, cp.dpi, CleaningSettings())
        res = PageResult(twin, blank=prep.blank, steps=prep.steps)
        psm = prep.psm or 3
        key = cache.key(prep.ocr, prep.ocr_dpi, psm)
        _finish(res, cache.get(key) or cache.submit(key, prep.ocr, prep.ocr_dpi, psm).result(), CleaningSettings(),
                prep.ocr)
        results.append(res)
    return results


def _agg(rs: list[PageResult]) -> dict:
    text = [r for r in rs if not r.page.blank]
    chars = sum(r.ref_chars for r in text)
    hyp = sum(r.hyp_words for r in text)
    ref = sum(r.ref_words for r in text)
    m = sum(r.matches for r in text)
    p = m / hyp if hyp else 0.0
    rcl = m / ref if ref else 0.0
    return {"cer": sum(r.errors for r in text) / chars if chars else float("nan"),
            "f1": 2 * p * rcl / (p + rcl) if p + rcl else 0.0, "pages": len(text)}


def summary(rs: list[PageResult]) -> dict:
    out = {"all": _agg(rs)}
    for dpi in (*DPIS, LOWRES_DPI):
        out[f"{dpi}dpi"] = _agg([r for r in rs if r.page.dpi == dpi])
    blanks = [r for r in rs if r.page.blank]
    texts = [r for r in rs if not r.page.blank]
    tp = sum(r.blank for r in blanks)
    fp = sum(r.blank for r in texts)
    out["blank_precision"] = tp / (tp + fp) if tp + fp else 1.0
    out["blank_recall"] = tp / len(blanks) if blanks else 1.0
    out["text_pages_dropped"] = fp
    out["rotation_ok"] = sum(r.rotation == r.page.rotation for r in texts) / max(1, len(texts))
    sk = [abs(r.skew - r.page.skew_deg) for r in texts if r.rotation == r.page.rotation]
    out["skew_err_mean"] = float(np.mean(sk)) if sk else float("nan")
    out["skew_err_max"] = float(np.max(sk)) if sk else float("nan")
    ocr = [r for r in texts if r.ocr_cpu > 0]
    out["clean_share"] = sum(r.clean_cpu for r in ocr) / max(1e-9, sum(r.ocr_cpu for r in ocr))
    shares = [r.clean_cpu / r.ocr_cpu for r in ocr]
    out["clean_share_median"] = float(np.median(shares)) if shares else float("nan")
    out["clean_share_p90"] = float(np.percentile(shares, 90)) if shares else float("nan")
    out["clean_ms"] = 1000 * float(np.mean([r.clean_cpu for r in rs]))
    out["ocr_ms"] = 1000 * float(np.mean([r.ocr_cpu for r in ocr])) if ocr else float("nan")
    return out


def _pct(x: float) -> str:
    return "—" if x != x else f"{100 * x:.2f}"


def report(results: dict[str, list[PageResult]], twins: list[PageResult] | None = None) -> str:
    names = list(results)
    lines: list[str] = []
    full = results.get("full") or results[names[0]]
    # 1. the full chain
    s = summary(full)
    lines.append("### Full chain\n")
    lines.append("| measure | value | target |")
    lines.append("|---|---|---|")
    lines.append(f"| CER, 300 dpi pages | {_pct(s['300dpi']['cer'])} % | ≤ 1.5 % |")
    lines.append(f"| CER, 200 dpi pages | {_pct(s['200dpi']['cer'])} % | ≤ 2.5 % |")
    if s[f"{LOWRES_DPI}dpi"]["pages"]:
        lines.append(f"| CER, {LOWRES_DPI} dpi scans (lowres group) | {_pct(s[f'{LOWRES_DPI}dpi']['cer'])} % | |")
    lines.append(f"| word F1 (order-insensitive) | {s['all']['f1']:.4f} | ≥ 0.98 |")
    if twins:
        turned = [r for r in full if r.page.rotation and not r.page.blank]
        lines.append(f"| CER of the {len(turned)} turned pages / the same pages upright | "
                     f"{_pct(_agg(turned)['cer'])} % / {_pct(_agg(twins)['cer'])} % | rotated no worse |")
    lines.append(f"| blank precision / recall | {s['blank_precision']:.3f} / {s['blank_recall']:.3f} | ≥ 0.98 |")
    lines.append(f"| text pages dropped as blank | {s['text_pages_dropped']} | 0 |")
    lines.append(f"| rotation right | {100 * s['rotation_ok']:.1f} % | |")
    lines.append(f"| skew error mean / max | {s['skew_err_mean']:.3f}° / {s['skew_err_max']:.2f}° | ≈ 0.1° |")
    lines.append(f"| cleaning CPU / Tesseract CPU, all pages | {100 * s['clean_share']:.1f} % "
                 f"({s['clean_ms']:.0f} ms vs {s['ocr_ms']:.0f} ms a page) | ≤ 15 % |")
    lines.append(f"| same, per page: median / 90th percentile | {100 * s['clean_share_median']:.1f} % / "
                 f"{100 * s['clean_share_p90']:.1f} % | |")
    every = [r for rs in results.values() for r in rs if not r.page.blank]
    bad = [r for r in every if r.cer > 0.05]
    good = [r for r in every if r.cer <= 0.02]
    if bad:
        lines.append(f"| needs_review on pages read with CER > 5 % (all variants: {len(bad)}) | "
                     f"{100 * sum(r.needs_review for r in bad) / len(bad):.0f} % | |")
    if good:
        lines.append(f"| needs_review on pages read with CER ≤ 2 % (all variants: {len(good)}) | "
                     f"{100 * sum(r.needs_review for r in good) / len(good):.1f} % | |")
    lines.append("")
    # 2. CER per degradation and per kind, every variant
    for title, key, groups in (("degradation", lambda r: r.page.degradation, list(DEGRADATIONS)),
                               ("page kind", lambda r: r.page.kind, list(KINDS)),
                               ("resolution", lambda r: f"{r.page.dpi} dpi", [f"{d} dpi" for d in (*DPIS, LOWRES_DPI)])):
        lines.append(f"### CER (%) per {title}; columns: full chain, no cleaning, and each step switched off\n")
        lines.append("| " + title + " | pages | " + " | ".join(names) + " |")
        lines.append("|---|---|" + "---|" * len(names))
        for g in groups:
            cells = []
            n = 0
            for name in names:
                a = _agg([r for r in results[name] if key(r) == g])
                n = a["pages"]
                cells.append(_pct(a["cer"]))
            lines.append(f"| {g} | {n} | " + " | ".join(cells) + " |")
        tot = [_pct(_agg(results[n])["cer"]) for n in names]
        lines.append("| **all** | " + str(_agg(full)["pages"]) + " | " + " | ".join(tot) + " |")
        lines.append("")
    # 3. word F1 for the full chain
    lines.append("### Word F1 of the full chain per degradation and per page kind\n")
    lines.append("| group | F1 | group | F1 |")
    lines.append("|---|---|---|---|")
    degs = [(d, _agg([r for r in full if r.page.degradation == d])["f1"]) for d in DEGRADATIONS]
    kinds = [(k, _agg([r for r in full if r.page.kind == k])["f1"]) for k in KINDS]
    for i in range(max(len(degs), len(kinds))):
        a = degs[i] if i < len(degs) else ("", None)
        b = kinds[i] if i < len(kinds) else ("", None)
        lines.append(f"| {a[0]} | {'' if a[1] is None else f'{a[1]:.4f}'} | {b[0]} | "
                     f"{'' if b[1] is None else f'{b[1]:.4f}'} |")
    lines.append("")
    # 4. every step: gain where it is meant to help, worst harm elsewhere
    lines.append("### What each step does (CER points: switched off minus full chain)\n")
    lines.append("| step | pages it acts on | gain on its target | worst rise elsewhere (group) |")
    lines.append("|---|---|---|---|")
    for name in names:
        if name[:1] not in "-+" or name == "full":
            continue
        step = name[1:]
        degs_t, kinds_t, dpis_t = TARGETS.get(step, ((), (), ()))
        # a step on by default is compared switched off; one off by default (+STEP) switched on
        on_rs, off = (full, results[name]) if name[0] == "-" else (results[name], full)

        def in_target(r, degs_t=degs_t, kinds_t=kinds_t, dpis_t=dpis_t):
            return r.page.degradation in degs_t or r.page.kind in kinds_t or r.page.dpi in dpis_t

        marks = {"orientation": ("rotate", "osd")}.get(step, (step,))
        acts = sum(1 for r in on_rs if any(st.startswith(marks) for st in r.steps))
        tgt_off = _agg([r for r in off if in_target(r)])["cer"]
        tgt_on = _agg([r for r in on_rs if in_target(r)])["cer"]
        worst, where = 0.0, "—"
        for gname, key in (("deg", lambda r: r.page.degradation), ("kind", lambda r: r.page.kind)):
            for g in {key(r) for r in on_rs}:
                on = _agg([r for r in on_rs if key(r) == g])["cer"]
                of = _agg([r for r in off if key(r) == g])["cer"]
                if on - of > worst:
                    worst, where = on - of, f"{gname} {g}"
        gain = 100 * (tgt_off - tgt_on)
        label = step if name[0] == "-" else f"{step} (off by default)"
        lines.append(f"| {label} | {acts} | {gain:+.2f} | {100 * worst:.2f} ({where}) |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages-per-group", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=2, help="Tesseract processes at once (single-threaded each)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "sohoa" / "ocr_quality")
    ap.add_argument("--variants", default="full,none," + ",".join([f"-{s}" for s in STEPS] + [f"+{s}" for s in OPTIONAL]),
                    help="comma-separated: full, none, -STEP (switched off), +STEP (switched on)")
    ap.add_argument("--only", default="", help="only pages whose id contains this")
    ap.add_argument("--json", type=Path, help="also write per-page results here")
    ap.add_argument("--write-doc", type=Path, help="replace the results section of this markdown file")
    args = ap.parse_args(argv)
    corpus = build_corpus(args.cache / "corpus", args.seed, args.pages_per_group)
    if args.only:
        corpus = [p for p in corpus if args.only in p.id]
    cache = OcrCache(args.cache, args.jobs)
    results: dict[str, list[PageResult]] = {}
    t0 = time.perf_counter()
    for name in args.variants.split(","):
        t1 = time.perf_counter()
        results[name] = run_variant(name, corpus, cache)
        a = _agg(results[name])
        print(f"{name:14s} CER {_pct(a['cer'])} %  F1 {a['f1']:.4f}  ({time.perf_counter() - t1:.0f} s, "
              f"OCR cache {cache.hits} hits / {cache.misses} runs)", file=sys.stderr, flush=True)
    twins = upright_twins(corpus, cache) if "full" in results else None
    table = report(results, twins)
    cmd = "python bench/ocr_quality.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(table)
    print(f"{len(corpus)} pages, {time.perf_counter() - t0:.0f} s; `{cmd.strip()}`", file=sys.stderr)
    if args.json:
        rows = [{"variant": n, "id": r.page.id, "kind": r.page.kind, "degradation": r.page.degradation,
                 "dpi": r.page.dpi, "cer": r.cer, "blank": r.blank, "rotation": r.rotation, "skew": r.skew,
                 "truth_rotation": r.page.rotation, "truth_skew": r.page.skew_deg, "steps": r.steps,
                 "clean_cpu": r.clean_cpu, "ocr_cpu": r.ocr_cpu, "confidence": r.confidence,
                 "needs_review": r.needs_review, "text": r.text}
                for n, rs in results.items() for r in rs]
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=0), encoding="utf-8")
    if args.write_doc:
        doc = args.write_doc.read_text(encoding="utf-8")
        start, end = "<!-- bench:start -->", "<!-- bench:end -->"
        body = (f"{start}\nCorpus: {len(corpus)} pages (seed {args.seed}). Command:\n\n"
                f"    {cmd.strip()}\n\n{table}\n{end}")
        if start in doc and end in doc:
            doc = doc[: doc.index(start)] + body + doc[doc.index(end) + len(end):]
        else:
            doc += "\n" + body + "\n"
        args.write_doc.write_text(doc, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
