"""The address guard's decision, on a table of URLs and addresses: decided without connecting anywhere."""

from __future__ import annotations

import ipaddress

import pytest

from newswatch.worker.ingest.addresses import AllowList, ip_literal, refusal, url_refusal

NOBODY = AllowList()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/feed", "loopback address 127.0.0.1"),
        ("http://127.8.9.10/", "loopback address 127.8.9.10"),
        ("http://localhost:8080/", "loopback name localhost"),
        ("http://LOCALHOST./", "loopback name localhost"),
        ("http://feeds.localhost/", "loopback name feeds.localhost"),
        ("http://10.0.0.1/feed", "private address 10.0.0.1"),
        ("http://10.255.255.254/", "private address 10.255.255.254"),
        ("http://172.16.0.1/", "private address 172.16.0.1"),
        ("http://172.31.255.255/", "private address 172.31.255.255"),
        ("http://192.168.1.20/", "private address 192.168.1.20"),
        ("http://169.254.169.254/latest/meta-data/", "link-local address 169.254.169.254"),
        ("http://[fe80::1]/", "link-local address fe80::1"),
        ("http://[fd00::1]/", "private address fd00::1"),
        ("http://[::1]/", "loopback address ::1"),
        ("http://[::1]:8080/feed", "loopback address ::1"),
        ("http://0.0.0.0/", "unspecified address 0.0.0.0"),
        ("http://[::]/", "unspecified address ::"),
        ("http://2130706433/", "loopback address 127.0.0.1"),
        ("http://0177.0.0.1/", "loopback address 127.0.0.1"),
        ("http://0x7f.0.0.1/", "loopback address 127.0.0.1"),
        ("http://0x7f000001/", "loopback address 127.0.0.1"),
        ("http://127.1/", "loopback address 127.0.0.1"),
        ("http://012.0.0.1/", "private address 10.0.0.1"),
        ("http://3232235777/", "private address 192.168.1.1"),
        ("http://[::ffff:127.0.0.1]/", "loopback address 127.0.0.1"),
        ("http://[::ffff:169.254.169.254]/", "link-local address 169.254.169.254"),
        ("http://[::ffff:10.0.0.1]/", "private address 10.0.0.1"),
        ("http://100.64.0.1/", "non-public address 100.64.0.1"),
        ("http://224.0.0.1/", "multicast address 224.0.0.1"),
        ("http://[2002:7f00:1::]/", "non-public address 2002:7f00:1::"),
        ("file:///etc/passwd", "scheme file is not http or https"),
        ("gopher://127.0.0.1:70/", "scheme gopher is not http or https"),
        ("ftp://example.org/feed", "scheme ftp is not http or https"),
    ],
)
def test_non_public_addresses_are_refused_with_the_reason(url: str, reason: str) -> None:
    refused = url_refusal(url, NOBODY)
    assert refused is not None and refused.startswith(reason)


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/feed",
        "https://8.8.8.8/",
        "http://172.32.0.1/",
        "HTTP://[2606:4700:4700::1111]/",
        "https://example.org/feed.xml",  # a name: judged on the addresses it resolves to, when connecting
    ],
)
def test_public_addresses_and_host_names_pass(url: str) -> None:
    assert url_refusal(url, NOBODY) is None


@pytest.mark.parametrize(
    ("allowed", "url", "passes"),
    [
        ("127.0.0.1", "http://127.0.0.1:8080/", True),
        ("127.0.0.1", "http://2130706433:8080/", True),  # the same address, spelled otherwise
        ("127.0.0.1", "http://[::ffff:127.0.0.1]/", True),
        ("127.0.0.1", "http://127.0.0.2/", False),
        ("127.0.0.1:8080", "http://127.0.0.1:8080/", True),
        ("127.0.0.1:8080", "http://127.0.0.1:8081/", False),
        ("127.0.0.1:8080", "http://localhost:8080/", False),  # a name is judged once resolved
        ("localhost", "http://localhost:9999/", True),
        ("localhost:80", "http://localhost/", True),
        ("localhost:80", "https://localhost/", False),
        ("::1", "http://[::1]:8080/", True),
        ("[::1]:8080", "http://[::1]:8080/", True),
        ("[::1]:8080", "http://[::1]:8081/", False),
        ("feeds.internal, 10.0.0.5", "http://10.0.0.5/", True),
        ("feeds.internal, 10.0.0.5", "http://10.0.0.6/", False),
    ],
)
def test_listed_hosts_pass_by_name_address_and_port(allowed: str, url: str, passes: bool) -> None:
    allow = AllowList.parse(allowed.split(","))
    assert (url_refusal(url, allow) is None) is passes


def test_a_listed_address_allows_a_name_resolving_to_it_and_a_listed_name_any_address() -> None:
    loopback = ipaddress.ip_address("127.0.0.1")
    assert refusal("feeds.internal", 80, loopback, AllowList.parse(["127.0.0.1"])) is None
    assert refusal("feeds.internal", 80, loopback, AllowList.parse(["feeds.internal"])) is None
    assert refusal("feeds.internal", 80, loopback, AllowList.parse(["other.internal"])) == "loopback address 127.0.0.1"
    assert refusal("example.org", 443, ipaddress.ip_address("93.184.215.14"), NOBODY) is None


@pytest.mark.parametrize("entry", ["host:port", "127.0.0.1:0", "127.0.0.1:70000", "[::1]:x", "http://a/"])
def test_an_entry_that_is_no_host_is_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="host|port"):
        AllowList.parse([entry])


@pytest.mark.parametrize(
    ("host", "address"),
    [("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("10.1", "10.0.0.1")],
)
def test_ip_spellings_resolvers_accept_are_read_as_they_would(host: str, address: str) -> None:
    assert ip_literal(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["example.org", "1.2.3.4.5", "09.1.1.1", "256.1.1.1", "4294967296", "0x"])
def test_names_are_not_ip_spellings(host: str) -> None:
    assert ip_literal(host) is None
