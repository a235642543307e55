"""A throwaway PostgreSQL server in a temporary folder, for tests, the demo and ``make stack``.

It runs Debian's (or any) PostgreSQL binaries with ``initdb`` and ``pg_ctl``; nothing is
installed as a system service and everything is deleted on :meth:`TemporaryPostgres.stop`.
PostgreSQL refuses to run as root, so under root the cluster belongs to the ``postgres`` system
user (created by Debian's package) and commands run through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType


def find_bindir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for folder in candidates:
        if (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found. `make test` installs Debian's "
        "'postgresql' package when run as root; otherwise install it yourself."
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TemporaryPostgres:
    """Start with :meth:`start` (or ``with``); URLs come from :meth:`url`."""

    def __init__(self, *, port: int | None = None, base_dir: str | None = None, user: str = "copyleaks") -> None:
        self.bindir = find_bindir()
        self.port = port or free_port()
        self.user = user
        self.password = "copyleaks"
        self._base = Path(tempfile.mkdtemp(prefix="copyleaks-pg-", dir=base_dir))
        self.datadir = self._base / "data"
        self._owner: str | None = None
        if os.geteuid() == 0:
            self._owner = "postgres"
            pw = pwd.getpwnam(self._owner)
            os.chown(self._base, pw.pw_uid, pw.pw_gid)
        self._started = False

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._owner:
            command = ["runuser", "-u", self._owner, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> TemporaryPostgres:
        password_file = self._base / "pwfile"
        password_file.write_text(self.password + "\n")
        if self._owner:
            pw = pwd.getpwnam(self._owner)
            os.chown(password_file, pw.pw_uid, pw.pw_gid)
        self._run(
            "initdb", "-D", str(self.datadir), "-U", self.user, f"--pwfile={password_file}",
            "-A", "md5", "--encoding=UTF8", "--no-sync",
        )  # fmt: skip
        result = self._pg_ctl_start(check=False)
        if result.returncode != 0:
            log = (self._base / "server.log").read_text() if (self._base / "server.log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{log[-2000:]}")
        self._started = True
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not accept connections on port {self.port}")

    def create_database(self, name: str) -> str:
        """Create database ``name`` (if missing) and return its SQLAlchemy URL."""
        env = {**os.environ, "PGPASSWORD": self.password}
        command = [
            str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name,
        ]  # fmt: skip
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        if result.returncode != 0 and "already exists" not in result.stderr:
            raise RuntimeError(f"createdb {name} failed: {result.stderr}")
        return self.url(name)

    def create_role_and_database(self, user: str, password: str, database: str) -> str:
        """A login role owning a new database (the stack's env file names both)."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                role_exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": user}).first()
                quoted_user = conn.dialect.identifier_preparer.quote(user)
                if not role_exists:
                    # Identifiers cannot be bound parameters; the literal is escaped by the dialect.
                    literal = sa.literal(password).compile(conn, compile_kwargs={"literal_binds": True})
                    conn.execute(sa.text(f"CREATE ROLE {quoted_user} LOGIN PASSWORD {literal}"))
                db_exists = conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
                ).first()
                if not db_exists:
                    quoted_db = conn.dialect.identifier_preparer.quote(database)
                    conn.execute(sa.text(f"CREATE DATABASE {quoted_db} OWNER {quoted_user}"))
        finally:
            engine.dispose()
        return f"postgresql+psycopg2://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self._started:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop", check=False)
            self._started = False
        shutil.rmtree(self._base, ignore_errors=True)

    def _pg_ctl_start(self, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        options = f"-h 127.0.0.1 -p {self.port} -k {self._base} -c fsync=off -c max_connections=200"
        return self._run(
            "pg_ctl", "-D", str(self.datadir), "-o", options, "-l", str(self._base / "server.log"), "-w", "start",
            check=check,
        )  # fmt: skip

    def stop_server(self) -> None:
        """Stop the server, keeping its data (reliability tests: the store unreachable for a while)."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def start_server(self) -> None:
        """Start the same cluster again after :meth:`stop_server`."""
        self._pg_ctl_start()
        self._wait_ready()

    def restart(self) -> None:
        """Stop and start the same cluster (reliability tests: the store restarted while scans wait)."""
        self.stop_server()
        self.start_server()

    def __enter__(self) -> TemporaryPostgres:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
