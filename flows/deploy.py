"""`sohoa deploy`: register `digitise-dossier` on a Prefect process work pool, for scale-out.

Workers (`prefect worker start --pool sohoa`, one or more per machine) pick up its runs; a backlog
or ingest run with `run.deployment = "digitise-dossier/sohoa"` then sends each dossier to the pool.
Every worker machine needs this checkout (or the installed package) at the same path, the same
settings, and access to the sources, the object store and the catalog (MinIO and PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAME = "sohoa"


async def _ensure_pool(pool: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    async with get_client() as client:
        with contextlib.suppress(ObjectAlreadyExists):
            await client.create_work_pool(WorkPoolCreate(name=pool, type="process"))


def deploy(pool: str, source: Path = REPO) -> str:
    """Create the work pool if needed and (re)register the deployment; returns `flow/deployment`."""
    from prefect import Flow

    asyncio.run(_ensure_pool(pool))
    flow = Flow.from_source(source=str(source), entrypoint="flows/digitise.py:digitise_dossier")
    flow.deploy(name=NAME, work_pool_name=pool, print_next_steps=False, ignore_warnings=True)
    return f"digitise-dossier/{NAME}"
