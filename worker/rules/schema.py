"""The JSON Schema of a rules file, generated from the loader's models so that the two cannot disagree."""

from __future__ import annotations

from typing import Any

from newswatch.worker.rules.loader import RulesFile


def rules_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a whole rules file, as `worker/rules/schema.json` holds it for editors."""
    generated = RulesFile.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://newswatch.example/schemas/rules.json",
        "title": "newswatch watch rules",
        "description": "Watch rules for newswatch. Check a file with `newswatch rules check FILE`.",
        **{key: value for key, value in generated.items() if key not in ("title", "description")},
    }
