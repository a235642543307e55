"""Drafts waiting for publication: where the pre-publication gate reads them and records decisions.

The gate only knows :class:`DraftSource`. Two implementations:

* ``"folder"`` (the default, offline): :class:`publishing.source_folder.FolderDraftSource`, the
  sample drafts in ``dags/data/drafts``; the decisions go to object storage below
  ``[copyleaks] artifacts_url`` (never to the DAGs folder, which every machine has its own copy of).
* ``"wordpress"``: :class:`publishing.source_wordpress.WordPressDraftSource`, WordPress's REST API
  through the HTTP provider's ``HttpHook`` and an Airflow connection (default ``wordpress_default``).

Decisions map onto WordPress's post statuses (the folder source records the same statuses):

=================  ==================  =====================================================
Decision           Status afterwards   Why
=================  ==================  =====================================================
``publish``        ``publish``         the post goes live
``request_edits``  ``pending``         "Pending Review": out of the gate's queue (``draft``) so
                                       the next run does not check it again; the note says what
                                       to change, and the author moves it back to Draft when done
``reject``         ``trash``           WordPress's bin: never published, recoverable for 30 days
=================  ==================  =====================================================

Only posts the gate owns (status ``draft`` or ``pending``) are changed. One already in the
decision's status with the same note is ``updated`` with nothing written (a retried task whose
answer was lost; a CMS that does not store notes makes such a retry of a publish ``moved``). A
post deleted or trashed in the CMS meanwhile is reported as ``missing`` and never re-created; one
published or scheduled by someone else is ``moved`` and left alone; one edited after it was checked
is ``changed`` and not published (its new text was not checked). A CMS that refuses (401, 403,
5xx) raises :class:`CmsError` with the CMS's own message, having changed nothing.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

SOURCE_ENV = "COPYLEAKS_DRAFT_SOURCE"  # "folder" (default) or "wordpress"
DEFAULT_WORDPRESS_CONN_ID = "wordpress_default"
QUEUE_STATUS = "draft"  # what list_drafts returns
GATE_STATUSES = frozenset({"draft", "pending"})  # what the gate may change


class Decision(str, Enum):
    PUBLISH = "publish"
    REQUEST_EDITS = "request_edits"
    REJECT = "reject"


# The post status each decision leaves behind.
STATUS_AFTER: dict[Decision, str] = {
    Decision.PUBLISH: "publish",
    Decision.REQUEST_EDITS: "pending",
    Decision.REJECT: "trash",
}


class Outcome(str, Enum):
    UPDATED = "updated"  # the CMS now has STATUS_AFTER[decision]
    MISSING = "missing"  # deleted or trashed in the CMS meanwhile: nothing written
    MOVED = "moved"  # someone else published/scheduled it: left alone
    CHANGED = "changed"  # edited after the check: not published, check it again


@dataclass(frozen=True)
class Draft:
    id: str
    title: str
    body: str  # plain text, paragraphs separated by a blank line (HTML removed)
    hero_image_url: str | None  # http(s) URL in a CMS, file:// URI in the sample folder; None: no image
    modified_at: datetime  # UTC; what a decision is checked against (see ``checked_modified``)
    status: str  # the CMS's post status: "draft", "pending", "publish", "trash", ...
    note: str = ""  # the last editorial note, "" when none

    def text(self) -> str:
        """What is scanned: the title, a blank line, the body (as the sample articles are)."""
        return f"{self.title}\n\n{self.body}"


@dataclass(frozen=True)
class DraftUpdate:
    """What :meth:`DraftSource.apply_decision` did; plain JSON through :meth:`as_dict` for XCom."""

    draft_id: str
    decision: str
    outcome: str  # an Outcome value
    status: str | None  # the status in the CMS afterwards (None when the draft is gone)
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CmsError(RuntimeError):
    """The CMS refused or failed a request; the message is the CMS's own (never a credential)."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class DraftSource(Protocol):
    name: str  # "folder" or "wordpress", for logs and reports

    def list_drafts(self) -> list[Draft]:
        """Every draft waiting for the gate (status ``draft``), oldest change first."""
        ...

    def get_draft(self, draft_id: str) -> Draft | None:
        """One draft in whatever status it is now; None when it was deleted."""
        ...

    def read_hero_image(self, draft: Draft) -> bytes | None:
        """The hero image's bytes (None when the draft has none)."""
        ...

    def apply_decision(
        self, draft_id: str, decision: Decision | str, note: str = "", *, checked_modified: datetime | None = None
    ) -> DraftUpdate:
        """Record an editorial decision in the CMS (see the module's table).

        ``checked_modified``: the ``modified_at`` of the version that was checked; a ``publish``
        of a draft modified since is refused with outcome ``changed``.
        """
        ...


def parse_decision(decision: Decision | str) -> Decision:
    """A Decision from its value or from the review's option label ("Publish", "Request edits", "Reject")."""
    try:
        return Decision(decision.strip().lower().replace(" ", "_") if isinstance(decision, str) else decision)
    except ValueError:
        choices = ", ".join(d.value for d in Decision)
        raise ValueError(f"decision must be one of {choices}, not {decision!r}") from None


def draft_source(kind: str | None = None, *, conn_id: str | None = None) -> DraftSource:
    """The source a DAG reads drafts from: ``kind`` (a DAG Param, say), else ``$COPYLEAKS_DRAFT_SOURCE``,
    else ``"folder"``. ``conn_id``: the WordPress connection (default ``wordpress_default``)."""
    chosen = (kind or os.environ.get(SOURCE_ENV) or "folder").strip().lower()
    if chosen == "folder":
        from publishing.source_folder import FolderDraftSource

        return FolderDraftSource()
    if chosen == "wordpress":
        from publishing.source_wordpress import WordPressDraftSource

        return WordPressDraftSource(conn_id or DEFAULT_WORDPRESS_CONN_ID)
    raise ValueError(f"draft source must be 'folder' or 'wordpress', not {chosen!r}")


def refusal(
    current: Draft | None, draft_id: str, decision: Decision, checked_modified: datetime | None, note: str = ""
) -> DraftUpdate | None:
    """Why ``decision`` with ``note`` must not be written over ``current`` (the draft as the CMS has
    it now), or None when it may be. Both sources apply the same rules."""

    def outcome(kind: Outcome, status: str | None, message: str) -> DraftUpdate:
        return DraftUpdate(draft_id, decision.value, kind.value, status, message)

    if current is not None and current.status == STATUS_AFTER[decision] and current.note == note:
        # Exactly this write is already there: a retried task whose first answer was lost. The note
        # tells it apart from someone else publishing (``moved``) or from a new note to write.
        return outcome(
            Outcome.UPDATED, current.status, f"draft {draft_id} is already {current.status!r}: nothing written"
        )
    if current is None or current.status == "trash":
        return outcome(Outcome.MISSING, None, f"draft {draft_id} was deleted in the CMS meanwhile: nothing written")
    if current.status not in GATE_STATUSES:
        return outcome(
            Outcome.MOVED, current.status, f"draft {draft_id} is now {current.status!r} in the CMS: left as it is"
        )
    if decision is Decision.PUBLISH and checked_modified is not None and current.modified_at > checked_modified:
        return outcome(
            Outcome.CHANGED,
            current.status,
            f"draft {draft_id} was edited at {current.modified_at.isoformat()}, after the checked version "
            f"({checked_modified.isoformat()}): not published, check it again",
        )
    return None
