"""The one retry policy (`pipeline.retrying`), counted against real backends: a SQLite catalog locked by
another connection, an S3 server that is down and comes back. Each test counts the tries the backend
itself saw, checks that errors which cannot heal are tried once, and that every retry is logged."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flows.digitise import RETRIED, retried_tasks, run_in_place, task_options
from pipeline.catalog import SqliteCatalog
from pipeline.digitise import dossier
from pipeline.errors import InputError
from pipeline.retrying import RetryPolicy
from pipeline.settings import Settings
from pipeline.store import LocalStore, S3Store
from tests import s3server
from tests.test_catalog import manifest
from tests.test_store import need_server

FAST = {"attempts": 4, "first_delay_s": 0.05, "max_delay_s": 0.2}


class OnRetry(logging.Handler):
    """Collects the policy's retry lines; runs `action` once the `after`-th one is logged (the
    backend heals while the policy waits)."""

    def __init__(self, after: int | None = None, action: Callable[[], None] | None = None):
        super().__init__(logging.DEBUG)
        self.after, self.action = after, action
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        if self.action is not None and len(self.lines) == self.after:
            self.action()


@pytest.fixture
def retries() -> Iterator[Callable[..., OnRetry]]:
    logger = logging.getLogger("pipeline.retrying")
    handlers: list[OnRetry] = []

    def watch(after: int | None = None, action: Callable[[], None] | None = None) -> OnRetry:
        handler = OnRetry(after, action)
        logger.addHandler(handler)
        handlers.append(handler)
        return handler

    yield watch
    for handler in handlers:
        logger.removeHandler(handler)


@pytest.fixture
def locked_catalog(tmp_path: Path) -> Iterator[tuple[SqliteCatalog, sqlite3.Connection, list[str]]]:
    """A catalog that waits only 50 ms for a lock, another connection holding the write lock, and
    the list of transactions the catalog began (SQLite's own trace of its statements)."""
    path = tmp_path / "catalog.sqlite"
    catalog = SqliteCatalog(path, busy_timeout_s=0.05)
    begun: list[str] = []
    catalog.conn.set_trace_callback(lambda sql: begun.append(sql) if sql.startswith("BEGIN") else None)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    yield catalog, other, begun
    other.close()
    catalog.close()


def record_step(tmp_path: Path, catalog: SqliteCatalog, **retry: float) -> Callable[[], object]:
    """The flow's `record` step run in place (as a backlog does), with the retry settings given."""
    settings = Settings(home=tmp_path / "home", retry={**FAST, **retry})
    store = LocalStore(tmp_path / "store", "sohoa")
    doc = manifest("HS-THU-LAI", ["Quyết định giao đất"])
    return lambda: run_in_place(settings)(dossier.record, doc, store, catalog)


def test_locked_catalog_is_tried_until_the_lock_goes(tmp_path, locked_catalog, retries):
    catalog, other, begun = locked_catalog
    log = retries(after=2, action=lambda: other.execute("ROLLBACK"))  # the other writer lets go
    record_step(tmp_path, catalog)()
    assert len(begun) == 3  # two tries met the lock, the third wrote
    assert [h.dossier_id for h in catalog.search("giao đất")] == ["HS-THU-LAI"]
    assert len(log.lines) == 2
    assert all("step record failed" in line and "database is locked" in line for line in log.lines)
    assert "retry 1 of 3 in 0.0" in log.lines[0] and "retry 2 of 3 in 0.1" in log.lines[1]  # doubling


def test_lock_that_stays_gives_up_after_the_attempts(tmp_path, locked_catalog, retries):
    catalog, _other, begun = locked_catalog
    log = retries()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        record_step(tmp_path, catalog, attempts=3)()
    assert len(begun) == 3 and len(log.lines) == 2


def test_errors_that_cannot_heal_are_tried_once(tmp_path, locked_catalog, retries):
    catalog, other, begun = locked_catalog
    other.execute("ROLLBACK")
    log = retries()
    policy = RetryPolicy(**FAST)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):  # not "locked": not transient
        policy.call(catalog.conn.execute, "INSERT INTO missing VALUES (1)")
    settings = Settings(home=tmp_path / "home", retry=FAST)
    with pytest.raises(InputError):  # a missing scan does not appear by waiting
        run_in_place(settings)(dossier.ingest, tmp_path / "missing.pdf", settings, LocalStore(tmp_path / "s", "sohoa"))
    assert log.lines == [] and begun == []


@pytest.mark.s3
def test_store_requests_are_tried_until_the_s3_server_is_back(tmp_path, retries):
    need_server("nanio")
    server = s3server.S3Server("nanio", tmp_path / "nanio")  # not started: its port refuses
    store = S3Store(server.endpoint, "kho-so", access_key=s3server.ACCESS_KEY, secret_key=s3server.SECRET_KEY,
                    region=s3server.REGION, max_attempts=4, backoff_s=0.05)
    log = retries(after=2, action=server.start)
    try:
        info = store.put_bytes("hs/HS01/don.pdf", b"%PDF-1.7 thu lai")
        assert store.get_bytes("hs/HS01/don.pdf") == b"%PDF-1.7 thu lai" and info.size == 16
    finally:
        server.stop()
    assert len(log.lines) == 2  # refused twice (the bucket check), answered on the third try
    assert all("bucket check failed" in line and "Connection refused" in line for line in log.lines)


def test_prefect_retries_come_from_the_same_settings():
    settings = Settings(retry={"attempts": 4, "first_delay_s": 2, "max_delay_s": 5})
    assert RetryPolicy.from_settings(settings.retry).delays() == [2, 4, 5]  # doubling, capped
    tasks = retried_tasks(settings)
    assert set(tasks) == set(RETRIED) == {dossier.ingest, dossier.publish, dossier.record}
    for step in tasks.values():
        assert step.retries == 3 and step.retry_delay_seconds == [2, 4, 5]
        assert step.retry_condition_fn is task_options(RetryPolicy())["retry_condition_fn"]


def test_a_call_that_succeeds_needs_no_retry_machinery():
    """tenacity (~50 ms to import with tornado installed) is loaded only when a first try fails."""
    code = ("import sys; from pipeline.retrying import RetryPolicy; "
            "print(RetryPolicy().call(lambda x: x + 1, 1), 'tenacity' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout.split()
    assert out == ["2", "False"]
