"""Email alerts through a real SMTP server on loopback."""

from __future__ import annotations

import email
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest

from newswatch.alerts.email import EmailChannel, EmailSettings
from newswatch.alerts.errors import AlertError
from tests.conftest import Mailbox, _LoopbackSMTP

from .conftest import sample


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def test_it_sends_a_multipart_alert_with_the_evidence(smtp_server: tuple[str, Mailbox]) -> None:
    url, mailbox = smtp_server
    EmailChannel("email", EmailSettings(url=url, sender="newswatch@example.org", to=["desk@example.org"])).send(
        [sample()]
    )
    (raw,) = mailbox.messages
    message = _parse(raw)
    assert message["Subject"] == "[newswatch] airstrikes: US airstrike hits convoy near Tanf"
    assert message["Message-ID"].endswith("@example.org>")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "US [airstrike] on a position" in text and "http://127.0.0.1/news/tanf" in text
    assert '<a href="http://127.0.0.1/news/tanf">US airstrike hits convoy near Tanf</a>' in html
    assert "<mark>airstrike</mark>" in html
    assert "Wire Service" in html and "2017-06-06 17:05" in html


def test_text_that_is_not_ascii_arrives_as_written(smtp_server: tuple[str, Mailbox]) -> None:
    url, mailbox = smtp_server
    title = "Frappe aérienne près d’al-Tanf — « convoi » touché"
    settings = EmailSettings(url=url, sender="Veille Médias <veille@example.org>", to=["Rédaction <desk@example.org>"])
    EmailChannel("email", settings).send([sample(title=title)])
    (raw,) = mailbox.messages
    assert raw.isascii()  # headers as RFC 2047 words, bodies quoted-printable: any server relays it
    message = _parse(raw)
    assert message["Subject"] == f"[newswatch] airstrikes: {title}"
    assert message["From"].addresses[0].display_name == "Veille Médias"
    assert message["To"].addresses[0].addr_spec == "desk@example.org"
    assert message["Message-ID"].endswith("@example.org>")
    assert title in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "« convoi »" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_the_same_alert_keeps_its_message_id(smtp_server: tuple[str, Mailbox]) -> None:
    url, mailbox = smtp_server
    channel = EmailChannel("email", EmailSettings(url=url, sender="newswatch@example.org", to=["desk@example.org"]))
    channel.send([sample()])
    channel.send([sample()])
    first, second = (_parse(raw)["Message-ID"] for raw in mailbox.messages)
    assert first == second


def test_a_script_in_the_title_arrives_escaped_in_html(smtp_server: tuple[str, Mailbox]) -> None:
    url, mailbox = smtp_server
    hostile = sample(title='<script>alert("x")</script> Tanf strike')
    EmailChannel("email", EmailSettings(url=url, sender="newswatch@example.org", to=["desk@example.org"])).send(
        [hostile]
    )
    html = _parse(mailbox.messages[0]).get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_a_digest_groups_alerts_by_rule(smtp_server: tuple[str, Mailbox]) -> None:
    url, mailbox = smtp_server
    messages = [sample(rule="commanders", key="a"), sample(key="b"), sample(title="Second strike", key="c")]
    EmailChannel("email", EmailSettings(url=url, sender="newswatch@example.org", to=["desk@example.org"])).send(
        messages
    )
    message = _parse(mailbox.messages[0])
    assert message["Subject"] == "[newswatch] digest: 3 alerts (airstrikes, commanders)"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.index("[airstrikes]") < text.index("[commanders]")


def test_a_refused_recipient_is_permanent(smtp_server: tuple[str, Mailbox]) -> None:
    url, mailbox = smtp_server
    mailbox.refuse.add("nobody@example.org")
    with pytest.raises(AlertError, match="recipients refused") as caught:
        EmailChannel("email", EmailSettings(url=url, sender="newswatch@example.org", to=["nobody@example.org"])).send(
            [sample()]
        )
    assert caught.value.permanent


def test_a_server_that_is_down_is_transient_and_the_password_is_not_shown(closed_port: int) -> None:
    url = f"smtp://alerts:s3cret@127.0.0.1:{closed_port}"
    with pytest.raises(AlertError) as caught:
        EmailChannel("email", EmailSettings(url=url, sender="newswatch@example.org", to=["desk@example.org"])).send(
            [sample()]
        )
    assert not caught.value.permanent
    assert "s3cret" not in str(caught.value)


@dataclass
class _Peers(Mailbox):
    """A mailbox that also notes the client address (host, port) each message came from."""

    peers: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


def test_alerts_sent_one_after_another_share_a_connection() -> None:
    mailbox = _Peers()
    controller = _LoopbackSMTP(mailbox, hostname="127.0.0.1", port=0)
    controller.start()
    channel = EmailChannel(
        "email", EmailSettings(url=f"smtp://127.0.0.1:{controller.port}", sender="n@example.org", to=["d@example.org"])
    )
    try:
        channel.send([sample(key="a")])
        channel.send([sample(key="b")])
    finally:
        channel.close()
        controller.stop()
    assert len(mailbox.messages) == 2
    assert mailbox.peers[0] == mailbox.peers[1]


def test_a_kept_connection_the_server_closed_is_replaced_before_sending() -> None:
    first, second = _Peers(), _Peers()
    controller = _LoopbackSMTP(first, hostname="127.0.0.1", port=0)
    controller.start()
    port = controller.port
    channel = EmailChannel(
        "email", EmailSettings(url=f"smtp://127.0.0.1:{port}", sender="n@example.org", to=["d@example.org"])
    )
    channel.send([sample(key="a")])
    controller.stop()  # the server goes away with the connection the channel kept
    controller = _LoopbackSMTP(second, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        channel.send([sample(key="b")])
    finally:
        channel.close()
        controller.stop()
    assert len(first.messages) == 1 and len(second.messages) == 1
    assert b"Subject:" in second.messages[0]
