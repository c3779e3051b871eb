"""The one retry policy: what is retried, how long to wait, when to give up, and a log line per retry.

Every backend call that may meet passing trouble (object store requests, catalog transactions, the
flow steps that talk to them) goes through a `RetryPolicy`, built with tenacity. Only errors that
`pipeline.errors.is_transient` calls worth retrying are retried (backends turn their own passing
failures into a `TransientError` first); the wait doubles from `first_delay_s` up to `max_delay_s`,
with jitter so that many workers hitting one server do not retry in step; after `attempts` tries (or
`within_s` seconds) the last error is raised as it is. The numbers come from settings: `retry.*` for
flow steps, `s3.max_attempts` / `s3.backoff_s` for each object-store request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pipeline.errors import SohoaError, is_transient

if TYPE_CHECKING:  # tenacity is imported when a retry is first set up (~50 ms with tornado installed)
    from tenacity import RetryCallState, Retrying

log = logging.getLogger(__name__)

T = TypeVar("T")


def _name(fn: Callable) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def _describe(exc: BaseException | None) -> str:
    """The project's own errors say where and what already; others get their type in front."""
    if exc is None or isinstance(exc, SohoaError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:300]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to try again; `retrying()` makes the tenacity controller."""

    attempts: int = 4  # tries in all, the first one included
    first_delay_s: float = 5.0  # wait before the second try; doubles after each failure
    max_delay_s: float = 60.0  # no single wait is longer
    within_s: float | None = None  # also give up once this long has passed since the first try

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least 1 attempt")
        if self.first_delay_s < 0 or self.max_delay_s < self.first_delay_s:
            raise ValueError("retry delays must satisfy 0 <= first_delay_s <= max_delay_s")

    @classmethod
    def from_settings(cls, retry: Any) -> RetryPolicy:
        """From a settings section with `attempts`, `first_delay_s` and `max_delay_s`."""
        return cls(attempts=retry.attempts, first_delay_s=retry.first_delay_s, max_delay_s=retry.max_delay_s)

    def delays(self) -> list[float]:
        """The nominal waits between tries (before jitter), e.g. for Prefect's `retry_delay_seconds`."""
        return [min(self.max_delay_s, self.first_delay_s * 2**n) for n in range(self.attempts - 1)]

    def retrying(self, what: str, *, retry_on: Callable[[BaseException], bool] = is_transient,
                 level: int = logging.WARNING) -> Retrying:
        """A tenacity `Retrying` for one operation named `what` (it appears in the log line)."""
        from tenacity import (
            Retrying,
            retry_if_exception,
            stop_after_attempt,
            stop_after_delay,
            wait_exponential_jitter,
        )

        stop = stop_after_attempt(self.attempts)
        if self.within_s is not None:
            stop = stop | stop_after_delay(self.within_s)
        return Retrying(
            stop=stop,
            wait=wait_exponential_jitter(multiplier=self.first_delay_s, max=self.max_delay_s,
                                         jitter=self.first_delay_s / 2),
            retry=retry_if_exception(retry_on),
            before_sleep=_logger(what, self.attempts, level),
            reraise=True,
        )

    def call(self, fn: Callable[..., T], *args: Any, what: str | None = None,
             retry_on: Callable[[BaseException], bool] = is_transient, level: int = logging.WARNING,
             **kwargs: Any) -> T:
        """`fn(*args, **kwargs)`, tried again on errors `retry_on` accepts; the last error is raised.

        The first try runs without tenacity, whose import (~50 ms) a run that meets no trouble (a
        one-page `sohoa process`) never needs; a first failure worth retrying is replayed as the
        controller's first attempt, so the tries, waits and log lines are the same as if it had
        been there from the start (`within_s` counts from the replay)."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - retry_on decides; anything else is raised as it is
            if self.attempts <= 1 or not retry_on(exc):
                raise
            first: list[BaseException] = [exc]

        def again(*a: Any, **k: Any) -> T:
            if first:
                raise first.pop()
            return fn(*a, **k)

        return self.retrying(what or _name(fn), retry_on=retry_on, level=level)(again, *args, **kwargs)


def _logger(what: str, attempts: int, level: int) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.log(level, "%s failed (%s); retry %d of %d in %.2fs",
                what, _describe(exc), state.attempt_number, attempts - 1, wait)

    return before_sleep
