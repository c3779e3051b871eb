"""Prefect flows for running sohoa as a service: `digitise_backlog` and `nightly_ingest`.

Both hand each dossier to the `digitise_one` task, a bounded number at a time (`run.dossiers_at_once`),
each using the page pool; a dossier already digitised from the same source with the same settings is
skipped, so a killed run is finished by starting it again. The run report is printed by the CLI,
stored under `reports/` and published as a Prefect artifact.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from flows.digitise import PROGRESS, digitise_with_tasks, run_in_place, settings_from
from pipeline.catalog import open_catalog
from pipeline.ingest.backlog import RunReport, already_done, backlog_items, inbox_ready, settle
from pipeline.ingest.s3source import (
    backlog_urls,
    fetched,
    finish_settling,
    inbox_items,
    is_s3_url,
    open_bucket,
    parse_s3_url,
)
from pipeline.ingest.s3source import settle as s3_settle
from pipeline.manifest import Manifest
from pipeline.settings import Settings
from pipeline.store import open_store

# Called with ("dossier", manifest, skipped) when a dossier ends, and ("start", n_dossiers, n_pages).
EVENTS: dict[str, Callable[..., None]] = {}


def _local(path: str, settings: Settings) -> contextlib.AbstractContextManager[Path]:
    """The dossier on disk: the path itself, or an s3:// source downloaded for the time being."""
    return fetched(path, settings) if is_s3_url(path) else contextlib.nullcontext(Path(path))


def _dossier_id(local: Path) -> str:
    from pipeline.ingest.inputs import open_dossier, safe_id

    try:
        return open_dossier(local).dossier_id
    except Exception:  # noqa: BLE001 - unreadable input: the worker recorded it under the name's id
        return safe_id(local.name if local.is_dir() else local.stem)


@task(name="digitise-one", cache_policy=NO_CACHE, persist_result=False)
def digitise_one(path: str, config: dict | None, redo: bool = False) -> tuple[dict, bool]:
    """Digitise one dossier unless this source was already done with these settings (or `redo`)."""
    settings = settings_from(config)
    with _local(path, settings) as local:
        known = None
        if not redo:
            with open_catalog(settings) as catalog:
                known = already_done(local, settings, catalog)
        if known is not None:
            return known.model_dump(mode="json", by_alias=True), True
        manifest = digitise_with_tasks(str(local), settings, origin=path if is_s3_url(path) else None,
                                       runner=run_in_place)
    return manifest.model_dump(mode="json", by_alias=True), False


@task(name="dispatch-one", cache_policy=NO_CACHE, persist_result=False)
def dispatch_one(path: str, config: dict | None, deployment: str, redo: bool = False) -> tuple[dict, bool]:
    """Send one dossier to a work pool worker (scale-out) and wait for its flow run to end.

    An s3:// source is fetched here only to check whether it is already done (and for its id); the
    worker is sent the URL and downloads it itself.
    """
    from prefect.deployments import run_deployment

    settings = settings_from(config)
    with _local(path, settings) as local:
        known = None
        if not redo:
            with open_catalog(settings) as catalog:
                known = already_done(local, settings, catalog)
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


def _unfinished(path: str, exc: BaseException, settings: Settings) -> Manifest:
    """A dossier whose task broke off before a manifest (a source that could not be fetched): reported,
    not recorded, and its source left where it is."""
    from pipeline.digitise.dossier import failed_manifest

    manifest = failed_manifest(path, exc, settings)
    return manifest.model_copy(update={"source": manifest.source.model_copy(update={"path": path})})


