"""`sohoa serve`: the nightly ingestion on a schedule, on a real Prefect server.

Prefect's temporary local server cannot run schedules, so `serve` connects to the server named by
PREFECT_API_URL or starts one (`prefect server start`) on loopback, on the database of
`run.prefect_database_url` (PostgreSQL in production) or SQLite in the data home. The
deployment is applied un-paused on every start: Prefect leaves a served deployment paused after
SIGTERM, and a nightly job that silently stays paused is the worst outcome.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pipeline.settings import Settings

DEPLOYMENT = "nightly"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(api_url: str, timeout_s: float = 180, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"prefect server exited with code {proc.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Prefect server at {api_url} did not answer within {timeout_s:.0f} s")


def prefect_db_url(url: str) -> str:
    """Prefect's server speaks asyncpg: `postgresql://…` (as the catalog is written) becomes `postgresql+asyncpg://…`."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain):]
    return url


def server_database_url(settings: Settings) -> str | None:
    """The database for a Prefect server sohoa starts: `run.prefect_database_url`, if set."""
    url = settings.run.prefect_database_url
    return url.get_secret_value() if url else None


def start_server(home: Path, port: int | None = None, database_url: str | None = None) -> tuple[subprocess.Popen, str]:
    """Start `prefect server start` on loopback.

    Its database is `database_url` (PostgreSQL for a server that workers share) when given, else
    PREFECT_API_DATABASE_CONNECTION_URL when set, else SQLite in `<home>/prefect`.
    """
    port = port or free_port()
    log = (home / "prefect" / "server.log").open("ab")
    env = {**os.environ, "PREFECT_HOME": str((home / "prefect").resolve())}
    env.pop("PREFECT_API_URL", None)
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = prefect_db_url(database_url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_healthy(api, proc=proc)
    except BaseException:
        proc.terminate()
        raise
    from flows.prefect_env import SERVER_FILE

    (home / "prefect" / SERVER_FILE).write_text(api, encoding="utf-8")  # `sohoa process` records its runs here
    return proc, api


def serve(settings: Settings, config: dict) -> int:
    """Start (or connect to) a Prefect server and serve the nightly ingestion on its cron."""
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        server, api = start_server(settings.home, database_url=server_database_url(settings))
        os.environ["PREFECT_API_URL"] = api
        print(f"started Prefect server at {api} (log: {settings.home / 'prefect' / 'server.log'})", file=sys.stderr)
    from prefect import serve as prefect_serve
    from prefect.schedules import Cron

    from flows.backlog import nightly_ingest

    deployment = nightly_ingest.to_deployment(
        name=DEPLOYMENT, schedule=Cron(settings.run.cron, timezone=settings.run.timezone), paused=False,
        parameters={"config": config}, description="sohoa nightly ingestion of the inbox",
    )
    print(f"serving nightly-ingest/{DEPLOYMENT}: cron '{settings.run.cron}' {settings.run.timezone}, "
          f"inbox {settings.inbox}", file=sys.stderr)
    try:
        prefect_serve(deployment)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    return 0
