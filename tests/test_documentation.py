"""The README documents every setting, every kind of alert channel and every channel variable."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from newswatch.alerts.channels import CHANNEL_KINDS
from newswatch.worker.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(spec.name for spec in fields(Settings)))
def test_every_setting_is_documented(name: str) -> None:
    assert f"NEWSWATCH_{name.upper()}" in README


@pytest.mark.parametrize("kind", sorted(CHANNEL_KINDS))
def test_every_channel_kind_is_documented(kind: str) -> None:
    assert f"`{kind}`" in README


@pytest.mark.parametrize("variable", sorted({v for kind in CHANNEL_KINDS.values() for v in kind.env.values()}))
def test_every_channel_variable_is_documented(variable: str) -> None:
    assert f"`{variable}`" in README
