"""Page fan-out on a Dask cluster (`run.dask_address`), for when one machine's cores are too few.

The dossier stays on the machine that runs it: ingest, understanding, the PDFs, the store and the
catalog happen there. Only the page work (decode, clean, OCR: `pipeline.digitise.pages.process_page`) goes
to the Dask workers, which need this package and Tesseract but no access to the sources, the store
or the catalog: each source file is sent as bytes (once to each worker, however many pages it has) and
each page comes back as bytes (display JPEG, text-layer PDF) plus its text, words and quality, which
are written into the local work folder exactly where the thread path would have written them.
At most as many pages as the cluster has threads are in flight, so memory stays flat here too.
`distributed` is imported only when this path is configured.
"""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.digitise.pages import PageOutput, bounded, own_text_page, process_page
from pipeline.digitise.text_layer import with_layers
from pipeline.errors import ConfigError, SohoaError, TransientError
from pipeline.ingest.inputs import PageRef
from pipeline.manifest import Page
from pipeline.ocr.words import Word
from pipeline.publish.pdfout import PagePart
from pipeline.settings import Settings

CONNECT_TIMEOUT_S = 10
WORKERS_TIMEOUT_S = 60  # a scheduler with no worker would leave the dossier waiting forever

_clients: dict[str, Any] = {}
_lock = threading.Lock()


@dataclass
class ShippedPage:
    """One page as it travels back from a Dask worker: data only, no paths of the worker's disk."""

    page: Page
    words: list[Word]
    seconds: dict[str, float]
    jpeg: bytes | None
    textlayer: bytes | None
    dpi: float = 300.0
    has_part: bool = False
    rotation: int = 0  # the turn and skew the page's JPEG is drawn with (`PagePart`)
    skew_deg: float = 0.0


def remote_page(ref: PageRef, data: bytes, settings: Settings) -> ShippedPage:
    """Runs on a Dask worker: the page from the bytes of its source file, in a private temp folder.

    Errors and warnings name the dossier's own file, not the worker's temporary copy.
    """
    with tempfile.TemporaryDirectory(prefix="sohoa-page-") as tmp:
        src_dir = Path(tmp) / "src"
        src_dir.mkdir()
        local = src_dir / ref.file.name
        local.write_bytes(data)
        try:
            out = process_page(replace(ref, file=local), settings, Path(tmp))
        except SohoaError as exc:
            if exc.path == str(local):
                raise type(exc)(exc.problem, path=ref.file, page=exc.page, hint=exc.hint) from None
            raise
        page = out.page.model_copy(update={"warnings": [w.replace(str(local), str(ref.file))
                                                        for w in out.page.warnings]})
        part = out.part
        return ShippedPage(
            page=page, words=out.words, seconds=out.seconds,
            jpeg=part.jpeg.read_bytes() if part is not None and part.jpeg is not None else None,
            textlayer=part.textlayer.read_bytes() if part is not None and part.textlayer is not None else None,
            dpi=part.dpi if part is not None else 300.0, has_part=part is not None,
            rotation=part.rotation if part is not None else 0, skew_deg=part.skew_deg if part is not None else 0.0,
        )


def land(shipped: ShippedPage, workdir: Path) -> PageOutput:
    """Write a shipped page's files into the local work folder; the PageOutput the thread path gives."""
    stem = f"p{shipped.page.n:05d}"
    jpeg = textlayer = None
    if shipped.jpeg is not None:
        jpeg = workdir / f"{stem}.jpg"
        jpeg.write_bytes(shipped.jpeg)
    if shipped.textlayer is not None:
        textlayer = workdir / f"{stem}.ocr.pdf"
        textlayer.write_bytes(shipped.textlayer)
    part = (PagePart(jpeg=jpeg, dpi=shipped.dpi, textlayer=textlayer, rotation=shipped.rotation,
                     skew_deg=shipped.skew_deg) if shipped.has_part else None)
    return PageOutput(shipped.page, part, shipped.words, shipped.seconds)


def client_for(address: str) -> Any:
    """One `distributed.Client` per scheduler address per process, shared by the dossiers in flight."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise ConfigError("run.dask_address is set but dask.distributed is not installed",
                          path=f"Dask scheduler {address}",
                          hint="pip install 'sohoa[dask]', or clear run.dask_address to OCR pages here") from exc
    with _lock:
        client = _clients.get(address)
        if client is None or client.status not in ("running", "connecting"):
            try:
                client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise TransientError(f"cannot reach the Dask scheduler ({exc})", path=f"Dask scheduler {address}",
                                     hint="Start it (`dask scheduler`) or clear run.dask_address") from exc
            _clients[address] = client
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except TimeoutError as exc:
        raise TransientError(f"no Dask worker joined in {WORKERS_TIMEOUT_S} s", path=f"Dask scheduler {address}",
                             hint="Start workers (`dask worker <address>`) or clear run.dask_address") from exc
    return client


def close_clients() -> None:
    """Disconnect from every scheduler (tests, shutdown)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def page_settings(settings: Settings) -> Settings:
    """The settings sent with each page, without the credentials a page never needs (store keys,
    database URLs): Dask's comms are plain TCP unless the cluster is set up with TLS."""
    return settings.model_copy(update={
        "catalog": "",
        "s3": settings.s3.model_copy(update={"access_key": None, "secret_key": None}),
        "run": settings.run.model_copy(update={"prefect_database_url": None}),
    })


def iter_pages_dask(refs: list[PageRef], settings: Settings, workdir: Path) -> Iterator[PageOutput]:
    """Like `pages.iter_pages`, with the page work on the Dask cluster at `settings.run.dask_address`."""
    client = client_for(settings.run.dask_address)
    executor = client.get_executor(pure=False)
    window = max(1, sum(client.nthreads().values()))
    sent = page_settings(settings)
    pages_left = Counter(ref.file for ref in refs)
    scattered: dict[Path, Any] = {}

    def submit(ref: PageRef) -> Future:
        pages_left[ref.file] -= 1
        last = not pages_left[ref.file]
        ref = with_layers(ref)  # measured here, once: the worker gets the geometry with the ref
        own = own_text_page(ref, settings)  # a real PDF text layer needs no OCR: kept here, pointing at the PDF
        if own is not None:
            if last:
                scattered.pop(ref.file, None)
            done: Future = Future()
            done.set_result(own)
            return done
        if ref.file in scattered:
            data = scattered[ref.file]
        else:  # on every worker when more pages follow: bytes held by one worker pin its pages there
            # (the scheduler prefers the worker with the data; only work stealing, now and then,
            # moved a page away, so a dossier's pages often all ran on one machine)
            data = client.scatter(ref.file.read_bytes(), hash=False, broadcast=not last)
        if last:  # the tasks in flight keep the bytes on the cluster until they finish
            scattered.pop(ref.file, None)
        else:
            scattered[ref.file] = data
        return executor.submit(remote_page, ref, data, sent)

    for _, result in bounded(refs, submit, window):
        yield result if isinstance(result, PageOutput) else land(result, workdir)
