"""Prefect flow `digitise_dossier`: the steps of `pipeline.digitise.dossier` as tasks.

The flow adds orchestration (run records, logs, retries, deployments) around the same code
`pipeline.digitise.dossier.digitise()` runs; the steps themselves live in `pipeline/`. Steps that talk to the
store or the catalog are retried with backoff, but only for transient trouble (a server down or
slow): a bad scan fails once and for all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.steps import (  # noqa: F401 - re-exported: these live where Prefect is not imported
    PROGRESS,
    RETRIED,
    StepRunner,
    digitise_here,
    digitise_steps,
    run_in_place,
    settings_from,
)
from pipeline.digitise import dossier
from pipeline.errors import is_transient
from pipeline.manifest import Manifest
from pipeline.retrying import RetryPolicy
from pipeline.settings import Settings


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


def digitise_with_tasks(path: str, settings: Settings, origin: str | None = None,
                        runner: Callable[[Settings], StepRunner] = run_as_task) -> Manifest:
    """One dossier, each step a task of the current flow run (or `run_in_place`); `origin`: where a
    local copy came from."""
    return digitise_steps(path, settings, origin, runner)


@flow(name="digitise-dossier", persist_result=False, log_prints=False)
def digitise_dossier(path: str, config: dict | None = None) -> dict:
    """Digitise one dossier (PDF, image or folder of page images, on disk or at an s3:// URL, which
    is downloaded here: a scale-out worker fetches its own), each step a task; returns its manifest as
    JSON data."""
    return digitise_here(path, config, runner=run_as_task)
