"""Venous severity scores, pure functions.

- Revised Venous Clinical Severity Score (rVCSS): Vasquez et al., J Vasc Surg 2010;52:1387–1396.
  Ten items scored 0–3, total 0–30, higher is worse.
- Villalta post-thrombotic syndrome scale: Villalta 1994, ISTH standardisation Kahn et al.,
  J Thromb Haemost 2009. Five symptoms and six signs scored 0–3, total 0–33; a venous ulcer
  makes the PTS severe whatever the total; the 5–9 / 10–14 split of mild and moderate is the
  ISTH convention (docs/scores.md#villalta).

A score with an item not recorded has no total: a partial sum would understate severity.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ScoreItem:
    key: str
    label: str
    grades: tuple[str, str, str, str]  # what 0, 1, 2 and 3 mean for this item


VCSS_ITEMS: tuple[ScoreItem, ...] = (
    ScoreItem(
        "pain",
        "Pain or other discomfort (aching, heaviness, fatigue, soreness, burning)",
        (
            "None",
            "Occasional, not restricting daily activity",
            "Daily, interferes with but does not prevent daily activity",
            "Daily, limits most daily activity",
        ),
    ),
    ScoreItem(
        "varicose_veins",
        "Varicose veins (≥3 mm, standing)",
        (
            "None",
            "Few, scattered (isolated branch varicosities or clusters); "
            "includes corona phlebectatica",
            "Confined to calf or thigh",
            "Involve calf and thigh",
        ),
    ),
    ScoreItem(
        "oedema",
        "Venous oedema",
        ("None", "Foot and ankle only", "Above ankle, below knee", "To knee and above"),
    ),
    ScoreItem(
        "pigmentation",
        "Skin pigmentation (not focal over varices)",
        (
            "None or focal",
            "Limited to perimalleolar area",
            "Diffuse over lower third of calf",
            "Wider, above lower third of calf",
        ),
    ),
    ScoreItem(
        "inflammation",
        "Inflammation (erythema, cellulitis, venous eczema, dermatitis)",
        (
            "None",
            "Perimalleolar",
            "Diffuse over lower third of calf",
            "Wider, above lower third of calf",
        ),
    ),
    ScoreItem(
        "induration",
        "Induration (incl. atrophie blanche, lipodermatosclerosis)",
        (
            "None",
            "Perimalleolar",
            "Diffuse over lower third of calf",
            "Wider, above lower third of calf",
        ),
    ),
    ScoreItem("ulcer_number", "Active ulcer number", ("0", "1", "2", "3 or more")),
    ScoreItem(
        "ulcer_duration",
        "Active ulcer duration (longest)",
        ("None", "Less than 3 months", "3–12 months", "Not healed for more than 1 year"),
    ),
    ScoreItem(
        "ulcer_size",
        "Active ulcer size (largest)",
        ("None", "Diameter less than 2 cm", "Diameter 2–6 cm", "Diameter more than 6 cm"),
    ),
    ScoreItem(
        "compression",
        "Use of compression therapy",
        (
            "Not used",
            "Intermittent use of stockings",
            "Wears stockings most days",
            "Full compliance: stockings",
        ),
    ),
)

_VILLALTA_GRADES = ("None", "Mild", "Moderate", "Severe")

VILLALTA_SYMPTOMS: tuple[ScoreItem, ...] = tuple(
    ScoreItem(key, label, _VILLALTA_GRADES)
    for key, label in (
        ("pain", "Pain"),
        ("cramps", "Cramps"),
        ("heaviness", "Heaviness"),
        ("paraesthesia", "Paraesthesia"),
        ("pruritus", "Pruritus"),
    )
)
VILLALTA_SIGNS: tuple[ScoreItem, ...] = tuple(
    ScoreItem(key, label, _VILLALTA_GRADES)
    for key, label in (
        ("pretibial_oedema", "Pretibial oedema"),
        ("skin_induration", "Skin induration"),
        ("hyperpigmentation", "Hyperpigmentation"),
        ("redness", "Redness"),
        ("venous_ectasia", "Venous ectasia"),
        ("calf_compression_pain", "Pain on calf compression"),
    )
)
VILLALTA_ITEMS: tuple[ScoreItem, ...] = VILLALTA_SYMPTOMS + VILLALTA_SIGNS

PTS_NONE = "none"
PTS_MILD = "mild"
PTS_MODERATE = "moderate"
PTS_SEVERE = "severe"
PTS_CATEGORY_LABELS = {
    PTS_NONE: "No PTS",
    PTS_MILD: "Mild PTS",
    PTS_MODERATE: "Moderate PTS",
    PTS_SEVERE: "Severe PTS",
}


class ScoreError(ValueError):
    """An item value outside 0–3 or an unknown item key."""


def _total(items: Sequence[ScoreItem], values: Mapping[str, int | None]) -> int | None:
    unknown = set(values) - {item.key for item in items}
    if unknown:
        raise ScoreError(f"Unknown score items: {', '.join(sorted(unknown))}.")
    total = 0
    for item in items:
        value = values.get(item.key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3:
            raise ScoreError(f"{item.label}: a grade is 0, 1, 2 or 3, not {value!r}.")
        total += value
    return total


def vcss_total(values: Mapping[str, int | None]) -> int | None:
    """rVCSS total 0–30, or None while any of the ten items is not recorded."""
    return _total(VCSS_ITEMS, values)


def villalta_total(values: Mapping[str, int | None]) -> int | None:
    """Villalta total 0–33, or None while any of the eleven items is not recorded."""
    return _total(VILLALTA_ITEMS, values)


def villalta_category(total: int | None, *, ulcer: bool | None) -> str | None:
    """PTS category: 0–4 none, 5–9 mild, 10–14 moderate, ≥15 or any venous ulcer severe.

    An ulcer settles the category even before every item is scored.
    """
    if ulcer:
        return PTS_SEVERE
    if total is None:
        return None
    if total >= 15:
        return PTS_SEVERE
    if total >= 10:
        return PTS_MODERATE
    if total >= 5:
        return PTS_MILD
    return PTS_NONE
