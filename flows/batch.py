"""Batches of dossiers (a backlog, the inbox, the dossiers of one `sohoa process`), without Prefect.

What a batch is — which dossiers, which are already done, what happens to each source when it ends,
the run report — lives here once. `flows/backlog.py` runs it as Prefect flows and tasks when a Prefect
server answers (a scheduled ingest, a scale-out, a run to see in the UI); `run_here` runs it in this
process when none does, with the same window of dossiers in flight (`run.dossiers_at_once`), so a
short run does not pay 13-15 s for Prefect's temporary server. Either way each dossier's manifest is
stored and indexed in the catalog, and the run report is stored under `reports/`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flows.steps import digitise_steps, in_order, run_in_place, settings_from
from pipeline.catalog import open_catalog
from pipeline.ingest.backlog import RunReport, already_done, backlog_items, inbox_ready, settle
from pipeline.ingest.s3source import fetched, is_s3_url
from pipeline.manifest import Manifest
from pipeline.settings import Settings
from pipeline.store import open_store

# Called with ("dossier", manifest, skipped) when a dossier ends, and ("start", n_dossiers, None).
EVENTS: dict[str, Callable[..., None]] = {}
log = logging.getLogger("sohoa.flows")


@dataclass
class Batch:
    """The dossiers of one run, its report, and what to do with each source when it ends."""

    kind: str  # backlog | ingest | process
    items: list[str]
    report: RunReport
    on_done: Callable[[str, Manifest, bool], None] | None = None
    redo: bool = False  # digitise again what was done before (`sohoa process`)
    results: dict[str, Manifest] = field(default_factory=dict)


def local_copy(path: str, settings: Settings) -> contextlib.AbstractContextManager[Path]:
    """The dossier on disk: the path itself, or an s3:// source downloaded for the time being."""
    return fetched(path, settings) if is_s3_url(path) else contextlib.nullcontext(Path(path))


def known_manifest(local: Path, settings: Settings) -> Manifest | None:
    with open_catalog(settings) as catalog:
        return already_done(local, settings, catalog)


def digitise_or_skip(path: str, config: dict | None, redo: bool = False) -> tuple[dict, bool]:
    """Digitise one dossier unless this source was already done with these settings (or `redo`);
    (manifest data, skipped)."""
    settings = settings_from(config)
    with local_copy(path, settings) as local:
        known = None if redo else known_manifest(local, settings)
        if known is not None:
            return known.model_dump(mode="json", by_alias=True), True
        manifest = digitise_steps(str(local), settings, origin=path if is_s3_url(path) else None,
                                  runner=run_in_place)
    return manifest.model_dump(mode="json", by_alias=True), False


def unfinished(path: str, exc: BaseException, settings: Settings) -> Manifest:
    """A dossier that broke off before a manifest (a source that could not be fetched): reported,
    not recorded, and its source left where it is."""
    from pipeline.digitise.dossier import failed_manifest

    manifest = failed_manifest(path, exc, settings)
    return manifest.model_copy(update={"source": manifest.source.model_copy(update={"path": path})})


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def started(batch: Batch) -> Batch:
    listener = EVENTS.get("listener")
    if listener:
        listener("start", len(batch.items), None)
    return batch


def backlog_batch(source: str, config: dict | None) -> Batch:
    from pipeline.ingest.s3source import backlog_urls

    items = (backlog_urls(settings_from(config), source) if is_s3_url(source)
             else [str(p) for p in backlog_items(Path(source))])
    return started(Batch("backlog", items, RunReport(source=str(source), started_at=now())))


def ingest_batch(inbox: str | None, config: dict | None) -> Batch:
    """What has settled in the inbox; each source moves to processed/ or quarantine/ when it ends."""
    from pipeline.ingest.s3source import finish_settling, inbox_items, open_bucket, parse_s3_url
    from pipeline.ingest.s3source import settle as s3_settle

    settings = settings_from(config)
    where = str(inbox or settings.inbox)
    report = RunReport(source=where, started_at=now())
    if is_s3_url(where):
        url = parse_s3_url(where).as_prefix()
        bucket = open_bucket(settings, url)
        finish_settling(bucket, url)  # moves a killed run left half-done
        ready = {str(url.at(item.key)): item for item in inbox_items(bucket, url, settings.run.quiet_s)}

        def on_done(path: str, manifest: Manifest, _skipped: bool) -> None:
            s3_settle(bucket, url, ready[path], manifest)

        return started(Batch("ingest", list(ready), report, on_done))
    folder = Path(where)
    folder.mkdir(parents=True, exist_ok=True)

    def settle_here(path: str, manifest: Manifest, _skipped: bool) -> None:
        settle(Path(path), folder, manifest)

    return started(Batch("ingest", [str(p) for p in inbox_ready(folder, settings.run.quiet_s)], report,
                         settle_here))


def process_batch(paths: list[str]) -> Batch:
    return Batch("process", list(paths), RunReport(source=", ".join(paths), started_at=now()), redo=True)


def finish_one(batch: Batch, path: str, outcome: tuple[dict, bool] | BaseException, settings: Settings,
               logger: logging.Logger | logging.LoggerAdapter = log) -> Manifest:
    """Count one ended dossier in the report, settle its source, tell the listener."""
    listener = EVENTS.get("listener")
    if isinstance(outcome, BaseException):
        manifest = unfinished(path, outcome, settings)
        batch.report.add(manifest)
        batch.results[path] = manifest
        logger.warning("dossier %s not run: %s", path, manifest.error)
        if listener:
            listener("dossier", manifest, False)
        return manifest
    data, skipped = outcome
    manifest = Manifest.model_validate(data)
    batch.report.add(manifest, skipped=skipped)
    batch.results[path] = manifest
    if manifest.status == "failed":
        logger.warning("dossier %s failed: %s", manifest.dossier_id, manifest.error)
    if batch.on_done:
        batch.on_done(path, manifest, skipped)
    if listener:
        listener("dossier", manifest, skipped)
    return manifest


def store_report(batch: Batch, config: dict | None) -> dict:
    """The run report under `reports/` in the store; returned as a dict."""
    report = batch.report
    report.finished_at = report.finished_at or now()
    stamp = report.started_at.replace(":", "").replace("-", "")
    open_store(settings_from(config)).put_bytes(
        f"reports/{batch.kind}-{stamp}.json", json.dumps(report.to_dict(), ensure_ascii=False, indent=2).encode(),
        content_type="application/json")
    return report.to_dict()


def run_here(batch: Batch, config: dict | None) -> dict:
    """Run the batch in this process, `run.dossiers_at_once` dossiers in flight; the stored report."""
    settings = settings_from(config)
    t0 = time.perf_counter()

    def one(path: str) -> tuple[dict, bool] | BaseException:
        try:
            return digitise_or_skip(path, config, batch.redo)
        except Exception as exc:  # noqa: BLE001 - one dossier that could not be run must not stop the rest
            return exc

    for path, outcome in in_order(batch.items, one, settings.run.dossiers_at_once):
        finish_one(batch, path, outcome, settings)
    batch.report.seconds = round(time.perf_counter() - t0, 2)
    batch.report.finished_at = now()
    return store_report(batch, config) if batch.kind != "process" else batch.report.to_dict()
