"""The `sohoa` command line, run for real (subprocesses): in place without a Prefect server, and as
flow runs on a real Prefect server on loopback when one is running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES

pytestmark = [pytest.mark.slow, pytest.mark.ocr]


def sohoa(*args: str, home: Path, timeout: float = 600, api: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOHOA_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    if api:
        env["PREFECT_API_URL"] = api
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=env)


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    bad = home.parent / "hs_hong.pdf"
    bad.write_bytes(b"%PDF-1.7\nthis file was cut off during copy")
    proc = sohoa("process", "--json", str(SAMPLES / "hs_0004.png"), str(bad), str(SAMPLES / "hs_0002"), home=home)
    return home, proc


def test_process_json_lines_and_exit_code(processed):
    home, proc = processed
    assert proc.returncode == 1, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [m["dossier_id"] for m in lines] == ["hs_0004", "hs_hong", "hs_0002"]
    assert [m["status"] for m in lines] == ["done", "failed", "done"]
    assert "hs_hong.pdf" in lines[1]["error"]
    assert "Traceback" not in proc.stderr, "a clerk sees one line per failure, not a traceback"
    assert "FAILED" in proc.stderr and "hs_hong.pdf" in proc.stderr
    assert (home / "store" / "sohoa" / "dossiers" / "hs_0002" / "manifest.json").is_file()
    assert not (home / "prefect").exists(), "no Prefect server configured: Prefect is not started"


def test_process_records_the_run_in_the_catalog_without_prefect(processed):
    home, _ = processed
    code = ("from pipeline.catalog import open_catalog\nfrom pipeline.settings import Settings\n"
            "with open_catalog(Settings()) as c:\n"
            "    print(c.get_dossier('hs_0004').status, c.get_dossier('hs_hong').status)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "SOHOA_HOME": str(home)}, timeout=120)
    assert proc.stdout.split() == ["done", "failed"], proc.stderr[-2000:]


def test_unreachable_prefect_server_runs_in_place(tmp_path):
    from flows.serve import free_port

    proc = sohoa("process", "--json", str(SAMPLES / "hs_0004.png"), home=tmp_path,
                 api=f"http://127.0.0.1:{free_port()}/api")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout)["status"] == "done"
    assert "does not answer" in proc.stderr


def test_search_cli(processed):
    home, _ = processed
    plain = sohoa("search", "giay chung sinh", "--json", home=home)
    assert plain.returncode == 0, plain.stderr
    hits = [json.loads(line) for line in plain.stdout.splitlines()]
    assert hits and hits[0]["dossier_id"] == "hs_0002" and hits[0]["type"] == "giay_chung_sinh"
    toned = sohoa("search", "giấy chứng sinh", home=home)
    assert "hs_0002" in toned.stdout and "[" in toned.stdout
    typed = sohoa("search", "giay", "--type", "quyet_dinh", "--json", home=home)
    assert {json.loads(line)["type"] for line in typed.stdout.splitlines()} <= {"quyet_dinh"}
    none = sohoa("search", "zzzkhongcozzz", home=home)
    assert none.returncode == 0 and none.stdout == "" and "no hits" in none.stderr


def test_usage_errors_exit_2(tmp_path):
    assert sohoa("process", home=tmp_path).returncode == 2
    assert sohoa("frobnicate", home=tmp_path).returncode == 2


def test_doctor(tmp_path):
    proc = sohoa("doctor", home=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("tesseract", "pdftoppm", "store", "catalog", "taxonomy"):
        assert f"[ok] {name}" in proc.stdout
    assert "vie" in proc.stdout


def test_process_is_a_flow_run_on_a_running_prefect_server(tmp_path):
    """With a server running (the one `sohoa serve` starts), `process` records its run there: one
    `digitise-dossiers` flow run, a `digitise-one` task run per dossier."""
    from flows.serve import start_server

    home = tmp_path / "home"
    (home / "prefect").mkdir(parents=True)
    server, api = start_server(home)
    try:
        proc = sohoa("process", "--json", str(SAMPLES / "hs_0004.png"), home=home)  # found by server.url
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert json.loads(proc.stdout)["dossier_id"] == "hs_0004"
        code = (
            "import asyncio, json\n"
            "from prefect.client.orchestration import get_client\n"
            "async def main():\n"
            "    async with get_client() as c:\n"
            "        flows = await c.read_flow_runs()\n"
            "        tasks = await c.read_task_runs()\n"
            "        print(json.dumps({'flows': [f.state_type.value for f in flows],"
            " 'tasks': sorted(t.name for t in tasks)}))\n"
            "asyncio.run(main())\n"
        )
        env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_LOGGING_LEVEL": "CRITICAL"}
        got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
        assert got.returncode == 0, got.stderr[-2000:]
        data = json.loads(got.stdout.strip().splitlines()[-1])
        assert data["flows"] == ["COMPLETED"]
        assert [t for t in data["tasks"] if t.startswith("digitise-one")], data["tasks"]
    finally:
        server.terminate()
        server.wait(timeout=60)
