"""rVCSS and Villalta (cases/scores.py) and the thrombolysis contraindication class
(cases/thrombolysis.py): pure functions, no database.

Boundaries from docs/scores.md#villalta: Villalta 0-4 none, 5-9 mild, 10-14 moderate, ≥15 or
any venous ulcer severe; docs/safety.md#one-contraindication-class for the contraindication
classes.
"""

from __future__ import annotations

import pytest

from cases import scores
from cases.models import Case, Ulcer
from cases.scores import (
    PTS_MILD,
    PTS_MODERATE,
    PTS_NONE,
    PTS_SEVERE,
    ScoreError,
    vcss_total,
    villalta_category,
    villalta_total,
)
from cases.thrombolysis import ABSOLUTE_CODES, RELATIVE_CODES, contraindication_class

VCSS_KEYS = [
    "pain",
    "varicose_veins",
    "oedema",
    "pigmentation",
    "inflammation",
    "induration",
    "ulcer_number",
    "ulcer_duration",
    "ulcer_size",
    "compression",
]
VILLALTA_KEYS = [
    "pain",
    "cramps",
    "heaviness",
    "paraesthesia",
    "pruritus",
    "pretibial_oedema",
    "skin_induration",
    "hyperpigmentation",
    "redness",
    "venous_ectasia",
    "calf_compression_pain",
]


def grades_summing_to(keys: list[str], total: int) -> dict[str, int]:
    """Item grades (each 0-3) adding up to ``total``, filled from the first item on."""
    assert 0 <= total <= 3 * len(keys)
    values = {}
    left = total
    for key in keys:
        values[key] = min(3, left)
        left -= values[key]
    return values


def test_vcss_items_are_the_ten_of_vasquez_2010():
    assert [item.key for item in scores.VCSS_ITEMS] == VCSS_KEYS


def test_villalta_items_are_five_symptoms_and_six_signs():
    assert [item.key for item in scores.VILLALTA_SYMPTOMS] == VILLALTA_KEYS[:5]
    assert [item.key for item in scores.VILLALTA_SIGNS] == VILLALTA_KEYS[5:]


@pytest.mark.parametrize("total", [0, 1, 4, 5, 9, 10, 14, 15, 29, 30])
def test_vcss_total_sums_the_ten_items(total):
    assert vcss_total(grades_summing_to(VCSS_KEYS, total)) == total


def test_vcss_total_weights_every_item_once():
    for key in VCSS_KEYS:
        values = dict.fromkeys(VCSS_KEYS, 0) | {key: 3}
        assert vcss_total(values) == 3, key


@pytest.mark.parametrize("missing", VCSS_KEYS)
def test_vcss_total_is_none_when_an_item_is_not_recorded(missing):
    values = dict.fromkeys(VCSS_KEYS, 1) | {missing: None}
    assert vcss_total(values) is None
    del values[missing]
    assert vcss_total(values) is None


def test_vcss_total_is_none_for_no_items():
    assert vcss_total({}) is None


@pytest.mark.parametrize("bad", [4, -1, "2", 2.0, True, False])
def test_vcss_total_rejects_a_grade_outside_0_to_3(bad):
    values = dict.fromkeys(VCSS_KEYS, 0) | {"oedema": bad}
    with pytest.raises(ScoreError, match=r"Venous oedema: a grade is 0, 1, 2 or 3"):
        vcss_total(values)


def test_vcss_total_rejects_an_unknown_item():
    with pytest.raises(ScoreError, match="Unknown score items: swelling"):
        vcss_total(dict.fromkeys(VCSS_KEYS, 0) | {"swelling": 1})


@pytest.mark.parametrize("total", [0, 4, 5, 9, 10, 14, 15, 33])
def test_villalta_total_sums_the_eleven_items(total):
    assert villalta_total(grades_summing_to(VILLALTA_KEYS, total)) == total


@pytest.mark.parametrize("missing", VILLALTA_KEYS)
def test_villalta_total_is_none_when_an_item_is_not_recorded(missing):
    values = dict.fromkeys(VILLALTA_KEYS, 0) | {missing: None}
    assert villalta_total(values) is None


