"""``make stack``: the docker-compose topology, started natively (no Docker engine needed).

The services, their commands, environment and ports are read from ``docker-compose.yaml`` and
``.env`` (or ``.env.example``), so the two cannot drift apart. What differs, and why:

- PostgreSQL runs as one throwaway cluster (:class:`TemporaryPostgres`) holding both the Airflow
  metadata database and the ScanStore database, with the users and passwords from the env file;
- the CeleryExecutor becomes the LocalExecutor (no Redis, no Celery worker): the scheduler runs
  the tasks itself, as the end-to-end test wants;
- host names (``postgres``, ``copyleaks-emulator`` ...) become 127.0.0.1, and ports can be
  remapped so that tests can run next to a developer's own stack.

As in compose: the ``preflight`` checks run first (placeholder or short secrets refuse to start,
naming the setting), the login is the admin user and password of the env file, every service
listens on 127.0.0.1, each service gets the environment compose gives it (the receiver never sees
the metadata database), and a service that dies is restarted (``restart: always``) while the
others keep running.

Usage: ``python scripts/stack.py [--workdir .stack]`` runs until Ctrl-C (writing a ``.env`` with
generated secrets first if there is none); tests use :class:`NativeStack` as a context manager.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from airflow_copyleaks import deployment  # noqa: E402
from airflow_copyleaks.testing.postgres import TemporaryPostgres, free_port  # noqa: E402

# Services the native stack replaces (databases, broker, the preflight container: its checks run
# in this process) or does without (the Celery worker).
REPLACED_SERVICES = {"postgres", "redis", "copyleaks-store", "airflow-worker", "preflight"}
# Start order; airflow-init runs to completion before the long-running services.
START_ORDER = [
    "copyleaks-emulator",
    "copyleaks-webhooks",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
]
HEALTH_PATHS = {
    "airflow-apiserver": "/api/v2/version",
    "copyleaks-webhooks": "/health",
    "copyleaks-emulator": "/_emulator/stats",
}
BIN = Path(sys.executable).parent
RESTART_CHECK_SECONDS = 1.0


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose-style ``${VAR}`` substitution."""
    return re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), value)


def load_compose(path: Path | None = None) -> dict[str, Any]:
    with open(path or ROOT / "docker-compose.yaml") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def service_port(service: Mapping[str, Any]) -> int | None:
    """The container port a service publishes (``"8080:8080"`` -> 8080)."""
    ports = service.get("ports") or []
    return int(str(ports[0]).split(":")[-1]) if ports else None


