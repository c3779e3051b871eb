"""Tesseract, the one place it is run: page words and text layer, orientation, digit crops, version.

Every call is a subprocess with a timeout and its own environment (`OMP_THREAD_LIMIT=1`: Tesseract's
OpenMP threading is 3-4x slower here than one single-threaded process per core, which is how the
page pool runs it). Nothing is set at import time. A failure becomes `ProgramError` (or an empty
result where the caller can go on without it). The binary is pytesseract's `tesseract_cmd`
when a program set it (`tesseract` on PATH otherwise), so one setting points every call at another build.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pipeline.errors import ProgramError
from pipeline.ocr.fixes import refine_words
from pipeline.ocr.words import Word, mean_confidence, parse_tsv, words_to_text

OSD_DPI = 200  # orientation detection needs no more; half the pixels of 300 dpi, half the time
DIGITS_WHITELIST = "0123456789/.-"
# How an image is handed to Tesseract: uncompressed BMP. Leptonica 1.82 reads a binary PGM one byte per
# fread() call (~9 % of Tesseract's CPU on a 300 dpi page, perf) and a TIFF through extra copies; a BMP is
# read in one go (its palette removal costs ~1.5 %). A PNG costs ~40 ms of deflate here and inflate there.
IMAGE_SUFFIX = ".bmp"


@dataclass
class OcrResult:
    text: str
    words: list[Word]
    confidence: float  # 0..1, character-weighted mean of word confidences
    textlayer_pdf: Path | None  # one-page PDF with only the invisible text
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


_SLOTS_LOCK = threading.Lock()
_SLOTS: tuple[int, threading.Semaphore] | None = None


def share_cores(n: int) -> None:
    """At most `n` Tesseract processes at once in this process, whatever runs them (the pages of two
    dossiers in flight, their blank re-reads). Two dossiers' page pools on two cores ran up to four
    single-threaded Tesseracts at once: each then costs more CPU (time slices, caches) than alone, while
    a thread waiting for a slot can decode and clean its page in the meantime."""
    global _SLOTS
    with _SLOTS_LOCK:
        if _SLOTS is None or _SLOTS[0] != n:
            _SLOTS = (n, threading.Semaphore(max(1, n)))


def command() -> str:
    """pytesseract's `tesseract_cmd` when the program set it, else `tesseract` on PATH. pytesseract is
    not imported here for it: importing it imports pandas when installed (~0.15 s of a one-page run)."""
    module = sys.modules.get("pytesseract.pytesseract")
    return getattr(module, "tesseract_cmd", "tesseract") if module is not None else "tesseract"


def environment() -> dict[str, str]:
    """The environment of one Tesseract process: single-threaded, whatever the caller's is."""
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def run(args: list[str], *, timeout_s: float, what: str) -> subprocess.CompletedProcess:
    """Run `tesseract ARGS`; a missing binary, a time-out or a non-zero exit is a `ProgramError`."""
    cmd = [command(), *args]
    slots = _SLOTS
    try:
        with slots[1] if slots is not None else nullcontext():  # the timeout counts from the start, not the wait
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, env=environment(), check=False)
    except FileNotFoundError as exc:
        raise ProgramError(f"tesseract is not installed ({what})",
                           hint="apt-get install tesseract-ocr tesseract-ocr-vie; `sohoa doctor` checks") from exc
    except subprocess.TimeoutExpired as exc:
        raise ProgramError(f"{what} timed out after {timeout_s:.0f} s",
                           hint="raise ocr.timeout_s or check the page image") from exc
    except OSError as exc:
        raise ProgramError(f"tesseract did not start ({what}): {exc}") from exc
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ProgramError(f"{what} failed: {' / '.join(err[-3:])[:300] or f'exit {proc.returncode}'}")
    return proc


