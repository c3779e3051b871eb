"""`sohoa doctor`: every external thing sohoa needs, checked, with what to do when it is missing."""

from __future__ import annotations

import shutil

from pipeline.settings import Settings


def run_checks(settings: Settings) -> list[tuple[str, bool, str]]:
    results: list[tuple[str, bool, str]] = []
    from pipeline.ocr.tesseract import tesseract_available

    ok, msg = tesseract_available(settings.ocr.lang)
    results.append(("tesseract", ok, msg))
    for tool in ("pdftoppm", "pdfinfo", "pdftotext"):
        path = shutil.which(tool)
        results.append((tool, bool(path), path or "missing: apt-get install poppler-utils"))
    if shutil.which("pdftoppm"):
        from pipeline.errors import ProgramError
        from pipeline.ingest import poppler

        try:
            results.append(("poppler", True, poppler.version()))
        except ProgramError as exc:
            results.append(("poppler", False, str(exc)))
    try:
        from pipeline.store import open_store

        store = open_store(settings)
        key = ".doctor/check.txt"
        store.put_bytes(key, "kiểm tra".encode())
        good = store.get_bytes(key) == "kiểm tra".encode()
        store.delete(key)
        results.append(("store", good, f"{store.backend} bucket {store.bucket} writable" if good else "read-back differs"))
    except Exception as exc:  # noqa: BLE001
        results.append(("store", False, f"{exc} — check SOHOA_STORE, SOHOA_S3__* (endpoint, keys) or SOHOA_HOME permissions"))
    try:
        from pipeline.catalog import open_catalog

        with open_catalog(settings) as catalog:
            catalog.search("kiểm tra")
            from pipeline.catalog.postgres import redact

            results.append(("catalog", True, f"{redact(settings.catalog)} ok ({catalog.stats().get('dossiers', 0)} dossiers)"))
    except Exception as exc:  # noqa: BLE001
        results.append(("catalog", False, f"{exc} — check SOHOA_CATALOG / SOHOA_HOME"))
    if settings.run.dask_address:
        try:
            from pipeline.digitise.dask_pages import client_for

            threads = client_for(settings.run.dask_address).nthreads()
            results.append(("dask", True, f"{settings.run.dask_address}: {len(threads)} workers, "
                                          f"{sum(threads.values())} threads for pages"))
        except Exception as exc:  # noqa: BLE001
            results.append(("dask", False, str(exc)))
    try:
        from pipeline.understand.taxonomy import load_taxonomy

        tax = load_taxonomy(settings.taxonomy)
        results.append(("taxonomy", True, f"{len(tax.types)} document types"))
    except Exception as exc:  # noqa: BLE001
        results.append(("taxonomy", False, str(exc)))
    return results
