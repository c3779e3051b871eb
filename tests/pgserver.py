"""A throwaway PostgreSQL server for tests and benches: own cluster in a temp dir, loopback only.

    with PgServer() as pg:          # initdb + pg_ctl start on a free 127.0.0.1 port
        url = pg.url                # postgresql://sohoa:<random>@127.0.0.1:<port>/sohoa
    # stopped (immediate) and the directory removed

Uses the server binaries of Debian's `postgresql` package (`/usr/lib/postgresql/<ver>/bin`), or
of `$SOHOA_PG_BINDIR`, or `pg_config --bindir`, or PATH. PostgreSQL refuses to run as root, so
when the effective uid is 0 the cluster directory is given to the `postgres` system user and
`initdb` / `pg_ctl` run through `runuser -u postgres --`; otherwise they run as the current user.
The application role `sohoa` owns the database `sohoa`, logs in with a password over TCP
(scram-sha-256) and is not a superuser, as in production. `start()` raises `PgServerError` with
the server log when anything fails, so a test session fails loudly instead of skipping.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

START_TIMEOUT_S = 60
APP_USER = "sohoa"
APP_DB = "sohoa"


class PgServerError(RuntimeError):
    """The throwaway server could not be set up; the message says why and what to install."""


def find_bindir() -> Path:
    """Directory holding initdb and pg_ctl, newest Debian version first."""
    candidates: list[str] = []
    if os.environ.get("SOHOA_PG_BINDIR"):
        candidates.append(os.environ["SOHOA_PG_BINDIR"])

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.name)
        except ValueError:
            return 0.0

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            candidates.append(out.stdout.strip())
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for c in candidates:
        if (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    raise PgServerError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found. Install them with "
        "`apt-get install -y postgresql` (Debian/Ubuntu), or set SOHOA_PG_BINDIR to their directory"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One PostgreSQL cluster under a temp dir. `settings` are extra `postgres -c name=value`."""

    def __init__(self, *, settings: dict[str, str] | None = None, keep: bool = False):
        self.settings = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        self.settings.update(settings or {})
        self.keep = keep
        self.bindir = find_bindir()
        self.as_root = os.geteuid() == 0
        self.root: Path | None = None
        self.port = 0
        self.password = secrets.token_urlsafe(12)
        self.super_password = secrets.token_urlsafe(12)
        self.running = False

    # -- running commands as the right user -------------------------------------------------------

    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if self.as_root else list(args)

    def _run(self, *args: str, timeout: float = START_TIMEOUT_S) -> subprocess.CompletedProcess:
        assert self.root is not None
        env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PGTZ": "UTC"}
        try:
            return subprocess.run(self._cmd(*args), cwd=self.root, env=env, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PgServerError(f"{args[0]} did not run: {exc}") from exc

    def _give_to_postgres(self, path: Path) -> None:
        if self.as_root:
            import pwd

            try:
                pw = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PgServerError(
                    "running as root, but there is no `postgres` system user to run the server as "
                    "(PostgreSQL refuses to run as root). Install Debian's `postgresql` package, "
                    "which creates it, or run the tests as an ordinary user"
                ) from exc
            os.chown(path, pw.pw_uid, pw.pw_gid)

    # -- life cycle ----------------------------------------------------------------------------

    @property
    def data(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def log(self) -> Path:
        assert self.root is not None
        return self.root / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql://{APP_USER}:{self.password}@127.0.0.1:{self.port}/{APP_DB}"

    @property
    def super_url(self) -> str:
        return f"postgresql://postgres:{self.super_password}@127.0.0.1:{self.port}/postgres"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def start(self) -> str:
        """initdb, start on a free loopback port, create the app role and database; returns the URL."""
        base = "/tmp" if self.as_root else None  # a root-only TMPDIR would be closed to `postgres`
        self.root = Path(tempfile.mkdtemp(prefix="sohoa-pg-", dir=base))
        try:
            self._give_to_postgres(self.root)
            pwfile = self.root / "pw"
            pwfile.write_text(self.super_password + "\n")
            self._give_to_postgres(pwfile)
            init = self._run(
                str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-E", "UTF8",
                "--no-locale", "--auth-local=trust", "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}", "--no-sync",
            )
            pwfile.unlink()
            if init.returncode != 0:
                raise PgServerError(f"initdb failed ({init.returncode}): {init.stderr.strip() or init.stdout.strip()}")
            for attempt in range(3):
                self.port = free_port()
                options = [f"-c port={self.port}", "-c listen_addresses=127.0.0.1",
                           f"-c unix_socket_directories={self.root}"]
                options += [f"-c {k}={v}" for k, v in self.settings.items()]
                started = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                                    "-o", " ".join(options), "-w", "-t", str(START_TIMEOUT_S), "start",
                                    timeout=START_TIMEOUT_S + 10)
                if started.returncode == 0:
                    break
                if "already in use" not in self.log_tail() or attempt == 2:  # lost a port race: retry
                    raise PgServerError(
                        f"pg_ctl start failed ({started.returncode}): {started.stderr.strip()}\n"
                        f"server log:\n{self.log_tail()}"
                    )
            self.running = True
            self._create_app_database()
            return self.url
        except BaseException:
            self.stop()
            raise

    def _create_app_database(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                conn = psycopg.connect(self.super_url, autocommit=True, connect_timeout=5)
                break
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise PgServerError(f"server started but refuses connections: {exc}\n{self.log_tail()}") from exc
                time.sleep(0.2)
        with conn:
            conn.execute(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{self.password}'")
            conn.execute(f"CREATE DATABASE {APP_DB} OWNER {APP_USER} ENCODING 'UTF8' TEMPLATE template0")

    def create_database(self, name: str, extensions: tuple[str, ...] = ()) -> str:
        """One more database owned by the app role (e.g. Prefect's), `extensions` created in it as the
        superuser, as `docs/initdb/01-sohoa.sql` does in production; returns its URL for the app role."""
        import psycopg

        with psycopg.connect(self.super_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"CREATE DATABASE {name} OWNER {APP_USER} ENCODING 'UTF8' TEMPLATE template0")
        with psycopg.connect(self.super_url.rsplit("/", 1)[0] + f"/{name}", autocommit=True, connect_timeout=5) as conn:
            for ext in extensions:
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        """Stop the server (immediate: the data is thrown away) and remove the directory."""
        if self.root is None:
            return
        if self.running:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self.running = False
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> PgServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
