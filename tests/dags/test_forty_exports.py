"""A sweep with 40 flagged articles exports all 40 with no failed task.

Copyleaks allows 10 exports a minute per account, shared by every process: the 40 mapped export
tasks must wait for their slot (the hook's shared pacing) rather than fail on 429 after their
retries. The emulator enforces the limit as Copyleaks does, so this run takes at least four
minutes of the emulator's clock.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.dags.archives import archive_of_copies
from tests.dags.conftest import ExampleDags, output

FLAGGED = 40


@pytest.mark.timeout(1800)  # 40 exports at Copyleaks' 10 a minute: four minutes at the very least
def test_forty_flagged_articles_are_all_exported_with_no_failed_task(
    example_dags: ExampleDags, copyleaks_emulator: Any, tmp_path: Path
) -> None:
    assert copyleaks_emulator.stats()  # the emulator keeps Copyleaks' 10 exports per minute
    example_dags.env["COPYLEAKS_EXAMPLE_DATA"] = str(archive_of_copies(tmp_path / "archive", FLAGGED))
    result = example_dags.run(SWEEP_ID, logical_date="2026-11-20T00:00:00+00:00", timeout=1200)
    assert result.returncode == 0, output(result)
    exports = re.findall(r"^TASK export_flagged (\d+) (\S+)$", result.stdout, re.M)
    assert len(exports) == FLAGGED and {state for _, state in exports} == {"success"}, exports
    assert "failed" not in re.findall(r"^TASK \S+ -?\d+ (\S+)$", result.stdout, re.M)
    accepted = [c for c in copyleaks_emulator.calls() if "/export/" in c["path"] and c["status"] < 300]
    assert len({c["path"] for c in accepted if c["method"] == "POST"}) == FLAGGED
    report = example_dags.report(SWEEP_ID, result)
    assert sum(1 for row in report["rows"] if row["verdict"] == "flagged") == FLAGGED


SWEEP_ID = "copyleaks_plagiarism_sweep"
