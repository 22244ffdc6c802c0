"""The default surveillance protocols (docs/followup.md#default-protocols; practice consensus,
provisional).

Version 1 of each protocol is created from this table by a data migration (and again after
a test-database flush, see ``followup.apps``); guideline admins revise them in the app.
The windows are this app's defaults (provisional, docs/followup.md#visit-windows), not from a
guideline: day 0–1 for the discharge duplex, ±3 days at 2 weeks, ±7 days at 6 weeks, ±14 days
at 3 and 6 months, ±30 days from 12 months on.
"""

from __future__ import annotations

from typing import Any

DUE_SOON_DAYS = 14
HORIZON_YEARS = 5  # schedules are generated this far ahead and extended lazily

_DISCHARGE = {
    "label": "Before discharge",
    "offset_value": 0,
    "offset_unit": "days",
    "kind": "duplex",
    "with_clinical": True,
    "window_before_days": 0,
    "window_after_days": 1,
}


def _visit(
    label: str,
    value: int,
    unit: str,
    before: int,
    after: int | None = None,
    kind: str = "duplex",
    with_clinical: bool = True,
) -> dict[str, Any]:
    return {
        "label": label,
        "offset_value": value,
        "offset_unit": unit,
        "kind": kind,
        "with_clinical": with_clinical,
        "window_before_days": before,
        "window_after_days": before if after is None else after,
    }


_THROMBOTIC_VISITS = [
    _DISCHARGE,
    _visit("2 weeks", 2, "weeks", 3),
    _visit("6 weeks", 6, "weeks", 7),
    _visit("3 months", 3, "months", 14),
    _visit("6 months", 6, "months", 14),
    _visit("12 months", 12, "months", 30),
]

DEFAULT_PROTOCOLS: list[dict[str, Any]] = [
    {
        "entity": "nivl",
        "name": "NIVL stent surveillance",
        "description": (
            "Duplex (± clinical review) before discharge, at 6 weeks, 6 and 12 months; then "
            "yearly or when symptoms return (practice consensus, provisional). Extended routine "
            "surveillance of NIVL stents finds little, hence yearly visits for 5 years by "
            "default."
        ),
        "visits": [
            _DISCHARGE,
            _visit("6 weeks", 6, "weeks", 7),
            _visit("6 months", 6, "months", 14),
            _visit("12 months", 12, "months", 30),
        ],
        "yearly_from_months": 24,
        "yearly_until_years": 5,
    },
    {
        "entity": "acute_thrombotic",
        "name": "Acute thrombotic: stent after thrombus removal",
        "description": (
            "Duplex before discharge, at 2 and 6 weeks, 3, 6 and 12 months, then yearly "
            "(practice consensus, provisional). Most failures of stents placed for thrombotic "
            "disease occur in the first 6 months, hence the front-loaded visits; yearly for "
            "5 years by default."
        ),
        "visits": _THROMBOTIC_VISITS,
        "yearly_from_months": 24,
        "yearly_until_years": 5,
    },
    {
        "entity": "post_thrombotic",
        "name": "Chronic post-thrombotic stent surveillance",
        "description": (
            "Duplex before discharge, at 2 and 6 weeks, 3, 6 and 12 months, then yearly, "
            "lifelong (practice consensus, provisional)."
        ),
        "visits": _THROMBOTIC_VISITS,
        "yearly_from_months": 24,
        "yearly_until_years": None,
    },
    {
        "entity": "ivc_reconstruction",
        "name": "IVC reconstruction (IVC occlusion, atresia, inverted-Y)",
        "description": (
            "As post-thrombotic, plus CT venography at about 12 months (or whenever duplex "
            "is inconclusive); yearly, lifelong. Long-term follow-up matters especially "
            "after caval reconstruction (practice consensus, provisional)."
        ),
        "visits": [
            *_THROMBOTIC_VISITS,
            _visit(
                "12 months CT venography",
                12,
                "months",
                30,
                kind="ct_venography",
                with_clinical=False,
            ),
        ],
        "yearly_from_months": 24,
        "yearly_until_years": None,
    },
]