def _run_all(paths: list[str], config: dict | None, report: RunReport,
             on_done: Callable[[str, Manifest, bool], None] | None = None, redo: bool = False,
             results: dict[str, Manifest] | None = None) -> RunReport:
    """Each dossier as a task, `run.dossiers_at_once` in flight; `redo`: digitise again what was done
    before (`sohoa process`); `results` receives each path's manifest."""
    settings = settings_from(config)
    logger = get_run_logger()
    at_once = max(1, settings.run.dossiers_at_once)
    listener = EVENTS.get("listener")
    t0 = time.perf_counter()
    pending = list(paths)
    running: dict = {}
    while pending or running:
        while pending and len(running) < at_once:
            path = str(pending.pop(0))
            fut = (dispatch_one.submit(path, config, settings.run.deployment, redo) if settings.run.deployment
                   else digitise_one.submit(path, config, redo))
            running[fut] = path
        for fut in as_completed(list(running)):  # the first to finish frees a slot
            path = running.pop(fut)
            try:
                data, skipped = fut.result()
            except Exception as exc:  # noqa: BLE001 - one dossier that could not be run must not stop the rest
                manifest = _unfinished(path, exc, settings)
                report.add(manifest)
                if results is not None:
                    results[path] = manifest
                logger.warning("dossier %s not run: %s", path, manifest.error)
                if listener:
                    listener("dossier", manifest, False)
                break
            manifest = Manifest.model_validate(data)
            report.add(manifest, skipped=skipped)
            if results is not None:
                results[path] = manifest
            if manifest.status == "failed":
                logger.warning("dossier %s failed: %s", manifest.dossier_id, manifest.error)
            if on_done:
                on_done(path, manifest, skipped)
            if listener:
                listener("dossier", manifest, skipped)
            break
    report.seconds = round(time.perf_counter() - t0, 2)
    report.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    return report


def _publish(report: RunReport, kind: str, config: dict | None) -> dict:
    settings = settings_from(config)
    store = open_store(settings)
    stamp = report.started_at.replace(":", "").replace("-", "")
    import json

    store.put_bytes(f"reports/{kind}-{stamp}.json", json.dumps(report.to_dict(), ensure_ascii=False,
                                                               indent=2).encode(), content_type="application/json")
    create_markdown_artifact(report.to_markdown(), key=f"sohoa-{kind}", description=f"sohoa {kind} report")
    return report.to_dict()


@flow(name="digitise-backlog", persist_result=False, log_prints=False)
def digitise_backlog(source: str, config: dict | None = None) -> dict:
    """Digitise every dossier under a folder tree or an s3:// prefix; returns the run report."""
    items = (backlog_urls(settings_from(config), source) if is_s3_url(source)
             else [str(p) for p in backlog_items(Path(source))])
    report = RunReport(source=str(source), started_at=datetime.now(UTC).isoformat(timespec="seconds"))
    listener = EVENTS.get("listener")
    if listener:
        listener("start", len(items), None)
    _run_all(items, config, report)
    return _publish(report, "backlog", config)


@flow(name="digitise-dossiers", persist_result=False, log_prints=False)
def digitise_dossiers(paths: list[str], config: dict | None = None) -> list[dict]:
    """`sohoa process` on a Prefect server: the dossiers given, digitised again even when done before,
    as many at once as a backlog runs; their manifests in the order given."""
    report = RunReport(source=", ".join(paths), started_at=datetime.now(UTC).isoformat(timespec="seconds"))
    results: dict[str, Manifest] = {}
    _run_all(list(paths), config, report, redo=True, results=results)
    return [results[p].model_dump(mode="json", by_alias=True) for p in paths]


@flow(name="nightly-ingest", persist_result=False, log_prints=False)
def nightly_ingest(inbox: str | None = None, config: dict | None = None) -> dict:
    """Digitise what has arrived in the inbox (a folder or an s3:// prefix), then move each source to
    processed/ or quarantine/."""
    settings = settings_from(config)
    where = str(inbox or settings.inbox)
    report = RunReport(source=where, started_at=datetime.now(UTC).isoformat(timespec="seconds"))
    if is_s3_url(where):
        url = parse_s3_url(where).as_prefix()
        bucket = open_bucket(settings, url)
        finish_settling(bucket, url)  # moves a killed run left half-done
        ready = {str(url.at(item.key)): item for item in inbox_items(bucket, url, settings.run.quiet_s)}
        items = list(ready)

        def on_done(path: str, manifest: Manifest, _skipped: bool) -> None:
            s3_settle(bucket, url, ready[path], manifest)
    else:
        folder = Path(where)
        folder.mkdir(parents=True, exist_ok=True)
        items = [str(p) for p in inbox_ready(folder, settings.run.quiet_s)]

        def on_done(path: str, manifest: Manifest, _skipped: bool) -> None:
            settle(Path(path), folder, manifest)
    listener = EVENTS.get("listener")
    if listener:
        listener("start", len(items), None)
    _run_all(items, config, report, on_done=on_done)
    return _publish(report, "ingest", config)


__all__ = ["PROGRESS", "digitise_backlog", "digitise_dossiers", "digitise_one", "nightly_ingest"]
