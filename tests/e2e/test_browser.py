"""The editor's path through the Airflow UI, in a real browser (Playwright on Debian's Chromium).

Log in, open the Copyleaks connection form, trigger the sweep from the Trigger form with Params,
open the run's audit report through the task's extra link, open the Copyleaks page; a user who
may read the moderation DAG but not the sweep is refused the sweep's report and run.
Screenshots of each step are kept (the folder is printed at the end).
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from scripts.stack import NativeStack
from tests.e2e.harness import DAG_ID, MODERATION_DAG, MODERATOR, AirflowApi, run_and_watch, screenshot_path

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright's own browser download is not used
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RUN_ID = "browser-sweep"
ARTICLES = ["a05", "a12", "a15"]  # two copy the web, one an earlier article of ours (dags/data)
TIMEOUT_MS = 120_000  # a loaded machine: the UI can take long to answer
expect.set_options(timeout=TIMEOUT_MS)


def log_in(browser: Browser, base: str, user: str, password: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base}/")
    page.wait_for_url("**/auth/login**")  # authentication is on: no page without a login
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/auth/login" not in url)
    return page


def open_connection_form(page: Page, base: str) -> None:
    page.goto(f"{base}/connections")
    page.get_by_role("button", name="Add Connection").first.click()
    dialog = page.get_by_role("dialog")
    page.locator("[id^=react-select][id$=-placeholder]").click(force=True)
    page.keyboard.type("Copyleaks")
    page.get_by_role("option", name="Copyleaks", exact=True).click()  # once the types have loaded
    expect(dialog.get_by_text("Account email")).to_be_visible()
    expect(dialog.get_by_text("API key")).to_be_visible()
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    expect(dialog.get_by_text("API base URL")).to_be_visible()
    expect(dialog.get_by_text("Webhook receiver public URL")).to_be_visible()
    page.screenshot(path=screenshot_path("2-connection-form"), full_page=True)
    page.keyboard.press("Escape")


def trigger_with_params(page: Page, base: str) -> None:
    page.goto(f"{base}/dags/{DAG_ID}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Run Parameters")).to_be_visible()
    dialog.locator("textarea[name=element_article_ids]").fill("\n".join(ARTICLES))
    threshold = dialog.get_by_role("spinbutton").first
    threshold.fill("20")
    dialog.get_by_text("Advanced Options").click()
    dialog.locator("input[name=dagRunId]").fill(RUN_ID)
    page.screenshot(path=screenshot_path("3-trigger-form"), full_page=True)
    dialog.get_by_role("button", name="Trigger").last.click()
    expect(dialog).to_be_hidden()


def open_report_from_extra_link(page: Page, base: str) -> None:
    page.goto(f"{base}/dags/{DAG_ID}/runs/{RUN_ID}/tasks/write_report")
    page.get_by_role("link", name="Details").click()  # the task instance's Extra Links are there
    link = page.get_by_role("link", name="Audit report")
    expect(link).to_be_visible()
    page.screenshot(path=screenshot_path("4-task-extra-link"), full_page=True)
    link.click()  # same-origin: the UI opens it in place
    page.wait_for_url(f"**/copyleaks/ui/reports/{DAG_ID}/{RUN_ID}/report.html")
    page.screenshot(path=screenshot_path("5-audit-report"), full_page=True)


def check_report(page: Page, base: str) -> None:
    """What the dags' plagiarism report shows (dags/publishing/plagiarism_report.py): a flagged
    article with its matched source, the copied words highlighted, what was done, its PDF."""
    flagged = page.locator("section.item.flagged")
    assert flagged.count() >= 1, "no flagged article in the report"
    article = page.locator("section.item.flagged#a05")  # copies three sentences from a web page
    expect(article.get_by_role("link", name="Life in the tidal pools of a northern coast")).to_be_visible()
    highlighted = article.locator(".passage mark")
    assert highlighted.count() >= 1 and len(highlighted.first.inner_text()) > 40, "no highlighted passage"
    expect(article.locator(".action")).to_have_text("held back")
    pdf = article.get_by_role("link", name="PDF report")
    href = pdf.get_attribute("href") or ""
    assert href.startswith("/copyleaks/ui/exports/"), href
    answer = page.request.get(base + href)  # with the browser's session cookie
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf", answer.status
    print(f"report: {flagged.count()} flagged article(s), {page.locator('.passage mark').count()} highlighted passages")


def check_access_per_dag(browser: Browser, admin: Page, base: str) -> None:
    """The moderator reads the moderation DAG, not the sweep: its report and its run are refused
    (403) where the admin, logged in the same way, reads them (200)."""
    report = f"{base}/copyleaks/ui/reports/{DAG_ID}/{RUN_ID}/report.html"
    run = f"{base}/api/v2/dags/{DAG_ID}/dagRuns/{RUN_ID}"
    assert admin.request.get(report).status == 200 and admin.request.get(run).status == 200
    moderator = log_in(browser, base, *MODERATOR)
    refused = moderator.goto(report)
    assert refused is not None and refused.status == 403, refused.status if refused else None
    assert "flagged" not in moderator.content()
    moderator.screenshot(path=screenshot_path("7-moderator-refused"))
    assert moderator.request.get(run).status == 403
    assert moderator.request.get(f"{base}/api/v2/dags/{MODERATION_DAG}").status == 200
    moderator.goto(f"{base}/dags")
    expect(moderator.get_by_role("link", name=MODERATION_DAG).first).to_be_visible()
    expect(moderator.get_by_role("link", name=DAG_ID)).to_have_count(0)
    moderator.screenshot(path=screenshot_path("8-moderator-dags"))


@pytest.mark.timeout(1800)  # the UI and the run are slow on a loaded machine
def test_editor_path_through_the_airflow_ui(stack: NativeStack, api: AirflowApi) -> None:
    started = time.monotonic()
    base = stack.url("airflow-apiserver")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = log_in(browser, base, *stack.admin)
            page.screenshot(path=screenshot_path("1-logged-in"))
            open_connection_form(page, base)
            trigger_with_params(page, base)
            run = api.get(f"/dags/{DAG_ID}/dagRuns/{RUN_ID}")
            assert run["conf"]["article_ids"] == ARTICLES and float(run["conf"]["threshold"]) == 20
            run_and_watch(api, stack, RUN_ID, set(), timeout=600)

            open_report_from_extra_link(page, base)
            check_report(page, base)

            page.goto(f"{base}/plugin/copyleaks")
            frame = page.frame_locator("iframe")
            expect(frame.get_by_role("heading", name="Copyleaks")).to_be_visible()
            expect(frame.locator("#audits")).to_contain_text(RUN_ID)
            page.screenshot(path=screenshot_path("6-copyleaks-page"), full_page=True)

            check_access_per_dag(browser, page, base)
        finally:
            browser.close()
    print(f"browser test wall time: {time.monotonic() - started:.0f} s")
