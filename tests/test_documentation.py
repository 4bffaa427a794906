"""The README documents every setting and every kind of alert channel a user can configure."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts import CHANNEL_KINDS
from worker.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"NEWSWATCH_{name.upper()}" in README


@pytest.mark.parametrize("kind", sorted(CHANNEL_KINDS))
def test_every_channel_kind_is_documented(kind: str) -> None:
    assert f"`{kind}`" in README
