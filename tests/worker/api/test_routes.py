"""The JSON routes as a client script uses them, on SQLite and PostgreSQL: a token or nothing, the filters of
`newswatch hits`, pages that follow on, 422 saying what is wrong, 404 for what is not stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newswatch.storage.db import session_scope
from newswatch.storage.feeds import add_feed
from newswatch.worker.api.gate import UNAUTHORIZED
from tests.worker.api.conftest import BEARER, HOSTILE, OTHER_TOKEN, TOKEN

ROUTES = ["/hits", "/hits/{hit}", "/articles/{article}", "/rules", "/feeds", "/stats", "/openapi.json", "/docs"]
NO_ENTRY = [
    {},
    {"Authorization": "Bearer wrong-token-0123456789abcdef"},
    {"Authorization": f"Bearer {TOKEN[:-1]}"},
    {"Authorization": TOKEN},
    {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": "Bearer "},
]


def _get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers=BEARER)
    assert response.status_code == 200, response.text
    return response.json()


def _rules(client: TestClient, **params: Any) -> list[str]:
    return [hit["rule"] for hit in _get(client, "/hits", **params)["hits"]]


def test_every_route_answers_a_token_and_nothing_else(client: TestClient) -> None:
    hit = _get(client, "/hits", limit=1)["hits"][0]
    for route in ROUTES:
        path = route.format(hit=hit["id"], article=hit["article"]["id"])
        assert client.get(path, headers=BEARER).status_code == 200, path
        assert client.get(path, headers={"Authorization": f"Bearer {OTHER_TOKEN}"}).status_code == 200, path
        for headers in NO_ENTRY:
            response = client.get(path, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.json() == UNAUTHORIZED  # no data, whatever the route
            assert response.headers["www-authenticate"] == "Bearer"


def test_bad_parameters_and_unknown_paths_without_a_token_are_401_too(client: TestClient) -> None:
    for path in ["/hits?since=soon&limit=0", "/hits/0", "/articles/abc", "/no-such-route", "/hits?rule=nope"]:
        response = client.get(path)
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED), path


def test_healthz_needs_no_token_and_tells_nothing_else(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_hits_are_newest_first_and_a_rule_is_found_in_any_case(client: TestClient) -> None:
    assert _rules(client) == ["airstrikes", "commanders", "border-crossings", "airstrikes"]
    assert _rules(client, rule="AirStrikes") == ["airstrikes", "airstrikes"]
    (commander,) = _get(client, "/hits", rule="commanders")["hits"]
    assert commander["matches"] == ["Soleimani", "Qasem Soleimani"]
    assert commander["article"]["domain"] == "wire.example.net"
    assert commander["date"].startswith("2026-03-09T09:00:00")


def test_filters_combine_as_on_the_command_line(client: TestClient) -> None:
    assert _rules(client, since="2026-03-09", until="2026-03-09") == ["commanders"]
    assert _rules(client, source="example.org") == ["airstrikes", "border-crossings"]  # and its subdomains
    assert _rules(client, source="example news") == ["airstrikes", "border-crossings"]  # a site name
    assert _rules(client, severity=["medium"]) == ["border-crossings"]
    assert _rules(client, severity=["medium", "high"], since="2026-03-09") == ["airstrikes", "commanders"]
    assert _rules(client, rule="", source="", search="") == _rules(client)  # an empty form field is no filter


def test_search_gives_the_passage_with_its_words_marked(client: TestClient) -> None:
    (found,) = _get(client, "/hits", search='quds "front lines"')["hits"]
    assert found["rule"] == "commanders"
    marked = [found["found"]["text"][start:end] for start, end in found["found"]["marks"]]
    assert marked == ["Quds", "front lines"]


def test_pages_follow_on_without_repeating_or_skipping_a_hit(client: TestClient) -> None:
    every = [hit["id"] for hit in _get(client, "/hits")["hits"]]
    seen, more, page = [], [], _get(client, "/hits", limit=1)
    while True:
        seen += [hit["id"] for hit in page["hits"]]
        more.append(page["more"])
        if page["next"] is None:
            assert page["next_cursor"] is None
            break
        assert "limit=1" in page["next"] and f"cursor={page['next_cursor']}" in page["next"]
        response = client.get(page["next"], headers=BEARER)
        page = response.json()
    assert seen == every and more == [3, 2, 1, 0]


@pytest.mark.parametrize(
    ("query", "parameter", "said"),
    [
        ("since=soon", "since", "not a duration or a date: 'soon'"),
        ("until=2026-13-01", "until", "not a duration or a date: '2026-13-01'"),
        ("since=99999999999d", "since", "out of range"),
        ("limit=0", "limit", "greater than or equal to 1"),
        ("limit=501", "limit", "less than or equal to 500"),
        ("limit=many", "limit", "valid integer"),
        ("severity=urgent", "severity", "'low', 'medium', 'high' or 'critical'"),
        ("cursor=not-a-cursor", "cursor", "not a cursor: 'not-a-cursor'"),
        ("search=%22%22", "search", "no words to search for"),
        ("rule=air-strikes", "rule", "unknown rule 'air-strikes'; known rules: airstrikes, border-crossings"),
        ("source=a%00b", "source", "should match pattern"),
        ("source=99999999999", "source", "not a feed id: '99999999999'"),
        ("source=%C2%B2", "source", "not a feed id: '²'"),
    ],
)
def test_bad_parameters_are_422_saying_which_and_what_is_wrong(
    client: TestClient, query: str, parameter: str, said: str
) -> None:
    response = client.get(f"/hits?{query}", headers=BEARER)
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"][:2] == ["query", parameter]
    assert said in problem["msg"]


def test_a_rule_of_the_rules_file_without_hits_yet_is_an_empty_page(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = client.app.state.newswatch  # type: ignore[attr-defined]
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: tehran, query: Tehran}\n")
    state.rule_cache.path = rules
    assert _get(client, "/hits", rule="Tehran") == {"hits": [], "more": 0, "next_cursor": None, "next": None}
    response = client.get("/hits", params={"rule": "nowhere"}, headers=BEARER)
    assert "known rules: airstrikes, border-crossings, commanders, tehran" in response.json()["detail"][0]["msg"]


def test_one_hit_and_its_article(client: TestClient) -> None:
    listed = _get(client, "/hits", rule="airstrikes")["hits"][-1]
    hit = _get(client, f"/hits/{listed['id']}")
    assert hit["article"]["title"] == HOSTILE and hit["evidence"]["snippets"]
    article = _get(client, f"/articles/{hit['article']['id']}")
    assert article["title"] == HOSTILE and "fuel depot near Idlib" in article["text"]
    assert [(h["id"], h["rule"]) for h in article["hits"]] == [(hit["id"], "airstrikes")]


@pytest.mark.parametrize("path", ["/hits/999999", "/articles/999999"])
def test_what_is_not_stored_is_404(client: TestClient, path: str) -> None:
    response = client.get(path, headers=BEARER)
    assert response.status_code == 404 and "no " in response.json()["detail"]
    assert client.get(path.replace("999999", "0"), headers=BEARER).status_code == 422


def test_rules_are_the_configured_rules_file(client: TestClient) -> None:
    rules = _get(client, "/rules")
    names = [rule["name"] for rule in rules["rules"]]
    assert {"airstrikes", "border-crossings", "commanders"} <= set(names)
    airstrikes = next(rule for rule in rules["rules"] if rule["name"] == "airstrikes")
    assert airstrikes["severity"] == "high"
    hit = _get(client, "/hits", limit=1)["hits"][0]
    assert rules["version"] == hit["rules_version"]


def test_feeds_are_listed_with_their_state(client: TestClient, stored: str) -> None:
    with session_scope(stored) as session:
        add_feed(session, "https://news.example.org/feed.xml", interval_seconds=600, title="Example News")
    (feed,) = _get(client, "/feeds")
    assert feed["url"] == "https://news.example.org/feed.xml" and feed["interval_seconds"] == 600
    assert set(feed) >= {"last_polled_at", "next_poll_at", "last_status", "last_error", "error_count"}
    assert "etag" not in feed


def test_stats_count_hits_per_rule_per_day(client: TestClient) -> None:
    stats = _get(client, "/stats", since="2026-03-01", until="2026-03-31")
    assert stats["rules"] == {
        "airstrikes": {"2026-03-07": 1, "2026-03-10": 1},
        "border-crossings": {"2026-03-08": 1},
        "commanders": {"2026-03-09": 1},
    }
    assert _get(client, "/stats", since="2026-03-01", rule="COMMANDERS")["rules"] == {"commanders": {"2026-03-09": 1}}
    assert client.get("/stats", params={"since": "later"}, headers=BEARER).status_code == 422
