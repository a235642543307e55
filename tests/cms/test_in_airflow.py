"""The WordPress source inside real Airflow tasks (``airflow dags test``): the connection comes
through the Task SDK as on a worker, a CMS failure fails the task with WordPress's message, and
the application password appears nowhere in the output."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from airflow_copyleaks.testing.wordpress import WordPressFake
from tests.cms.conftest import APP_PASSWORD, DAGS, connection_env
from tests.scans.conftest import airflow_db  # noqa: F401 - fixture

ROOT = DAGS.parent

PROBE = """
    from airflow.sdk import dag, task


    @dag(schedule=None, catchup=False)
    def cms_probe():
        @task
        def decide() -> list[dict]:
            from publishing.source_drafts import draft_source

            source = draft_source("wordpress", conn_id="wordpress_probe")
            done = []
            for draft in source.list_drafts():
                decision = "reject" if "copied" in draft.body else "publish"
                done.append(source.apply_decision(draft.id, decision, "Copied.", checked_modified=draft.modified_at))
            return [d.as_dict() for d in done]

        decide()


    cms_probe()
"""


def _run(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", "cms_probe", "2026-11-21"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )


@pytest.fixture
def probe_env(airflow_db: dict[str, str], wordpress: WordPressFake, tmp_path: Path) -> dict[str, str]:  # noqa: F811
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "cms_probe.py").write_text(textwrap.dedent(PROBE))
    return {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"],
        "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW_CONN_WORDPRESS_PROBE": connection_env(wordpress.url),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(DAGS), os.environ.get("PYTHONPATH", "")]),
    }


def test_a_task_publishes_and_rejects_through_the_connection(
    wordpress: WordPressFake, probe_env: dict[str, str]
) -> None:
    clean = wordpress.add_post("Ferry back", "The ferry sails again.")
    copied = wordpress.add_post("Lanterns", "A copied paragraph.")

    result = _run(Path(probe_env["AIRFLOW__CORE__DAGS_FOLDER"]), probe_env)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert (wordpress.post(clean).status, wordpress.post(copied).status) == ("publish", "trash")  # type: ignore[union-attr]
    assert APP_PASSWORD not in output and APP_PASSWORD.replace(" ", "") not in output


def test_a_failing_cms_fails_the_task_with_its_message(wordpress: WordPressFake, probe_env: dict[str, str]) -> None:
    post = wordpress.add_post("Ferry back", "The ferry sails again.")
    wordpress.add_fault("/wp-json/wp/v2/posts", status=500, method="POST", count=None)

    result = _run(Path(probe_env["AIRFLOW__CORE__DAGS_FOLDER"]), probe_env)

    output = result.stdout + result.stderr
    assert result.returncode != 0 and "new_state=failed" in output, output[-4000:]
    assert "CmsError: WordPress answered 500 to POST /wp-json/wp/v2/posts/" in output, output[-4000:]
    assert "internal_server_error: There has been a critical error on this website." in output
    assert wordpress.post(post).status == "draft"  # type: ignore[union-attr]
    assert APP_PASSWORD not in output
