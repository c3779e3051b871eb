"""Tesseract through pytesseract: one process per page yields the words (TSV) and the text layer (PDF).

Each Tesseract process runs with OMP_THREAD_LIMIT=1: its own OpenMP threading is 3-4x slower than
running one single-threaded process per core, which is what the page pool does.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytesseract

from pipeline.ocr.fixes import refine_words
from pipeline.textnorm import nfc

os.environ["OMP_THREAD_LIMIT"] = "1"  # inherited by every tesseract subprocess pytesseract starts


@dataclass
class Word:
    text: str
    conf: float  # 0..1
    box: tuple[int, int, int, int]  # left, top, width, height in OCR-image pixels
    block: int
    par: int
    line: int


@dataclass
class OcrResult:
    text: str
    words: list[Word]
    confidence: float  # 0..1, character-weighted mean of word confidences
    textlayer_pdf: Path | None  # one-page PDF with only the invisible text
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def tesseract_available(lang: str = "vie") -> tuple[bool, str]:
    """(ok, message) — for `sohoa doctor` and start-up checks."""
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return False, "tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-vie)"
    try:
        langs = pytesseract.get_languages(config="")
    except (pytesseract.TesseractError, OSError, subprocess.SubprocessError) as exc:
        return False, f"tesseract does not run: {exc}"
    missing = [code for code in lang.split("+") if code not in langs]
    if missing:
        return False, f"tesseract has no {'+'.join(missing)} data (apt-get install tesseract-ocr-vie)"
    return True, f"tesseract {pytesseract.get_tesseract_version()} with {', '.join(sorted(langs))}"


_FURNITURE_EDGES = re.compile(r"^[_|]+|[_|]+$")


def word_text(raw: str) -> str:
    """A word as Tesseract read it, NFC, without the `_` and `|` it reads at a wide gap or a rule."""
    return _FURNITURE_EDGES.sub("", nfc(raw).strip())


def parse_tsv(tsv: str) -> list[Word]:
    words: list[Word] = []
    reader = csv.reader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if not header:
        return words
    for row in reader:
        if len(row) < 12 or row[0] != "5":
            continue
        text = word_text(row[11])
        if not text:
            continue  # a bare `_` or `|`: what Tesseract makes of a wide gap or a rule, not text
        conf = float(row[10])
        words.append(Word(text, max(0.0, conf) / 100.0, (int(row[6]), int(row[7]), int(row[8]), int(row[9])),
                          int(row[2]), int(row[3]), int(row[4])))
    return words


def reading_rows(words: list[Word]) -> list[list[list[Word]]]:
    """Tesseract's lines (words in its order) put in rows: lines side by side on one baseline are
    one row, left to right; rows top to bottom.

    Tesseract lays a form out in blocks and may cut one printed row in two — a field's value put in
    a block of its own, read before its label (`040089268110` / `Số định danh cá nhân:`), the right
    half of a row read before the left half. Its header rows it already reads across both columns
    (`ỦY BAN NHÂN DÂN  CỘNG HÒA XÃ HỘI …`), which extraction expects; this reads every row so.
    """
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        lines.setdefault((w.block, w.par, w.line), []).append(w)
    boxes = []
    for ws in lines.values():
        x0 = min(w.box[0] for w in ws)
        y0 = min(w.box[1] for w in ws)
        boxes.append((x0, y0, max(w.box[0] + w.box[2] for w in ws), max(w.box[1] + w.box[3] for w in ws), ws))
    rows: list[list[tuple]] = []
    for box in sorted(boxes, key=lambda b: (b[1] + b[3]) / 2):
        h = box[3] - box[1]
        for row in rows:
            r0, r1 = min(b[1] for b in row), max(b[3] for b in row)
            rh = min(h, min(b[3] - b[1] for b in row))
            side_by_side = all(box[0] >= b[2] or box[2] <= b[0] for b in row)
            if side_by_side and min(r1, box[3]) - max(r0, box[1]) >= 0.5 * rh:
                row.append(box)
                break
        else:
            rows.append([box])
    rows.sort(key=lambda row: min(b[1] for b in row))
    return [[b[4] for b in sorted(row, key=lambda b: b[0])] for row in rows]


def words_to_text(words: list[Word]) -> str:
    """The page text row by row (`reading_rows`); a blank line where a new paragraph starts."""
    out: list[str] = []
    para = None
    for row in reading_rows(words):
        first = (row[0][0].block, row[0][0].par)
        if out:
            out.append("\n\n" if first != para else "\n")
        out.append(" ".join(w.text for line in row for w in line))
        para = (row[-1][-1].block, row[-1][-1].par)
    return "".join(out)


def mean_confidence(words: list[Word]) -> float:
    total = sum(len(w.text) for w in words)
    return sum(w.conf * len(w.text) for w in words) / total if total else 0.0


def ocr_image(image: np.ndarray, dpi: float, workdir: Path, stem: str, *, lang: str = "vie", psm: int = 3,
              timeout_s: float = 180) -> OcrResult:
    """OCR one grey page image. A Tesseract failure or timeout gives an empty result with `error` set."""
    workdir.mkdir(parents=True, exist_ok=True)
    # Uncompressed PGM: a PNG costs ~40 ms of deflate here and as much inflate in Tesseract, per page.
    src = workdir / f"{stem}.ocr.pgm"
    cv2.imwrite(str(src), image)
    base = workdir / f"{stem}.ocr"
    config = f"--dpi {round(dpi)} --psm {psm} -c tessedit_create_tsv=1 -c textonly_pdf=1"
    try:
        pytesseract.pytesseract.run_tesseract(str(src), str(base), "pdf", lang, config=config, timeout=timeout_s)
    except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
        return OcrResult("", [], 0.0, None, error=f"OCR timed out after {timeout_s:.0f} s ({exc})")
    except pytesseract.TesseractError as exc:
        return OcrResult("", [], 0.0, None, error=f"OCR failed: {exc.message.strip()[:300]}")
    finally:
        src.unlink(missing_ok=True)
    tsv_path = Path(f"{base}.tsv")
    words = parse_tsv(tsv_path.read_text(encoding="utf-8", errors="replace")) if tsv_path.exists() else []
    words = refine_words(words, image)  # glued words split, superscript units: what the image settles
    tsv_path.unlink(missing_ok=True)
    pdf_path = Path(f"{base}.pdf")
    return OcrResult(words_to_text(words), words, round(mean_confidence(words), 4),
                     pdf_path if pdf_path.exists() else None)


OSD_DPI = 200  # orientation detection needs no more; half the pixels of 300 dpi, half the time


def osd_rotation(gray: np.ndarray, dpi: float, timeout_s: float = 30) -> tuple[int, float] | None:
    """Tesseract's orientation and script detection (`--psm 0`): (clockwise turn of the content,
    confidence), or None when it cannot tell (too little text, no OSD data, an error).

    Costs ~0.3 s of one core for a full page; the cleaning chain asks only when its own ink
    heuristic is unsure, and passes only the text area of the page.
    """
    from pipeline.imaging.analysis import rescale

    img = rescale(gray, min(1.0, OSD_DPI / dpi))
    with tempfile.TemporaryDirectory(prefix="sohoa-osd-") as tmp:
        src = Path(tmp) / "page.pgm"
        cv2.imwrite(str(src), img)
        cmd = [pytesseract.pytesseract.tesseract_cmd, str(src), "stdout", "--psm", "0",
               "--dpi", str(round(dpi * min(1.0, OSD_DPI / dpi)))]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
    m = re.search(r"Orientation in degrees:\s*(\d+)", proc.stdout)
    c = re.search(r"Orientation confidence:\s*([\d.]+)", proc.stdout)
    if proc.returncode != 0 or not m:
        return None
    rotation = int(m.group(1)) % 360
    if rotation not in (0, 90, 180, 270):
        return None
    return rotation, float(c.group(1)) if c else 0.0
