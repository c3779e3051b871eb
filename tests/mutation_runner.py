"""Child process of the mutation run (tests/test_hostile.py): digitises files one at a time.

`python -m tests.mutation_runner FILE...` prints one JSON line when it starts a file and one when it
is done, with the manifest's status and the class of any exception a step raised, so the parent can
time each file out (a hang) and check that only `InputError`-family errors occurred.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline.catalog import open_catalog
from pipeline.digitise.dossier import digitise
from pipeline.errors import SohoaError
from pipeline.settings import Settings
from pipeline.store import open_store


def main(paths: list[str]) -> None:
    settings = Settings()
    store, catalog = open_store(settings), open_catalog(settings)
    for path in paths:
        raised: list[str] = []

        def run_step(fn, *args, raised: list[str] = raised, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                raised.append(("ok:" if isinstance(exc, SohoaError) else "raw:") + type(exc).__name__ + f": {exc}"[:300])
                raise

        print(json.dumps({"start": path}), flush=True)
        m = digitise(Path(path), settings, store, catalog, run_step=run_step)
        print(json.dumps({"done": path, "dossier_id": m.dossier_id, "status": m.status, "raised": raised,
                          "components": [c.id for c in m.components]}), flush=True)
    catalog.close()


if __name__ == "__main__":
    main(sys.argv[1:])
