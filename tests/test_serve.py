"""`sohoa serve` for real: the nightly deployment on a Prefect server, its cron, a run, and a restart."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time

import pytest

from flows.serve import start_server
from tests.conftest import REPO, stop_group

pytestmark = [pytest.mark.slow, pytest.mark.prefect]


async def _deployment(wait_unpaused: bool, timeout_s: float = 180):
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + timeout_s
    async with get_client() as client:
        while time.monotonic() < deadline:
            try:
                dep = await client.read_deployment_by_name("nightly-ingest/nightly")
                if not wait_unpaused or not dep.paused:
                    schedules = await client.read_deployment_schedules(dep.id)
                    return dep, schedules
            except ObjectNotFound:
                pass
            await asyncio.sleep(1)
    raise AssertionError("nightly-ingest/nightly was not served (un-paused) in time")


def _serve(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flows.cli", "serve"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def test_serve_schedules_runs_and_resumes(tmp_path):
    home = tmp_path / "home"
    (home / "prefect").mkdir(parents=True)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(REPO / "samples" / "dossiers" / "hs_0004.png", inbox / "hs_0004.png")
    old = dict(os.environ)
    os.environ.update({"PREFECT_HOME": str(home / "prefect"), "DO_NOT_TRACK": "1",
                       "PREFECT_LOGGING_LEVEL": "WARNING"})
    server, api = start_server(home)
    os.environ["PREFECT_API_URL"] = api
    env = {**os.environ, "SOHOA_HOME": str(home), "SOHOA_RUN__INBOX": str(inbox), "SOHOA_RUN__QUIET_S": "0"}
    serving = None
    from prefect.settings import PREFECT_API_URL, temporary_settings

    # Prefect caches settings per process: point this process's client at this server explicitly
    pin = temporary_settings(updates={PREFECT_API_URL: api})
    pin.__enter__()
    try:
        serving = _serve(env)
        dep, schedules = asyncio.run(_deployment(wait_unpaused=True))
        assert len(schedules) == 1
        assert schedules[0].schedule.cron == "0 1 * * *"
        assert schedules[0].schedule.timezone == "Asia/Ho_Chi_Minh"
        assert schedules[0].active

        from prefect.deployments import run_deployment

        run = run_deployment("nightly-ingest/nightly", timeout=600, poll_interval=1)
        assert run.state.is_completed(), run.state
        assert (inbox / "processed" / "hs_0004.png").exists()
        assert (home / "store" / "sohoa" / "dossiers" / "hs_0004" / "manifest.json").exists()

        stop_group(serving)  # Prefect pauses a served deployment on SIGTERM ...
        serving = _serve(env)  # ... and the next start must un-pause it
        dep, _ = asyncio.run(_deployment(wait_unpaused=True))
        assert not dep.paused
    finally:
        if serving is not None:
            stop_group(serving)
        stop_group(server)
        pin.__exit__(None, None, None)
        os.environ.clear()
        os.environ.update(old)
