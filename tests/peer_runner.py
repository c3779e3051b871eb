"""Digitise one file in a fresh process and print its manifest (used by test_peer_pdfs with a timeout)."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.catalog import open_catalog
from pipeline.digitise.dossier import digitise
from pipeline.settings import Settings
from pipeline.store import open_store


def main(path: str, home: str) -> int:
    settings = Settings(home=Path(home))
    store = open_store(settings)
    with open_catalog(settings) as catalog:
        manifest = digitise(Path(path), settings, store, catalog)
    print(manifest.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