def active_services(compose: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    profiles = {p for p in env.get("COMPOSE_PROFILES", "").split(",") if p}
    names = []
    for name in START_ORDER:
        spec = compose["services"].get(name)
        if spec is None:
            continue
        wanted = set(spec.get("profiles") or [])
        if not wanted or wanted & profiles:
            names.append(name)
    return names


def _outside_airflow_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The calling process's environment without its Airflow settings: each service gets those
    from compose only (a test session's own AIRFLOW__... must not leak into the stack)."""
    return {k: v for k, v in environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_HOME"))}


@dataclass
class NativeStack:
    """The compose services as local processes; ``ports`` maps a service to a host port.

    ``extra_users`` adds logins next to the env file's admin: name -> (role, password); a role of
    "" is a user Airflow authenticates but authorizes for nothing. ``dag_access`` (tests only)
    limits named users to lists of dag ids, through the simple auth manager's test subclass
    (:mod:`airflow_copyleaks.testing.auth`); without it the stack runs the simple auth manager.
    """

    workdir: Path
    env_file: Path | None = None
    ports: dict[str, int] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    extra_users: dict[str, tuple[str, str]] = field(default_factory=dict)
    dag_access: dict[str, list[str]] | None = None
    dags_folder: Path = ROOT / "dags"
    restart: bool = True
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    postgres: TemporaryPostgres | None = None
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workdir = self.workdir.resolve()
        self.compose = load_compose()
        if self.env_file is None:
            self.env_file = ROOT / ".env" if (ROOT / ".env").exists() else ROOT / ".env.example"
        self.file_env = read_env_file(self.env_file)
        self.services = active_services(self.compose, self.file_env)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None

    # ------------------------------------------------------------------ addresses

    def port(self, service: str) -> int:
        if service not in self.ports:
            published = service_port(self.compose["services"][service])
            self.ports[service] = published or free_port()
        return self.ports[service]

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port(service)}"

    @property
    def admin(self) -> tuple[str, str]:
        """The login of the env file (``AIRFLOW_ADMIN_USER`` / ``AIRFLOW_ADMIN_PASSWORD``)."""
        return self.file_env["AIRFLOW_ADMIN_USER"], self.file_env["AIRFLOW_ADMIN_PASSWORD"]

    def _rewrite_hosts(self, value: str) -> str:
        """Compose host names to loopback, in plain and URL-encoded form."""
        pg_port = self.postgres.port if self.postgres is not None else 5432  # not started yet: as published
        mapping = {
            "postgres:5432": f"127.0.0.1:{pg_port}",
            "copyleaks-store:5432": f"127.0.0.1:{pg_port}",
        }
        for name in ("airflow-apiserver", "copyleaks-webhooks", "copyleaks-emulator"):
            published = service_port(self.compose["services"][name])
            mapping[f"{name}:{published}"] = f"127.0.0.1:{self.port(name)}"
        for old, new in mapping.items():
            value = value.replace(old, new).replace(quote(old, safe=""), quote(new, safe=""))
        return value

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 180.0) -> NativeStack:
        deployment.check(self.file_env)  # before anything starts: fail fast, naming the setting
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        self.postgres = TemporaryPostgres().start()
        for user_key, password_key, db_key in (
            ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"),
            ("COPYLEAKS_STORE_USER", "COPYLEAKS_STORE_PASSWORD", "COPYLEAKS_STORE_DB"),
        ):
            self.postgres.create_role_and_database(
                self.file_env[user_key], self.file_env[password_key], self.file_env[db_key]
            )
        self.env = self._environment()
        self._write_logins()
        try:
            for name in self.services:
                if name == "airflow-init":
                    self._run_to_completion(name)
                else:
                    self._spawn(name)
            for name in self.services:
                if name in HEALTH_PATHS:
                    self._wait_healthy(name, timeout)
        except BaseException:
            self.stop()
            raise
        if self.restart:
            self._supervisor = threading.Thread(target=self._supervise, name="stack-supervisor", daemon=True)
            self._supervisor.start()
        return self

    def _write_logins(self) -> None:
        user, password = self.admin
        passwords = {user: password, **{name: pw for name, (_role, pw) in self.extra_users.items()}}
        deployment.write_passwords_file(Path(self.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]), passwords)

    def _environment(self) -> dict[str, str]:
        """The Airflow services' environment (``x-airflow-common``), natively."""
        env = self._compose_environment(self.compose["x-airflow-common"]["environment"], with_env_file=True)
        users = [interpolate("${AIRFLOW_ADMIN_USER}:admin", self.file_env)]
        users += [f"{name}:{role}" for name, (role, _pw) in self.extra_users.items()]
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(users),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.workdir / "auth" / "passwords.json"),
                "AIRFLOW__COPYLEAKS__ARTIFACTS_URL": (self.workdir / "artifacts").as_uri(),
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.workdir / "task-logs"),
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            }
        )
        for key in [k for k in env if k.startswith("AIRFLOW__CELERY__")]:
            del env[key]
        if self.dag_access is not None:
            from airflow_copyleaks.testing.auth import dag_access_setting

            env.update(dag_access_setting(self.dag_access))
        env.update(self.extra_env)
        return env

    def _compose_environment(self, values: Mapping[str, Any], *, with_env_file: bool) -> dict[str, str]:
        env = _outside_airflow_settings(os.environ)
        env["AIRFLOW_HOME"] = str(self.workdir / "airflow-home")
        if with_env_file:
            env.update(self.file_env)
        for key, value in values.items():
            env[key] = self._rewrite_hosts(interpolate(str(value), self.file_env))
        return env

    def service_environment(self, name: str) -> dict[str, str]:
        """What compose gives the service: the Airflow environment, or its own (the receiver's)."""
        spec = self.compose["services"][name]
        if "env_file" in spec:  # merged from x-airflow-common
            return self.env or self._environment()
        env = self._compose_environment(spec.get("environment") or {}, with_env_file=False)
        if "AIRFLOW__COPYLEAKS__ARTIFACTS_URL" in env:  # the same folder as the Airflow services
            env["AIRFLOW__COPYLEAKS__ARTIFACTS_URL"] = (self.workdir / "artifacts").as_uri()
        env.update({k: v for k, v in self.extra_env.items() if k.startswith("AIRFLOW__COPYLEAKS__")})
        return env

    def command(self, name: str) -> list[str]:
        """The service's compose command, with its port remapped and run from this venv."""
        spec = self.compose["services"][name]
        argv = [str(a) for a in spec["command"]]
        if "--port" in argv:
            argv[argv.index("--port") + 1] = str(self.port(name))
        if "--host" in argv:
            argv[argv.index("--host") + 1] = "127.0.0.1"
        executable = BIN / argv[0]
        return [str(executable if executable.exists() else argv[0]), *argv[1:]]

    def _spawn(self, name: str) -> None:
        log = open(self.workdir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the process
        self.processes[name] = subprocess.Popen(
            self.command(name),
            env=self.service_environment(name),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _run_to_completion(self, name: str) -> None:
        log_path = self.workdir / "logs" / f"{name}.log"
        with open(log_path, "ab") as log:
            env = self.service_environment(name)
            result = subprocess.run(self.command(name), env=env, stdout=log, stderr=subprocess.STDOUT, timeout=600)
        if result.returncode != 0:
            raise RuntimeError(f"{name} failed; see {log_path}")

    def _wait_healthy(self, name: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = self.url(name) + HEALTH_PATHS[name]
        while time.monotonic() < deadline:
            process = self.processes.get(name)
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {self.workdir / 'logs' / name}.log")
            with suppress(requests.RequestException):
                if requests.get(url, timeout=2).status_code < 500:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"{name} was not healthy at {url} within {timeout:.0f}s")

    def _supervise(self) -> None:
        """``restart: always``: a service that exits is started again; the others keep running."""
        while not self._stopping.wait(RESTART_CHECK_SECONDS):
            with self._lock:
                for name, process in list(self.processes.items()):
                    if process.poll() is not None and not self._stopping.is_set():
                        print(f"stack: {name} exited with {process.returncode}; restarting it", file=sys.stderr)
                        self.restarts[name] = self.restarts.get(name, 0) + 1
                        self._spawn(name)

    def stop(self) -> None:
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=10)
        with self._lock:
            self._stop_processes()
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None

    def _stop_processes(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.processes.clear()

    def kill(self, name: str) -> int:
        """SIGKILL a service and its children, as a crash would; the supervisor restarts it."""
        with self._lock:
            process = self.processes[name]
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            return process.wait(timeout=30)

    def pid(self, name: str) -> int:
        with self._lock:
            return self.processes[name].pid

    def logs(self, name: str) -> str:
        path = self.workdir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> NativeStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def running(self) -> Iterator[str]:
        with self._lock:
            return iter([name for name, p in self.processes.items() if p.poll() is None])


def write_env_file(target: Path, example: Path = ROOT / ".env.example") -> dict[str, str]:
    """A ``.env`` from the example with every ``change-me`` placeholder replaced by a fresh secret."""
    lines = []
    for line in example.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#") and value.startswith(deployment.PLACEHOLDER_PREFIX):
            line = f"{key}={secrets.token_hex(32 if 'SECRET' in key else 12)}"
        lines.append(line)
    target.write_text("\n".join(lines) + "\n")
    target.chmod(0o600)
    return read_env_file(target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".stack")
    parser.add_argument("--env-file", type=Path, default=None)
    args = parser.parse_args()
    if args.env_file is None and not (ROOT / ".env").exists():
        write_env_file(ROOT / ".env")
        print(f"Wrote {ROOT / '.env'} with generated secrets (the admin password is in it).")
    stack = NativeStack(workdir=args.workdir, env_file=args.env_file)
    try:
        stack.start()
    except deployment.DeploymentError as err:
        print(err, file=sys.stderr)
        return 2
    user, _password = stack.admin
    print("Native stack running (Ctrl-C stops everything; a service that dies is restarted):")
    for name in stack.services:
        if name in HEALTH_PATHS:
            print(f"  {name:24} {stack.url(name)}")
    print(f"  login                    {user} / AIRFLOW_ADMIN_PASSWORD from {stack.env_file}")
    print(f"  Copyleaks page           {stack.url('airflow-apiserver')}/plugin/copyleaks")
    print(f"  logs                     {stack.workdir / 'logs'}")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
