"""Measuring rules on labelled texts: precision, recall and F1 per rule, and every miss with its reason.

A labelled text says, for some rules, whether an analyst would want it matched. A rule is scored only on
the texts that label it. For a false positive the reason is the hit's evidence (the sentences that
matched); for a false negative, the first clause that failed and the terms of the rule that did occur.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from newswatch.worker.article import Article
from newswatch.worker.rules import RuleSet


@dataclass(frozen=True)
class Labelled:
    """One labelled text, read into an article; `labels` maps rule names to whether it should match."""

    id: str
    article: Article
    labels: dict[str, bool]


@dataclass(frozen=True)
class Miss:
    """A text a rule got wrong, and why."""

    id: str
    kind: str
    """`false positive` or `false negative`."""
    title: str
    why: str


@dataclass
class RuleScore:
    """Counts and misses of one rule."""

    rule: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    misses: list[Miss] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "misses": [miss.__dict__ for miss in self.misses],
        }


def evaluate_rules(rule_set: RuleSet, items: Iterable[Labelled]) -> dict[str, RuleScore]:
    """Every enabled rule's score on the texts that label it (rules no text labels are left out)."""
    scores: dict[str, RuleScore] = {}
    for item in items:
        for explanation in rule_set.explain(item.article):
            wanted = item.labels.get(explanation.rule)
            if wanted is None:
                continue
            score = scores.setdefault(explanation.rule, RuleScore(explanation.rule))
            matched = explanation.hit is not None
            title = item.article.title[:100]
            if matched and wanted:
                score.tp += 1
            elif not matched and not wanted:
                score.tn += 1
            elif matched and explanation.hit is not None:
                score.fp += 1
                evidence = " | ".join(s.marked() for s in explanation.hit.snippets[:2])
                score.misses.append(Miss(item.id, "false positive", title, evidence))
            else:
                score.fn += 1
                near = ", ".join(explanation.partial) or "none of its terms"
                why = f"failed at {explanation.failed}; found: {near}"
                score.misses.append(Miss(item.id, "false negative", title, why))
    return scores


def example_failures(rule_set: RuleSet, read: Callable[[str], Article]) -> list[str]:
    """Every rule example that does not come out as the rule says, located `file:line`, with why."""
    failures = []
    for rule in rule_set.parsed:
        if not rule.spec.enabled:
            continue  # a disabled rule is not compiled: its examples wait until it is enabled again
        examples = rule.spec.examples
        cases = [(text, True, f"examples.match[{i}]") for i, text in enumerate(examples.match)]
        cases += [(text, False, f"examples.no_match[{i}]") for i, text in enumerate(examples.no_match)]
        for text, wanted, where in cases:
            (explanation,) = [e for e in rule_set.explain(read(text)) if e.rule == rule.spec.name]
            if (explanation.hit is not None) == wanted:
                continue
            if wanted:
                why = f"did not match (failed at {explanation.failed})"
            else:
                assert explanation.hit is not None
                why = f"matched: {explanation.hit.snippets[0].marked() if explanation.hit.snippets else ''}"
            quoted = text if len(text) <= 80 else text[:77] + "..."
            line = rule.example_lines.get("match" if wanted else "no_match", rule.line)
            failures.append(f"{rule_set.source}:{line}: {rule.spec.name}: {where} {why}: {quoted!r}")
    return failures
