"""Errors a clerk can act on: each names the file, the page when there is one, and what to do."""

from __future__ import annotations


class SohoaError(Exception):
    """Base error. `str()` is one line: `<file>[, page N]: <problem>. <what to do>`."""

    def __init__(self, problem: str, *, path: object = None, page: int | None = None, hint: str = ""):
        self.problem = problem
        self.path = str(path) if path is not None else None
        self.page = page
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.path or "input"
        if self.page is not None:
            where += f", page {self.page}"
        text = f"{where}: {self.problem}"
        if self.hint:
            text += f". {self.hint}"
        return text


class InputError(SohoaError):
    """The dossier itself cannot be read (missing, not a scan, broken, encrypted, too large)."""


class ConfigError(SohoaError):
    """Settings or taxonomy are wrong."""


class ProgramError(SohoaError):
    """An external program (Tesseract, Poppler) is missing, failed or timed out."""


class TransientError(SohoaError):
    """A backend (object store, catalog) is down or slow; the same call may work later."""


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: connection trouble, time-outs, a locked or unreachable database, a transaction
    the database rolled back to break a deadlock or a serialization conflict (SQLSTATE class 40)."""
    if isinstance(exc, TransientError | ConnectionError | TimeoutError):
        return True
    if str(getattr(exc, "sqlstate", None) or "").startswith("40"):
        return True
    name = type(exc).__name__
    text = str(exc).lower()
    return name == "OperationalError" and any(w in text for w in ("locked", "connection", "timeout", "terminat"))
