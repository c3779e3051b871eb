"""Prefect settings sohoa needs, applied before Prefect is imported, and whether a server is there.

With no PREFECT_API_URL, Prefect runs in local mode: it starts a temporary server on a SQLite file.
Keeping that file in the data home (so its migrations run once, not per run), turning off analytics
(it avoided "database is locked" on first start), and giving start-up more than the 20 s default
keeps that mode reliable. Anything the user already set wins.
"""

from __future__ import annotations

import os
import tomllib
import urllib.request
from pathlib import Path

SERVER_FILE = "server.url"  # in <home>/prefect: the API of the server `sohoa serve` started

_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_API_BLOCKS_REGISTER_ON_START": "false",
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED": "false",
}


def configure(home: Path, verbose: bool = False) -> None:
    """Point Prefect at `home/prefect` and quiet it unless `verbose`."""
    os.environ.setdefault("PREFECT_HOME", str((home / "prefect").resolve()))
    for key, value in _DEFAULTS.items():
        os.environ.setdefault(key, value)
    # Quiet by default: a failed dossier is reported once by the CLI, not with Prefect's traceback.
    level = "INFO" if verbose else "CRITICAL"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", level)
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_ROOT_LEVEL", level)
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)


def configured_api(home: Path) -> str | None:
    """The Prefect API sohoa is pointed at: PREFECT_API_URL, else the active Prefect profile's, else
    the server `sohoa serve` started for this data home (read without importing Prefect)."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    prefect_home = Path(os.environ.get("PREFECT_HOME") or home / "prefect")
    try:
        profiles = tomllib.loads((prefect_home / "profiles.toml").read_text(encoding="utf-8"))
        active = os.environ.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
        url = profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL")
        if url:
            return str(url)
    except (OSError, ValueError):
        pass
    try:
        return (home / "prefect" / SERVER_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def answers(api_url: str, timeout_s: float = 1.0) -> bool:
    """True when the Prefect server at `api_url` says it is healthy."""
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout_s) as resp:
            return resp.status == 200
    except (OSError, ValueError):
        return False


def running_server(home: Path) -> tuple[str | None, str | None]:
    """(API URL of a Prefect server that answers, or None; why a configured one is not used, or None).

    `sohoa process` records its runs in Prefect only then: starting Prefect's temporary server costs
    more than a short job.
    """
    api = configured_api(home)
    if api is None:
        return None, None
    if answers(api):
        return api, None
    return None, f"the Prefect server at {api} does not answer: running without it"
