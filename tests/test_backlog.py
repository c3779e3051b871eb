"""Backlog batches, resume after SIGKILL, the inbox, and the report — through the real CLI and flows."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from pipeline.ingest.backlog import RunReport, backlog_items, inbox_ready, settle
from pipeline.manifest import Manifest, Source
from tests.conftest import REPO, SAMPLES, cli

pytestmark = [pytest.mark.slow, pytest.mark.ocr]


def make_tree(root: Path) -> Path:
    (root / "2024" / "thang_05").mkdir(parents=True)
    shutil.copy(SAMPLES / "hs_0004.png", root / "2024" / "thang_05" / "hs_0004.png")
    shutil.copy(SAMPLES / "hs_0003.tiff", root / "2024" / "hs_0003.tiff")
    shutil.copytree(SAMPLES / "hs_0002", root / "2024" / "thang_05" / "hs_0002")
    (root / "2024" / "hs_hong.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (root / "2024" / "notes.json").write_text("{}")
    return root


def test_discovery_natural_order_and_leaf_folders(tmp_path):
    tree = make_tree(tmp_path / "tree")
    names = [p.name for p in backlog_items(tree)]
    assert names == ["hs_0003.tiff", "hs_hong.pdf", "hs_0002", "hs_0004.png"]


def test_inbox_takes_only_settled_items(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    Image.new("L", (50, 50), 255).save(inbox / "old.png")
    Image.new("L", (50, 50), 255).save(inbox / "fresh.png")
    os.utime(inbox / "old.png", (time.time() - 600, time.time() - 600))
    (inbox / "folder_waiting").mkdir()
    (inbox / "folder_ready").mkdir()
    (inbox / "folder_ready" / ".ready").touch()
    ready = [p.name for p in inbox_ready(inbox, quiet_s=60)]
    assert ready == ["folder_ready", "old.png"]


def test_settle_moves_and_explains(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bad = inbox / "hs_x.pdf"
    bad.write_bytes(b"junk")
    m = Manifest(dossier_id="hs_x", status="failed", error="hs_x.pdf: broken. Rescan",
                 source=Source(path=str(bad), sha256="", pages=0))
    target = settle(bad, inbox, m)
    assert target == inbox / "quarantine" / "hs_x.pdf" and target.exists() and not bad.exists()
    err = json.loads((inbox / "quarantine" / "hs_x.pdf.error.json").read_text())
    assert err["error"] == m.error
    report = RunReport(source="x", started_at="now")
    report.add(m)
    assert report.failed == 1 and "hs_x" in report.to_markdown()


def _catalog_counts(home: Path) -> dict:
    with sqlite3.connect(home / "catalog.sqlite") as db:
        return {t: db.execute(f"select count(*) from {t}").fetchone()[0] for t in ("dossiers", "components", "pages")}


def _objects(home: Path) -> list[str]:
    root = home / "store" / "sohoa"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory):
    """Start a backlog, SIGKILL it in the middle of a dossier, start it again."""
    base = tmp_path_factory.mktemp("resume")
    tree = make_tree(base / "tree")
    home = base / "home"
    env = {**os.environ, "SOHOA_HOME": str(home), "SOHOA_RUN__DOSSIERS_AT_ONCE": "1"}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "backlog", str(tree)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    manifests = home / "store" / "sohoa" / "dossiers"
    deadline = time.monotonic() + 600
    # kill once the first dossier is recorded and the next one has started writing pages
    while time.monotonic() < deadline and proc.poll() is None:
        done = list(manifests.glob("*/manifest.json")) if manifests.exists() else []
        work = list((home / "work").glob("*/p*.jpg")) if (home / "work").exists() else []
        if done and work:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the backlog finished before it could be killed; the test proves nothing"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_done = len(list(manifests.glob("*/manifest.json")))
    resumed = cli("backlog", str(tree), "--json", home=home)
    again = cli("backlog", str(tree), "--json", home=home)
    return home, killed_done, resumed, again


def test_resume_after_sigkill_loses_and_duplicates_nothing(killed_and_resumed):
    home, killed_done, resumed, again = killed_and_resumed
    assert 1 <= killed_done < 4
    assert resumed.returncode == 1, resumed.stderr[-2000:]  # hs_hong.pdf fails, the rest succeed
    report = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert report["dossiers"] == 4 and report["failed"] == 1
    assert report["done"] + report["skipped"] == 3 and report["skipped"] >= 1
    assert report["failures"][0]["dossier_id"] == "hs_hong"
    counts = _catalog_counts(home)
    assert counts["dossiers"] == 4
    assert counts["components"] == 1 + 2 + 4  # hs_0004, hs_0003, hs_0002: each once
    assert counts["pages"] == 1 + 3 + 5  # hs_0002: five pages, the card back alone on the fourth
    objects = _objects(home)
    pdfs = [o for o in objects if o.startswith("dossiers/") and o.endswith(".pdf")]
    assert len(pdfs) == 7 and len(set(pdfs)) == 7
    assert not [o for o in objects if ".sohoa-tmp" in o or o.endswith(".tmp")]
    for dossier in ("hs_0002", "hs_0003", "hs_0004"):
        m = json.loads((home / "store" / "sohoa" / "dossiers" / dossier / "manifest.json").read_text())
        assert m["status"] == "done"
    # a third run finds everything done
    third = json.loads(again.stdout.strip().splitlines()[-1])
    assert third["skipped"] == 3 and third["done"] == 0
    assert _catalog_counts(home) == counts
    assert len(list((home / "store" / "sohoa" / "reports").glob("backlog-*.json"))) >= 2


def test_report_figures_and_chart(killed_and_resumed, tmp_path):
    home, *_ = killed_and_resumed
    proc = cli("report", "--json", "--chart", str(tmp_path / "thang.png"), home=home)
    assert proc.returncode == 0, proc.stderr
    fig = json.loads(proc.stdout)
    assert fig["dossiers_received"] == 4 and fig["dossiers_digitised"] == 3 and fig["dossiers_failed"] == 1
    assert fig["documents"] == 7 and fig["pages"] == 9
    assert fig["share_all_components_attached"] == 1.0
    with Image.open(tmp_path / "thang.png") as img:
        assert img.format == "PNG" and img.width >= 600
    text = cli("report", "--since", "2000-01-01", home=home)
    assert "Hồ sơ đã số hóa" in text.stdout
    future = json.loads(cli("report", "--json", "--since", "2999-01-01", home=home).stdout)
    assert future["dossiers_received"] == 0


def test_ingest_once_moves_sources(tmp_path):
    home = tmp_path / "home"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "hs_0004.png", inbox / "hs_0004.png")
    (inbox / "hs_hong.pdf").write_bytes(b"not a pdf")
    shutil.copytree(SAMPLES / "hs_0002", inbox / "hs_0002")  # no .ready yet: left alone
    proc = cli("ingest", "--once", "--inbox", str(inbox), "--json", home=home, env={"SOHOA_RUN__QUIET_S": "0"})
    assert proc.returncode == 1, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (report["done"], report["failed"]) == (1, 1)
    assert (inbox / "processed" / "hs_0004.png").exists()
    assert (inbox / "quarantine" / "hs_hong.pdf").exists()
    assert "hs_hong.pdf" in json.loads((inbox / "quarantine" / "hs_hong.pdf.error.json").read_text())["error"]
    assert (inbox / "hs_0002").is_dir()
    assert cli("ingest", home=home).returncode == 2
