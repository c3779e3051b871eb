"""Every PDF and image of OCRmyPDF's test corpus gives a result or a clear error: no crash, no hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.ocr]

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "peer-pdfs"
SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}
FILES = sorted(p for p in CORPUS.glob("*") if p.suffix.lower() in SUFFIXES) if CORPUS.is_dir() else []


@pytest.mark.skipif(not FILES, reason=f"peer corpus not found at {CORPUS} (../shared is absent)")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_peer_file(path: Path, tmp_path: Path):
    env = {**os.environ, "SOHOA_OCR__TIMEOUT_S": "120", "SOHOA_WORKERS": "2"}
    proc = subprocess.run([sys.executable, "-m", "tests.peer_runner", str(path), str(tmp_path)],
                          capture_output=True, text=True, timeout=900, cwd=REPO, env=env)
    assert proc.returncode == 0, f"crashed: {proc.stderr[-2000:]}"
    manifest = json.loads(proc.stdout.strip().splitlines()[-1])
    if manifest["status"] == "failed":
        err = manifest["error"]
        assert path.name in err and "\n" not in err, err
        assert manifest["components"] == []
        return
    assert manifest["source"]["pages"] == len(manifest["pages"]) >= 1
    for comp in manifest["components"]:
        pdf = Path(comp["object"]["uri"].removeprefix("file://"))
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False)
        assert info.returncode == 0, info.stderr
        assert f"Pages:           {len(comp['pages'])}" in info.stdout
