"""What a dossier folder holds, judged without following anything out of it.

A dossier is what is inside it. Each entry of the folder is looked at with `lstat` (links are not
followed) and gets one fate:

- a symbolic link: refused, whatever it points at (inside or outside, it is not the scan);
- a device, FIFO or socket: refused (reading one can hang or leak another system's data);
- a regular file with several hard links (`st_nlink > 1`): a hard link cannot tell where its other
  names are. It is read only when all its names are in this dossier folder (the same scan given
  twice); otherwise it is refused as "shared with a file outside the dossier". Copy the file in
  instead of linking it;
- a sub-folder, a hidden file or a file of a type sohoa does not read (`.heic`, `.txt`, ...): skipped
  with the reason; a skipped regular file is still stored as an original, so no scan is lost;
- `dossier.json`: the sidecar; the rest: pages.

Stored original names never collide: `stored_names()` keeps each name when it is already key-safe
and unique, and otherwise gives it the sanitised name plus a short hash of the original name.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

from pipeline.errors import InputError
from pipeline.textnorm import nfc, strip_marks

SIDECAR = "dossier.json"


def file_kind(mode: int) -> str:
    """Plain words for a non-regular file."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def check_regular(path: Path) -> os.stat_result:
    """The stat of a dossier given as one file; a device or FIFO is refused before it is opened."""
    st = path.stat()
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{file_kind(st.st_mode)}, not a file: not read", path=path,
                         hint="Give a PDF, an image file or a folder of page images")
    return st


def scan_folder(folder: Path, readable: set[str]) -> list[tuple[str, str, str, Path | None]]:
    """(name, status, reason, file) for every entry of `folder`; `readable`: page file suffixes."""
    found: list[tuple[str, os.stat_result, Path]] = []
    with os.scandir(folder) as it:
        for de in it:
            p = Path(de.path)
            found.append((de.name, p.lstat(), p))
    inside: dict[tuple[int, int], int] = {}
    for _, st, _ in found:
        if stat.S_ISREG(st.st_mode):
            inside[(st.st_dev, st.st_ino)] = inside.get((st.st_dev, st.st_ino), 0) + 1
    out: list[tuple[str, str, str, Path | None]] = []
    for name, st, p in found:
        mode = st.st_mode
        if stat.S_ISLNK(mode):
            out.append((name, "refused", "a symbolic link: only files inside the dossier are read", None))
        elif stat.S_ISDIR(mode):
            out.append((name, "skipped", "a folder inside the dossier: not read (put its pages in the "
                                         "dossier folder itself)", None))
        elif not stat.S_ISREG(mode):
            out.append((name, "refused", f"{file_kind(mode)}: not read", None))
        elif st.st_nlink > inside[(st.st_dev, st.st_ino)]:
            out.append((name, "refused", "a hard link shared with a file outside the dossier: not read "
                                         "(copy the file in instead of linking it)", None))
        elif name == SIDECAR:
            out.append((name, "sidecar", "", p))
        elif name.startswith("."):
            out.append((name, "skipped", "a hidden file", p))
        elif p.suffix.lower() not in readable:
            kind = p.suffix.lower() or "no extension"
            out.append((name, "skipped", f"not a file type sohoa reads as pages ({kind}): kept as an original; "
                                         "convert it to PDF, JPEG, PNG or TIFF and submit it again", p))
        else:
            out.append((name, "pages", "", p))
    return out


def safe_id(name: str) -> str:
    """A dossier id usable as an object-store key segment: ASCII letters, digits, `._-`."""
    ident = re.sub(r"[^A-Za-z0-9._-]+", "_", strip_marks(nfc(name)).strip()).strip("._")
    return ident[:120] or "dossier"


def _safe(name: str) -> str:
    p = Path(name)
    return safe_id(p.stem) + p.suffix.lower()


def stored_names(names: list[str]) -> dict[str, str]:
    """A unique, key-safe stored name for each original name.

    A name that is already key-safe is kept as is (unless another differs from it only by case);
    any other gets its sanitised form plus 8 hex digits of the hash of the original name, so
    `p 1.png` and `p_1.png` are stored as `p_1-<hash>.png` and `p_1.png`. The manifest maps each.
    """
    safe = {n: _safe(n) for n in names}
    as_is: dict[str, int] = {}
    for n in names:
        if safe[n] == n:
            as_is[n.casefold()] = as_is.get(n.casefold(), 0) + 1
    out: dict[str, str] = {}
    taken = {k for k, c in as_is.items() if c == 1}
    for n in names:
        s = safe[n]
        if s == n and as_is[n.casefold()] == 1:
            out[n] = s
            continue
        digest = hashlib.sha256(n.encode("utf-8", "surrogateescape")).hexdigest()
        stem, suffix = os.path.splitext(s)
        length = 8
        while f"{stem}-{digest[:length]}{suffix}".casefold() in taken:
            length += 4
        out[n] = f"{stem}-{digest[:length]}{suffix}"
        taken.add(out[n].casefold())
    return out