def version(timeout_s: float = 30) -> str:
    out = run(["--version"], timeout_s=timeout_s, what="tesseract --version")
    text = (out.stdout or out.stderr).decode("utf-8", "replace")
    return text.splitlines()[0].replace("tesseract ", "").strip() if text else "?"


def languages(timeout_s: float = 30) -> list[str]:
    out = run(["--list-langs"], timeout_s=timeout_s, what="tesseract --list-langs")
    lines = (out.stdout or out.stderr).decode("utf-8", "replace").splitlines()
    return [ln.strip() for ln in lines[1:] if ln.strip()]


def tesseract_available(lang: str = "vie") -> tuple[bool, str]:
    """(ok, message) — for `sohoa doctor` and start-up checks."""
    if shutil.which(command()) is None:
        return False, "tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-vie)"
    try:
        langs = languages()
        ver = version()
    except ProgramError as exc:
        return False, f"tesseract does not run: {exc}"
    missing = [code for code in lang.split("+") if code not in langs]
    if missing:
        return False, f"tesseract has no {'+'.join(missing)} data (apt-get install tesseract-ocr-vie)"
    return True, f"tesseract {ver} with {', '.join(sorted(langs))}"


def ocr_image(image: np.ndarray, dpi: float, workdir: Path, stem: str, *, lang: str = "vie", psm: int = 3,
              timeout_s: float = 180, chars: str | None = None, refine: bool = True) -> OcrResult:
    """OCR one grey page image: words (TSV) and the invisible text layer (PDF) from one process.
    `chars`: the only characters it may answer with, dictionaries off (a machine-readable zone);
    `refine`: glued words split and superscripts restored (`pipeline.ocr.fixes`; not for a code).
    A Tesseract failure or timeout gives an empty result with `error` set: the page is kept, not lost."""
    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / f"{stem}.ocr{IMAGE_SUFFIX}"
    cv2.imwrite(str(src), image)
    base = workdir / f"{stem}.ocr"
    args = [str(src), str(base), "-l", lang, "--dpi", str(round(dpi)), "--psm", str(psm),
            "-c", "tessedit_create_tsv=1", "-c", "textonly_pdf=1"]
    if chars:
        args += ["-c", f"tessedit_char_whitelist={chars}", "-c", "load_system_dawg=0", "-c", "load_freq_dawg=0"]
    args.append("pdf")
    try:
        run(args, timeout_s=timeout_s, what="OCR")
    except ProgramError as exc:
        return OcrResult("", [], 0.0, None, error=exc.problem)
    finally:
        src.unlink(missing_ok=True)
    tsv_path = Path(f"{base}.tsv")
    words = parse_tsv(tsv_path.read_text(encoding="utf-8", errors="replace")) if tsv_path.exists() else []
    if refine:
        words = refine_words(words, image)  # glued words split, superscript units: what the image settles
    tsv_path.unlink(missing_ok=True)
    pdf_path = Path(f"{base}.pdf")
    return OcrResult(words_to_text(words), words, round(mean_confidence(words), 4),
                     pdf_path if pdf_path.exists() else None)


def ocr_crop(image: np.ndarray, dpi: float, *, lang: str = "eng", psm: int = 6, chars: str | None = None,
             timeout_s: float = 30) -> list[Word]:
    """The words of a small grey crop of several lines (a zone re-read with its own settings), boxes
    in crop pixels. `chars`: the only characters Tesseract may answer with; dictionaries are off then
    (a code is no word). A failure gives no words: the caller keeps what the page OCR read."""
    args = ["--dpi", str(round(dpi)), "--psm", str(psm), "-l", lang]
    if chars:
        args += ["-c", f"tessedit_char_whitelist={chars}", "-c", "load_system_dawg=0", "-c", "load_freq_dawg=0"]
    with tempfile.TemporaryDirectory(prefix="sohoa-crop-") as tmp:
        src = Path(tmp) / f"crop{IMAGE_SUFFIX}"
        cv2.imwrite(str(src), image)
        try:
            proc = run([str(src), "stdout", *args, "tsv"], timeout_s=timeout_s, what="zone re-read")
        except ProgramError:
            return []
    return parse_tsv(proc.stdout.decode("utf-8", "replace"))


