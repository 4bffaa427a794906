"""The web page as a browser meets it (through the test client): logging in and out with forms that other sites
cannot submit, the hit list with its filters and timeline, one hit with its sentences marked, and nothing an
article holds ever read as markup."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import col

from newswatch.storage.db import session_scope
from newswatch.storage.models import StoredArticle
from newswatch.worker.api.gate import SESSION_COOKIE
from newswatch.worker.api.login import LOGIN_COOKIE
from tests.worker.api.conftest import HOSTILE, TOKEN

ESCAPED = "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt; Warplanes strike fuel depot"


def _nonce(page: str) -> str:
    found = re.search(r'name="nonce" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _log_in(client: TestClient, token: str = TOKEN, next: str = "/web/") -> object:
    form = client.get(f"/web/login?next={next}")
    return client.post("/web/login", data={"token": token, "nonce": _nonce(form.text), "next": next})


def _hit_ids(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr data-hit-id="(\d+)"', page)]


def test_the_page_asks_for_a_login_and_keeps_the_token_in_a_strict_httponly_cookie(client: TestClient) -> None:
    away = client.get("/web/?rule=commanders", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/web/login?next=/web/%3Frule%3Dcommanders"
    form = client.get(away.headers["location"])
    assert 'name="token" type="password"' in form.text and "Soleimani" not in form.text
    login_cookie = form.headers["set-cookie"].lower()
    assert "httponly" in login_cookie and "samesite=strict" in login_cookie
    answer = client.post(
        "/web/login",
        data={"token": TOKEN, "nonce": _nonce(form.text), "next": "/web/?rule=commanders"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/web/?rule=commanders"
    session = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert all(part in session.lower() for part in ("httponly", "samesite=strict", "path=/", "max-age="))
    page = client.get("/web/?rule=commanders")
    assert page.status_code == 200 and "Soleimani visits the front" in page.text


def test_a_wrong_token_or_a_forged_login_form_logs_nobody_in(client: TestClient) -> None:
    wrong = _log_in(client, token="wrong-token-0123456789abcdef")
    assert wrong.status_code == 401 and "wrong token" in wrong.text  # type: ignore[attr-defined]
    assert SESSION_COOKIE not in client.cookies
    client.cookies.delete(LOGIN_COOKIE)  # a page of another site has no login cookie to match its form
    forged = client.post("/web/login", data={"token": TOKEN, "nonce": "guessed", "next": "/web/"})
    assert forged.status_code == 403 and SESSION_COOKIE not in client.cookies


def test_after_login_only_paths_of_the_web_page_are_followed(client: TestClient) -> None:
    for elsewhere in ["https://elsewhere.example/", "//elsewhere.example/", "/hits", "/web/\\elsewhere"]:
        client.cookies.clear()
        answer = _log_in(client, next=elsewhere)
        assert answer.url.path == "/web/", elsewhere  # type: ignore[attr-defined]


def test_logging_out_needs_the_form_of_the_session(client: TestClient) -> None:
    _log_in(client)
    page = client.get("/web/").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert csrf
    refused = client.post("/web/logout", data={"csrf": "0" * 64})
    assert refused.status_code == 403 and client.get("/web/", follow_redirects=False).status_code == 200
    client.post("/web/logout", data={"csrf": csrf.group(1)})
    assert client.get("/web/", follow_redirects=False).status_code == 303


def test_the_session_cookie_reads_but_changes_nothing(client: TestClient) -> None:
    _log_in(client)
    assert client.get("/hits").status_code == 200  # GET: the cookie is enough (the OpenAPI explorer uses it)
    assert client.post("/hits").status_code == 401  # anything else needs the Authorization header


def test_the_list_filters_like_the_api_and_shows_a_timeline_per_rule(client: TestClient) -> None:
    _log_in(client)
    page = client.get("/web/", params={"rule": "AIRSTRIKES", "since": "2026-03-01", "until": "2026-03-31"}).text
    assert len(_hit_ids(page)) == 2
    rows = re.findall(r'<span class="timeline-rule">([^<]+)</span>\s*<svg[^>]*>(.*?)</svg>', page, re.S)
    assert [(rule, body.count("<rect")) for rule, body in rows] == [("airstrikes", 2)]
    assert "2026-03-10: 1 hit" in page and "2026-03-07: 1 hit" in page
    assert '<option value="airstrikes" selected>' in page
    every = client.get("/web/", params={"since": "2026-03-01", "until": "2026-03-31"}).text
    rows = re.findall(r'<span class="timeline-rule">([^<]+)</span>', every)
    assert rows == ["airstrikes", "border-crossings", "commanders"]


def test_search_words_are_marked_in_the_list(client: TestClient) -> None:
    _log_in(client)
    page = client.get("/web/", params={"search": "quds"}).text
    assert "the commander of the <mark>Quds</mark> Force" in page


def test_bad_filters_show_what_is_wrong(client: TestClient) -> None:
    _log_in(client)
    page = client.get("/web/", params={"since": "soon", "source": "example.org"})
    assert page.status_code == 422
    assert "since: not a duration or a date: &#39;soon&#39;" in page.text
    assert 'name="source" value="example.org"' in page.text  # the form keeps what was typed


def test_a_hit_shows_its_sentences_marked_and_its_link(client: TestClient) -> None:
    _log_in(client)
    listed = _hit_ids(client.get("/web/", params={"rule": "commanders"}).text)
    page = client.get(f"/web/hits/{listed[0]}").text
    assert "<mark>Qasem Soleimani</mark>, the commander of the Quds Force" in page
    assert "wire.example.net" in page and "severity-high" in page


def test_a_hostile_title_is_text_everywhere(client: TestClient, stored: str) -> None:
    with session_scope(stored) as session:
        session.execute(
            update(StoredArticle).where(col(StoredArticle.title) == HOSTILE).values(url="javascript:alert(1)")
        )
    _log_in(client)
    listed = client.get("/web/", params={"rule": "airstrikes"}).text
    hit_id = _hit_ids(listed)[-1]
    page = client.get(f"/web/hits/{hit_id}")
    for html in (listed, page.text):
        assert ESCAPED in html
        assert "<script" not in html
    assert 'href="javascript:' not in page.text and "javascript:alert(1)" in page.text  # shown, not linked
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no script runs


def test_a_missing_hit_is_a_page_that_says_so(client: TestClient) -> None:
    _log_in(client)
    page = client.get("/web/hits/999999")
    assert page.status_code == 404 and "no hit with id 999999" in page.text
