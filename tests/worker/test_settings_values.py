"""Settings read from the environment: each value parsed by its type, a bad one named with its variable."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from newswatch.storage.errors import ConfigError
from newswatch.worker.config import Settings, effective_settings
from newswatch.worker.settings_values import Secret


@pytest.mark.parametrize(
    ("given", "expected"), [("true", True), ("Yes", True), ("1", True), ("off", False), ("0", False)]
)
def test_yes_and_no_are_read_in_their_usual_spellings(
    given: str, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_FETCH_PAGES", given)
    assert Settings().fetch_pages is expected


def test_values_are_typed_and_lists_split_at_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_READ_TIMEOUT", " 2.5 ")
    monkeypatch.setenv("NEWSWATCH_POLL_CONCURRENCY", "3")
    monkeypatch.setenv("NEWSWATCH_DEFAULT_CHANNELS", "email, slack,,")
    monkeypatch.setenv("NEWSWATCH_CHANNELS_FILE", "channels.yaml")
    settings = Settings()
    assert settings.read_timeout == 2.5 and settings.poll_concurrency == 3
    assert settings.default_channels == ["email", "slack"]
    assert settings.channels_file == Path.cwd() / "channels.yaml"


def test_an_empty_optional_value_is_unset_and_the_name_may_be_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_METRICS_PORT", "")
    monkeypatch.setenv("newswatch_contact_url", "mailto:desk@example.org")
    settings = Settings()
    assert settings.metrics_port is None
    assert settings.contact_url == "mailto:desk@example.org"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("NEWSWATCH_FETCH_PAGES", "maybe", "must be true or false (1/0, yes/no, on/off)"),
        ("NEWSWATCH_POLL_CONCURRENCY", "0", "must be greater than 0"),
        ("NEWSWATCH_MAX_PAGE_BYTES", "5MB", "must be a whole number"),
        ("NEWSWATCH_METRICS_PORT", "70000", "must be between 1 and 65535"),
        ("NEWSWATCH_EXTRACT_TIMEOUT", "nan", "must be a finite number"),
        ("NEWSWATCH_LOG_FORMAT", "yaml", "must be one of auto, json, text"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable_and_the_value(
    variable: str, value: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        Settings()
    assert str(caught.value) == f"config: {variable}: {message} (got {value!r})"


def test_a_secret_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_API_TOKENS", "hunter2-hunter2-hunter2")
    settings = Settings()
    assert isinstance(settings.api_tokens, Secret)
    assert settings.api_tokens.get_secret_value() == "hunter2-hunter2-hunter2"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(effective_settings(settings))


def test_values_given_in_code_override_the_environment_and_a_copy_keeps_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSWATCH_READ_TIMEOUT", "7")
    settings = Settings(connect_timeout=1, allow_hosts="127.0.0.1, localhost")  # type: ignore[arg-type]
    assert (settings.read_timeout, settings.connect_timeout) == (7.0, 1.0)
    assert settings.allow_hosts == ["127.0.0.1", "localhost"]
    copy = replace(settings, fetch_pages=False)
    assert copy.fetch_pages is False and copy.read_timeout == 7.0 and copy.allow_hosts == settings.allow_hosts
    with pytest.raises(TypeError, match="no setting colour"):
        Settings(colour="blue")
