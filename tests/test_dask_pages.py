"""Page fan-out on a real Dask cluster: a `distributed.LocalCluster` of 2 worker processes x 1 thread
on loopback. Through Dask a dossier must come out exactly as through the local thread pool."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.catalog import open_catalog
from pipeline.digitise.dask_pages import close_clients, land, page_settings, remote_page
from pipeline.digitise.dossier import digitise
from pipeline.digitise.pages import process_page
from pipeline.digitise.stream import page_stream
from pipeline.errors import InputError, TransientError
from pipeline.ingest.inputs import PageRef, open_dossier
from pipeline.settings import Settings
from pipeline.store import open_store
from tests.conftest import SAMPLES, free_port

pytestmark = [pytest.mark.slow, pytest.mark.ocr]


def with_dask(settings: Settings, address: str | None) -> Settings:
    return settings.model_copy(update={"run": settings.run.model_copy(update={"dask_address": address})})


@pytest.fixture(scope="module")
def dask_cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        yield cluster
        close_clients()


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def run(settings: Settings, name: str):
    store = open_store(settings)
    with open_catalog(settings) as catalog:
        m = digitise(SAMPLES / name, settings, store, catalog)
    assert m.status == "done", m.error
    pdfs = [pdf_text(store.get_bytes(c.object.key)) for c in m.components]
    return m, pdfs


def test_dossier_through_dask_matches_threads(dask_cluster, tmp_path):
    from distributed import Client, get_task_stream

    local, local_pdfs = run(Settings(home=tmp_path / "threads", workers=2), "hs_0003.tiff")
    settings = with_dask(Settings(home=tmp_path / "dask", workers=2), dask_cluster.scheduler_address)
    with Client(dask_cluster) as client, get_task_stream(client) as stream:
        remote, remote_pdfs = run(settings, "hs_0003.tiff")
    page_fields = ("n", "blank", "rotation", "skew_deg", "text_source", "text", "ocr_confidence", "needs_review",
                   "warnings", "cleaning")
    assert [p.model_dump(include=set(page_fields)) for p in remote.pages] == \
        [p.model_dump(include=set(page_fields)) for p in local.pages]
    assert [(c.type, c.pages, c.needs_review, c.metadata) for c in remote.components] == \
        [(c.type, c.pages, c.needs_review, c.metadata) for c in local.components]
    assert remote_pdfs == local_pdfs and all(t.strip() for t in remote_pdfs)  # the text layers came back
    ran_on = {t["worker"] for t in stream.data if "remote_page" in str(t["key"])}
    assert len([t for t in stream.data if "remote_page" in str(t["key"])]) == len(remote.pages)
    assert len(ran_on) == 2, ran_on  # both Dask workers OCRed pages


def test_remote_page_needs_bytes_not_paths(tmp_path):
    """What a Dask worker runs never opens the dossier's path: the file it names need not exist there."""
    settings = Settings(home=tmp_path, workers=1)
    ref = open_dossier(SAMPLES / "hs_0001.pdf").pages[0]
    data = ref.file.read_bytes()
    shipped = remote_page(replace(ref, file=Path("/nowhere/on/this/worker/hs_0001.pdf")), data, settings)
    (tmp_path / "local").mkdir()
    local = process_page(ref, settings, tmp_path / "local")
    assert shipped.page.text == local.page.text and shipped.page.text.strip()
    landed = land(shipped, tmp_path)
    assert landed.part.jpeg.read_bytes() == local.part.jpeg.read_bytes()
    assert landed.part.textlayer.is_file() and landed.part.dpi == local.part.dpi


def test_remote_error_names_the_dossier_file(dask_cluster, tmp_path):
    """A bad page fails on the worker with the clerk's one-line error, naming the original file."""
    from distributed import Client

    ref = PageRef(n=3, file=Path("/scans/hs_0099/3.png"), index=0, kind="image")
    with Client(dask_cluster) as client:
        fut = client.submit(remote_page, ref, b"this is not an image", Settings(home=tmp_path), pure=False)
        with pytest.raises(InputError) as err:
            fut.result()
    assert str(err.value).startswith("/scans/hs_0099/3.png, page 3: the image cannot be decoded")


def test_unreachable_scheduler_is_a_clear_transient_error(tmp_path, monkeypatch):
    from pipeline.digitise import dask_pages

    monkeypatch.setattr(dask_pages, "CONNECT_TIMEOUT_S", 2)
    address = f"tcp://127.0.0.1:{free_port()}"
    settings = with_dask(Settings(home=tmp_path), address)
    with pytest.raises(TransientError) as err:
        list(page_stream(open_dossier(SAMPLES / "hs_0004.png").pages, settings, tmp_path))
    assert str(err.value).startswith(f"Dask scheduler {address}: cannot reach the Dask scheduler")


def test_doctor_reports_the_dask_cluster(dask_cluster, tmp_path):
    from flows.doctor import run_checks

    settings = with_dask(Settings(home=tmp_path), dask_cluster.scheduler_address)
    checks = {name: (ok, msg) for name, ok, msg in run_checks(settings)}
    assert checks["dask"] == (True, f"{dask_cluster.scheduler_address}: 2 workers, 2 threads for pages")


def test_pages_travel_without_credentials(tmp_path):
    settings = Settings(home=tmp_path, catalog="postgresql://sohoa:xyzzy@db/sohoa",
                        s3={"endpoint": "minio:9000", "access_key": "sohoa", "secret_key": "xyzzy"},
                        run={"prefect_database_url": "postgresql://sohoa:xyzzy@db/prefect"})
    sent = page_settings(settings)
    assert "xyzzy" not in repr(sent.model_dump(mode="python")) and sent.s3.access_key is sent.s3.secret_key is None
    assert sent.version == settings.version and sent.ocr == settings.ocr and sent.cleaning == settings.cleaning
