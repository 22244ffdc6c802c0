"""Stent sizing against the catalogue (docs/planning.md#stent-sizing): pure, no database."""

from __future__ import annotations

import pytest

from planning.sizing import (
    DEFAULT_LESION_LENGTH_MM,
    MAX_LENGTH_MM,
    STENT_DEFAULTS,
    Measurement,
    StentModel,
    StentRow,
    StentSize,
    choose_stent,
    diameter_from_area_mm2,
    nearest_size,
    propose_stents,
    required_length_mm,
    stent_sites,
    stent_warnings,
    target_diameter_mm,
)


def grid(diameters, lengths, *, verified=False, french=None, start=1):
    return tuple(
        StentSize(start + i, float(d), length, french, verified)
        for i, (d, length) in enumerate((d, length) for d in diameters for length in lengths)
    )


VENOVO = StentModel(
    1,
    "Venovo",
    True,
    ("CIV", "EIV", "CFV"),
    grid([10, 12, 14, 16, 18, 20], [40, 60, 80, 100, 120, 140, 160], french=9),
)
ZILVER = StentModel(
    2, "Zilver Vena", True, ("CIV", "EIV"), grid([14, 16], [60, 100, 140], verified=True, start=100)
)
SINUS_XL = StentModel(
    3,
    "sinus-XL",
    True,
    ("IVC", "CIV"),
    grid(range(16, 38, 2), [30, 40, 60, 80, 100], verified=True, start=200),
)
WALLSTENT = StentModel(
    4,
    "Wallstent",
    False,
    ("IVC", "CIV", "EIV", "CFV"),
    grid([10, 12, 14, 16], [20, 40, 60, 90], verified=True, start=300),
)
CATALOGUE = (VENOVO, ZILVER, SINUS_XL, WALLSTENT)


def m(segment, side, finding="stenosis", ref=None, length=None, area=None):
    return Measurement(segment, side, finding, ref, length, area)


# --- diameter ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "reference", "expected"),
    [
        ("IVC", 20.0, 21.0),
        ("IVC", 16.0, 18.0),  # below the range: raised to its minimum
        ("IVC", 25.0, 24.0),  # above: capped
        ("IVC", 17.0, 18.0),  # boundary: 17 + 1 = 18 exactly
        ("IVC", 23.0, 24.0),  # boundary: 23 + 1 = 24 exactly
        ("CIV", 15.0, 16.0),
        ("CIV", 12.0, 14.0),
        ("CIV", 18.0, 18.0),
        ("EIV", 13.0, 14.0),
        ("EIV", 10.0, 12.0),
        ("EIV", 15.5, 16.0),
        ("CFV", 12.0, 13.0),
        ("CFV", 10.0, 12.0),
        ("CFV", 14.0, 14.0),
    ],
)
def test_target_diameter_is_reference_plus_oversizing_within_the_segment_range(
    segment, reference, expected
):
    value, basis = target_diameter_mm(segment, reference)
    assert value == expected
    assert "reference" in basis
    default = STENT_DEFAULTS[segment]
    assert default.min_mm <= value <= default.max_mm
    if value != reference + 1:
        assert "range" in basis


@pytest.mark.parametrize(
    ("segment", "expected"), [("IVC", 21), ("CIV", 16), ("EIV", 14), ("CFV", 13)]
)
def test_target_diameter_falls_back_to_the_section_5_5_default(segment, expected):
    value, basis = target_diameter_mm(segment, None)
    assert value == expected
    assert "no reference diameter measured" in basis


def test_oversizing_is_a_parameter():
    assert target_diameter_mm("CIV", 14.0, oversize_mm=2)[0] == 16.0


def test_diameter_from_ivus_area_matches_the_jayaraj_references():
    assert diameter_from_area_mm2(200) == 16.0
    assert diameter_from_area_mm2(150) == 13.8
    assert diameter_from_area_mm2(125) == 12.6
    with pytest.raises(ValueError, match="positive"):
        diameter_from_area_mm2(0)


def test_target_diameter_from_the_ivus_reference_area_when_no_diameter_was_measured():
    value, basis = target_diameter_mm("CIV", None, reference_area_mm2=200)
    assert value == 17.0  # 200 mm² ≈ 16 mm + 1 mm
    assert basis.startswith("reference area 200 mm² ≈ 16 mm")
    assert target_diameter_mm("CIV", 14.0, reference_area_mm2=200)[0] == 15.0  # diameter wins


