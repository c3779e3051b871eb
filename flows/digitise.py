"""Prefect flow `digitise_dossier`: the steps of `pipeline.digitise.dossier` as tasks.

The flow adds orchestration (run records, logs, retries, deployments) around the same code
`pipeline.digitise.dossier.digitise()` runs; the steps themselves live in `pipeline/`. Steps that talk to the
store or the catalog are retried with backoff, but only for transient trouble (a server down or
slow): a bad scan fails once and for all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline.catalog import open_catalog
from pipeline.digitise import dossier
from pipeline.digitise.pages import PageOutput
from pipeline.errors import is_transient
from pipeline.manifest import Manifest
from pipeline.settings import Settings
from pipeline.store import open_store

# Progress callbacks by dossier path: callables are not flow parameters (they cannot be serialised).
PROGRESS: dict[str, Callable[[PageOutput], None]] = {}
RETRY_DELAYS_S = [2, 8, 30]


def _transient(_task, _run, state) -> bool:
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - inspecting the failure is the point
        return is_transient(exc)
    return False


def _as_task(fn: Callable, retried: bool) -> Any:
    extra = {"retries": len(RETRY_DELAYS_S), "retry_delay_seconds": RETRY_DELAYS_S,
             "retry_condition_fn": _transient} if retried else {}
    return task(fn, name=fn.__name__, cache_policy=NO_CACHE, persist_result=False, **extra)


_TASKS = {fn: _as_task(fn, retried=fn in (dossier.ingest, dossier.publish, dossier.record))
          for fn in (dossier.ingest, dossier.pages, dossier.understand, dossier.publish, dossier.record)}


def run_as_task(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    return _TASKS[fn](*args, **kwargs)


def retrying(fn: Callable, delays: list[float], *args: Any, **kwargs: Any) -> Any:
    """Call `fn`; on a transient error (server down or slow) wait and call again, once per delay."""
    for attempt in range(len(delays) + 1):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if attempt == len(delays) or not is_transient(exc):
                raise
            logging.getLogger("sohoa.flows").warning("%s: %s; retrying in %s s", getattr(fn, "__name__", fn), exc,
                                                     delays[attempt])
            time.sleep(delays[attempt])
    raise AssertionError("unreachable")


def run_in_place(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run a step inside the calling task, with the same retry rule as the step tasks.

    A backlog of thousands of dossiers records one task run per dossier (`digitise-one`), not six:
    each task run costs the Prefect server CPU, a few per cent of the OCR time over a backlog.
    """
    delays = RETRY_DELAYS_S if fn in (dossier.ingest, dossier.publish, dossier.record) else []
    return retrying(fn, delays, *args, **kwargs)


def settings_from(config: dict | None) -> Settings:
    """The settings a flow run was given (`Settings.for_flow()`): home and settings file by name, and
    `text_layer` when `sohoa process --text-layer` chose one."""
    config = config or {}
    overrides = {"ocr": {"text_layer": config["text_layer"]}} if config.get("text_layer") else {}
    return Settings.load(config=config.get("config_file"), home=config.get("home"), **overrides)


def digitise_with_tasks(path: str, settings: Settings, origin: str | None = None,
                        run_step: Callable[..., Any] = run_as_task) -> Manifest:
    """One dossier, each step a task of the current flow run (or `run_in_place`); `origin`: where a
    local copy came from."""
    store = open_store(settings)
    on_page = PROGRESS.get(origin or str(path)) or PROGRESS.get("*")
    with open_catalog(settings) as catalog:
        return dossier.digitise(Path(path), settings, store, catalog, on_page=on_page, run_step=run_step,
                                origin=origin)


@flow(name="digitise-dossier", persist_result=False, log_prints=False)
def digitise_dossier(path: str, config: dict | None = None) -> dict:
    """Digitise one dossier (PDF, image or folder of page images, on disk or at an s3:// URL, which
    is downloaded here: a scale-out worker fetches its own); returns its manifest as JSON data."""
    from pipeline.ingest.s3source import fetched, is_s3_url

    settings = settings_from(config)
    if is_s3_url(path):
        with fetched(path, settings) as local:
            manifest = digitise_with_tasks(str(local), settings, origin=path)
    else:
        manifest = digitise_with_tasks(path, settings)
    return manifest.model_dump(mode="json", by_alias=True)
