"""S3 prefixes as backlog source and inbox: the grouping rules, then the real thing through the CLI
against a nanio S3 server on loopback (signatures checked, as MinIO does)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.catalog import open_catalog
from pipeline.errors import InputError
from pipeline.ingest.backlog import backlog_items
from pipeline.ingest.inputs import open_dossier
from pipeline.ingest.s3source import (
    S3Url,
    backlog_keys,
    begin_settle,
    finish_settling,
    inbox_items,
    inbox_ready,
    parse_s3_url,
    settle,
    settle_plan,
)
from pipeline.manifest import Manifest, Source
from pipeline.settings import Settings
from pipeline.store.s3 import Listed, S3Store, S3StoreError
from tests import s3server
from tests.conftest import SAMPLES, cli

pytestmark = [pytest.mark.slow, pytest.mark.s3, pytest.mark.ocr]

# --- grouping (pure) ---------------------------------------------------------------------------

TREE = ["2024/thang_05/hs_0004.png", "2024/hs_0003.tiff", "2024/thang_05/hs_0002/1.jpg",
        "2024/thang_05/hs_0002/10.jpg", "2024/thang_05/hs_0002/2.jpg", "2024/thang_05/hs_0002/dossier.json",
        "2024/hs_hong.pdf", "2024/notes.json", "2024/.an.pdf", "hs_10.pdf", "hs_2.pdf", "tron/a.pdf",
        "tron/b.png", "tron/con/c.png", "tron/con/d.png", "ghi_chu.txt"]


def test_backlog_keys_group_like_the_folder_tree(tmp_path):
    for name in TREE:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    on_disk = [p.relative_to(tmp_path).as_posix() + ("/" if p.is_dir() else "") for p in backlog_items(tmp_path)]
    on_s3 = [k.removeprefix("scans/") for k in backlog_keys(["scans/" + n for n in TREE] + ["other/x.pdf"], "scans/")]
    assert on_s3 == on_disk
    assert on_s3 == ["2024/hs_0003.tiff", "2024/hs_hong.pdf", "2024/thang_05/hs_0002/", "2024/thang_05/hs_0004.png",
                     "hs_2.pdf", "hs_10.pdf", "tron/a.pdf", "tron/b.png", "tron/con/"]


def test_inbox_takes_quiet_objects_and_ready_folders():
    now = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)
    old, fresh = now - timedelta(minutes=10), now - timedelta(seconds=5)
    top = [Listed("in/old.png", 9, "e1", old), Listed("in/old.png.dossier.json", 2, "e2", old),
           Listed("in/fresh.png", 9, "e3", fresh), Listed("in/notes.txt", 9, "e4", old),
           Listed("in/san_sang/", is_folder=True), Listed("in/cho/", is_folder=True),
           Listed("in/processed/", is_folder=True), Listed("in/.settling/", is_folder=True)]
    folders = {"in/san_sang/": [Listed("in/san_sang/.ready", 0, "e5", fresh), Listed("in/san_sang/1.jpg", 9, "e6", fresh)],
               "in/cho/": [Listed("in/cho/1.jpg", 9, "e7", old)],
               "in/processed/": [Listed("in/processed/x/.ready", 0, "e8", old)]}
    ready = inbox_ready(top, folders, quiet_s=60, now=now)
    assert [i.key for i in ready] == ["in/old.png", "in/san_sang/"]
    assert [o.key for o in ready[0].objects] == ["in/old.png", "in/old.png.dossier.json"]
    done = settle_plan(ready[1], "in/", done=True, occupied=False, stamp="S")
    assert done["moves"] == [("in/san_sang/1.jpg", "in/processed/san_sang/1.jpg")]
    assert done["delete"] == ["in/san_sang/.ready", "in/san_sang/1.jpg"] and done["error_key"] is None
    bad = settle_plan(ready[0], "in/", done=False, occupied=True, stamp="S")
    assert bad["moves"] == [("in/old.png", "in/quarantine/old.S.png"),
                            ("in/old.png.dossier.json", "in/quarantine/old.S.png.dossier.json")]
    assert bad["error_key"] == "in/quarantine/old.S.png.error.json"


def test_s3_urls():
    assert parse_s3_url("s3://scans/2024/Hồ sơ #1/") == S3Url("scans", "2024/Hồ sơ #1/")
    assert parse_s3_url("s3://10.0.0.5:9000/scans/a.pdf") == S3Url("scans", "a.pdf", "10.0.0.5:9000")
    assert str(S3Url("scans", "a/", "h:1")) == "s3://h:1/scans/a/" and S3Url("scans", "a/b/").name == "b"
    for bad in ("s3://Bad_Bucket/x", "s3://scans/a//b", "s3://key:secret@scans/x", "/tmp/x"):
        with pytest.raises(InputError):
            parse_s3_url(bad)


# --- on a real S3 server -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    why = s3server.missing("nanio")
    if why:
        pytest.skip(why)
    srv = s3server.S3Server("nanio", tmp_path_factory.mktemp("nanio")).start()
    yield srv
    srv.stop()


def s3_env(srv: s3server.S3Server) -> dict[str, str]:
    return {"SOHOA_S3__ENDPOINT": srv.endpoint, "SOHOA_S3__ACCESS_KEY": s3server.ACCESS_KEY,
            "SOHOA_S3__SECRET_KEY": s3server.SECRET_KEY, "SOHOA_S3__REGION": s3server.REGION,
            "SOHOA_S3__MAX_ATTEMPTS": "2", "SOHOA_S3__BACKOFF_S": "0.05"}


def settings_for(srv: s3server.S3Server, home: Path, **extra) -> Settings:
    return Settings(home=home, s3={"endpoint": srv.endpoint, "access_key": s3server.ACCESS_KEY,
                                   "secret_key": s3server.SECRET_KEY, "region": s3server.REGION,
                                   "max_attempts": 2, "backoff_s": 0.05}, **extra)


def upload(srv: s3server.S3Server, bucket: str, objects: dict[str, Path | bytes]) -> None:
    """As a scanner or `mc cp` would: plain PUTs, no sha256 metadata."""
    client = srv.client()
    if not client.bucket_exists(bucket_name=bucket):
        client.make_bucket(bucket_name=bucket)
    for key, body in objects.items():
        data = body.read_bytes() if isinstance(body, Path) else body
        client.put_object(bucket_name=bucket, object_name=key, data=io.BytesIO(data), length=len(data))


def keys(srv: s3server.S3Server, bucket: str, prefix: str = "") -> list[str]:
    return sorted(o.object_name for o in srv.client().list_objects(bucket_name=bucket, prefix=prefix, recursive=True))


def one_page_pdf(dest: Path) -> Path:
    subprocess.run(["pdfseparate", "-f", "1", "-l", "1", str(SAMPLES / "hs_0001.pdf"), str(dest)], check=True)
    return dest


def test_backlog_from_an_s3_prefix(server, tmp_path):
    pdf = one_page_pdf(tmp_path / "hs_0001.pdf")
    folder = tmp_path / "hs_0002"
    folder.mkdir()
    for page in ("1.jpg", "2.jpg"):
        shutil.copy(SAMPLES / "hs_0002" / page, folder / page)
    upload(server, "kho-scan", {"2024/hs_0001.pdf": pdf, "2024/hs_0004.png": SAMPLES / "hs_0004.png",
                                "2024/thang_05/hs_0002/1.jpg": folder / "1.jpg",
                                "2024/thang_05/hs_0002/2.jpg": folder / "2.jpg", "2024/ghi_chu.json": b"{}"})
    home = tmp_path / "home"
    first = cli("backlog", "s3://kho-scan/2024", "--json", home=home, env=s3_env(server))
    assert first.returncode == 0, first.stderr[-3000:]
    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert (report["dossiers"], report["done"], report["failed"]) == (3, 3, 0)
    settings = Settings(home=home)
    with open_catalog(settings) as catalog:
        for dossier_id, local, url in (("hs_0001", pdf, "s3://kho-scan/2024/hs_0001.pdf"),
                                       ("hs_0002", folder, "s3://kho-scan/2024/thang_05/hs_0002/"),
                                       ("hs_0004", SAMPLES / "hs_0004.png", "s3://kho-scan/2024/hs_0004.png")):
            manifest = catalog.get_dossier(dossier_id)
            assert manifest is not None and manifest.status == "done" and manifest.source.path == url
            from_disk = open_dossier(local)  # the same id and digest as the same source on disk
            assert (manifest.dossier_id, manifest.source.sha256) == (from_disk.dossier_id, from_disk.sha256)
        for words, dossier_id in (("Cát Hải", "hs_0001"), ("Hoằng Lộc", "hs_0002"), ("Hải Hậu", "hs_0004")):
            assert dossier_id in {h.dossier_id for h in catalog.search(words)}, words
    assert not [p for p in (home / "work").iterdir()], "downloaded copies must be removed"
    second = cli("backlog", "s3://kho-scan/2024/", "--json", home=home, env=s3_env(server))
    again = json.loads(second.stdout.strip().splitlines()[-1])
    assert (again["dossiers"], again["skipped"], again["done"]) == (3, 3, 0), second.stderr[-3000:]
    assert keys(server, "kho-scan", "2024/") == ["2024/ghi_chu.json", "2024/hs_0001.pdf", "2024/hs_0004.png",
                                                 "2024/thang_05/hs_0002/1.jpg", "2024/thang_05/hs_0002/2.jpg"]
    # what a scale-out worker runs for an s3:// dossier: it downloads the source itself
    one = cli("process", "s3://kho-scan/2024/hs_0004.png", "--json", home=home, env=s3_env(server))
    manifest = json.loads(one.stdout.strip().splitlines()[-1])
    assert manifest["status"] == "done" and manifest["source"]["path"] == "s3://kho-scan/2024/hs_0004.png", one.stderr
    missing = cli("backlog", "s3://khong-co/2024", home=home, env=s3_env(server))
    assert missing.returncode == 2 and "s3://khong-co/2024: no such bucket" in missing.stderr
    assert cli("backlog", "s3://Sai_Ten/x", home=home, env=s3_env(server)).returncode == 2


def test_ingest_from_an_s3_inbox(server, tmp_path):
    upload(server, "hop-thu", {"den/hs_0005.png": SAMPLES / "hs_0004.png", "den/hong.pdf": b"not a pdf",
                               "den/cho/1.jpg": SAMPLES / "hs_0002" / "1.jpg"})  # no .ready: left alone
    home = tmp_path / "home"
    proc = cli("ingest", "--once", "--inbox", "s3://hop-thu/den", "--json", home=home,
               env={**s3_env(server), "SOHOA_RUN__QUIET_S": "0"})
    assert proc.returncode == 1, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (report["dossiers"], report["done"], report["failed"]) == (2, 1, 1)
    assert keys(server, "hop-thu") == ["den/cho/1.jpg", "den/processed/hs_0005.png", "den/quarantine/hong.pdf",
                                       "den/quarantine/hong.pdf.error.json"]
    err = json.loads(server.client().get_object(bucket_name="hop-thu", object_name="den/quarantine/hong.pdf.error.json").read())
    assert err["source"] == "s3://hop-thu/den/hong.pdf" and err["dossier_id"] == "hong"
    assert err["error"].startswith("s3://hop-thu/den/hong.pdf: ") and str(home) not in err["error"]
    with open_catalog(Settings(home=home)) as catalog:
        assert catalog.get_dossier("hs_0005").source.path == "s3://hop-thu/den/hs_0005.png"


def test_inbox_quiet_period_on_server_time(server, tmp_path):
    upload(server, "hop-yen", {"den/cu.png": b"old"})
    time.sleep(2.2)
    upload(server, "hop-yen", {"den/moi.png": b"new"})
    store = S3Store.from_settings(settings_for(server, tmp_path), bucket="hop-yen")
    assert [i.key for i in inbox_items(store, S3Url("hop-yen", "den/"), quiet_s=2)] == ["den/cu.png"]


def test_folder_move_survives_a_crash_and_a_changed_folder_stays(server, tmp_path):
    page = (SAMPLES / "hs_0002" / "1.jpg").read_bytes()
    upload(server, "hop-di", {"den/hs_9/1.jpg": page, "den/hs_9/2.jpg": page, "den/hs_9/.ready": b"",
                              "den/hs_8/1.jpg": page, "den/hs_8/.ready": b""})
    store = S3Store.from_settings(settings_for(server, tmp_path), bucket="hop-di")
    inbox = S3Url("hop-di", "den/")
    items = {i.name: i for i in inbox_items(store, inbox, quiet_s=0)}
    assert set(items) == {"hs_8", "hs_9"}
    done = Manifest(dossier_id="hs_9", status="done", source=Source(path="s3://hop-di/den/hs_9/", sha256="x", pages=2))
    journal = begin_settle(store, inbox, items["hs_9"], done)
    store.copy("den/hs_9/1.jpg", "den/processed/hs_9/1.jpg")  # the run dies half-way through the move
    store.delete("den/hs_9/.ready")
    store.delete("den/hs_9/1.jpg")
    assert journal and finish_settling(store, inbox) == 1
    assert keys(server, "hop-di", "den/processed/") == ["den/processed/hs_9/1.jpg", "den/processed/hs_9/2.jpg"]
    assert not keys(server, "hop-di", "den/hs_9/") and not keys(server, "hop-di", "den/.settling/")
    upload(server, "hop-di", {"den/hs_8/1.jpg": page + b"\0"})  # replaced after it was taken
    assert settle(store, inbox, items["hs_8"], done) is None
    assert keys(server, "hop-di", "den/hs_8/") == ["den/hs_8/.ready", "den/hs_8/1.jpg"]
    with pytest.raises(S3StoreError, match="changed since it was listed"):
        store.download("den/hs_8/1.jpg", tmp_path / "x.jpg",
                       etag=next(o.etag for o in items["hs_8"].objects if o.key == "den/hs_8/1.jpg"))
