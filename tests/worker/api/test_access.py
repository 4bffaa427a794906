"""Who may read the API, decided before anything is bound: tokens compared against each configured one, no
token only on loopback, tokens too short to be safe refused without being shown. Only the decisions are tested
for other addresses: nothing here binds anything but loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from newswatch.storage.errors import ConfigError
from newswatch.worker.api.access import access_for, csrf_value, is_loopback, parse_tokens
from tests.worker.api.conftest import TOKEN, newswatch


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_without_tokens_loopback_is_served_open(host: str) -> None:
    access = access_for(None, host)
    assert access.open and access.allows(None)


@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "192.168.1.20", "10.0.0.1", "news.example.org"])
def test_without_tokens_any_other_address_is_refused_naming_the_variable(host: str) -> None:
    with pytest.raises(ConfigError, match=r"^api: NEWSWATCH_API_TOKENS is not set: refusing to serve .* without"):
        access_for(None, host)
    with pytest.raises(ConfigError):
        access_for(SecretStr(" , "), host)  # only separators: no token either


def test_with_tokens_every_address_is_served_to_their_holders_only() -> None:
    access = access_for(SecretStr(f"{TOKEN}, second-token-0123456789"), "0.0.0.0")
    assert access.tokens == (TOKEN, "second-token-0123456789")
    assert access.allows(TOKEN) and access.allows("second-token-0123456789")
    for other in [None, "", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), f"{TOKEN},second-token-0123456789", "é" * 30]:
        assert not access.allows(other), other


def test_a_short_or_strange_token_is_refused_without_being_shown() -> None:
    with pytest.raises(ConfigError, match="token 2 of 2 has 6 characters, fewer than 16") as short:
        parse_tokens(SecretStr(f"{TOKEN},tiny12"))
    assert "tiny12" not in str(short.value)
    with pytest.raises(ConfigError, match="token 1 of 1 has characters other than") as strange:
        parse_tokens(SecretStr("a token with spaces inside"))
    assert "spaces" not in str(strange.value)


def test_the_csrf_value_belongs_to_one_token() -> None:
    assert csrf_value(TOKEN) == csrf_value(TOKEN) != csrf_value("other-token-0123456789abcdef")
    assert TOKEN not in csrf_value(TOKEN)


def test_is_loopback_is_about_the_address_not_the_name_looking_local() -> None:
    assert not is_loopback("localhost.example.org") and not is_loopback("127.0.0.1.example.org")


def test_the_command_refuses_a_public_address_without_tokens_in_one_line() -> None:
    result = newswatch("api", "--host", "0.0.0.0", "--port", "1")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: api: NEWSWATCH_API_TOKENS is not set: refusing to serve 0.0.0.0 without tokens "
        "(set it, or bind to 127.0.0.1)"
    ]


def test_the_command_refuses_a_short_token_before_anything_else() -> None:
    result = newswatch("api", "--port", "1", env={"NEWSWATCH_API_TOKENS": "short"})
    assert result.exit_code == 1 and "NEWSWATCH_API_TOKENS: token 1 of 1 has 5 characters" in result.stderr


def test_config_shows_the_tokens_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_API_TOKENS", TOKEN)
    result = newswatch("config", "--json")
    assert json.loads(result.stdout)["settings"]["NEWSWATCH_API_TOKENS"] == "**********"
    assert TOKEN not in result.stdout and TOKEN not in newswatch("config").stdout


def test_help_loads_no_web_framework(tmp_path: Path) -> None:
    script = (
        "import sys\nfrom newswatch.worker.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette', 'uvicorn', 'jinja2'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=dict(os.environ), capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "[]"
