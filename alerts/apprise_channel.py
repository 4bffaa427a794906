"""apprise URLs (Teams, Telegram, Discord, Matrix, ...): the channels that library already serves.

`NEWSWATCH_APPRISE_URLS` holds one or more apprise URLs (comma or space separated); they are secrets.
apprise reports only success or failure, so a failure is retried like any transient error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import SecretStr

from newswatch.alerts.errors import AlertError
from newswatch.alerts.message import AlertMessage, subject
from newswatch.alerts.render import render_text
from newswatch.alerts.settings import ChannelSettings
from newswatch.storage.errors import ConfigError


class AppriseSettings(ChannelSettings):
    """One or more apprise URLs, comma or space separated (secrets: they carry tokens)."""

    urls: SecretStr


class AppriseChannel:
    """Notifies every URL of an apprise configuration with the plain-text alert."""

    def __init__(self, name: str, settings: AppriseSettings) -> None:
        import apprise  # slow to import; most processes never use it

        self.name = name
        self.mode = settings.mode
        self._apprise = apprise.Apprise()
        for url in re.split(r"[\s,]+", settings.urls.get_secret_value().strip()):
            if url and not self._apprise.add(url):
                raise ConfigError(f"{name}: an apprise URL is not valid (scheme {url.split(':', 1)[0]!r})")
        if not len(self._apprise):
            raise ConfigError(f"{name}: no apprise URL given")

    def send(self, messages: Sequence[AlertMessage]) -> None:
        if not self._apprise.notify(title=subject(messages), body=render_text(messages)):
            raise AlertError(f"{self.name}: apprise could not notify every target")
