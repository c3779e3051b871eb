"""Prefect flows for running sohoa as a service: `digitise_backlog`, `nightly_ingest`, `digitise_dossiers`.

Each hands every dossier of its batch (`flows.batch`) to the `digitise_one` task, a bounded number at
a time (`run.dossiers_at_once`), each using the page pool; a dossier already digitised from the same
source with the same settings is skipped, so a killed run is finished by starting it again. The run
report is printed by the CLI, stored under `reports/` and published as a Prefect artifact. Without a
Prefect server the CLI runs the same batches in place (`flows.batch.run_here`).
"""

from __future__ import annotations

import time

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from flows.batch import (
    EVENTS,
    Batch,
    backlog_batch,
    digitise_or_skip,
    finish_one,
    ingest_batch,
    known_manifest,
    local_copy,
    now,
    process_batch,
    store_report,
)
from flows.steps import PROGRESS, settings_from
from pipeline.catalog import open_catalog
from pipeline.ingest.inputs import open_dossier, safe_id


def _dossier_id(local) -> str:
    try:
        return open_dossier(local).dossier_id
    except Exception:  # noqa: BLE001 - unreadable input: the worker recorded it under the name's id
        return safe_id(local.name if local.is_dir() else local.stem)


@task(name="digitise-one", cache_policy=NO_CACHE, persist_result=False)
def digitise_one(path: str, config: dict | None, redo: bool = False) -> tuple[dict, bool]:
    """Digitise one dossier unless this source was already done with these settings (or `redo`)."""
    return digitise_or_skip(path, config, redo)


@task(name="dispatch-one", cache_policy=NO_CACHE, persist_result=False)
def dispatch_one(path: str, config: dict | None, deployment: str, redo: bool = False) -> tuple[dict, bool]:
    """Send one dossier to a work pool worker (scale-out) and wait for its flow run to end.

    An s3:// source is fetched here only to check whether it is already done (and for its id); the
    worker is sent the URL and downloads it itself.
    """
    from prefect.deployments import run_deployment

    settings = settings_from(config)
    with local_copy(path, settings) as local:
        known = None if redo else known_manifest(local, settings)
        dossier_id = _dossier_id(local)
    if known is not None:
        return known.model_dump(mode="json", by_alias=True), True
    # a worker is another machine: it has its own settings file (and secrets); only the home is shared
    remote = {"home": config["home"]} if config and "home" in config else None
    run = run_deployment(deployment, parameters={"path": path, "config": remote}, timeout=None, poll_interval=1)
    with open_catalog(settings) as catalog:
        manifest = catalog.get_dossier(dossier_id)
    if manifest is None:
        from pipeline.digitise.dossier import failed_manifest

        state = run.state.name if run.state else "unknown"
        manifest = failed_manifest(path, RuntimeError(f"flow run {run.id} ended {state} without a manifest"),
                                   settings)
    return manifest.model_dump(mode="json", by_alias=True), False


def _run_all(batch: Batch, config: dict | None) -> Batch:
    """Each dossier as a task, `run.dossiers_at_once` in flight."""
    settings = settings_from(config)
    logger = get_run_logger()
    at_once = max(1, settings.run.dossiers_at_once)
    t0 = time.perf_counter()
    pending = list(batch.items)
    running: dict = {}
    while pending or running:
        while pending and len(running) < at_once:
            path = str(pending.pop(0))
            fut = (dispatch_one.submit(path, config, settings.run.deployment, batch.redo) if settings.run.deployment
                   else digitise_one.submit(path, config, batch.redo))
            running[fut] = path
        for fut in as_completed(list(running)):  # the first to finish frees a slot
            path = running.pop(fut)
            try:
                outcome = fut.result()
            except Exception as exc:  # noqa: BLE001 - one dossier that could not be run must not stop the rest
                outcome = exc
            finish_one(batch, path, outcome, settings, logger)
            break
    batch.report.seconds = round(time.perf_counter() - t0, 2)
    batch.report.finished_at = now()
    return batch


def _publish(batch: Batch, config: dict | None) -> dict:
    report = store_report(batch, config)
    create_markdown_artifact(batch.report.to_markdown(), key=f"sohoa-{batch.kind}",
                             description=f"sohoa {batch.kind} report")
    return report


@flow(name="digitise-backlog", persist_result=False, log_prints=False)
def digitise_backlog(source: str, config: dict | None = None) -> dict:
    """Digitise every dossier under a folder tree or an s3:// prefix; returns the run report."""
    return _publish(_run_all(backlog_batch(source, config), config), config)


@flow(name="digitise-dossiers", persist_result=False, log_prints=False)
def digitise_dossiers(paths: list[str], config: dict | None = None) -> list[dict]:
    """`sohoa process` on a Prefect server: the dossiers given, digitised again even when done before,
    as many at once as a backlog runs; their manifests in the order given."""
    batch = _run_all(process_batch(paths), config)
    return [batch.results[p].model_dump(mode="json", by_alias=True) for p in paths]


@flow(name="nightly-ingest", persist_result=False, log_prints=False)
def nightly_ingest(inbox: str | None = None, config: dict | None = None) -> dict:
    """Digitise what has arrived in the inbox (a folder or an s3:// prefix), then move each source to
    processed/ or quarantine/."""
    return _publish(_run_all(ingest_batch(inbox, config), config), config)


__all__ = ["EVENTS", "PROGRESS", "digitise_backlog", "digitise_dossiers", "digitise_one", "nightly_ingest"]
