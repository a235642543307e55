"""AI-text detection and writing feedback operators against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_copyleaks.exceptions import CopyleaksPolicyViolation, CopyleaksValidationError
from airflow_copyleaks.operators import CopyleaksAiDetectionOperator, CopyleaksWritingFeedbackOperator
from tests.operators.conftest import run

HUMAN = (
    "Grandpa kept bees behind the orchard. Every June, we'd suit up, nervous, giggling, and he would lift frames "
    "heavy with honey. One summer a swarm escaped into the chimney! We spent three sweaty afternoons coaxing them "
    "out with smoke, sugar water and terrible singing. Mom still laughs about it."
)
MACHINE = "The system improves the process. The system improves the result. The system improves the output. " * 4
POLISHED = (
    "The committee met on Tuesday to review the proposal. Members asked detailed questions about costs, timing "
    "and staffing. After a lively discussion, they agreed to fund a pilot program in two schools next spring."
)
SLOPPY = (
    "teh the the goverment definately  recieve it. wich is untill tommorow. we beleive the the adress is wrong. "
    "in order to go we go go home. teh enviroment occured accross seperate lines."
)


def test_ai_detection_flags_machine_text(copyleaks_conn: str, copyleaks_emulator: Any) -> None:
    op = CopyleaksAiDetectionOperator(
        task_id="ai", texts=[{"key": "essay", "text": HUMAN}, {"key": "draft", "text": MACHINE}]
    )
    report, _ = run(op)
    items = {i["key"]: i for i in report["items"]}
    assert items["essay"]["verdict"] == "pass" and items["essay"]["ai"] == 0 and items["essay"]["human"] == 1
    assert items["draft"]["verdict"] == "hit" and items["draft"]["classification"] == "ai"
    assert items["draft"]["ai_probability"] == 1.0 and items["draft"]["breaches"] == ["ai 1 > 0.5"]
    assert report["totals"]["max_ai"] == 1.0 and report["totals"]["credits"] == 2  # 1 per 250 words
    assert copyleaks_emulator.stats()["credits_used"] == report["totals"]["credits"]


def test_ai_detection_policy_on_probability(copyleaks_conn: str, ctx: Any) -> None:
    op = CopyleaksAiDetectionOperator(
        task_id="ai", texts=MACHINE, policy={"on_hit": "fail", "thresholds": {"ai_probability": 0.9}}
    )
    with pytest.raises(CopyleaksPolicyViolation, match=r"0 \(ai_probability 1 > 0.9\)"):
        op.execute(ctx(op))


def test_ai_detection_text_limits(copyleaks_conn: str, copyleaks_emulator: Any) -> None:
    texts = [{"key": "short", "text": "Too short to judge."}, {"key": "long", "text": "word " * 5001}, HUMAN]
    op = CopyleaksAiDetectionOperator(task_id="ai", texts=texts, policy={"fail_on_error": False})
    report, _ = run(op)
    items = {i["key"]: i for i in report["items"]}
    assert "255 to 25000 characters" in items["short"]["error"]
    assert "25005 characters" in items["long"]["error"]
    assert items["2"]["status"] == "ok"
    assert copyleaks_emulator.stats()["credits_used"] == 1  # the invalid items were never sent


def test_ai_detection_bad_sensitivity_fails_fast(copyleaks_conn: str, ctx: Any) -> None:
    op = CopyleaksAiDetectionOperator(task_id="ai", texts=HUMAN, sensitivity=5)
    with pytest.raises(CopyleaksValidationError, match="sensitivity"):
        op.execute(ctx(op))


def test_writing_feedback_scores_and_min_threshold(copyleaks_conn: str, ctx: Any) -> None:
    texts = [{"key": "good", "text": POLISHED}, {"key": "bad", "text": SLOPPY}]
    report, _ = run(CopyleaksWritingFeedbackOperator(task_id="wf", texts=texts))
    items = {i["key"]: i for i in report["items"]}
    assert items["good"]["overall_score"] == 100 and items["good"]["verdict"] == "pass"
    bad = items["bad"]
    assert bad["overall_score"] < 50 and bad["verdict"] == "hit" and bad["corrections"] > 5
    assert bad["grammar_corrections"] >= 2 and bad["mechanics_corrections"] >= 5
    assert report["totals"]["min_overall_score"] == bad["overall_score"]
    # A stricter editorial bar: fail below 101 (everything), from a plain dict.
    op = CopyleaksWritingFeedbackOperator(
        task_id="wf2", texts=POLISHED, policy={"on_hit": "fail", "thresholds": {"overall_score": 101}}
    )
    with pytest.raises(CopyleaksPolicyViolation, match="overall_score 100 < 101"):
        op.execute(ctx(op))


def test_writing_feedback_validates_weights_and_length(copyleaks_conn: str, ctx: Any) -> None:
    op = CopyleaksWritingFeedbackOperator(task_id="wf", texts=POLISHED, score_weights={"grammarScoreWeight": 2})
    with pytest.raises(CopyleaksValidationError, match="0.0 to 1.0"):
        op.execute(ctx(op))
    op = CopyleaksWritingFeedbackOperator(task_id="wf", texts=["", POLISHED], policy={"fail_on_error": False})
    report, _ = run(op)
    assert [i["status"] for i in report["items"]] == ["error", "ok"]


def test_sandbox_is_free_for_every_text_check(copyleaks_conn: str, copyleaks_emulator: Any) -> None:
    run(CopyleaksAiDetectionOperator(task_id="ai", texts=HUMAN, sandbox="true"))
    run(CopyleaksWritingFeedbackOperator(task_id="wf", texts=POLISHED, sandbox=True))
    assert copyleaks_emulator.stats()["credits_used"] == 0
