"""Prefect flow `digitise_dossier`: the steps of `pipeline.dossier` as tasks.

The flow adds orchestration (run records, logs, retries later, deployments) around the same code
`pipeline.dossier.digitise()` runs; the steps themselves live in `pipeline/`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline import dossier
from pipeline.catalog import open_catalog
from pipeline.pages import PageOutput
from pipeline.settings import Settings
from pipeline.store import open_store

# Progress callbacks by dossier path: callables are not flow parameters (they cannot be serialised).
PROGRESS: dict[str, Callable[[PageOutput], None]] = {}

_TASKS = {
    fn: task(fn, name=fn.__name__, cache_policy=NO_CACHE, persist_result=False)
    for fn in (dossier.ingest, dossier.pages, dossier.understand, dossier.publish, dossier.record)
}


def _run_as_task(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    return _TASKS[fn](*args, **kwargs)


def settings_from(config: dict | None) -> Settings:
    return Settings(**(config or {}))


@flow(name="digitise-dossier", persist_result=False, log_prints=False)
def digitise_dossier(path: str, config: dict | None = None) -> dict:
    """Digitise one dossier (PDF, image or folder of page images); returns its manifest as JSON data."""
    settings = settings_from(config)
    store = open_store(settings)
    with open_catalog(settings) as catalog:
        manifest = dossier.digitise(Path(path), settings, store, catalog,
                                    on_page=PROGRESS.get(str(path)), run_step=_run_as_task)
    return manifest.model_dump(mode="json", by_alias=True)
