"""Where the CPU goes, stage by stage, on degraded scans, beside raw Tesseract on the same page images.

    python bench/stages.py [--dossiers 4] [--max-pages 5] [--seed 15] [--jobs 2] [--end-to-end]
                           [--no-ocrmypdf] [--ocrmypdf-args ARGS] [--prefect] [--skip-stages] [--no-one-page]

    python bench/stages.py --dossiers 10 --max-pages 16 --skip-stages --no-ocrmypdf --no-one-page
        # issue 15's acceptance run: 10 dossiers, ~100 degraded pages, whole commands beside raw Tesseract

The corpus: generated dossiers (`samples.generate`), every page damaged one way in turn (stamp and
signature over the text, photocopy, blur + heavy JPEG, sensor noise, uneven lighting, a turned page),
written as scanners do: image-only PDFs (one JPEG per page) and folders of JPEGs. Cached under
~/.cache/sohoa/stages.

Stage table: `--jobs` worker processes, one page each at a time (as the page pool runs them), each
page through `pipeline.digitise.pages.process_page`, which records the CPU of each stage (its thread's and
its children's: pdftoppm, Tesseract); then per dossier, in this process, understand, PDF assembly,
publish (PDF + store + reuse check) and record (manifest + catalog). Raw Tesseract: `tesseract -l vie`
with OMP_THREAD_LIMIT=1 on each page image as it is in the input (the JPEG), one process per core.

`--end-to-end` adds wall times of whole commands on the same corpus, each beside the raw floor:
`sohoa process` (all dossiers in one call), `sohoa backlog`, `ocrmypdf -l vie --rotate-pages --deskew`
(its defaults, PDF/A output, plus the page turning and deskew that sohoa does; `--ocrmypdf-args ''` for
its bare defaults) when installed, and `sohoa process` of one page. `--prefect` times `process` and
`backlog` again with a Prefect server running (the difference is Prefect's bookkeeping). `--repo`
times another checkout's `sohoa` (e.g. a `git worktree` of the commit before a change).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DAMAGE = ("stamp", "photocopy", "blur_jpeg", "noise", "shadow", "turned")
PAGE_STAGES = [("load", "rasterise / decode"), ("clean", "clean (OpenCV)"), ("osd", "orientation (Tesseract OSD)"),
               ("tesseract", "Tesseract (words + text layer)"), ("ocr_post", "OCR post-processing (TSV, word fixes)"),
               ("jpeg", "display JPEG"), ("blanks", "header blanks re-read (Tesseract on crops)")]


def build_corpus(out: Path, n: int, seed: int, max_pages: int) -> list[Path]:
    """n dossiers, alternately an image-only PDF and a folder of JPEGs, every page damaged."""
    from samples.generate import damage, make_dossier, write_dossier

    marker = out / f"corpus-{n}-{seed}-{max_pages}-v2.json"  # v2: JPEGs with a scanner's standard tables
    if marker.exists():
        return [Path(p) for p in json.loads(marker.read_text())]
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths: list[Path] = []
    k = 0
    for i in range(n):
        d = make_dossier(rng, degrade="light", dossier_id=f"st_{seed}_{i:02d}", blank_separator=False)
        d.pages = d.pages[:max_pages]
        for pg in d.pages:
            kind = DAMAGE[k % len(DAMAGE)]
            k += 1
            if kind == "turned":
                pg.image = pg.image.rotate(rng.choice((90, 180, 270)), expand=True)
            else:
                pg.image, _ = damage(pg.image, kind, rng, dpi=d.dpi)
        paths.append(write_dossier(d, out / f"{n}-{seed}-{max_pages}" / f"d{i:02d}", "pdf" if i % 2 == 0 else "jpg-folder",
                                   quality=80))  # a folder per corpus: another corpus never overwrites it
    marker.write_text(json.dumps([str(p) for p in paths]))
    return paths


def page_images(dossiers: list[Path], out: Path) -> list[Path]:
    """Each page image as it is in the input (a PDF page's embedded JPEG, extracted byte for byte)."""
    from pypdf import PdfReader

    files: list[Path] = []
    for d in dossiers:
        if d.is_dir():
            files += sorted(d.glob("*.jpg"), key=lambda p: int(p.stem))
            continue
        for i, page in enumerate(PdfReader(d).pages):
            image = next(iter(page["/Resources"]["/XObject"].values())).get_object()
            f = out / f"{d.stem}-{i + 1:03d}.jpg"
            f.write_bytes(image._data)  # noqa: SLF001 - the JPEG as stored (pypdf's `.data` re-encodes it)
            files.append(f)
    return files


def raw_tesseract(images: list[Path], jobs: int, out: Path) -> tuple[float, float]:
    """(wall s, CPU s) of `tesseract -l vie` on every image, `jobs` at a time, one thread each."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(p: Path) -> float:
        proc = subprocess.Popen(["tesseract", str(p), str(out / p.stem), "-l", "vie", "txt", "pdf"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        return ru.ru_utime + ru.ru_stime

    t = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        cpu = sum(pool.map(one, images))
    return time.perf_counter() - t, cpu


def _page_worker(path: str, index: int, home: str, workdir: str) -> dict:
    from pipeline.digitise.pages import process_page
    from pipeline.ingest.inputs import open_dossier
    from pipeline.settings import Settings

    settings = Settings(home=home)
    src = open_dossier(path)
    out = process_page(src.pages[index], settings, Path(workdir))
    return {"out": out, "cpu": out.cpu}


def stage_table(dossiers: list[Path], jobs: int, home: Path) -> tuple[dict[str, float], int, dict]:
    """CPU seconds per stage over the corpus, the number of text pages, and the per-dossier stages."""
    from pipeline.catalog import open_catalog
    from pipeline.digitise import dossier as steps
    from pipeline.digitise.pages import cpu_now
    from pipeline.ingest.inputs import open_dossier
    from pipeline.publish.pdfout import build_pdf
    from pipeline.settings import Settings
    from pipeline.store import open_store

    settings = Settings(home=home)
    store = open_store(settings)
    totals: dict[str, float] = defaultdict(float)
    pages = 0
    sources = []
    with ProcessPoolExecutor(jobs) as pool:
        futs = []
        for d in dossiers:
            src = open_dossier(d)
            work = home / "work" / src.dossier_id
            work.mkdir(parents=True, exist_ok=True)
            sources.append((d, src, work))
            futs.append([pool.submit(_page_worker, str(d), ref.n - 1, str(home), str(work)) for ref in src.pages])
        outputs = {}
        for (d, _src, _), fs in zip(sources, futs, strict=True):
            outputs[d] = [f.result()["out"] for f in fs]
    for outs in outputs.values():
        for o in outs:
            for k, v in o.cpu.items():
                totals[k] += v
            pages += o.part is not None
    with open_catalog(settings) as catalog:
        for d, src, work in sources:
            c = cpu_now()
            steps.ingest(d, settings, store)
            totals["ingest"] += cpu_now() - c
            c = cpu_now()
            drafts = steps.understand(outputs[d], settings)
            totals["understand"] += cpu_now() - c
            by_n = {o.page.n: o for o in outputs[d]}
            c = cpu_now()
            for dr in drafts:
                build_pdf([by_n[n].part for n in dr.pages if by_n[n].part is not None], work / f"x{dr.index}.pdf",
                          {"Title": dr.type_name})
            totals["pdf"] += cpu_now() - c
            c = cpu_now()
            comps = steps.publish(src, outputs[d], drafts, store, work, catalog)
            totals["publish"] += cpu_now() - c
            manifest = steps.build_manifest(src, outputs[d], comps, settings, {})
            c = cpu_now()
            steps.record(manifest, store, catalog)
            totals["record"] += cpu_now() - c
    return dict(totals), pages, outputs


def stored_sizes(home: Path, dossiers: list[Path]) -> tuple[float, float]:
    """(stored PDF KB per page, source KB per page) over the corpus."""
    src_bytes = sum(f.stat().st_size for d in dossiers for f in ([d] if d.is_file() else d.glob("*.jpg")))
    pdfs = list((home / "store").rglob("*.pdf"))
    out_bytes = sum(p.stat().st_size for p in pdfs if "/dossiers/" in str(p))
    from pipeline.ingest.inputs import open_dossier

    n = sum(open_dossier(d).page_count for d in dossiers)
    return out_bytes / 1024 / n, src_bytes / 1024 / n


PEAKS: dict[str, list[float]] = {}  # command name -> its own peak RSS (MB) at each quarter of its run


def _rss_watch(pid: int, marks: list[tuple[float, float]], stop: list[bool]) -> None:
    """(seconds, VmHWM MB) of process `pid` every 0.2 s: its own peak, Tesseract children not counted."""
    t = time.perf_counter()
    while not stop[0]:
        try:
            with open(f"/proc/{pid}/status") as f:
                hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
            marks.append((time.perf_counter() - t, hwm / 1024))
        except (OSError, StopIteration):
            pass
        time.sleep(0.2)


def _timed(cmd: list[str], env: dict, cwd: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall s, CPU s of the command and all its children, result); its peak RSS at each quarter of
    the run goes to PEAKS[the command's words] (flat memory: the same at 1/4 as at the end)."""
    import threading

    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    marks: list[tuple[float, float]] = []
    stop = [False]
    watch = threading.Thread(target=_rss_watch, args=(proc.pid, marks, stop), daemon=True)
    watch.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    stop[0] = True
    watch.join()
    if marks:
        PEAKS[" ".join(cmd[3:5])] = [max((m for s, m in marks if s <= wall * q), default=0.0) for q in (0.25, 0.5, 0.75, 1)]
    return wall, _last_child_cpu(), subprocess.CompletedProcess(cmd, proc.returncode, out, err)


_CHILD_CPU = [0.0]


def _last_child_cpu() -> float:
    """CPU of the children reaped since the last call (this process waits for one command at a time)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ru.ru_utime + ru.ru_stime
    delta, _CHILD_CPU[0] = total - _CHILD_CPU[0], total
    return delta


def _sohoa(args: list[str], home: Path, jobs: int, api: str | None = None, repo: Path = REPO) -> tuple[float, float]:
    """(wall s, CPU s) of one `sohoa` command."""
    env = {**os.environ, "SOHOA_HOME": str(home), "SOHOA_WORKERS": str(jobs)}
    env.pop("PREFECT_API_URL", None)
    if api:
        env["PREFECT_API_URL"] = api
    _last_child_cpu()
    wall, cpu, proc = _timed([sys.executable, "-m", "flows.cli", *args], env, repo)
    if proc.returncode != 0:
        raise SystemExit(f"sohoa {args[0]} failed:\n{proc.stderr[-3000:]}")
    return wall, cpu


def ocrmypdf_default(dossiers: list[Path], jobs: int, out: Path, extra: list[str] = ()) -> tuple[float, float] | None:
    """(wall s, CPU s) of `ocrmypdf -l vie` with its defaults (PDF/A output) and `extra` options on each
    dossier as a PDF (a JPEG folder wrapped losslessly)."""
    if not shutil.which("ocrmypdf"):
        return None
    import img2pdf

    inputs = []
    for d in dossiers:
        if d.is_file():
            inputs.append(d)
        else:
            pdf = out / f"{d.name}.pdf"
            pdf.write_bytes(img2pdf.convert([str(p) for p in sorted(d.glob("*.jpg"), key=lambda p: int(p.stem))]))
            inputs.append(pdf)
    wall = cpu = 0.0
    _last_child_cpu()
    for i, pdf in enumerate(inputs):
        w, c, proc = _timed(["ocrmypdf", "-q", "-l", "vie", "--jobs", str(jobs), *extra, str(pdf),
                             str(out / f"o{i}.pdf")],
                            {**os.environ, "OMP_THREAD_LIMIT": "1"}, out)
        if proc.returncode != 0:
            raise SystemExit(f"ocrmypdf failed:\n{proc.stderr[-2000:]}")
        wall, cpu = wall + w, cpu + c
    return wall, cpu


def _link_or_copy(src, dst) -> None:
    shutil.copy2(src, dst)  # a copy: a backlog refuses hard-linked files as it refuses symbolic links


def end_to_end(dossiers: list[Path], images: list[Path], raw: tuple[float, float], args: argparse.Namespace,
               tmp: Path) -> None:
    """Wall and CPU of whole commands on the corpus, each beside the raw floor. CPU (the command and
    all its children) holds on a loaded machine; wall only on a quiet one."""
    repo = args.repo.resolve()
    e2e = [("raw tesseract (floor)", raw)]
    paths = [str(d) for d in dossiers]
    folder = tmp / "backlog"
    folder.mkdir()
    for d in dossiers:  # copies: a backlog follows no symbolic link and takes no hard-linked file
        if d.is_dir():
            shutil.copytree(d, folder / d.name, copy_function=_link_or_copy)
        else:
            _link_or_copy(d, folder / d.name)
    e2e.append((f"sohoa process, {len(dossiers)} dossiers in one call",
                _sohoa(["process", *paths], tmp / "h1", args.jobs, repo=repo)))
    e2e.append(("sohoa backlog", _sohoa(["backlog", str(folder)], tmp / "h2", args.jobs, repo=repo)))
    if args.prefect:
        from flows.serve import start_server

        (tmp / "h3" / "prefect").mkdir(parents=True)
        server, api = start_server(tmp / "h3")
        try:
            e2e.append(("sohoa process, Prefect server running",
                        _sohoa(["process", *paths], tmp / "h3", args.jobs, api, repo=repo)))
            e2e.append(("sohoa backlog, Prefect server running",  # its own data home: nothing done yet
                        _sohoa(["backlog", str(folder)], tmp / "h5", args.jobs, api, repo=repo)))
        finally:
            _last_child_cpu()
            server.terminate()
            server.wait(timeout=60)
            e2e.append(("(the Prefect server itself, over both runs and its start)", (0.0, _last_child_cpu())))
    extra = args.ocrmypdf_args.split()
    omp = None if args.no_ocrmypdf else ocrmypdf_default(dossiers, args.jobs, tmp / "ocrmypdf", extra)
    if omp is not None:
        e2e.append((f"ocrmypdf -l vie {' '.join(extra)} (PDF/A), --jobs {args.jobs}", omp))
    load = os.getloadavg()
    print(f"\nsohoa from {repo}; load average at the end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}\n\n"
          "| command | wall s | x raw wall | CPU s | x raw CPU |\n|---|---|---|---|---|")
    for name, (wall, cpu) in e2e:
        shown = f"{wall:.1f} | {wall / raw[0]:.2f}" if wall else "– | –"
        print(f"| {name} | {shown} | {cpu:.1f} | {cpu / raw[1]:.2f} |")
    print("\npeak RSS of the sohoa process itself (MB; Tesseract's own ~250 MB a page not counted) "
          "at 1/4, 1/2, 3/4 of the run and at its end:")
    for name, peaks in PEAKS.items():
        print(f"- {name}: {' / '.join(f'{p:.0f}' for p in peaks)}")
    if args.no_one_page:
        return
    one = images[0]
    page = raw_tesseract([one], 1, tmp / "raw")
    first = _sohoa(["process", str(one)], tmp / "h4", args.jobs, repo=repo)
    again = _sohoa(["process", str(one)], tmp / "h4", args.jobs, repo=repo)
    print(f"\none page ({one.name}), wall / CPU s: raw tesseract {page[0]:.1f} / {page[1]:.1f}; `sohoa process` "
          f"{first[0]:.1f} / {first[1]:.1f} with a fresh data home, {again[0]:.1f} / {again[1]:.1f} again")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dossiers", type=int, default=4)
    ap.add_argument("--max-pages", type=int, default=5)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--end-to-end", action="store_true")
    ap.add_argument("--no-ocrmypdf", action="store_true")
    ap.add_argument("--ocrmypdf-args", default="--rotate-pages --deskew",
                    help="OCRmyPDF's options beside its defaults (default: what a scan needs and sohoa does: "
                         "turn pages and deskew them, as issue 15 measured; '' for its bare defaults)")
    ap.add_argument("--prefect", action="store_true")
    ap.add_argument("--skip-stages", action="store_true", help="whole commands only (implies --end-to-end)")
    ap.add_argument("--no-one-page", action="store_true", help="without the one-page runs (bench/one_page.py)")
    ap.add_argument("--repo", type=Path, default=REPO, help="the checkout whose `sohoa` is timed end to end")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "sohoa" / "stages")
    args = ap.parse_args(argv)
    dossiers = build_corpus(args.cache, args.dossiers, args.seed, args.max_pages)
    with tempfile.TemporaryDirectory(prefix="sohoa-stages-") as tmp:
        tmp = Path(tmp)
        for sub in ("img", "raw", "home", "ocrmypdf"):
            (tmp / sub).mkdir()
        images = page_images(dossiers, tmp / "img")
        raw_wall, raw_cpu = raw_tesseract(images, args.jobs, tmp / "raw")
        if args.skip_stages:
            print(f"{len(dossiers)} dossiers, {len(images)} pages, degraded: {', '.join(DAMAGE)}; {args.jobs} jobs, "
                  f"{os.cpu_count()} cores")
            end_to_end(dossiers, images, (raw_wall, raw_cpu), args, tmp)
            kb_out, kb_src = stored_sizes(tmp / "h2", dossiers)
            print(f"\nstored PDF {kb_out:.0f} KB/page (`sohoa backlog`), source {kb_src:.0f} KB/page")
            return 0
        totals, text_pages, _ = stage_table(dossiers, args.jobs, tmp / "home")
        kb_out, kb_src = stored_sizes(tmp / "home", dossiers)
        n = len(images)
        print(f"{len(dossiers)} dossiers, {n} pages ({text_pages} with text), degraded: {', '.join(DAMAGE)}; "
              f"{args.jobs} jobs, {os.cpu_count()} cores\n")
        print("| stage | CPU s | ms / page | % of raw Tesseract |")
        print("|---|---|---|---|")
        rows = [*PAGE_STAGES, ("ingest", "ingest (hash, store the original)"), ("understand", "understand (split, classify, fields)"),
                ("pdf", "PDF assembly (of which publish)"), ("publish", "publish (PDF + store + reuse check)"),
                ("record", "record (manifest + catalog)")]
        total = 0.0
        for key, name in rows:
            v = totals.get(key, 0.0)
            total += v if key != "pdf" else 0.0
            print(f"| {name} | {v:.1f} | {1000 * v / n:.0f} | {100 * v / raw_cpu:.1f} % |")
        print(f"| **sohoa, all stages** | {total:.1f} | {1000 * total / n:.0f} | {100 * total / raw_cpu:.1f} % |")
        print(f"| raw `tesseract -l vie` (floor) | {raw_cpu:.1f} | {1000 * raw_cpu / n:.0f} | 100 % |")
        print(f"\nstored PDF {kb_out:.0f} KB/page, source {kb_src:.0f} KB/page")
        if args.end_to_end:
            end_to_end(dossiers, images, (raw_wall, raw_cpu), args, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