def test_proposal_sizes_from_the_reference_area():
    measured = Measurement("CIV", "left", "stenosis", None, 50, 70, reference_area_mm2=150)
    (only,) = propose_stents([measured], [VENOVO])
    assert only.target_diameter_mm == 14.8  # 150 mm² ≈ 13.8 mm + 1 mm
    assert "reference area 150 mm²" in only.basis


# --- catalogue rounding -----------------------------------------------------------------------


def test_nearest_size_rounds_the_length_up_to_a_catalogue_length():
    size, ok = nearest_size(VENOVO.sizes, 16, 85)
    assert (size.diameter_mm, size.length_mm, ok) == (16, 100, True)


def test_nearest_size_takes_an_exact_length():
    size, _ = nearest_size(VENOVO.sizes, 14, 80)
    assert (size.diameter_mm, size.length_mm) == (14, 80)


def test_nearest_size_breaks_a_diameter_tie_upwards():
    size, _ = nearest_size(VENOVO.sizes, 13, 60)  # 12 and 14 are equally near
    assert size.diameter_mm == 14


def test_nearest_size_picks_the_nearest_diameter():
    size, _ = nearest_size(ZILVER.sizes, 12.5, 60)
    assert size.diameter_mm == 14


def test_nearest_size_reports_a_lesion_longer_than_the_longest_stent():
    size, ok = nearest_size(ZILVER.sizes, 14, 200)
    assert (size.length_mm, ok) == (140, False)


def test_nearest_size_prefers_a_verified_row_of_the_same_dimensions():
    sizes = (StentSize(1, 14, 60, None, False), StentSize(2, 14, 60, None, True))
    assert nearest_size(sizes, 14, 60)[0].id == 2


def test_nearest_size_without_sizes():
    assert nearest_size((), 14, 60) == (None, False)


def test_choose_stent_prefers_dedicated_and_verified_stents():
    assert choose_stent("IVC", CATALOGUE, 21).name == "sinus-XL"  # Wallstent is not dedicated
    assert choose_stent("CIV", CATALOGUE, 16).name == "Zilver Vena"  # verified 16 mm
    assert choose_stent("CFV", CATALOGUE, 13).name == "Venovo"  # the dedicated one for CFV
    assert choose_stent("CFV", (WALLSTENT,), 13).name == "Wallstent"
    assert choose_stent("CFV", (), 13) is None


# --- length, landing zones and overlap ---------------------------------------------------------


def test_required_length_of_a_single_civ_stent_crosses_the_iliocaval_junction():
    length, basis = required_length_mm(("CIV", "left"), 50, [("CIV", "left")])
    assert length == 50 + 10 + 10
    assert "iliocaval junction" in basis


def test_required_length_overlaps_into_the_stent_above():
    sites = [("CIV", "left"), ("EIV", "left")]
    assert required_length_mm(("CIV", "left"), 50, sites)[0] == 50 + 10  # EIV overlaps into it
    length, basis = required_length_mm(("EIV", "left"), 80, sites)
    assert length == 80 + 15 + 10
    assert "overlap" in basis


def test_required_length_of_a_cfv_stent_ends_at_the_fv_dfv_confluence():
    sites = [("EIV", "right"), ("CFV", "right")]
    length, basis = required_length_mm(("CFV", "right"), 40, sites)
    assert length == 40 + 15
    assert "confluence" in basis


def test_required_length_of_the_ivc_stent_of_an_inverted_y():
    sites = [("IVC", "midline"), ("CIV", "left"), ("CIV", "right")]
    assert required_length_mm(("IVC", "midline"), 80, sites)[0] == 80 + 10  # limbs inside it
    assert required_length_mm(("CIV", "right"), 45, sites)[0] == 45 + 15 + 10


@pytest.mark.parametrize("segment", ["IVC", "CIV", "EIV", "CFV"])
def test_required_length_uses_a_typical_length_when_not_measured(segment):
    side = "midline" if segment == "IVC" else "left"
    length, basis = required_length_mm((segment, side), None, [(segment, side)])
    assert length >= DEFAULT_LESION_LENGTH_MM[segment]
    assert "not measured" in basis


def test_landing_margin_and_overlap_are_parameters():
    sites = [("CIV", "left"), ("EIV", "left")]
    assert (
        required_length_mm(("EIV", "left"), 80, sites, landing_margin_mm=5, overlap_mm=20)[0] == 105
    )


# --- proposals --------------------------------------------------------------------------------

IVC_BILATERAL = [
    m("IVC", "midline", "occlusion", 20, 80, 100),
    m("CIV", "left", "occlusion", 15, 50, 100),
    m("CIV", "right", "occlusion", 15, 45, 100),
    m("EIV", "left", "occlusion", 13, 90, 100),
    m("EIV", "right", "stenosis", 13, 60, 70),
    m("CFV", "left", "normal", 12),
    m("CFV", "right", "normal", 12),
]


