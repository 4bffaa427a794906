"""Email over SMTP: a multipart message (plain text + HTML) per alert or digest.

`smtp://user:pass@host:25` (plain, STARTTLS when the server offers it), `smtp+starttls://...` (STARTTLS
required), `smtps://...:465` (TLS from the start). Certificates are checked (`ssl.create_default_context`).
Refused recipients and failed logins are permanent; connection problems and 4xx replies are retried.

A connection is kept open for `KEEP_OPEN` seconds after a send, for the next alert (a round's alerts come
milliseconds apart): connect, greeting, EHLO, STARTTLS and login once, not once per alert. A kept connection
carries a message only if nothing arrived on it while it was idle: a server that drops an idle connection
closes it, or says 421 first, and either makes the socket readable, so such a connection is replaced before
anything is sent on it (checked without a round trip, as urllib3 checks a pooled connection). A connection
on which anything failed is never kept. Each message is still its own SMTP transaction, accepted or refused
as before; threads sending at once each use their own connection.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import select
import smtplib
import ssl
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator

from newswatch.alerts.errors import AlertError
from newswatch.alerts.message import AlertMessage, subject
from newswatch.alerts.render import render_html, render_text
from newswatch.alerts.settings import ChannelSettings

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
KEEP_OPEN = 15.0
"""Seconds an idle connection is kept for the next alert before it is closed with QUIT."""
EXIT_TIMEOUT = 2.0
"""Seconds the QUIT of a kept connection may take when the process exits."""


def email_message(messages: Sequence[AlertMessage], *, sender: str, to: Sequence[str]) -> Message:
    """The multipart email for one alert or a digest, with a Message-ID derived from the alert keys.

    Built from the MIME classes with their plain header strings: the structured headers of `EmailMessage` are
    parsed when set and refolded when sent, which took two thirds of an alert's e-mail CPU. Text that is not
    ASCII goes out as RFC 2047 words in headers and quoted-printable UTF-8 in bodies.
    """
    email = MIMEMultipart("alternative")
    title = subject(messages)
    # A Header is folded into RFC 2047 words when sent (typeshed types header values of MIME classes as str).
    email["Subject"] = title if title.isascii() else Header(title, _UTF8, header_name="Subject")  # type: ignore[assignment]
    email["From"] = _address(sender)
    email["To"] = ", ".join(_address(address) for address in to)
    email["Date"] = formatdate(localtime=False)
    digest = hashlib.sha256("|".join(m.key for m in messages).encode()).hexdigest()[:32]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "newswatch.local"
    email["Message-ID"] = f"<{digest}@{domain}>"  # the same alert resent keeps its id: clients dedupe
    email["X-Newswatch-Rules"] = ", ".join(sorted({m.rule for m in messages}))
    email.attach(_text_part(render_text(messages), "plain"))
    email.attach(_text_part(render_html(messages), "html"))
    return email


_UTF8 = Charset("utf-8")
_UTF8.header_encoding = _UTF8.body_encoding = QP  # readable in the raw message, unlike base64


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part.set_payload(text, _UTF8)
    return part


def _address(text: str) -> str:
    """`Name <address>` or an address as a header value; a display name that is not ASCII is encoded."""
    name, address = parseaddr(text)
    return formataddr((name, address or text), charset="utf-8")


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
        self._lock = threading.Lock()
        self._idle: list[tuple[smtplib.SMTP, float]] = []
        """Connections open for the next send, with when each was last used (monotonic)."""
        self._pid = os.getpid()
        """The process the idle connections belong to: a forked child never writes on its parent's."""
        self._closer: threading.Thread | None = None
        _CHANNELS.add(self)

    def send(self, messages: Sequence[AlertMessage]) -> None:
        email = email_message(messages, sender=self.sender, to=self.to)
        try:
            smtp = self._take()
            with _dropped_on_failure(smtp):
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
        self._keep(smtp)
        if refused:
            raise AlertError(f"{self.name}: recipients refused: {', '.join(refused)}", permanent=True)

    def close(self, *, timeout: float | None = None) -> None:
        """QUIT the connections kept open, waiting at most `timeout` seconds for each reply (default: the
        channel's); the next send opens a new one."""
        for smtp in self._close_idle(older_than=0.0):
            if timeout is not None and smtp.sock is not None:
                smtp.sock.settimeout(timeout)
            _quit(smtp)

    def _take(self) -> smtplib.SMTP:
        """A kept connection the server has not closed or given up on, else a new one, logged in."""
        while True:
            with self._lock:
                self._forget_after_fork()
                if not self._idle:
                    break
                smtp, _ = self._idle.pop()
            if _idle_and_open(smtp):
                return smtp
            smtp.close()
        smtp = self._connect()
        with _dropped_on_failure(smtp):
            if self._user:
                smtp.login(self._user, self._password or "")
        return smtp

    def _keep(self, smtp: smtplib.SMTP) -> None:
        """Keep a connection that just sent for the next send; a thread closes it after `KEEP_OPEN` idle seconds."""
        with self._lock:
            self._forget_after_fork()
            self._idle.append((smtp, time.monotonic()))
            if self._closer is None:
                self._closer = threading.Thread(
                    target=_close_when_idle, args=(weakref.ref(self),), name=f"newswatch-{self.name}", daemon=True
                )
                self._closer.start()

    def _close_idle(self, *, older_than: float) -> list[smtplib.SMTP]:
        """Take out the kept connections idle for `older_than` seconds or more (to be closed by the caller)."""
        with self._lock:
            self._forget_after_fork()
            now = time.monotonic()
            stale = [smtp for smtp, used in self._idle if now - used >= older_than]
            self._idle = [(smtp, used) for smtp, used in self._idle if now - used < older_than]
            return stale

    def _forget_after_fork(self) -> None:
        # Called with the lock held. A child forked with connections kept leaves them to its parent.
        if self._pid != os.getpid():
            self._pid, self._idle, self._closer = os.getpid(), [], None

    def _connect(self) -> smtplib.SMTP:
        if self._scheme == "smtps":
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self.timeout, context=_tls_context())
        smtp = smtplib.SMTP(self._host, self._port, timeout=self.timeout)
        smtp.ehlo()
        if self._scheme == "smtp+starttls" or smtp.has_extn("starttls"):
            smtp.starttls(context=_tls_context())
            smtp.ehlo()
        return smtp


