"""A CeleryExecutor deployment on one host, each component a "machine" of its own.

Every Airflow component gets its own AIRFLOW_HOME and working directory and shares nothing on disk
with the others but the read-only DAGs folder and the publishing archive the DAG reads (a CMS
stand-in, as a git-synced DAG bundle would be). Everything else goes over the network, as between
machines: the metadata database and the ScanStore (PostgreSQL), the Celery broker (Redis),
artifacts and reports (S3, moto in server mode), the Copyleaks API (the emulator) and webhooks
(a round-robin balancer in front of the api-server's mounted receiver and the standalone one).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import requests

from airflow_copyleaks.testing.postgres import TemporaryPostgres, free_port
from tests.distributed.balancer import Balancer

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
BUCKET = "copyleaks-artifacts"
EMAIL, API_KEY = "demo@example.com", "00000000-0000-0000-0000-000000000000"
ADMIN = ("admin", "admin-password-" + secrets.token_hex(6))


@dataclass
class Machine:
    """One component: its command, environment and folder; started, killed and restarted alone."""

    name: str
    argv: list[str]
    env: dict[str, str]
    root: Path
    health_url: str | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Machine:
        (self.root / "home").mkdir(parents=True, exist_ok=True)
        log = open(self.root / "output.log", "ab")  # noqa: SIM115 - kept open for the process
        self.process = subprocess.Popen(
            self.argv, env=self.env, cwd=self.root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> int:
        """SIGKILL the machine's whole process group, as a power cut would."""
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait(timeout=30)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def terminate(self) -> None:
        if self.alive():
            assert self.process is not None
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def wait_healthy(self, timeout: float) -> None:
        assert self.health_url is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited; see {self.root / 'output.log'}\n{self.log_tail()}")
            with suppress(requests.RequestException):
                if requests.get(self.health_url, timeout=2).status_code < 500:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} was not healthy at {self.health_url} within {timeout:.0f}s")

    def wait_logged(self, text: str, timeout: float) -> None:
        """Until the machine's output shows ``text``; a machine that exits first fails at once."""
        deadline = time.monotonic() + timeout
        while text not in self.log_tail(chars=200_000):
            if not self.alive():
                raise RuntimeError(f"{self.name} exited; see {self.root / 'output.log'}\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not log {text!r} within {timeout:.0f}s\n{self.log_tail()}")
            time.sleep(0.5)

    def log_tail(self, chars: int = 3000) -> str:
        path = self.root / "output.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


