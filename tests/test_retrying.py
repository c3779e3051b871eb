"""The in-place retry rule a backlog uses for its store and catalog steps."""

from __future__ import annotations

import pytest

from flows.digitise import retrying, run_in_place
from pipeline.digitise import dossier
from pipeline.errors import InputError, TransientError


class Flaky:
    """Fails with `error` the first `failures` calls, then answers."""

    def __init__(self, failures: int, error: Exception):
        self.failures, self.error, self.calls = failures, error, 0
        self.__name__ = "flaky"

    def __call__(self, x: int) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return x * 2


def test_transient_errors_are_retried_until_success():
    f = Flaky(2, TransientError("catalog unreachable"))
    assert retrying(f, [0, 0, 0], 21) == 42
    assert f.calls == 3


def test_transient_errors_give_up_after_the_last_delay():
    f = Flaky(9, ConnectionError("store down"))
    with pytest.raises(ConnectionError):
        retrying(f, [0, 0], 1)
    assert f.calls == 3


def test_bad_input_fails_at_once():
    f = Flaky(1, InputError("not a PDF", path="x.pdf"))
    with pytest.raises(InputError):
        retrying(f, [0, 0, 0], 1)
    assert f.calls == 1


def test_run_in_place_runs_a_real_step(tmp_path):
    """A step that is not retried runs once and returns its value (here `ingest` of a missing path fails once)."""
    from pipeline.settings import Settings
    from pipeline.store import open_store

    settings = Settings(home=tmp_path / "home")
    with pytest.raises(Exception) as info:
        run_in_place(dossier.ingest, tmp_path / "missing.pdf", settings, open_store(settings))
    assert "missing.pdf" in str(info.value)