def _idle_and_open(smtp: smtplib.SMTP) -> bool:
    """Whether nothing arrived on an idle connection: no close, no 421, no unread reply."""
    sock = smtp.sock
    if sock is None or (isinstance(sock, ssl.SSLSocket) and sock.pending()):
        return False
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return not poller.poll(0)
    except (OSError, ValueError):  # a closed socket
        return False


@contextmanager
def _dropped_on_failure(smtp: smtplib.SMTP) -> Iterator[None]:
    """A connection on which anything failed is never kept: QUIT after an SMTP error (the server still
    listens), closed after any other."""
    try:
        yield
    except smtplib.SMTPException:
        _quit(smtp)
        raise
    except BaseException:
        smtp.close()
        raise


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _close_when_idle(ref: weakref.ref[EmailChannel]) -> None:
    """A channel's closer thread: QUIT each kept connection once idle for `KEEP_OPEN` seconds; ends when none
    is left (the next kept connection starts another)."""
    while (channel := ref()) is not None:
        for smtp in channel._close_idle(older_than=KEEP_OPEN):
            _quit(smtp)
        with channel._lock:
            if channel._closer is not threading.current_thread():
                return  # a forked child's record of its parent's thread was reset
            if not channel._idle:
                channel._closer = None
                return
            wait = min(used for _, used in channel._idle) + KEEP_OPEN - time.monotonic()
        del channel
        time.sleep(max(wait, 0.01))


_CHANNELS: weakref.WeakSet[EmailChannel] = weakref.WeakSet()
"""The e-mail channels alive in this process: their kept connections are closed at exit (one hook for all)."""


@atexit.register
def _close_at_exit() -> None:
    for channel in list(_CHANNELS):
        channel.close(timeout=EXIT_TIMEOUT)  # a server that hangs does not hold up the exit


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """One certificate-checking context per process, made when TLS is first used: loading the system's CA
    certificates takes about 20 ms, which every alert paid when each connection made its own."""
    return ssl.create_default_context()