@pytest.mark.parametrize("bad", [4, -1, "1", 1.5, True])
def test_villalta_total_rejects_a_grade_outside_0_to_3(bad):
    values = dict.fromkeys(VILLALTA_KEYS, 0) | {"redness": bad}
    with pytest.raises(ScoreError, match=r"Redness: a grade is 0, 1, 2 or 3"):
        villalta_total(values)


def test_villalta_total_rejects_a_vcss_item():
    with pytest.raises(ScoreError, match="Unknown score items: oedema"):
        villalta_total(dict.fromkeys(VILLALTA_KEYS, 0) | {"oedema": 0})


def test_score_error_is_a_value_error():
    assert issubclass(ScoreError, ValueError)


@pytest.mark.parametrize(
    ("total", "category"),
    [
        (0, PTS_NONE),
        (4, PTS_NONE),
        (5, PTS_MILD),
        (9, PTS_MILD),
        (10, PTS_MODERATE),
        (14, PTS_MODERATE),
        (15, PTS_SEVERE),
        (33, PTS_SEVERE),
    ],
)
@pytest.mark.parametrize("ulcer", [False, None])
def test_villalta_category_at_every_boundary(total, category, ulcer):
    assert villalta_category(total, ulcer=ulcer) == category


@pytest.mark.parametrize("total", [0, 4, 5, 9, 10, 14, None])
def test_villalta_category_ulcer_makes_it_severe_whatever_the_total(total):
    assert villalta_category(total, ulcer=True) == PTS_SEVERE


@pytest.mark.parametrize("ulcer", [False, None])
def test_villalta_category_is_none_for_an_incomplete_score_without_ulcer(ulcer):
    assert villalta_category(None, ulcer=ulcer) is None


def test_villalta_category_labels_cover_every_category():
    assert set(scores.PTS_CATEGORY_LABELS) == {PTS_NONE, PTS_MILD, PTS_MODERATE, PTS_SEVERE}


def _case_with_villalta(total: int | None, ulcer: str) -> Case:
    case = Case(ulcer=ulcer)
    if total is not None:
        for key, value in grades_summing_to(VILLALTA_KEYS, total).items():
            setattr(case, f"villalta_{key}", value)
    return case


@pytest.mark.parametrize(
    ("total", "ulcer", "category"),
    [
        (4, Ulcer.ACTIVE, PTS_SEVERE),
        (None, Ulcer.ACTIVE, PTS_SEVERE),
        (4, Ulcer.HEALED, PTS_NONE),
        (9, Ulcer.NONE, PTS_MILD),
        (10, "", PTS_MODERATE),
        (15, "", PTS_SEVERE),
        (None, Ulcer.HEALED, None),
        (None, "", None),
    ],
)
def test_case_villalta_category_reads_the_active_ulcer(total, ulcer, category):
    case = _case_with_villalta(total, ulcer)
    assert case.villalta_total == total
    assert case.villalta_category == category


def test_case_vcss_total_is_none_until_every_item_is_graded():
    case = Case()
    for key in VCSS_KEYS[:-1]:
        setattr(case, f"vcss_{key}", 2)
    assert case.vcss_total is None
    case.vcss_compression = 1
    assert case.vcss_total == 19


# The checklist codes belong to the guideline vocabulary; take them from there.
ABS = sorted(ABSOLUTE_CODES)
REL = sorted(RELATIVE_CODES)


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([], "none"),
        ([REL[0]], "relative"),
        (REL[:2], "relative"),
        ([ABS[0]], "absolute"),
        ([REL[0], ABS[-1]], "absolute"),
        (ABS + REL, "absolute"),
        (["not_a_checklist_item"], "none"),
    ],
)
def test_thrombolysis_contraindication_class_from_ticks(codes, expected):
    assert contraindication_class(codes) == expected


@pytest.mark.parametrize("code", sorted(ABSOLUTE_CODES))
def test_thrombolysis_every_absolute_item_makes_the_class_absolute(code):
    assert contraindication_class([code]) == "absolute"


@pytest.mark.parametrize("code", sorted(RELATIVE_CODES))
def test_thrombolysis_every_relative_item_makes_the_class_relative(code):
    assert contraindication_class([code]) == "relative"


def test_thrombolysis_checklist_classes_are_disjoint_and_not_empty():
    assert ABSOLUTE_CODES
    assert RELATIVE_CODES
    assert not ABSOLUTE_CODES & RELATIVE_CODES