def test_stent_sites_are_the_diseased_stentable_segments_ivc_first():
    assert stent_sites(IVC_BILATERAL) == [
        ("IVC", "midline"),
        ("CIV", "right"),
        ("EIV", "right"),
        ("CIV", "left"),
        ("EIV", "left"),
    ]
    assert stent_sites(IVC_BILATERAL, ["IVC"]) == [("IVC", "midline")]
    assert stent_sites([m("FV", "left", "occlusion")]) == []


def test_propose_stents_for_an_inverted_y_reconstruction():
    rows = propose_stents(IVC_BILATERAL, CATALOGUE)
    got = {(r.segment, r.side): (r.device.name, r.diameter_mm, r.length_mm) for r in rows}
    assert got == {
        ("IVC", "midline"): ("sinus-XL", 22, 100),  # 20 + 1 -> 21 -> tie 20/22 -> 22; 90 -> 100
        ("CIV", "right"): ("Zilver Vena", 16, 60),
        ("EIV", "right"): ("Zilver Vena", 14, 100),
        ("CIV", "left"): ("Zilver Vena", 16, 100),
        ("EIV", "left"): ("Zilver Vena", 14, 140),
    }
    assert stent_warnings(rows, IVC_BILATERAL, sheath_french=10) == []
    ivc = rows[0]
    assert ivc.target_diameter_mm == 21
    assert ivc.required_length_mm == 90
    assert "reference 20 mm" in ivc.basis


def test_propose_stents_keeps_the_clinicians_choice_of_device():
    rows = propose_stents(IVC_BILATERAL, CATALOGUE, chosen={("CIV", "left"): VENOVO})
    left = next(r for r in rows if r.site == ("CIV", "left"))
    assert (left.device.name, left.diameter_mm, left.length_mm) == ("Venovo", 16, 80)


def test_propose_stents_replaces_a_chosen_device_without_a_size_near_the_target():
    rows = propose_stents(
        [m("CIV", "left", "occlusion", 17, 50)], CATALOGUE, chosen={("CIV", "left"): ZILVER}
    )
    assert (rows[0].device.name, rows[0].diameter_mm) == ("sinus-XL", 18)
    assert "Zilver Vena has no size near it" in rows[0].basis


def test_propose_stents_without_measurements_uses_the_defaults():
    rows = propose_stents([m("CIV", "left", "compression")], CATALOGUE)
    assert [(r.diameter_mm, r.length_mm) for r in rows] == [(16, 100)]  # 50 + 10 + 10 -> 100
    assert "no reference diameter measured" in rows[0].basis


def test_propose_stents_without_a_fitting_device_keeps_the_targets():
    rows = propose_stents([m("CFV", "left", "stenosis", 12, 33)], (ZILVER,))
    assert rows[0].device is None
    assert rows[0].size is None
    # 33 mm lesion + 10 mm cranial landing, caudal end at the confluence: 43 -> 50 mm
    assert (rows[0].diameter_mm, rows[0].length_mm) == (13, 50)


# --- warnings ---------------------------------------------------------------------------------


def row(segment, side, device=VENOVO, diameter=16, length=100, size="auto", required=None):
    if size == "auto":
        size = (
            next(
                (s for s in device.sizes if s.diameter_mm == diameter and s.length_mm == length),
                None,
            )
            if device
            else None
        )
    return StentRow(segment, side, device, size, diameter, length, required_length_mm=required)


def codes(warnings):
    return sorted(w.code for w in warnings)


def test_warning_unverified_size():
    warnings = stent_warnings([row("CIV", "left")], [m("CIV", "left")], sheath_french=10)
    assert codes(warnings) == ["unverified_size"]
    assert "not verified" in warnings[0].message


def test_warning_no_catalogue_size_and_no_device():
    warnings = stent_warnings(
        [row("CIV", "left", size=None, diameter=15), row("CIV", "right", device=None)],
        [m("CIV", "left"), m("CIV", "right")],
        sheath_french=10,
    )
    assert codes(warnings) == ["no_device", "no_size"]


def test_warning_non_dedicated_stent():
    warnings = stent_warnings(
        [row("CIV", "left", device=WALLSTENT, diameter=16, length=90)],
        [m("CIV", "left")],
        sheath_french=10,
    )
    assert codes(warnings) == ["non_dedicated"]
    assert "Wallstent" in warnings[0].message


