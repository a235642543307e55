"""docker-compose.yaml checked against the code, since no Docker engine can run it here.

Every command a service runs must exist, every AIRFLOW__ variable must name a real setting,
and ports and URLs must agree between services, the env file and the native stack.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from airflow_copyleaks import deployment
from airflow_copyleaks.cli import build_parser
from airflow_copyleaks.config import SETTINGS
from scripts.stack import (
    ROOT,
    NativeStack,
    interpolate,
    load_compose,
    read_env_file,
    service_port,
    write_env_file,
)

COMPOSE = load_compose()
SERVICES: dict[str, Any] = COMPOSE["services"]
ENV_EXAMPLE = read_env_file(ROOT / ".env.example")
AIRFLOW = Path(sys.executable).parent / "airflow"


def airflow_services() -> list[str]:
    """Services that run the provider's image (the others are stock images: databases, MinIO)."""
    provider_image = COMPOSE["x-provider-image"]["image"]
    return [n for n, s in SERVICES.items() if isinstance(s.get("command"), list) and s["image"] == provider_image]


@pytest.mark.parametrize("name", airflow_services())
def test_every_command_exists(name: str) -> None:
    argv = SERVICES[name]["command"]
    if argv[:2] == ["python", "-m"]:
        result = subprocess.run([sys.executable, "-m", argv[2], "--help"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert all(option in result.stdout for option in argv[3:] if option.startswith("--"))
        return
    if argv[0] == "airflow-copyleaks":
        build_parser().parse_args(argv[1:])  # argparse exits on an unknown command or option
        return
    assert argv[0] == "airflow"
    # `--help` of the exact sub-command proves it exists in this Airflow (and its providers).
    subcommand = [a for a in argv[1:] if not a.startswith("-") and not a.isdigit()]
    result = subprocess.run([AIRFLOW, *subcommand, "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    for option in (a for a in argv[1:] if a.startswith("--")):
        assert option in result.stdout, f"{name}: airflow {' '.join(subcommand)} has no option {option}"


def test_every_airflow_variable_names_a_real_setting() -> None:
    from airflow.configuration import conf

    environment = COMPOSE["x-airflow-common"]["environment"]
    for key in environment:
        match = re.fullmatch(r"AIRFLOW__([A-Z0-9_]+?)__([A-Z0-9_]+)", key)
        if not match:
            assert key.startswith(("AIRFLOW_CONN_", "AWS_")), key
            continue
        section, option = match.group(1).lower(), match.group(2).lower()
        if section == "copyleaks":
            assert option in SETTINGS, f"{key}: no such provider setting"
        else:
            described = conf.configuration_description.get(section, {}).get("options", {})
            assert option in described, f"{key}: Airflow has no [{section}] {option}"


def test_variables_used_by_compose_are_defined_in_the_env_example() -> None:
    text = (ROOT / "docker-compose.yaml").read_text()
    used = set(re.findall(r"\$\{(\w+)\}", text))
    assert used <= set(ENV_EXAMPLE), f"missing from .env.example: {sorted(used - set(ENV_EXAMPLE))}"


def test_ports_agree_between_commands_publishing_and_healthchecks() -> None:
    for name, spec in SERVICES.items():
        argv = [str(a) for a in spec.get("command") or []]
        published = service_port(spec)
        if "--port" in argv:
            assert published == int(argv[argv.index("--port") + 1]), name
        health = " ".join(map(str, (spec.get("healthcheck") or {}).get("test", [])))
        for port in re.findall(r"localhost:(\d+)", health):
            assert int(port) == published, f"{name}: healthcheck port {port} != published {published}"


def _service_addresses() -> dict[str, int]:
    return {name: port for name, spec in SERVICES.items() if (port := service_port(spec))} | {
        "postgres": 5432,
        "copyleaks-store": 5432,
        "redis": 6379,
        "copyleaks-s3": 9000,
    }


def test_urls_point_at_services_that_exist_on_their_ports() -> None:
    addresses = _service_addresses()
    environment = {k: interpolate(str(v), ENV_EXAMPLE) for k, v in COMPOSE["x-airflow-common"]["environment"].items()}
    values = [*environment.values(), unquote(ENV_EXAMPLE["AIRFLOW_CONN_COPYLEAKS_DEFAULT"])]
    found = 0
    for value in values:
        for host, port in re.findall(r"//(?:[^@/\s]*@)?([a-z][a-z0-9-]*):(\d+)", value):
            assert host in addresses, f"{value}: no service {host}"
            assert int(port) == addresses[host], f"{value}: {host} listens on {addresses[host]}, not {port}"
            found += 1
    assert found >= 6  # metadata DB, result backend, broker, store, api-server, emulator, receiver


def test_connection_in_env_example_is_a_valid_copyleaks_uri() -> None:
    from airflow.models.connection import Connection

    conn = Connection(conn_id="copyleaks_default", uri=ENV_EXAMPLE["AIRFLOW_CONN_COPYLEAKS_DEFAULT"])
    assert conn.conn_type == "copyleaks"
    assert conn.login == "demo@example.com"
    extra = conn.extra_dejson
    assert urlparse(extra["api_base_url"]).hostname == "copyleaks-emulator"
    assert urlparse(extra["webhook_base_url"]).hostname == "copyleaks-webhooks"


def test_native_stack_runs_the_compose_commands_with_the_compose_environment(tmp_path: Path) -> None:
    stack = NativeStack(workdir=tmp_path, env_file=ROOT / ".env.example")
    assert set(stack.services) == set(airflow_services()) - {"airflow-worker", "preflight"}
    for name in stack.services:
        native = stack.command(name)
        compose = [str(a) for a in SERVICES[name]["command"]]
        assert Path(native[0]).name == compose[0]
        assert native[1:] == [a.replace("0.0.0.0", "127.0.0.1") for a in compose[1:]]
    assert stack.port("airflow-apiserver") == 8080
    assert stack.port("copyleaks-emulator") == 8765


def test_secrets_are_not_committed() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert ".env" not in tracked
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_published_ports_listen_on_loopback_only() -> None:
    published = {name: spec["ports"] for name, spec in SERVICES.items() if spec.get("ports")}
    assert set(published) >= {"airflow-apiserver", "copyleaks-webhooks", "copyleaks-emulator"}
    for name, ports in published.items():
        assert all(str(p).startswith("127.0.0.1:") for p in ports), f"{name} publishes {ports} on all interfaces"


def test_long_running_services_restart_when_they_die() -> None:
    for name, spec in SERVICES.items():
        expected = "no" if name in ("airflow-init", "preflight", "copyleaks-s3-bucket") else "always"
        assert spec.get("restart") == expected, name


def _values(environment: dict[str, Any]) -> str:
    return " ".join(interpolate(str(v), ENV_EXAMPLE) for v in environment.values())


def test_receiver_and_emulator_get_no_metadata_db_or_broker_credentials(tmp_path: Path) -> None:
    """The receiver faces the internet: a flaw in it must not hand out Airflow's database."""
    for name in ("copyleaks-webhooks", "copyleaks-emulator"):
        spec = SERVICES[name]
        assert "env_file" not in spec, f"{name} would get every secret of .env"
        environment = spec.get("environment") or {}
        assert not [k for k in environment if k.startswith(("AIRFLOW__DATABASE", "AIRFLOW__CELERY", "POSTGRES_"))]
        assert ENV_EXAMPLE["POSTGRES_PASSWORD"] + "@postgres" not in _values(environment)
    receiver_env = SERVICES["copyleaks-webhooks"]["environment"]
    assert set(receiver_env) == {
        "AIRFLOW__COPYLEAKS__STORE_URL",
        "AIRFLOW__COPYLEAKS__WEBHOOK_SECRET",
        "AIRFLOW__COPYLEAKS__ARTIFACTS_URL",
        *(k for k in COMPOSE["x-airflow-common"]["environment"] if k.startswith("AWS_")),  # the bucket's
    }
    native = NativeStack(workdir=tmp_path, env_file=ROOT / ".env.example").service_environment("copyleaks-webhooks")
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in native and "POSTGRES_PASSWORD" not in native
    assert native["AIRFLOW__COPYLEAKS__STORE_URL"].startswith("postgresql+psycopg2://copyleaks:")


def test_login_is_the_env_files_admin_with_authentication_on(tmp_path: Path) -> None:
    environment = COMPOSE["x-airflow-common"]["environment"]
    assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS" not in environment
    assert environment["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "${AIRFLOW_ADMIN_USER}:admin"
    preflight = SERVICES["preflight"]
    assert environment["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] in preflight["command"]
    for name, spec in SERVICES.items():
        if "env_file" in spec or name == "copyleaks-webhooks":
            assert spec["depends_on"]["preflight"] == {"condition": "service_completed_successfully"}, name
    env_file = tmp_path / ".env"
    values = write_env_file(env_file)
    stack = NativeStack(workdir=tmp_path, env_file=env_file, extra_users={"outsider": ("", "pw-0123456789")})
    native = stack.service_environment("airflow-apiserver")
    assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS" not in native
    assert native["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == f"{values['AIRFLOW_ADMIN_USER']}:admin,outsider:"


def test_the_stack_keeps_the_simple_auth_manager_unless_a_test_limits_users_to_dags(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    write_env_file(env_file)
    standard = NativeStack(workdir=tmp_path, env_file=env_file).service_environment("airflow-apiserver")
    assert "AIRFLOW__CORE__AUTH_MANAGER" not in COMPOSE["x-airflow-common"]["environment"]
    assert "AIRFLOW__CORE__AUTH_MANAGER" not in standard  # Airflow's default: the simple auth manager
    limited = NativeStack(workdir=tmp_path, env_file=env_file, dag_access={"moderator": ["moderation"]})
    native = limited.service_environment("airflow-scheduler")
    assert native["AIRFLOW__CORE__AUTH_MANAGER"] == "airflow_copyleaks.testing.auth.DagListAuthManager"
    assert native["AIRFLOW__COPYLEAKS_TESTING__DAG_ACCESS"] == '{"moderator": ["moderation"]}'


def test_test_connection_is_enabled() -> None:
    assert COMPOSE["x-airflow-common"]["environment"]["AIRFLOW__CORE__TEST_CONNECTION"] == "Enabled"


def test_placeholder_and_short_secrets_are_refused_at_start_naming_the_setting(tmp_path: Path) -> None:
    stack = NativeStack(workdir=tmp_path / "stack", env_file=ROOT / ".env.example")
    with pytest.raises(deployment.DeploymentError) as refused:
        stack.start()
    assert "COPYLEAKS_WEBHOOK_SECRET is the .env.example placeholder" in str(refused.value)
    assert "AIRFLOW_ADMIN_PASSWORD is the .env.example placeholder" in str(refused.value)
    assert stack.postgres is None and not stack.processes  # nothing was started

    short = {**ENV_EXAMPLE, "COPYLEAKS_WEBHOOK_SECRET": "s3cret", "AIRFLOW_ADMIN_PASSWORD": "a-long-password"}
    with pytest.raises(deployment.DeploymentError, match="COPYLEAKS_WEBHOOK_SECRET is 6 characters long: at least 32"):
        deployment.check(short)
    # What compose's preflight service runs: exit status 2 and the reason, before anything starts.
    env = {"PATH": "/usr/bin:/bin", **{k: short[k] for k in ("COPYLEAKS_WEBHOOK_SECRET", "AIRFLOW_ADMIN_PASSWORD")}}
    result = subprocess.run(
        [sys.executable, "-m", "airflow_copyleaks.deployment"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "COPYLEAKS_WEBHOOK_SECRET is 6 characters long" in result.stderr


def test_a_generated_env_file_passes_the_checks_and_writes_the_login(tmp_path: Path) -> None:
    values = write_env_file(tmp_path / ".env")
    deployment.check(values)
    assert values["COPYLEAKS_WEBHOOK_SECRET"] != ENV_EXAMPLE["COPYLEAKS_WEBHOOK_SECRET"]
    path = deployment.write_passwords_file(tmp_path / "auth" / "passwords.json", {"admin": "p" * 12})
    assert path.read_text().strip() == '{"admin": "pppppppppppp"}' and path.stat().st_mode & 0o077 == 0
