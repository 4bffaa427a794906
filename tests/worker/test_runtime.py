"""Settings and per-process resources: read once, built when first used, never a silent default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from newswatch.storage.errors import ConfigError
from newswatch.worker.celery_app import create_app
from newswatch.worker.config import Settings, load_settings
from newswatch.worker.runtime import Runtime


def test_importing_the_tasks_builds_no_celery_app_and_connects_nowhere() -> None:
    code = (
        "import newswatch.worker.tasks, newswatch.worker.celery_app, newswatch.worker.cli; "
        "from celery import _state; print(len(list(_state._get_active_apps())))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"


def test_there_is_no_default_broker() -> None:
    with pytest.raises(ConfigError, match="NEWSWATCH_BROKER_URL is not set"):
        create_app(Settings(broker_url=None))
    with pytest.raises(ConfigError, match="NEWSWATCH_BROKER_URL is not set"):
        Runtime(Settings(broker_url=None)).redis  # noqa: B018


def test_an_app_is_built_from_the_settings_it_is_given() -> None:
    app = create_app(Settings(broker_url="redis://127.0.0.1:6379/13", visibility_timeout=600))
    assert app.conf.broker_url == "redis://127.0.0.1:6379/13"
    assert app.conf.broker_transport_options == {"visibility_timeout": 600}
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost


def test_relative_defaults_are_resolved_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSWATCH_DATABASE_URL")
    monkeypatch.delenv("NEWSWATCH_RULES")
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'newswatch.db'}"
    assert settings.rules == tmp_path / "seeds" / "rules.yaml"


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_READ_TIMEOUT", "abc")
    with pytest.raises(ConfigError, match="NEWSWATCH_READ_TIMEOUT") as caught:
        load_settings()
    assert "'abc'" in str(caught.value)


def test_a_forked_child_keeps_its_parents_compiled_rules_and_nothing_else() -> None:
    from newswatch.worker import runtime as module

    parent = module.get_runtime()
    rules = parent.rules()
    parent.pid = -1  # as a forked child sees its parent's runtime
    try:
        child = module.get_runtime()
        assert child is not parent
        assert child.rules() is rules
        assert "client" not in child.__dict__ and "channels" not in child.__dict__
    finally:
        module.reset_runtime()
