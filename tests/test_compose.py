"""docker-compose.yml is a valid Compose file whose every command the installed newswatch (and Flower) accepts.

Containers cannot start here, so the file is checked offline: against the Compose specification's own JSON
Schema (tests/fixtures/compose-spec.json, from github.com/compose-spec/compose-spec, schema/compose-spec.json
at 170098ba07d9f53c383a41bfd4c5166b0a4529a6, Apache-2.0), with `jsonschema`, then each service built from
this project's image runs its entrypoint and command with `--help`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from newswatch.alerts.channels import CHANNEL_KINDS
from newswatch.worker.config import Settings

ROOT = Path(__file__).resolve().parent.parent
# The schema declares draft 7 by an address jsonschema does not recognise (no trailing `#`): name it here.
VALIDATOR = jsonschema.Draft7Validator(json.loads((ROOT / "tests" / "fixtures" / "compose-spec.json").read_text()))
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OURS = sorted(name for name, service in SERVICES.items() if "build" in service)
"""Services that run this project's image (entrypoint `newswatch` unless they name another)."""
BIN = Path(sys.executable).parent


def test_the_file_is_valid_against_the_compose_schema() -> None:
    VALIDATOR.validate(COMPOSE)


def test_the_schema_rejects_a_misspelt_key() -> None:
    broken = {**COMPOSE, "services": {**SERVICES, "beat": {**SERVICES["beat"], "comand": ["beat"]}}}
    with pytest.raises(jsonschema.ValidationError, match="comand"):
        VALIDATOR.validate(broken)


def test_the_stack_has_every_part() -> None:
    expected = {"redis", "postgres", "migrate", "worker-io", "worker-extract", "beat", "api", "flower", "mailpit"}
    assert expected <= set(SERVICES)


@pytest.mark.parametrize("name", OURS)
def test_each_command_is_accepted_by_the_installed_program(name: str) -> None:
    service = SERVICES[name]
    argv = [*service.get("entrypoint", ["newswatch"]), *service["command"], "--help"]
    done = subprocess.run(
        [str(BIN / argv[0]), *argv[1:]],
        capture_output=True,
        text=True,
        timeout=60,
        env={key: value for key, value in os.environ.items() if not key.startswith("NEWSWATCH_")},
    )
    assert done.returncode == 0, f"{name}: {' '.join(argv)}\n{done.stdout}{done.stderr}"


def test_long_running_services_restart_and_report_their_health() -> None:
    for name, service in SERVICES.items():
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        assert service["restart"] == "unless-stopped", name
        if name != "beat":  # beat's standby waits on a lock: a running process is its health
            assert "healthcheck" in service, name


def test_services_wait_for_what_they_need() -> None:
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("worker-io", "worker-extract", "beat", "api"):
        assert SERVICES[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert SERVICES[name]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_alert_emails_go_to_the_mail_catcher_by_default() -> None:
    assert SERVICES["worker-io"]["environment"]["NEWSWATCH_SMTP_URL"] == "${NEWSWATCH_SMTP_URL:-smtp://mailpit:1025}"


def test_the_image_installs_flower() -> None:
    assert '".[flower]"' in (ROOT / "Dockerfile").read_text()


def test_env_example_names_only_real_settings_and_every_channel_variable() -> None:
    names = set(re.findall(r"^#? ?(NEWSWATCH_[A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    channel_variables = {variable for kind in CHANNEL_KINDS.values() for variable in kind.env.values()}
    settings = {f"NEWSWATCH_{spec.name.upper()}" for spec in fields(Settings)}
    assert names - settings - channel_variables == set()
    assert channel_variables <= names
    assert {"NEWSWATCH_API_TOKENS", "NEWSWATCH_LOG_FORMAT", "NEWSWATCH_USER_AGENT"} <= names
