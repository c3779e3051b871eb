"""The `sohoa` command line (contract in docs/cli.md).

Exit codes: 0 all went well, 1 a dossier failed or a check did not pass, 2 usage error.
Machine output (`--json`) goes to stdout, one JSON object per line; logs and progress go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from pathlib import Path

from flows.options import common_parser, settings_of
from pipeline.settings import Settings


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("pages"),
                    TimeElapsedColumn(), console=Console(stderr=True), disable=not enabled, transient=False)


def _in_place(paths: list[str], config: dict, at_once: int):
    """(path, manifest data) per dossier, in the order given, digitised in this process without Prefect."""
    from flows.steps import digitise_here, in_order, settings_from

    def one(path: str) -> dict:
        try:
            return digitise_here(path, config)
        except Exception as exc:  # noqa: BLE001 - an s3 source that cannot be fetched: reported, not fatal
            from pipeline.digitise.dossier import failed_manifest

            return failed_manifest(path, exc, settings_from(config)).model_dump(mode="json", by_alias=True)

    yield from in_order(paths, one, at_once)


def _on_prefect(paths: list[str], config: dict, settings: Settings, verbose: bool):
    """(path, manifest data) per dossier, run as the `digitise-dossiers` flow on the Prefect server."""
    from flows import prefect_env

    prefect_env.configure(settings.home, verbose)
    from flows.backlog import digitise_dossiers

    yield from zip(paths, digitise_dossiers(paths, config), strict=True)


def cmd_process(args: argparse.Namespace) -> int:
    """Digitise the dossiers given, `run.dossiers_at_once` at a time (as a backlog does).

    On a Prefect server (PREFECT_API_URL, the Prefect profile, or the one `sohoa serve` started) the
    run is a flow run there; without one the steps run in this process (Prefect's temporary server
    takes 13-15 s to start) and the run is recorded in the store and the catalog all the same.
    """
    settings = settings_of(args)
    from flows import prefect_env
    from flows.steps import PROGRESS

    api, why_not = prefect_env.running_server(settings.home)
    if why_not:
        print(f"sohoa: {why_not}", file=sys.stderr)
    if api:
        os.environ["PREFECT_API_URL"] = api
    failed = 0
    show = sys.stderr.isatty() and not args.verbose
    config = settings.for_flow()
    if args.text_layer:
        config["text_layer"] = args.text_layer  # a command-line choice travels with the flow run
    paths = [raw if raw.startswith("s3://") else str(Path(raw)) for raw in args.paths]  # a Path would fold '//'
    with _progress(show) if show else contextlib.nullcontext() as progress:  # rich: ~0.1 s to import
        if show:  # the page count costs a Poppler run per PDF: only for the bar
            from pipeline.ingest.inputs import open_dossier

            for path in paths:
                try:
                    total = open_dossier(path, max_pixels=settings.limits.max_pixels,
                                         max_pages=settings.limits.max_pages, dpi=settings.ocr.dpi,
                                         min_dpi=settings.limits.min_dpi).page_count
                except Exception:  # noqa: BLE001 - the run reports the error in the manifest
                    total = None
                bar = progress.add_task(Path(path).name, total=total)
                PROGRESS[path] = lambda _out, bar=bar: progress.advance(bar)
        runs = (_on_prefect(paths, config, settings, args.verbose) if api
                else _in_place(paths, config, settings.run.dossiers_at_once))
        for path, manifest in runs:
            PROGRESS.pop(path, None)
            ok = manifest["status"] == "done"
            failed += not ok
            if args.json:
                print(json.dumps(manifest, ensure_ascii=False), flush=True)
            if not ok:
                print(f"FAILED {manifest['error']}", file=sys.stderr)
            elif not args.json:
                comps = manifest["components"]
                pages = manifest["source"]["pages"]
                t = manifest["timings"].get("total_s", 0.0)
                print(f"{manifest['dossier_id']}: {pages} pages, {len(comps)} components "
                      f"({', '.join(c['type'] for c in comps)}) in {t:.1f} s", file=sys.stderr)
    return 1 if failed else 0


def _run_flow_with_progress(args: argparse.Namespace, settings: Settings, flow_name: str, target: str | None) -> int:
    """Run the backlog or ingest batch with a live bar: dossiers, pages, pages/min, ETA.

    As a Prefect flow when a Prefect server answers (see `cmd_process`), else in this process.
    """
    from flows import prefect_env

    api, why_not = prefect_env.running_server(settings.home)
    if why_not:
        print(f"sohoa: {why_not}", file=sys.stderr)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from flows.batch import EVENTS
    from flows.steps import PROGRESS

    def run(target: str | None, config: dict) -> dict:
        if api:
            os.environ["PREFECT_API_URL"] = api
            prefect_env.configure(settings.home, args.verbose)
            from flows.backlog import digitise_backlog, nightly_ingest

            return digitise_backlog(target, config) if flow_name == "backlog" else nightly_ingest(target, config)
        from flows.batch import backlog_batch, ingest_batch, run_here

        batch = backlog_batch(target, config) if flow_name == "backlog" else ingest_batch(target, config)
        return run_here(batch, config)

    show = sys.stderr.isatty() and not args.verbose
    started = [0.0]
    pages = [0]
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("dossiers"),
                  TextColumn("{task.fields[pages]} pages, {task.fields[rate]:.1f} pages/min"),
                  TimeRemainingColumn(), console=Console(stderr=True), disable=not show) as progress:
        bar = progress.add_task(flow_name, total=None, pages=0, rate=0.0)

        def listener(kind: str, first, _second) -> None:
            import time

            if kind == "start":
                started[0] = time.monotonic()
                progress.update(bar, total=first)
            else:
                progress.advance(bar)

        def on_page(_out) -> None:
            import time

            pages[0] += 1
            elapsed = max(1e-6, time.monotonic() - started[0])
            progress.update(bar, pages=pages[0], rate=pages[0] / elapsed * 60)

        EVENTS["listener"] = listener
        PROGRESS["*"] = on_page
        config = settings.for_flow()
        try:
            report = run(target, config)
        finally:
            EVENTS.pop("listener", None)
            PROGRESS.pop("*", None)
    from pipeline.ingest.backlog import RunReport

    fields = {k: v for k, v in report.items() if k != "pages_per_min"}
    summary = RunReport(**fields)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(summary.to_text())
    return 1 if summary.failed else 0


def _s3_usage(url: str, settings: Settings) -> str | None:
    """Why an s3:// argument is unusable (malformed, no such bucket), or None; checked before Prefect starts."""
    from pipeline.errors import InputError
    from pipeline.ingest.s3source import open_bucket, parse_s3_url

    try:
        open_bucket(settings, parse_s3_url(url))
    except InputError as exc:
        return str(exc)
    return None


