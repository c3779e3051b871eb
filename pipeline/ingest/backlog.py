"""Backlogs and inboxes: finding dossiers in a folder tree, skipping finished ones, reporting a run.

A dossier in a tree is a PDF or image file, or a folder of page images (a folder with no
sub-folders). Work is keyed on what defines it — the source's SHA-256 and the settings version — so
a run that was killed can simply be started again: finished dossiers are skipped, the rest redone,
and since every write replaces (store keys and catalog rows are per dossier) nothing is duplicated.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.catalog.base import Catalog
from pipeline.ingest.inputs import IMAGE_SUFFIXES, PDF_SUFFIXES, natural_key, open_dossier
from pipeline.manifest import Manifest
from pipeline.settings import Settings

DOSSIER_SUFFIXES = IMAGE_SUFFIXES | PDF_SUFFIXES
READY_MARKER = ".ready"


def visible_name(name: str) -> bool:
    """Not hidden, not a sidecar or a partial upload: may be (part of) a dossier."""
    return not name.startswith(".") and not name.endswith((".json", ".tmp", ".part"))


def _visible(p: Path) -> bool:
    """A visible entry that is a real file or folder: links found in a tree are not followed (a link
    in an inbox may point at any file on the server; docs/operations.md, "Hostile input")."""
    return visible_name(p.name) and not p.is_symlink()


def discover(root: Path) -> Iterator[Path]:
    """Dossiers under `root` in natural order (files, and leaf folders of page images)."""
    if root.is_file():
        if root.suffix.lower() in DOSSIER_SUFFIXES:
            yield root
        return
    entries = sorted((p for p in root.iterdir() if _visible(p)), key=lambda p: natural_key(p.name))
    subdirs = [p for p in entries if p.is_dir()]
    files = [p for p in entries if p.is_file() and p.suffix.lower() in DOSSIER_SUFFIXES]
    if not subdirs and files and all(f.suffix.lower() in IMAGE_SUFFIXES for f in files):
        yield root  # a leaf folder of page images is one dossier
        return
    for p in entries:
        if p.is_dir():
            yield from discover(p)
        elif p.suffix.lower() in DOSSIER_SUFFIXES:
            yield p


def backlog_items(root: Path) -> list[Path]:
    """Dossiers of a backlog folder: each file and each leaf folder below `root` is one dossier."""
    root = Path(root)
    if root.is_file():
        return [root]
    items: list[Path] = []
    for p in sorted((p for p in root.iterdir() if _visible(p)), key=lambda p: natural_key(p.name)):
        items.extend(discover(p))
    return items


def already_done(path: Path, settings: Settings, catalog: Catalog) -> Manifest | None:
    """The catalogued manifest when this exact source was digitised with these settings."""
    try:
        source = open_dossier(path, max_pixels=settings.limits.max_pixels, max_pages=settings.limits.max_pages, dpi=settings.ocr.dpi, min_dpi=settings.limits.min_dpi)
    except Exception:  # noqa: BLE001 - unreadable input is not done; digitising it reports why
        return None
    known = catalog.get_dossier(source.dossier_id)
    if (known is not None and known.status == "done" and known.source.sha256 == source.sha256
            and known.settings_version == settings.version):
        return known
    return None


@dataclass
class RunReport:
    """What a backlog or ingest run did; printed, stored as JSON, and published as a Prefect artifact."""

    source: str
    started_at: str
    finished_at: str = ""
    dossiers: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    pages: int = 0
    seconds: float = 0.0
    review_queue: int = 0
    failures: list[dict] = field(default_factory=list)

    @property
    def pages_per_min(self) -> float:
        return self.pages / self.seconds * 60 if self.seconds > 0 else 0.0

    def add(self, manifest: Manifest, skipped: bool = False) -> None:
        self.dossiers += 1
        if skipped:
            self.skipped += 1
            return
        if manifest.status == "done":
            self.done += 1
            self.pages += manifest.source.pages
            self.review_queue += sum(c.needs_review for c in manifest.components)
        else:
            self.failed += 1
            self.failures.append({"dossier_id": manifest.dossier_id, "source": manifest.source.path,
                                  "error": manifest.error})

    def to_dict(self) -> dict:
        data = asdict(self)
        data["pages_per_min"] = round(self.pages_per_min, 1)
        return data

    def to_markdown(self) -> str:
        lines = [
            f"# sohoa run: {self.source}",
            "",
            "| dossiers | digitised | skipped | failed | pages | pages/min | review queue |",
            "|---|---|---|---|---|---|---|",
            f"| {self.dossiers} | {self.done} | {self.skipped} | {self.failed} | {self.pages} "
            f"| {self.pages_per_min:.1f} | {self.review_queue} |",
        ]
        if self.failures:
            lines += ["", "## Failures", ""] + [f"- `{f['dossier_id']}`: {f['error']}" for f in self.failures]
        return "\n".join(lines)

    def to_text(self) -> str:
        text = (f"{self.dossiers} dossiers: {self.done} digitised, {self.skipped} skipped (already done), "
                f"{self.failed} failed; {self.pages} pages in {self.seconds:.0f} s "
                f"({self.pages_per_min:.1f} pages/min); review queue {self.review_queue}")
        for f in self.failures:
            text += f"\n  FAILED {f['dossier_id']}: {f['error']}"
        return text


# --- inbox -----------------------------------------------------------------------------------

def inbox_ready(inbox: Path, quiet_s: float, now: float | None = None) -> list[Path]:
    """Items in `inbox` that are complete: files unchanged for `quiet_s` seconds, folders with `.ready`."""
    now = time.time() if now is None else now
    ready: list[Path] = []
    for p in sorted((p for p in inbox.iterdir() if _visible(p)), key=lambda p: natural_key(p.name)):
        if p.name in ("processed", "quarantine"):
            continue
        if p.is_dir():
            if (p / READY_MARKER).exists():
                ready.append(p)
        elif p.suffix.lower() in DOSSIER_SUFFIXES and now - p.stat().st_mtime >= quiet_s:
            ready.append(p)
    return ready


def settle(path: Path, inbox: Path, manifest: Manifest) -> Path:
    """Move an ingested source to `processed/` or, with an `error.json`, to `quarantine/`."""
    target_dir = inbox / ("processed" if manifest.status == "done" else "quarantine")
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
    shutil.move(str(path), str(target))
    if manifest.status != "done":
        err = {"dossier_id": manifest.dossier_id, "error": manifest.error, "source": str(path),
               "at": manifest.created_at}
        side = target / "error.json" if target.is_dir() else target.with_name(target.name + ".error.json")
        side.write_text(json.dumps(err, ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        marker = target / READY_MARKER
        if target.is_dir() and marker.exists():
            os.unlink(marker)
    return target
