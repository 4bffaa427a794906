"""The command line, the API and the web page answer the same filters with the same hits, in the same order, on
SQLite and on PostgreSQL: all three ask the one query of `storage.hit_queries`."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from tests.worker.api.conftest import BEARER, TOKEN, newswatch

FILTERS: list[dict[str, str | list[str]]] = [
    {},
    {"rule": "Commanders"},
    {"rule": "AIRSTRIKES", "severity": ["high"]},
    {"since": "2026-03-08", "until": "2026-03-09"},
    {"since": "2026-03-09T12:00"},
    {"source": "example.org"},
    {"source": "Example News", "until": "2026-03-09"},
    {"severity": ["medium", "high"], "since": "2026-03-08"},
    {"search": "mosul"},
    {"search": '"fuel depot"', "rule": "airstrikes"},
    {"source": "elsewhere.example"},
]


def _cli(filters: dict[str, str | list[str]]) -> list[int]:
    args = []
    for name, value in filters.items():
        args += [f"--{name}", ",".join(value) if isinstance(value, list) else value]
    result = newswatch("hits", "--jsonl", "--limit", "0", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line)["id"] for line in result.stdout.splitlines()]


def _api(client: TestClient, filters: dict[str, str | list[str]]) -> list[int]:
    """Every page of two hits, following `next`."""
    ids: list[int] = []
    page = client.get("/hits", params={**filters, "limit": 2}, headers=BEARER).json()
    while True:
        ids += [hit["id"] for hit in page["hits"]]
        if page["next"] is None:
            return ids
        page = client.get(page["next"], headers=BEARER).json()


def _page(client: TestClient, filters: dict[str, str | list[str]]) -> list[int]:
    html = client.get("/web/", params=filters).text
    return [int(found) for found in re.findall(r'<tr data-hit-id="(\d+)"', html)]


def test_the_cli_the_api_and_the_page_give_the_same_hits(client: TestClient) -> None:
    form = client.get("/web/login").text
    nonce = re.search(r'name="nonce" value="([^"]+)"', form)
    assert nonce
    client.post("/web/login", data={"token": TOKEN, "nonce": nonce.group(1), "next": "/web/"})
    for filters in FILTERS:
        from_cli = _cli(filters)
        assert _api(client, filters) == from_cli, filters
        assert _page(client, filters) == from_cli, filters
        assert from_cli or filters == {"source": "elsewhere.example"}, filters
