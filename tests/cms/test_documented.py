"""Every argument of the draft sources and of the WordPress fake is documented (``:param:``)."""

from __future__ import annotations

import inspect
import re

import pytest
from publishing.source_folder import FolderDraftSource
from publishing.source_wordpress import WordPressDraftSource

from airflow_copyleaks.testing.wordpress import WordPressFake


@pytest.mark.parametrize("cls", [WordPressDraftSource, FolderDraftSource, WordPressFake])
def test_every_argument_is_documented(cls: type) -> None:
    documented = set(re.findall(r":param (\w+):", inspect.getdoc(cls) or ""))
    arguments = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "kwargs")]
    assert [a for a in arguments if a not in documented] == []
