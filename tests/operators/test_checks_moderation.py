"""CopyleaksModerateOperator against the emulator over HTTP: verdicts, policies, batches, retries."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSkipException

from airflow_copyleaks.exceptions import CopyleaksPolicyViolation, CopyleaksValidationError
from airflow_copyleaks.operators import CopyleaksModerateOperator, Policy
from airflow_copyleaks.operators.checks import CheckItemsInvalid
from tests.fixtures import connection_json
from tests.operators.conftest import CLEAN, HATE, TOXIC, run

TWO_PROFANITIES = "Damn, this week was crap."
THREE_PROFANITIES = "Damn, this week was crap, bloody hell."


def moderate(**kwargs: Any) -> CopyleaksModerateOperator:
    return CopyleaksModerateOperator(task_id="moderate", **kwargs)


def test_one_clean_text(copyleaks_conn: str, copyleaks_emulator: Any) -> None:
    report, ti = run(moderate(texts=CLEAN))
    assert ti.xcoms["return_value"] == report
    assert report["verdict"] == "pass" and report["kind"] == "moderation" and report["sandbox"] is False
    (item,) = report["items"]
    assert item["key"] == "0" and item["status"] == "ok" and item["verdict"] == "pass"
    assert item["scan_id"].startswith("mod-") and 3 <= len(item["scan_id"]) <= 36
    assert item["counts"] == {} and item["flagged"] == 0
    assert report["totals"]["counts"] == dict.fromkeys(report["totals"]["counts"], 0)
    assert len(report["totals"]["counts"]) == 10  # all labels by default
    assert item["credits"] == 1 and report["totals"]["credits"] == 1
    assert copyleaks_emulator.stats()["credits_used"] == 1
    assert "api_key" not in str(report) and copyleaks_emulator.api_key not in str(report)


def test_batch_reports_spans_with_excerpts_and_counts(copyleaks_conn: str) -> None:
    texts = [{"key": "comment-1", "text": CLEAN}, {"key": "comment-2", "text": HATE}, {"key": "c3", "text": TOXIC}]
    report, _ = run(moderate(texts=texts, max_details=2))
    items = {i["key"]: i for i in report["items"]}
    assert items["comment-1"]["verdict"] == "pass"
    hate = items["comment-2"]
    assert hate["verdict"] == "hit" and hate["counts"]["hate-speech-v1"] == 3
    assert hate["spans_total"] == 3 and len(hate["spans"]) == 2  # capped
    span = hate["spans"][0]
    assert HATE[span["start"] : span["start"] + span["length"]] == span["excerpt"]
    assert span["label"] == "hate-speech-v1" and span["excerpt"] == "Those people are vermin"
    assert "hate-speech-v1 3 > 0" in hate["breaches"]
    assert items["c3"]["counts"]["toxic-v1"] == 3
    totals = report["totals"]
    assert (totals["items"], totals["hits"], totals["passed"], totals["errors"]) == (3, 2, 1, 0)
    assert totals["counts"]["hate-speech-v1"] == 3 and totals["counts"]["toxic-v1"] == 3
    assert report["verdict"] == "hit"  # on_hit="report": the task still succeeds


def test_policy_fail_names_items_and_labels_after_pushing_the_report(copyleaks_conn: str, ctx: Any) -> None:
    op = moderate(
        texts=[{"key": "a1", "text": CLEAN}, {"key": "a2", "text": HATE}],
        policy=Policy(on_hit="fail", thresholds={"hate-speech-v1": 0}),
    )
    context = ctx(op)
    with pytest.raises(CopyleaksPolicyViolation, match=r"a2 \(hate-speech-v1 3 > 0\)") as err:
        op.execute(context)
    assert isinstance(err.value, AirflowFailException)  # a verdict does not change on retry
    assert "a1" not in str(err.value)
    pushed = context["ti"].xcoms["return_value"]
    assert pushed["verdict"] == "hit" and pushed["totals"]["hits"] == 1


def test_policy_skip_from_a_plain_dict(copyleaks_conn: str, ctx: Any) -> None:
    op = moderate(texts=TOXIC, policy={"on_hit": "skip"})
    context = ctx(op)
    with pytest.raises(AirflowSkipException, match="toxic-v1"):
        op.execute(context)
    assert context["ti"].xcoms["return_value"]["items"][0]["verdict"] == "hit"
    # No hit, no skip.
    assert run(moderate(texts=CLEAN, policy="skip"), run_id="run-2")[0]["verdict"] == "pass"


def test_thresholds_per_label(copyleaks_conn: str) -> None:
    texts = {"two": TWO_PROFANITIES, "three": THREE_PROFANITIES, "toxic": TOXIC}
    op = moderate(
        texts=[{"key": k, "text": t} for k, t in texts.items()],
        policy={"on_hit": "report", "thresholds": {"hate-speech-v1": 0, "profanity-v1": 2}},
    )
    report, _ = run(op)
    verdicts = {i["key"]: (i["verdict"], i.get("breaches")) for i in report["items"]}
    assert verdicts == {
        "two": ("pass", []),  # two profanities are tolerated
        "three": ("hit", ["profanity-v1 3 > 2"]),
        "toxic": ("pass", []),  # toxic-v1 is not gated by this policy
    }
    assert report["thresholds"] == {"hate-speech-v1": 0, "profanity-v1": 2}


def test_one_failing_item_does_not_stop_the_batch(copyleaks_conn: str, ctx: Any) -> None:
    texts = [CLEAN, "", {"key": "long", "text": "x" * 25_001}, {"key": "no-text"}, TOXIC]
    op = moderate(texts=texts)
    context = ctx(op)
    with pytest.raises(CheckItemsInvalid, match="3 of 5 item") as err:
        op.execute(context)
    assert isinstance(err.value, AirflowFailException)  # bad input: retrying cannot help
    report = context["ti"].xcoms["return_value"]
    by_key = {i["key"]: i for i in report["items"]}
    assert by_key["0"]["status"] == "ok" and by_key["4"]["verdict"] == "hit"
    assert "1 to 25000 characters" in by_key["1"]["error"] and by_key["1"]["verdict"] == "error"
    assert "25001" in by_key["long"]["error"] and by_key["long"]["retryable"] is False
    assert "must be a string" in by_key["no-text"]["error"]
    assert report["totals"]["errors"] == 3 and report["totals"]["ok"] == 2
    # Reporting only: the same batch succeeds with the errors recorded.
    report, _ = run(moderate(texts=texts, policy={"fail_on_error": False}), run_id="run-2")
    assert report["totals"]["errors"] == 3 and report["verdict"] == "hit"


def test_unknown_label_fails_before_any_call(copyleaks_conn: str, copyleaks_emulator: Any, ctx: Any) -> None:
    op = moderate(texts=CLEAN, labels=["hate-speech-v1", "spam-v1"])
    with pytest.raises(CopyleaksValidationError, match="spam-v1") as err:
        op.execute(ctx(op))
    assert err.value.field == "labels"
    with pytest.raises(CopyleaksValidationError, match="profanity"):  # a threshold on an unrequested label
        op = moderate(texts=CLEAN, labels="hate-speech-v1", policy={"thresholds": {"profanity-v1": 0}})
        op.execute(ctx(op))
    assert copyleaks_emulator.stats()["calls"] == 0


def test_labels_subset_from_a_comma_separated_string(copyleaks_conn: str) -> None:
    report, _ = run(moderate(texts=HATE + " " + TOXIC, labels="toxic-v1, profanity-v1"))
    (item,) = report["items"]
    assert item["counts"] == {"toxic-v1": 3}
    assert report["totals"]["counts"] == {"toxic-v1": 3, "profanity-v1": 0}


def test_sandbox_spends_no_credits(copyleaks_conn: str, copyleaks_emulator: Any) -> None:
    report, _ = run(moderate(texts=[CLEAN, HATE], sandbox=True))
    assert report["sandbox"] is True and report["totals"]["credits"] == 0
    assert copyleaks_emulator.stats()["credits_used"] == 0


def test_a_retried_task_does_not_pay_twice(copyleaks_conn: str, copyleaks_emulator: Any, ctx: Any) -> None:
    texts = [{"key": "a", "text": CLEAN}, {"key": "b", "text": HATE}]
    op = moderate(texts=texts, policy="fail")
    with pytest.raises(CopyleaksPolicyViolation):
        op.execute(ctx(op, try_number=1))
    used = copyleaks_emulator.stats()["credits_used"]
    assert used == 2
    # The second try derives the same ids: Copyleaks answers 409, the store has the results.
    context = ctx(op, try_number=2)
    with pytest.raises(CopyleaksPolicyViolation, match="b"):
        op.execute(context)
    report = context["ti"].xcoms["return_value"]
    assert [i["status"] for i in report["items"]] == ["already_checked", "already_checked"]
    assert [i["verdict"] for i in report["items"]] == ["pass", "hit"]
    assert report["totals"]["credits"] == 0 and report["totals"]["already_checked"] == 2
    assert copyleaks_emulator.stats()["credits_used"] == used
    # A deliberate recheck pays again.
    forced, _ = run(moderate(texts=texts, force_new_scan=True))
    assert forced["totals"]["credits"] == 2 and copyleaks_emulator.stats()["credits_used"] == used + 2


def test_content_ids_reuse_results_across_runs(copyleaks_conn: str, copyleaks_emulator: Any) -> None:
    first, _ = run(moderate(texts=[CLEAN], scan_id_mode="content"), run_id="scheduled__1")
    second, _ = run(moderate(texts=[CLEAN, TOXIC], scan_id_mode="content"), run_id="scheduled__2")
    assert second["items"][0]["scan_id"] == first["items"][0]["scan_id"]
    assert [i["status"] for i in second["items"]] == ["already_checked", "ok"]
    assert copyleaks_emulator.stats()["credits_used"] == 2


def test_changed_content_under_a_reused_task_id_is_not_mistaken(copyleaks_conn: str, ctx: Any) -> None:
    run(moderate(texts=[{"key": "a", "text": CLEAN}]))
    op = moderate(texts=[{"key": "a", "text": TOXIC}], policy={"fail_on_error": False})
    report, _ = run(op)  # same task instance (a clear), edited article
    (item,) = report["items"]
    assert item["status"] == "error" and "different content" in item["error"]


def test_429_storm_in_a_batch_still_checks_every_item(
    copyleaks_emulator: Any, store_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_copyleaks.hooks.token_cache import TokenCache

    monkeypatch.setenv(
        "AIRFLOW_CONN_COPYLEAKS_DEFAULT",
        connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key,
                        requests_per_second=10, max_retries=8),
    )  # fmt: skip
    TokenCache.clear_memory()
    copyleaks_emulator.set_config(requests_per_second=10)
    copyleaks_emulator.add_fault("/v1/text-moderation/", status=429, count=12)
    texts = [{"key": f"c{i}", "text": f"{CLEAN} Comment number {i}."} for i in range(30)]
    op = moderate(texts=texts)
    report, _ = run(op)
    assert report["totals"]["ok"] == 30 and report["totals"]["errors"] == 0
    stats = copyleaks_emulator.stats()
    assert stats["rate_limited"] >= 12  # the injected storm was answered with 429s and absorbed
    assert 0 < op.hook.stats["rate_limited"] <= stats["rate_limited"]  # absorbed by the hook's backoff
    assert stats["logins"] == 1  # one token for the whole pool
    TokenCache.clear_memory()


def test_content_ids_keep_sandbox_and_real_checks_apart(copyleaks_conn: str, copyleaks_emulator: Any) -> None:
    """A sandbox answer is a mock: a real check of the same text must not reuse it."""
    mock, _ = run(moderate(texts=[CLEAN], scan_id_mode="content", sandbox=True), run_id="scheduled__1")
    real, _ = run(moderate(texts=[CLEAN], scan_id_mode="content", sandbox=False), run_id="scheduled__2")
    again, _ = run(moderate(texts=[CLEAN], scan_id_mode="content", sandbox=False), run_id="scheduled__3")
    assert mock["items"][0]["scan_id"] != real["items"][0]["scan_id"] == again["items"][0]["scan_id"]
    assert [r["items"][0]["status"] for r in (mock, real, again)] == ["ok", "ok", "already_checked"]
    assert copyleaks_emulator.stats()["credits_used"] == 1  # the sandbox check is free; the real one paid once


def test_a_check_whose_answer_was_lost_is_reported_and_not_paid_again(
    copyleaks_conn: str, copyleaks_emulator: Any
) -> None:
    """Copyleaks moderated (and charged) the text, but the answer never arrived. A paid check is
    not sent again when it may have reached Copyleaks, so the item reports the lost answer; the
    task's next try meets 409, and as Copyleaks keeps no result to fetch again, the item says so
    plainly. The others are fine, and nothing is paid twice."""
    texts = [{"key": "lost", "text": CLEAN}, {"key": "fine", "text": TOXIC}]
    copyleaks_emulator.add_fault(path_prefix="/v1/text-moderation/", kind="drop_answer", method="POST")
    report, _ = run(moderate(texts=texts, max_workers=1, policy={"fail_on_error": False}))
    items = {i["key"]: i for i in report["items"]}
    assert items["fine"]["status"] == "ok" and items["fine"]["verdict"] == "hit"
    lost = items["lost"]
    assert lost["status"] == "error" and "ConnectionError" in lost["error"]
    assert copyleaks_emulator.stats()["credits_used"] == 2  # each text paid once, the lost one included
    report, _ = run(moderate(texts=texts, max_workers=1, policy={"fail_on_error": False}))
    lost = {i["key"]: i for i in report["items"]}["lost"]
    assert lost["status"] == "error" and "already used" in lost["error"] and "force_new_scan" in lost["error"]
    assert copyleaks_emulator.stats()["credits_used"] == 2