@dataclass
class Cluster:
    workdir: Path
    data_dir: Path
    dags_folder: Path = REPO / "dags"
    machines: dict[str, Machine] = field(default_factory=dict)
    postgres: TemporaryPostgres | None = None
    balancer: Balancer | None = None
    ports: dict[str, int] = field(default_factory=dict)

    def port(self, name: str) -> int:
        return self.ports.setdefault(name, free_port())

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port(name)}"

    # ------------------------------------------------------------------ the shared services

    def start(self) -> Cluster:
        try:
            self._start_services()
            self._start_airflow()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_services(self) -> None:
        self.postgres = TemporaryPostgres()  # its own temporary folder (the postgres user must reach it)
        self.postgres.start()
        self.metadata_url = self.postgres.create_role_and_database("airflow", "airflow-pw", "airflow")
        self.store_url = self.postgres.create_role_and_database("scanstore", "store-pw", "scanstore")
        self._service("redis", [_redis_server(), "--port", str(self.port("redis")), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no"])  # fmt: skip
        _wait(lambda: _redis_ping(self.port("redis")), 30, "redis to answer PING")
        self._service("s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port("s3"))],
                      health="/moto-api/")  # fmt: skip
        self.s3().create_bucket(Bucket=BUCKET)
        self._service("copyleaks-emulator", [str(BIN / "airflow-copyleaks"), "emulator", "--port",
                      str(self.port("copyleaks-emulator")), "--credits", "100000"],
                      health="/_emulator/stats")  # fmt: skip
        self.balancer = Balancer(
            [f"{self.url('airflow-apiserver')}/copyleaks", self.url("copyleaks-webhooks")], self.port("balancer")
        ).start()

    def _service(
        self, name: str, argv: list[str], health: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        root = self.workdir / name
        machine = Machine(name, argv, env or _bare_env(root), root, f"{self.url(name)}{health}" if health else None)
        self.machines[name] = machine.start()
        if health:
            machine.wait_healthy(120)

    def s3(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url("s3"),
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )

    # ------------------------------------------------------------------ Airflow's machines

    def _start_airflow(self) -> None:
        self.secrets = {
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
            "AIRFLOW__CORE__FERNET_KEY": _fernet_key(),
            "AIRFLOW__COPYLEAKS__WEBHOOK_SECRET": secrets.token_hex(32),
        }
        init = self.workdir / "airflow-init"
        (init / "home").mkdir(parents=True, exist_ok=True)
        result = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=self.airflow_env(init), cwd=init,
                                capture_output=True, text=True, timeout=600)  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        api = self.workdir / "airflow-apiserver"
        (api / "home").mkdir(parents=True, exist_ok=True)
        (api / "passwords.json").write_text(f'{{"{ADMIN[0]}": "{ADMIN[1]}"}}')
        self._airflow("airflow-apiserver", ["api-server", "--host", "127.0.0.1", "--port",
                      str(self.port("airflow-apiserver"))], health="/api/v2/version")  # fmt: skip
        self._airflow("airflow-scheduler", ["scheduler"])
        self._airflow("airflow-dag-processor", ["dag-processor"])
        for n in (1, 2):
            self._airflow(f"airflow-worker-{n}", ["celery", "worker", "--concurrency", "4",
                          "--celery-hostname", f"worker{n}@%h"],
                          {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.port(f"worker-{n}-logs"))})  # fmt: skip
            self._airflow(
                f"airflow-triggerer-{n}",
                ["triggerer"],
                {"AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.port(f"triggerer-{n}-logs"))},
            )
        # The receiver faces the internet: only the store, the secret and the artifacts' bucket.
        receiver = self.workdir / "copyleaks-webhooks"
        env = {
            **_bare_env(receiver),
            **self._aws_variables(),
            "AIRFLOW__COPYLEAKS__STORE_URL": self.store_url,
            "AIRFLOW__COPYLEAKS__WEBHOOK_SECRET": self.secrets["AIRFLOW__COPYLEAKS__WEBHOOK_SECRET"],
            "AIRFLOW__COPYLEAKS__ARTIFACTS_URL": self.artifacts_url,
        }
        self._service("copyleaks-webhooks", [str(BIN / "airflow-copyleaks"), "webhooks", "serve", "--port",
                      str(self.port("copyleaks-webhooks"))], health="/health", env=env)  # fmt: skip
        self.machines["airflow-apiserver"].wait_healthy(240)
        for n in (1, 2):  # a worker that cannot start would leave every task queued until a timeout
            self.machines[f"airflow-worker-{n}"].wait_logged(" ready.", 240)

    @property
    def artifacts_url(self) -> str:
        return f"s3://{BUCKET}/copyleaks"

    def _aws_variables(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.url("s3"),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def _airflow(
        self, name: str, args: list[str], extra: dict[str, str] | None = None, health: str | None = None
    ) -> None:
        root = self.workdir / name
        env = {**self.airflow_env(root), **(extra or {})}
        machine = Machine(
            name, [str(BIN / "airflow"), *args], env, root, f"{self.url(name)}{health}" if health else None
        )
        self.machines[name] = machine.start()

    def connection_uri(self) -> str:
        emulator = self.url("copyleaks-emulator")
        extra = {"api_base_url": emulator, "identity_base_url": emulator,
                 "webhook_base_url": self.url("balancer"), "sandbox": "false"}  # fmt: skip
        return f"copyleaks://{quote(EMAIL, safe='')}:{API_KEY}@/?{urlencode(extra)}"

    def airflow_env(self, root: Path) -> dict[str, str]:
        """The settings every Airflow machine gets (as compose's x-airflow-common): all addresses."""
        pg_port = self.postgres.port if self.postgres else 0
        return {
            **_bare_env(root),
            **self._aws_variables(),
            **self.secrets,
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url('airflow-apiserver')}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN[0]}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(root / "passwords.json"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "3",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.port('redis')}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://airflow:airflow-pw@127.0.0.1:{pg_port}/airflow",
            "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",
            "AIRFLOW__COPYLEAKS__STORE_URL": self.store_url,
            "AIRFLOW__COPYLEAKS__ARTIFACTS_URL": self.artifacts_url,
            "AIRFLOW__COPYLEAKS__POLL_INTERVAL_SECONDS": "1",
            "AIRFLOW__COPYLEAKS__LOCAL_ROOTS": f"{self.data_dir},{self.dags_folder}",
            "AIRFLOW_CONN_COPYLEAKS_DEFAULT": self.connection_uri(),
            "COPYLEAKS_EXAMPLE_DATA": str(self.data_dir),
            # Short heartbeats so that a killed machine's work moves on in seconds, not minutes.
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the test's run, no scheduled one
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "6",
            # A task that starts while the api-server (its Execution API) restarts waits for it
            # (backing off up to 30 s, about 3 minutes in all) instead of failing after ~10 s.
            "AIRFLOW__WORKERS__EXECUTION_API_RETRIES": "10",
            "AIRFLOW__WORKERS__EXECUTION_API_RETRY_WAIT_MAX": "30",
            # A task killed with its worker is retried on the other one.
            "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "4",
            "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "10",
        }

    def restart(self, name: str) -> int:
        """SIGKILL a machine and start it again (same folder, same settings); its old exit code."""
        machine = self.machines[name]
        code = machine.kill()
        machine.start()
        return code

    def pid_owner(self, pid: int) -> str | None:
        """Which machine a process belongs to (its process group is the machine's)."""
        with suppress(ProcessLookupError):
            group = os.getpgid(pid)
            return next((n for n, m in self.machines.items() if m.alive() and m.pid == group), None)
        return None

    def stop(self) -> None:
        for machine in self.machines.values():  # all at once: machines shut down side by side
            machine.terminate()
        for machine in reversed(list(self.machines.values())):
            machine.stop()
        if self.balancer is not None:
            self.balancer.stop()
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None


def _bare_env(root: Path) -> dict[str, str]:
    """The test's environment without its Airflow or AWS settings, and the machine's own home."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_", "COPYLEAKS_"))}
    return {**kept, "AIRFLOW_HOME": str(root / "home"), "HOME": str(root / "home")}


def _redis_server() -> str:
    found = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(found).exists():
        raise RuntimeError("redis-server is missing: `make system-deps` installs Debian's redis-server")
    return found


def _redis_ping(port: int) -> bool:
    import redis

    with suppress(redis.RedisError):
        return bool(redis.Redis(port=port, socket_timeout=1).ping())
    return False


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _wait(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