def cmd_backlog(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if args.source.startswith("s3://"):
        problem = _s3_usage(args.source, settings)
        if problem:
            print(f"sohoa: {problem}", file=sys.stderr)
            return 2
        return _run_flow_with_progress(args, settings, "backlog", args.source)
    if not Path(args.source).exists():
        print(f"sohoa: {args.source}: no such file or folder. Check the path", file=sys.stderr)
        return 2
    return _run_flow_with_progress(args, settings, "backlog", str(Path(args.source).resolve()))


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if not args.once:
        print("sohoa ingest: use --once to ingest now, or `sohoa serve` for the nightly schedule", file=sys.stderr)
        return 2
    if args.inbox and args.inbox.startswith("s3://"):
        problem = _s3_usage(args.inbox, settings)
        if problem:
            print(f"sohoa: {problem}", file=sys.stderr)
            return 2
        inbox = args.inbox
    else:
        inbox = str(Path(args.inbox).resolve()) if args.inbox else None
    return _run_flow_with_progress(args, settings, "ingest", inbox)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    from flows import prefect_env

    prefect_env.configure(settings.home, args.verbose)
    from flows.serve import serve

    return serve(settings, settings.for_flow())


def cmd_deploy(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    from flows import prefect_env

    prefect_env.configure(settings.home, args.verbose)
    if not os.environ.get("PREFECT_API_URL"):
        print("sohoa deploy: set PREFECT_API_URL to your Prefect server (see docs/operations.md)", file=sys.stderr)
        return 2
    from flows.deploy import deploy

    name = deploy(args.pool or settings.run.pool)
    print(f"deployed {name} on work pool {args.pool or settings.run.pool}; start workers with "
          f"`prefect worker start --pool {args.pool or settings.run.pool}` and set "
          f"SOHOA_RUN__DEPLOYMENT={name} for backlog and ingest runs", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import date

    from pipeline.publish.report import ROWS, chart, figures
    from pipeline.store import open_store

    settings = settings_of(args)
    since = date.fromisoformat(args.since) if args.since else None
    until = date.fromisoformat(args.until) if args.until else None
    from pipeline.catalog import open_catalog

    with open_catalog(settings) as catalog:  # aggregate queries, not every manifest read
        fig = figures(open_store(settings), since, until, catalog=catalog)
    if args.json:
        print(json.dumps(fig, ensure_ascii=False))
    else:
        for key, label in ROWS:
            value = fig[key]
            text = f"{value:.1%}" if isinstance(value, float) else str(value)
            print(f"{label:52} {text:>10}")
        for f in fig["failures"]:
            print(f"  FAILED {f['dossier_id']}: {f['error']}")
    if args.chart:
        out = chart(fig, Path(args.chart))
        print(f"chart: {out}", file=sys.stderr)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from pipeline.catalog import open_catalog

    settings = settings_of(args)
    with open_catalog(settings) as catalog:
        hits = catalog.search(args.query, type=args.type, dossier=args.dossier, limit=args.limit,
                              offset=args.offset)
    for h in hits:
        if args.json:
            print(json.dumps({"dossier_id": h.dossier_id, "component_id": h.component_id, "type": h.type,
                              "type_name": h.type_name, "pages": h.pages, "page": h.page,
                              "snippet": h.snippet, "score": h.score, "exact": h.exact}, ensure_ascii=False))
        else:
            pages = ",".join(str(p) for p in h.pages)
            print(f"{h.dossier_id}  {h.component_id}  {h.type}  pages {pages}\n    {h.snippet}")
    if not hits and not args.json:
        print("no hits", file=sys.stderr)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from flows.doctor import run_checks

    settings = settings_of(args)
    ok = True
    for name, passed, message in run_checks(settings):
        ok &= passed
        print(f"[{'ok' if passed else 'FAIL'}] {name}: {message}")
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sohoa", description="Digitise Vietnamese paper dossiers.")
    common = common_parser()
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("process", parents=[common], help="digitise dossiers (PDF, image, or folder of pages)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true", help="print one manifest per dossier, one JSON per line")
    p.add_argument("--text-layer", choices=("auto", "ocr", "keep"),
                   help="PDF pages' own text: auto (decide per page), ocr (OCR every page), keep (keep any real "
                        "text layer); default ocr.text_layer, 'auto' (docs/text-layers.md)")
    p.set_defaults(func=cmd_process)

    s = sub.add_parser("search", parents=[common], help="search the catalog (with or without tone marks)")
    s.add_argument("query")
    s.add_argument("--type", help="component type code, e.g. quyet_dinh")
    s.add_argument("--dossier", help="only this dossier id")
    s.add_argument("--limit", type=int, default=20)
    s.add_argument("--offset", type=int, default=0)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_search)

    b = sub.add_parser("backlog", parents=[common],
                       help="digitise every dossier under a folder tree or an S3 prefix (resumable)")
    b.add_argument("source", help="folder tree of dossiers (files, or folders of page images), or s3://bucket/prefix")
    b.add_argument("--json", action="store_true", help="print the run report as JSON on stdout")
    b.set_defaults(func=cmd_backlog)

    i = sub.add_parser("ingest", parents=[common], help="digitise what has arrived in the inbox")
    i.add_argument("--once", action="store_true", help="run the nightly ingestion now, once")
    i.add_argument("--inbox", help="inbox folder or s3://bucket/prefix (default: run.inbox under the data home)")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_ingest)

    v = sub.add_parser("serve", parents=[common], help="run the nightly ingestion on its schedule (Prefect server)")
    v.set_defaults(func=cmd_serve)

    dp = sub.add_parser("deploy", parents=[common], help="register digitise-dossier on a Prefect work pool")
    dp.add_argument("--pool", help="work pool name (default: run.pool, 'sohoa')")
    dp.set_defaults(func=cmd_deploy)

    r = sub.add_parser("report", parents=[common], help="the centre's figures over a period")
    r.add_argument("--since", help="first day, YYYY-MM-DD")
    r.add_argument("--until", help="last day, YYYY-MM-DD")
    r.add_argument("--json", action="store_true")
    r.add_argument("--chart", help="write a PNG chart to this path")
    r.set_defaults(func=cmd_report)

    d = sub.add_parser("doctor", parents=[common], help="check Tesseract, Vietnamese data, poppler, store, catalog")
    d.set_defaults(func=cmd_doctor)

    from flows.api_cli import add_parsers as add_api_parsers
    from flows.train import add_parser as add_train_parser
    from flows.train import add_review_parser

    add_train_parser(sub, [common])  # `train`
    add_review_parser(sub, [common])  # `review --list | set-type | split | merge`

    add_api_parsers(sub, common)  # `api` and `apikey create|list|revoke`
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback, for a clerk
        from pipeline.errors import SohoaError

        if isinstance(exc, SohoaError) or args.verbose is False:
            print(f"sohoa: {exc}", file=sys.stderr)
            if args.verbose:
                raise
            return 1
        raise


def entry() -> None:
    """The `sohoa` command: `main()`, then, once its output is flushed and its files closed, an exit
    without the interpreter's teardown of numpy, OpenCV, pydantic... (0.1-0.2 s of CPU that a one-page
    run would wait for); the exit handlers still run. Not after Prefect or Dask was used: their handlers
    expect the whole teardown (Prefect sends its last logs and events)."""
    code = main()
    if "prefect" in sys.modules or "distributed" in sys.modules:
        sys.exit(code)
    import atexit

    atexit._run_exitfuncs()  # what was registered still runs: temporary folders, thread pools, logging
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
