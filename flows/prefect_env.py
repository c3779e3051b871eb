"""Prefect settings sohoa needs, applied before Prefect is imported.

With no PREFECT_API_URL, Prefect runs in local mode: it starts a temporary server on a SQLite file.
Keeping that file in the data home (so its migrations run once, not per run), turning off analytics
(it avoided "database is locked" on first start), and giving start-up more than the 20 s default
keeps that mode reliable. Anything the user already set wins.
"""

from __future__ import annotations

import os
from pathlib import Path

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
