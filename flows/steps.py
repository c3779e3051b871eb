"""Running the dossier steps without Prefect: in this process, under the same retry policy as the step tasks.

`sohoa process` (and `backlog`, `ingest --once`, see `flows/batch.py`) use this when no Prefect server
is configured or running (starting Prefect's temporary server costs 13-15 s, several times a one-page
job); `digitise-one` of a Prefect backlog uses `run_in_place` inside its one task run. Nothing here
imports Prefect: a one-page run starts in well under a second. The run is recorded all the same: the
manifest is stored and indexed in the catalog (`pipeline.digitise.dossier.record`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from pipeline.catalog import open_catalog
from pipeline.digitise import dossier
from pipeline.digitise.pages import PageOutput
from pipeline.manifest import Manifest
from pipeline.retrying import RetryPolicy
from pipeline.settings import Settings
from pipeline.store import open_store

# Progress callbacks by dossier path ("*": any): callables are not flow parameters (they cannot be serialised).
PROGRESS: dict[str, Callable[[PageOutput], None]] = {}
RETRIED = (dossier.ingest, dossier.publish, dossier.record)
"""The steps that talk to the store or the catalog: tried again on transient trouble (`settings.retry`)."""

StepRunner = Callable[..., Any]


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


def digitise_steps(path: str, settings: Settings, origin: str | None = None,
                   runner: Callable[[Settings], StepRunner] = run_in_place) -> Manifest:
    """One dossier, each step through `runner(settings)`; `origin`: where a local copy came from."""
    run_step = runner(settings)
    store = open_store(settings)
    on_page = PROGRESS.get(origin or str(path)) or PROGRESS.get("*")
    with open_catalog(settings) as catalog:
        return dossier.digitise(Path(path), settings, store, catalog, on_page=on_page, run_step=run_step,
                                origin=origin)


def digitise_here(path: str, config: dict | None = None,
                  runner: Callable[[Settings], StepRunner] = run_in_place) -> dict:
    """Digitise one dossier (on disk or at an s3:// URL, fetched here) with each step through `runner`;
    its manifest as JSON data."""
    settings = settings_from(config)
    if path.startswith("s3://"):  # pipeline.ingest.s3source (~10 ms of imports) only for a bucket
        from pipeline.ingest.s3source import fetched

        with fetched(path, settings) as local:
            manifest = digitise_steps(str(local), settings, origin=path, runner=runner)
    else:
        manifest = digitise_steps(path, settings, runner=runner)
    return manifest.model_dump(mode="json", by_alias=True)


def in_order(items: Iterable[str], run: Callable[[str], dict], at_once: int) -> Iterator[tuple[str, dict]]:
    """Run `run(item)` with at most `at_once` items in flight (threads: the work is in subprocesses and
    the page pool); yield (item, result) in the order given, each as soon as it and those before it
    are done. A slot is refilled whenever any item ends. A result that raised re-raises in its turn.
    """
    queue = list(items)
    window = max(1, at_once)
    with ThreadPoolExecutor(max_workers=window, thread_name_prefix="sohoa-dossier") as pool:
        futures: list[tuple[str, Future]] = []
        nxt = 0
        while nxt < len(futures) or queue:
            while queue and sum(not f.done() for _, f in futures[nxt:]) < window:
                item = queue.pop(0)
                futures.append((item, pool.submit(run, item)))
            pending = [f for _, f in futures[nxt:] if not f.done()]
            if not futures[nxt][1].done():
                wait(pending, return_when=FIRST_COMPLETED)
            while nxt < len(futures) and futures[nxt][1].done():
                item, fut = futures[nxt]
                nxt += 1
                yield item, fut.result()
