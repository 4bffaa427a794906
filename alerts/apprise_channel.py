"""apprise URLs (Teams, Telegram, Discord, Matrix, ...): the channels that library already serves.

`NEWSWATCH_APPRISE_URLS` holds one or more apprise URLs (comma or space separated); they are secrets.
apprise reports only success or failure, so a failure is retried like any transient error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from alerts.message import AlertMessage
from alerts.render import render_text, subject
from worker.errors import AlertError, ConfigError


@dataclass
class AppriseChannel:
    """Notifies every URL of an apprise configuration with the plain-text alert."""

    urls: str
    name: str = "apprise"
    mode: str = "immediate"

    def __post_init__(self) -> None:
        import apprise

        self._apprise = apprise.Apprise()
        for url in re.split(r"[\s,]+", self.urls.strip()):
            if url and not self._apprise.add(url):
                raise ConfigError(f"{self.name}: an apprise URL is not valid (scheme {url.split(':', 1)[0]!r})")
        if not len(self._apprise):
            raise ConfigError(f"{self.name}: no apprise URL given")

    def send(self, messages: Sequence[AlertMessage]) -> None:
        if not self._apprise.notify(title=subject(messages), body=render_text(messages)):
            raise AlertError(f"{self.name}: apprise could not notify every target")
