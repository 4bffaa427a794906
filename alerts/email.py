"""Email over SMTP: a multipart message (plain text + HTML) per alert or digest.

`smtp://user:pass@host:25` (plain, STARTTLS when the server offers it), `smtp+starttls://...` (STARTTLS
required), `smtps://...:465` (TLS from the start). Certificates are checked (`ssl.create_default_context`).
Refused recipients and failed logins are permanent; connection problems and 4xx replies are retried.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator

from newswatch.alerts.errors import AlertError
from newswatch.alerts.message import AlertMessage, subject
from newswatch.alerts.render import render_html, render_text
from newswatch.alerts.settings import ChannelSettings

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


def email_message(messages: Sequence[AlertMessage], *, sender: str, to: Sequence[str]) -> EmailMessage:
    """The multipart email for one alert or a digest, with a Message-ID derived from the alert keys."""
    email = EmailMessage()
    email["Subject"] = subject(messages)
    email["From"] = sender
    email["To"] = ", ".join(to)
    email["Date"] = formatdate(localtime=False)
    digest = hashlib.sha256("|".join(m.key for m in messages).encode()).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "newswatch.local"
    email["Message-ID"] = f"<{digest}@{domain}>"  # the same alert resent keeps its id: clients dedupe
    email["X-Newswatch-Rules"] = ", ".join(sorted({m.rule for m in messages}))
    email.set_content(render_text(messages))
    email.add_alternative(render_html(messages), subtype="html")
    return email


class EmailSettings(ChannelSettings):
    """An SMTP server (its URL holds the password), a sender and at least one recipient."""

    url: SecretStr
    sender: str
    to: list[str] = Field(min_length=1)
    timeout: float = 20.0

    @field_validator("url")
    @classmethod
    def _smtp_url(cls, value: SecretStr) -> SecretStr:
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError("the SMTP URL must look like smtp://host, smtp+starttls://host or smtps://host")
        return value


class EmailChannel:
    """Sends through one SMTP server; the URL (with its password) never appears in errors."""

    def __init__(self, name: str, settings: EmailSettings) -> None:
        self.name = name
        self.mode = settings.mode
        self.sender = settings.sender
        self.to = list(settings.to)
        self.timeout = settings.timeout
        parts = urlsplit(settings.url.get_secret_value())
        self._scheme = parts.scheme
        self._host = parts.hostname or ""
        self._port = parts.port or SCHEMES[parts.scheme]
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None

    def send(self, messages: Sequence[AlertMessage]) -> None:
        email = email_message(messages, sender=self.sender, to=self.to)
        try:
            with self._connect() as smtp:
                if self._user:
                    smtp.login(self._user, self._password or "")
                try:
                    refused = smtp.send_message(email)
                except TimeoutError:  # the message went out and no reply came: it may be delivered
                    raise AlertError(
                        f"{self.name}: no answer from {self._host}:{self._port} after sending", unknown_outcome=True
                    ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise AlertError(f"{self.name}: login refused: {exc.smtp_code}", permanent=True) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise AlertError(
                f"{self.name}: recipients refused: {', '.join(exc.recipients)} ({codes})",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise AlertError(f"{self.name}: server replied {exc.smtp_code}", permanent=exc.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise AlertError(f"{self.name}: unable to reach {self._host}:{self._port}: {type(exc).__name__}") from None
        if refused:
            raise AlertError(f"{self.name}: recipients refused: {', '.join(refused)}", permanent=True)

    def _connect(self) -> smtplib.SMTP:
        if self._scheme == "smtps":
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self.timeout, context=_tls_context())
        smtp = smtplib.SMTP(self._host, self._port, timeout=self.timeout)
        smtp.ehlo()
        if self._scheme == "smtp+starttls" or smtp.has_extn("starttls"):
            smtp.starttls(context=_tls_context())
            smtp.ehlo()
        return smtp


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """One certificate-checking context per process, made when TLS is first used: loading the system's CA
    certificates takes about 20 ms, which every alert paid when each connection made its own."""
    return ssl.create_default_context()
