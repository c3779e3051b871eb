"""Poppler, the one place it is run: page count and sizes (pdfinfo), text layer (pdftotext), one page
rendered (pdftoppm through pdf2image), version.

Every call has a timeout and passes its environment explicitly; a missing tool or a time-out is an
`InputError` naming the file (and page) with what to do — the PDF is the clerk's, the fix is theirs.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from PIL import Image

from pipeline.errors import InputError, ProgramError

TIMEOUT_S = 120


def environment() -> dict[str, str]:
    return dict(os.environ)


def run(tool: str, args: list[str], path: Path, *, timeout_s: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run one Poppler tool on `path`; the caller reads the return code (pdfinfo's stderr says why)."""
    try:
        return subprocess.run([tool, *args], capture_output=True, timeout=timeout_s, env=environment(), check=False)
    except subprocess.TimeoutExpired as exc:
        raise InputError(f"{tool} did not finish in {timeout_s:.0f} s", path=path,
                         hint="The PDF may be damaged; repair it (e.g. qpdf) or rescan") from exc
    except FileNotFoundError as exc:
        raise InputError(f"{tool} is not installed", path=path,
                         hint="Install poppler-utils (run `sohoa doctor`)") from exc


def page_count(path: Path) -> int:
    """Pages of a PDF; a clear `InputError` for an encrypted, empty or unreadable file."""
    info = run("pdfinfo", [str(path)], path)
    err = info.stderr.decode("utf-8", "replace")
    if info.returncode != 0:
        if "wrong page range" in err.lower() and "last page (0)" in err.lower():
            raise InputError("the PDF has zero pages", path=path, hint="Rescan the dossier")
        if "password" in err.lower() or "encrypt" in err.lower():
            raise InputError("the PDF is encrypted with a password", path=path,
                             hint="Ask for an unprotected copy or remove the password, then resubmit")
        first = err.strip().splitlines()[-1] if err.strip() else "unreadable"
        raise InputError(f"not a readable PDF ({first})", path=path,
                         hint="The file may be truncated or damaged; copy or rescan it")
    m = re.search(r"^Pages:\s+(\d+)", info.stdout.decode("utf-8", "replace"), re.M)
    return int(m.group(1)) if m else 0


def page_sizes(path: Path, count: int) -> tuple[dict[int, tuple[float, float]], set[int]]:
    """(page number -> (width, height) in points as displayed, the page's /Rotate applied; the pages
    turned a quarter, whose pixels pdftoppm scales before it turns them)."""
    sizes: dict[int, tuple[float, float]] = {}
    turned: set[int] = set()
    res = run("pdfinfo", ["-f", "1", "-l", str(count), str(path)], path)
    if "loop in pages tree" in res.stderr.decode("utf-8", "replace").lower():
        raise InputError("the PDF's page tree loops back on itself (a damaged or crafted file)", path=path,
                         hint="Repair the PDF (e.g. qpdf) or rescan the dossier")
    out = res.stdout.decode("utf-8", "replace")
    for pm in re.finditer(r"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+)", out, re.M):
        sizes[int(pm.group(1))] = (float(pm.group(2)), float(pm.group(3)))
    for pm in re.finditer(r"^Page\s+(\d+) rot:\s+(\d+)", out, re.M):
        if int(pm.group(2)) % 180 == 90 and int(pm.group(1)) in sizes:
            w, h = sizes[int(pm.group(1))]
            sizes[int(pm.group(1))] = (h, w)
            turned.add(int(pm.group(1)))
    return sizes, turned


def page_texts(path: Path, count: int) -> list[str]:
    """The existing text layer per page (one pdftotext run); empty strings when there is none."""
    res = run("pdftotext", ["-enc", "UTF-8", "-q", str(path), "-"], path)
    if res.returncode != 0:
        return [""] * count
    return res.stdout.decode("utf-8", "replace").split("\f")[:count]


def render_page(path: Path, index: int, dpi: float, *, page: int | None = None,
                timeout_s: float = TIMEOUT_S, size: tuple[int, int] | None = None,
                turned: bool = False) -> Image.Image:
    """Page `index` (0-based) rendered at `dpi` by pdftoppm, one page only, one thread.

    With `size` (pixels, as displayed), the crop box (the size pdfinfo reports) is drawn at exactly that
    size, whatever the media box says: the pixel budget decided it (`pipeline.ingest.budget`). `turned`:
    the page's /Rotate is a quarter turn (pdftoppm scales the unturned page, so the size is swapped).
    """
    if size is not None and turned:
        size = (size[1], size[0])
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError

    try:
        images = convert_from_path(path, dpi=dpi, first_page=index + 1, last_page=index + 1,
                                   timeout=timeout_s, thread_count=1, use_cropbox=size is not None, size=size)
    except (PDFPageCountError, PDFSyntaxError, OSError, RuntimeError, ValueError) as exc:
        raise InputError(f"the page cannot be rendered ({exc})", path=path, page=page,
                         hint="The PDF may be damaged; repair it or rescan the page") from exc
    except Image.DecompressionBombError as exc:
        raise InputError(f"the rendered page is too large ({exc})", path=path, page=page,
                         hint="Repair the PDF or rescan the page") from exc
    if not images:
        raise InputError("the page rendered to nothing", path=path, page=page, hint="Rescan the page")
    return images[0]


def version(timeout_s: float = 30) -> str:
    """Poppler's version line (pdftoppm -v prints it on stderr)."""
    try:
        out = subprocess.run(["pdftoppm", "-v"], capture_output=True, text=True, timeout=timeout_s,
                             env=environment(), check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ProgramError(f"pdftoppm does not run: {exc}", hint="apt-get install poppler-utils") from exc
    lines = (out.stderr or out.stdout).splitlines()
    return lines[0] if lines else "ok"


