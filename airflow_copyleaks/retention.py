"""``airflow-copyleaks store purge``: remove what the store and the artifacts keep past retention.

Artifact files go first, through ObjectStoragePath (any artifacts_url: file://, s3://, gs://),
then the store's rows in one transaction: a purge stopped half way leaves rows pointing at files
already gone, which the next purge removes, never files that nothing points to.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_copyleaks import config
from airflow_copyleaks.exceptions import CopyleaksValidationError

log = logging.getLogger(__name__)

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhms]?)\s*$")


def parse_age(value: str, field_name: str = "--older-than") -> timedelta:
    """``30d``, ``12h``, ``90m``, ``3600s`` or a number of days; must be more than zero."""
    match = _AGE.match(str(value))
    if match is None:
        raise CopyleaksValidationError(field_name, f"is {value!r}", limit="a number with d, h, m or s, e.g. 30d")
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "d"]
    if seconds <= 0:
        raise CopyleaksValidationError(field_name, f"is {value!r}", limit="more than zero")
    return timedelta(seconds=seconds)


def default_age() -> timedelta:
    return parse_age(config.get_setting("retention_days"), "[copyleaks] retention_days")


@dataclass
class PurgeReport:
    cutoff: datetime
    rows: dict[str, int]
    files_deleted: int = 0
    file_errors: list[str] = field(default_factory=list)
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        rows = ", ".join(f"{count} {name}" for name, count in self.rows.items()) or "nothing (files first)"
        out = [f"Records older than {self.cutoff.isoformat(timespec='seconds')}: {verb} {rows}",
               f"Artifact files {verb}: {self.files_deleted}"]  # fmt: skip
        out += [f"Could not delete {error}; records kept for the next purge" for error in self.file_errors]
        return out


def _delete_file(location: str) -> None:
    from airflow.sdk import ObjectStoragePath

    ObjectStoragePath(location).unlink(missing_ok=True)


def purge(store: Any, older_than: timedelta, *, dry_run: bool = False) -> PurgeReport:
    """Remove artifacts, then records, older than ``older_than``."""
    cutoff = datetime.now(timezone.utc) - older_than
    locations = store.artifacts_before(cutoff)
    report = PurgeReport(cutoff=cutoff, rows={}, dry_run=dry_run)
    for location in locations:
        if dry_run:
            report.files_deleted += 1
            continue
        try:
            _delete_file(location)
            report.files_deleted += 1
        except Exception as err:  # keep its row: the next purge tries the file again
            report.file_errors.append(f"{location}: {type(err).__name__}: {err}")
    if report.file_errors:  # records stay, so the next purge finds those files again
        return report
    report.rows = store.purge_before(cutoff, dry_run=dry_run)
    return report
