"""Scale-out for real, in the production shape: a Prefect server on PostgreSQL, a process work pool,
two workers sharing a PostgreSQL catalog and a store folder, a backlog fanned out to them."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys

import psycopg
import pytest

from flows.serve import prefect_db_url, server_database_url, start_server
from pipeline.catalog import open_catalog
from pipeline.settings import Settings
from tests.conftest import REPO, SAMPLES, stop_group
from tests.pgserver import PgServer

pytestmark = [pytest.mark.slow, pytest.mark.prefect, pytest.mark.postgres, pytest.mark.ocr]


async def _wait_for_workers(names: set[str], timeout_s: float = 180) -> None:
    """Both workers must be polling before work is sent, or the first one would take it all."""
    import time

    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout_s
    async with get_client() as client:
        while time.monotonic() < deadline:
            workers = await client.read_workers_for_work_pool("sohoa")
            if names <= {w.name for w in workers}:
                return
            await asyncio.sleep(1)
    raise AssertionError(f"workers {names} did not come online in {timeout_s:.0f} s")


def test_prefect_database_url_speaks_asyncpg():
    """The catalog's `postgresql://` URL form works for the Prefect server too; others pass through."""
    assert prefect_db_url("postgresql://sohoa:pw@db:5432/prefect") == "postgresql+asyncpg://sohoa:pw@db:5432/prefect"
    assert prefect_db_url("postgresql+asyncpg://a@b/c") == "postgresql+asyncpg://a@b/c"
    assert prefect_db_url("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    home = tmp_path_factory.mktemp("scaleout")
    (home / "prefect").mkdir()
    with PgServer() as pg:
        prefect_db = pg.create_database("prefect", extensions=("pg_trgm",))
        env = {**os.environ, "SOHOA_HOME": str(home), "PREFECT_HOME": str(home / "prefect"), "DO_NOT_TRACK": "1",
               "SOHOA_CATALOG": pg.url, "SOHOA_RUN__PREFECT_DATABASE_URL": prefect_db,
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
        old = dict(os.environ)
        os.environ.update(env)
        server, api = start_server(home, database_url=server_database_url(Settings()))  # as `sohoa serve`
        os.environ["PREFECT_API_URL"] = env["PREFECT_API_URL"] = api
        procs: list[subprocess.Popen] = [server]
        from prefect.settings import PREFECT_API_URL, temporary_settings

        pin = temporary_settings(updates={PREFECT_API_URL: api})  # Prefect caches settings per process
        pin.__enter__()
        try:
            deploy = subprocess.run([sys.executable, "-m", "flows.cli", "deploy"], env=env, cwd=REPO,
                                    capture_output=True, text=True, timeout=300)
            assert deploy.returncode == 0, deploy.stderr[-2000:]
            for name in ("worker-a", "worker-b"):
                log = open(home / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "prefect", "worker", "start", "--pool", "sohoa", "--name", name,
                     "--limit", "1"],
                    env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            asyncio.run(_wait_for_workers({"worker-a", "worker-b"}))
            yield home, env, pg, prefect_db
        finally:
            for p in reversed(procs):
                stop_group(p)
            pin.__exit__(None, None, None)
            os.environ.clear()
            os.environ.update(old)


def test_backlog_fans_out_to_both_workers(cluster, tmp_path):
    home, env, pg, prefect_db = cluster
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("hs_0004.png", "hs_0003.tiff"):
        shutil.copy(SAMPLES / name, tree / name)
    shutil.copytree(SAMPLES / "hs_0002", tree / "hs_0002")
    shutil.copy(SAMPLES / "hs_0004.png", tree / "hs_0005.png")
    run_env = {**env, "SOHOA_RUN__DEPLOYMENT": "digitise-dossier/sohoa", "SOHOA_RUN__DOSSIERS_AT_ONCE": "2"}
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "backlog", str(tree), "--json"], env=run_env,
                          cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (report["dossiers"], report["done"], report["failed"]) == (4, 4, 0)
    for dossier in ("hs_0002", "hs_0003", "hs_0004", "hs_0005"):
        m = json.loads((home / "store" / "sohoa" / "dossiers" / dossier / "manifest.json").read_text())
        assert m["status"] == "done" and m["components"]

    async def worker_names() -> list[str]:
        from prefect.client.orchestration import get_client

        async with get_client() as client:
            runs = await client.read_flow_runs()
        return [r.labels.get("prefect.worker.name") for r in runs if r.labels.get("prefect.deployment.id")]

    names = asyncio.run(worker_names())
    assert len(names) == 4
    assert set(names) == {"worker-a", "worker-b"}, names

    # the Prefect server kept its runs in PostgreSQL, and the workers indexed into the shared catalog
    with psycopg.connect(prefect_db) as conn:
        runs = conn.execute("SELECT count(*) FROM flow_run WHERE deployment_id IS NOT NULL").fetchone()[0]
    assert runs == 4
    with open_catalog(Settings(home=home, catalog=pg.url)) as catalog:
        for dossier in ("hs_0002", "hs_0003", "hs_0004", "hs_0005"):
            m = catalog.get_dossier(dossier)
            assert m is not None and m.status == "done" and m.components
        assert catalog.search("quyết định")
