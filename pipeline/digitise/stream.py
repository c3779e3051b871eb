"""Where a dossier's pages are worked: the local thread pool or, with `run.dask_address`, a Dask cluster.

Both yield `PageOutput`s as pages finish, at most a window of pages in flight; `process_pages` puts
them back in page order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from pipeline.digitise.pages import PageOutput, iter_pages
from pipeline.ingest.inputs import DossierSource, PageRef
from pipeline.settings import Settings


def page_stream(refs: list[PageRef], settings: Settings, workdir: Path) -> Iterator[PageOutput]:
    if settings.run.dask_address:
        from pipeline.digitise.dask_pages import iter_pages_dask  # distributed is an optional extra

        return iter_pages_dask(refs, settings, workdir)
    return iter_pages(refs, settings, workdir)


def process_pages(source: DossierSource, settings: Settings, workdir: Path,
                  on_page: Callable[[PageOutput], None] | None = None) -> list[PageOutput]:
    """All pages of a dossier, in order, with at most `settings.worker_count` pages in flight."""
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict[int, PageOutput] = {}
    for out in page_stream(source.pages, settings, workdir):
        results[out.page.n] = out
        if on_page:
            on_page(out)
    return [results[n] for n in sorted(results)]
