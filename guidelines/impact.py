"""Stored cases streamed for evaluation, and two rule sets compared over them: the one code
path of the impact preview and the Celery task behind it (``guidelines.services.impact_previews``
owns the job rows). The bulk re-evaluation after a publish
(``guidelines.services.reevaluation.reevaluation_run``) streams its cases with
:func:`case_chunks`.

Cases of every centre are evaluated, because a rule change affects them all; the list of
changed cases names only cases of the reader's own centre (``centre_id``). Memory and query
count stay bounded: cases are streamed with ``iterator(chunk_size=...)`` and their patient and
findings come with them (two queries per chunk).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.db.models import Prefetch, QuerySet

from cases.facts import case_facts
from cases.models import Case, SegmentFinding
from guidelines.engine import RuleSet, evaluate

CHUNK_SIZE = 2000
LIST_LIMIT = 50

Progress = Callable[[int, int], None]


def stored_cases() -> QuerySet[Case]:
    """Every stored case (all centres) with what ``case_facts`` reads, in id order.

    A read of the cases app's models for evaluation only; guidelines never writes them.
    """
    return (
        Case.objects.select_related("patient")
        .prefetch_related(Prefetch("findings", queryset=SegmentFinding.objects.order_by("id")))
        .order_by("pk")
    )


def case_chunks(cases: QuerySet[Case], chunk_size: int = CHUNK_SIZE) -> Iterator[list[Case]]:
    """``cases`` (e.g. :func:`stored_cases`, filtered) in lists of ``chunk_size``, each
    fetched with its prefetches as one batch."""
    stream = cases.iterator(chunk_size=chunk_size)
    while chunk := list(islice(stream, chunk_size)):
        yield chunk


@dataclass
class Comparison:
    """What changes between two rule sets over the stored cases."""

    rule_id: str | None
    total: int = 0
    rule_changed: int = 0
    overall_changed: int = 0
    own_total: int = 0
    own_rule_changed: int = 0
    own_overall_changed: int = 0
    transitions: Counter[str] = field(default_factory=Counter)
    overall_transitions: Counter[str] = field(default_factory=Counter)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "total": self.total,
            "rule_changed": self.rule_changed,
            "overall_changed": self.overall_changed,
            "own_total": self.own_total,
            "own_rule_changed": self.own_rule_changed,
            "own_overall_changed": self.own_overall_changed,
            "transitions": dict(self.transitions.most_common()),
            "overall_transitions": dict(self.overall_transitions.most_common()),
            "changes": self.changes,
        }


def ruleset_compare(
    *,
    before: RuleSet,
    after: RuleSet,
    rule_id: str | None = None,
    centre_id: int | None = None,
    limit: int = LIST_LIMIT,
    progress: Progress | None = None,
    cases: QuerySet[Case] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Comparison:
    """Evaluate every case with ``before`` and ``after``.

    Counts the cases whose ``rule_id`` value changes (with ``rule_id`` None: any rule value)
    and whose overall status changes; lists the first ``limit`` changed cases of
    ``centre_id``. ``progress(done, total)`` is called after every chunk.
    """
    queryset = stored_cases() if cases is None else cases
    total = queryset.count()
    result = Comparison(rule_id=rule_id, total=total)
    done = 0
    for chunk in case_chunks(queryset, chunk_size):
        for case in chunk:
            _compare_case(case, before, after, rule_id, centre_id, limit, result)
        done += len(chunk)
        if progress is not None:
            progress(done, max(total, done))
    result.total = max(total, done)
    return result


def _compare_case(
    case: Case,
    before: RuleSet,
    after: RuleSet,
    rule_id: str | None,
    centre_id: int | None,
    limit: int,
    result: Comparison,
) -> None:
    facts = case_facts(case)
    old = evaluate(facts, before)
    new = evaluate(facts, after)
    if rule_id is None:
        old_value = new_value = ""
        rule_changed = any(
            new["rules"].get(rid, {}).get("value") != r["value"] for rid, r in old["rules"].items()
        ) or set(old["rules"]) != set(new["rules"])
    else:
        old_value = old["rules"].get(rule_id, {}).get("value", "not_evaluated")
        new_value = new["rules"].get(rule_id, {}).get("value", "not_evaluated")
        rule_changed = old_value != new_value
    overall_changed = old["overall"] != new["overall"]
    own = centre_id is not None and case.patient.centre_id == centre_id
    result.own_total += own
    if rule_changed:
        result.rule_changed += 1
        result.own_rule_changed += own
        if rule_id is not None:
            result.transitions[f"{old_value} → {new_value}"] += 1
    if overall_changed:
        result.overall_changed += 1
        result.own_overall_changed += own
        result.overall_transitions[f"{old['overall']} → {new['overall']}"] += 1
    if own and (rule_changed or overall_changed) and len(result.changes) < limit:
        result.changes.append(
            {
                "case_id": case.pk,
                "identifier": case.patient.identifier,
                "before": old_value,
                "after": new_value,
                "overall_before": old["overall"],
                "overall_after": new["overall"],
            }
        )
