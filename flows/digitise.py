"""Prefect flow `digitise_dossier`: the steps of `pipeline.digitise.dossier` as tasks.

The flow adds orchestration (run records, logs, retries, deployments) around the same code
`pipeline.digitise.dossier.digitise()` runs; the steps themselves live in `pipeline/`. Steps that talk to the
store or the catalog are retried with backoff, but only for transient trouble (a server down or
slow): a bad scan fails once and for all.
"""

from __future__ import annotations

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
from pipeline.retrying import RetryPolicy
from pipeline.settings import Settings
from pipeline.store import open_store

# Progress callbacks by dossier path: callables are not flow parameters (they cannot be serialised).
PROGRESS: dict[str, Callable[[PageOutput], None]] = {}
RETRIED = (dossier.ingest, dossier.publish, dossier.record)
"""The steps that talk to the store or the catalog: tried again on transient trouble (`settings.retry`)."""

StepRunner = Callable[..., Any]


def _transient(_task, _run, state) -> bool:
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - inspecting the failure is the point
        return is_transient(exc)
    return False


def task_options(policy: RetryPolicy) -> dict[str, Any]:
    """Prefect's retries for a step, from the same policy (attempts, doubling delays, jitter, rule)
    that `run_in_place` follows."""
    return {"retries": policy.attempts - 1, "retry_delay_seconds": policy.delays(),
            "retry_jitter_factor": 0.5, "retry_condition_fn": _transient}


_TASKS = {fn: task(fn, name=fn.__name__, cache_policy=NO_CACHE, persist_result=False)
          for fn in (dossier.ingest, dossier.pages, dossier.understand, dossier.publish, dossier.record)}


def retried_tasks(settings: Settings) -> dict[Callable, Any]:
    """The store and catalog steps as tasks with Prefect retries by `settings.retry`."""
    options = task_options(RetryPolicy.from_settings(settings.retry))
    return {fn: _TASKS[fn].with_options(**options) for fn in RETRIED}


def run_as_task(settings: Settings) -> StepRunner:
    """Each step a task of the current flow run; the store and catalog steps with Prefect retries."""
    retried = retried_tasks(settings)

    def run(fn: Callable, *args: Any, **kwargs: Any) -> Any:
        return retried.get(fn, _TASKS[fn])(*args, **kwargs)

    return run


def run_in_place(settings: Settings) -> StepRunner:
    """Each step inside the calling task, the store and catalog steps under the same retry policy.

    A backlog of thousands of dossiers records one task run per dossier (`digitise-one`), not six:
    each task run costs the Prefect server CPU, a few per cent of the OCR time over a backlog.
    """
    policy = RetryPolicy.from_settings(settings.retry)

    def run(fn: Callable, *args: Any, **kwargs: Any) -> Any:
        if fn in RETRIED:
            return policy.call(fn, *args, what=f"step {fn.__name__}", **kwargs)
        return fn(*args, **kwargs)

    return run


def settings_from(config: dict | None) -> Settings:
    """The settings a flow run was given (`Settings.for_flow()`): home and settings file by name, and
    `text_layer` when `sohoa process --text-layer` chose one."""
    config = config or {}
    overrides = {"ocr": {"text_layer": config["text_layer"]}} if config.get("text_layer") else {}
    return Settings.load(config=config.get("config_file"), home=config.get("home"), **overrides)


def digitise_with_tasks(path: str, settings: Settings, origin: str | None = None,
                        runner: Callable[[Settings], StepRunner] = run_as_task) -> Manifest:
    """One dossier, each step a task of the current flow run (or `run_in_place`); `origin`: where a
    local copy came from."""
    run_step = runner(settings)
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