def test_warning_diameter_step_between_adjacent_segments():
    rows = [row("CIV", "left", ZILVER, 16, 60), row("EIV", "left", VENOVO, 10, 60)]
    warnings = stent_warnings(rows, [m("CIV", "left"), m("EIV", "left")], sheath_french=10)
    assert "diameter_step" in codes(warnings)
    step = next(w for w in warnings if w.code == "diameter_step")
    assert "6 mm" in step.message
    assert step.side == "left"


def test_no_diameter_step_warning_at_four_millimetres_or_for_the_ivc():
    rows = [
        row("IVC", "midline", SINUS_XL, 24, 100),
        row("CIV", "left", ZILVER, 16, 60),
        row("EIV", "left", SINUS_XL, 20, 60, size=None),  # 4 mm step: allowed
    ]
    warnings = stent_warnings(
        rows, [m("IVC", "midline"), m("CIV", "left"), m("EIV", "left")], sheath_french=10
    )
    assert "diameter_step" not in codes(warnings)


def test_warning_sheath_too_small():
    warnings = stent_warnings([row("CIV", "left")], [m("CIV", "left")], sheath_french=8)
    assert "sheath_too_small" in codes(warnings)
    assert "9 F" in next(w.message for w in warnings if w.code == "sheath_too_small")
    assert "sheath_too_small" not in codes(
        stent_warnings([row("CIV", "left")], [m("CIV", "left")], sheath_french=10)
    )


def test_warning_diseased_landing_zone_below_the_stent():
    warnings = stent_warnings(
        [row("CIV", "left", ZILVER, 16, 60)],
        [m("CIV", "left"), m("EIV", "left", "stenosis", area=60)],
        sheath_french=10,
    )
    assert codes(warnings) == ["diseased_landing"]
    assert "caudal end lands next to a diseased left EIV" in warnings[0].message


def test_warning_diseased_landing_zone_in_the_ivc_above():
    warnings = stent_warnings(
        [row("CIV", "left", ZILVER, 16, 60)],
        [m("CIV", "left"), m("IVC", "midline", "occlusion")],
        sheath_french=10,
    )
    assert codes(warnings) == ["diseased_landing"]
    assert "cranial" in warnings[0].message


def test_warning_diseased_inflow_below_a_cfv_stent():
    warnings = stent_warnings(
        [row("CFV", "right", VENOVO, 14, 60)],
        [
            m("CFV", "right", "occlusion"),
            m("FV", "right", "occlusion"),
            m("DFV", "right", "normal"),
        ],
        sheath_french=10,
    )
    landing = [w for w in warnings if w.code == "diseased_landing"]
    assert len(landing) == 1
    assert "inflow" in landing[0].message


def test_no_landing_warning_when_the_neighbour_is_normal_or_stented():
    rows = [row("CIV", "left", ZILVER, 16, 60), row("EIV", "left", ZILVER, 14, 100)]
    findings = [m("CIV", "left"), m("EIV", "left"), m("CFV", "left", "normal")]
    assert stent_warnings(rows, findings, sheath_french=10) == []


def test_warning_too_short_and_out_of_range():
    warnings = stent_warnings(
        [row("CIV", "left", ZILVER, 14, 140, required=180), row("EIV", "left", VENOVO, 20, 60)],
        [m("CIV", "left"), m("EIV", "left")],
        sheath_french=10,
    )
    assert {"too_short", "out_of_range"} <= set(codes(warnings))


def test_without_a_device_a_very_long_lesion_keeps_one_stent_length_and_is_flagged():
    rows = propose_stents([m("CIV", "left", ref=16, length=400)], [])
    (only,) = rows
    assert (only.device, only.length_mm) == (None, MAX_LENGTH_MM)
    assert only.required_length_mm > MAX_LENGTH_MM
    warnings = stent_warnings(rows, [m("CIV", "left", ref=16, length=400)], sheath_french=10)
    assert {"no_device", "too_short"} <= set(codes(warnings))


@pytest.mark.parametrize(("length", "flagged"), [(140, True), (100, False), (60, False)])
def test_warning_much_longer_than_needed(length, flagged):
    """60 mm needed: 140 mm is 80 mm more than needed, past the 40 mm threshold."""
    warnings = stent_warnings(
        [row("CIV", "left", ZILVER, 14, length, required=60)],
        [m("CIV", "left")],
        sheath_french=10,
        max_excess_mm=40,
    )
    assert ("too_long" in codes(warnings)) is flagged
    if flagged:
        message = next(w.message for w in warnings if w.code == "too_long")
        assert "80 mm longer than the 60 mm needed" in message
        assert "40 mm" in message
