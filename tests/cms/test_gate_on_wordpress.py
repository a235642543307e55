"""The pre-publication gate DAG with WordPress as its CMS (the fake, over real HTTP): the drafts
come from ``/wp-json/wp/v2/posts`` and a clean one is published there, with no editor involved."""

from __future__ import annotations

from airflow_copyleaks.testing.wordpress import WordPressFake
from tests.cms.conftest import connection_env, seed_sample_drafts
from tests.dags.conftest import ExampleDags, example_dags, output  # noqa: F401 - fixture
from tests.scans.conftest import airflow_db, receiver, scan_conn  # noqa: F401 - fixtures

DAG_ID = "copyleaks_prepublication_gate"


def test_the_gate_publishes_a_clean_wordpress_draft(example_dags: ExampleDags, wordpress: WordPressFake) -> None:  # noqa: F811
    posted = seed_sample_drafts(wordpress, ["d01"])
    example_dags.env.update(
        {
            "COPYLEAKS_DRAFT_SOURCE": "wordpress",
            "AIRFLOW_CONN_WORDPRESS_DEFAULT": connection_env(wordpress.url),
            "COPYLEAKS_GATE_EMBARGO_MINUTES": "0",  # dag.test() cannot run deadline alerts
        }
    )

    result = example_dags.run(DAG_ID, logical_date=None)

    assert result.returncode == 0, output(result)
    assert wordpress.post(posted["d01"]).status == "publish"  # type: ignore[union-attr]
    row = example_dags.report(DAG_ID, result)["rows"][0]
    assert (row["key"], row["verdict"], row["action"]) == (str(posted["d01"]), "clean", "published")
    listed = [path for method, path, _ in wordpress.requests if method == "GET" and "status=draft" in path]
    assert listed, "the gate did not list WordPress's drafts"
    assert [m for m, _, status in wordpress.writes()] == ["POST"]  # one status update, nothing else written