def osd_rotation(gray: np.ndarray, dpi: float, timeout_s: float = 30) -> tuple[int, float] | None:
    """Tesseract's orientation and script detection (`--psm 0`): (clockwise turn of the content,
    confidence), or None when it cannot tell (too little text, no OSD data, an error).

    Costs ~0.3 s of one core for a full page; the cleaning chain asks only when its own ink
    heuristic is unsure, and passes only the text area of the page.
    """
    factor = min(1.0, OSD_DPI / dpi)
    if factor < 1.0:
        size = (max(1, round(gray.shape[1] * factor)), max(1, round(gray.shape[0] * factor)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    with tempfile.TemporaryDirectory(prefix="sohoa-osd-") as tmp:
        src = Path(tmp) / f"page{IMAGE_SUFFIX}"
        cv2.imwrite(str(src), gray)
        try:
            proc = run([str(src), "stdout", "--psm", "0", "--dpi", str(round(dpi * factor))], timeout_s=timeout_s,
                       what="orientation detection")
        except ProgramError:
            return None
    out = proc.stdout.decode("utf-8", "replace")
    m = re.search(r"Orientation in degrees:\s*(\d+)", out)
    c = re.search(r"Orientation confidence:\s*([\d.]+)", out)
    if not m:
        return None
    rotation = int(m.group(1)) % 360
    if rotation not in (0, 90, 180, 270):
        return None
    return rotation, float(c.group(1)) if c else 0.0


def read_line(img: np.ndarray, *, whitelist: str = DIGITS_WHITELIST, timeout_s: float = 30, psm: int = 7) -> str:
    """The characters of `whitelist` Tesseract reads on one line of a small crop (`--psm 7`, grey or
    RGB); empty when it reads nothing or fails (a second look is evidence, never a reason to stop).
    `psm` 8 (one word) or 13 (raw line) give other, independent readings of the same crop."""
    return read_lines([img], whitelist=whitelist, timeout_s=timeout_s, psm=psm)[0]


def read_lines(images: list[np.ndarray], *, whitelist: str = DIGITS_WHITELIST, timeout_s: float = 30,
               psm: int = 7) -> list[str]:
    """`read_line` of several crops in ONE Tesseract process: the crops are the pages of an image
    list, each read on its own with the same `psm`, and the text comes back page by page (split at
    Tesseract's page separator). A process start (loading the model) costs ~0.1 s of CPU, several
    times the read of a small crop, so a page's header blanks at three sizes are read by one process.
    All empty when it fails."""
    if not images:
        return []
    with tempfile.TemporaryDirectory(prefix="sohoa-line-") as tmp:
        names = []
        for i, img in enumerate(images):
            gray = img if img.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(img[:, :, :3]), cv2.COLOR_RGB2GRAY)
            if not gray.size:
                gray = np.full((8, 8), 255, np.uint8)  # an empty crop stays a page: the answers keep their order
            src = Path(tmp) / f"line{i:02d}{IMAGE_SUFFIX}"
            cv2.imwrite(str(src), gray)
            names.append(str(src))
        listing = Path(tmp) / "lines.txt"
        listing.write_text("\n".join(names) + "\n", encoding="utf-8")
        try:
            proc = run([str(listing), "stdout", "--psm", str(psm), "-c", f"tessedit_char_whitelist={whitelist}",
                        "-c", "page_separator=\f"], timeout_s=timeout_s * len(images), what="line re-read")
        except ProgramError:
            return [""] * len(images)
    parts = proc.stdout.decode("utf-8", "replace").split("\f")
    if len(parts) < len(images):
        return [""] * len(images)
    return [part.strip() for part in parts[:len(images)]]
