"""The iliocaval SVG (planning/diagram.py): pure, no database."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from planning.diagram import (
    LEGEND,
    TREE,
    DiagramAccess,
    DiagramFinding,
    DiagramStent,
    describe,
    iliocaval_svg,
    severity,
)

NS = {"svg": "http://www.w3.org/2000/svg"}
FINDINGS = [
    DiagramFinding("IVC", "midline", "occlusion", 100),
    DiagramFinding("CIV", "left", "occlusion", 100),
    DiagramFinding("CIV", "right", "occlusion", 100),
    DiagramFinding("EIV", "right", "stenosis", 70),
    DiagramFinding("CFV", "right", "normal"),
    DiagramFinding("FV", "left", "thrombus"),
]
STENTS = [
    DiagramStent("IVC", "midline", 22, 100, "sinus-XL"),
    DiagramStent("CIV", "left", 16, 100, "Zilver Vena"),
    DiagramStent("CIV", "right", 16, 60, "Zilver Vena"),
]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def colour(root: ET.Element, segment: str, side: str) -> str:
    group = root.find(f".//svg:g[@data-segment='{segment}'][@data-side='{side}']", NS)
    assert group is not None
    return group.find("svg:line", NS).get("stroke")


def test_svg_is_well_formed_and_accessible():
    root = parse(iliocaval_svg(findings=FINDINGS, id_prefix="d1", title="Case 7"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "d1-title d1-desc"
    assert root.find("svg:title", NS).text == "Case 7"
    desc = root.find("svg:desc", NS).text
    assert "IVC: occlusion (100 % area reduction)" in desc
    assert "right EIV: stenosis (70 % area reduction)" in desc


def test_every_segment_of_the_tree_is_drawn_once():
    root = parse(iliocaval_svg(findings=[]))
    drawn = {
        (g.get("data-segment"), g.get("data-side"))
        for g in root.findall(".//svg:g[@class]", NS)
        if g.get("class", "").startswith("segment")
    }
    expected = {("IVC", "midline")} | {
        (code, side)
        for code in ("CIV", "IIV", "EIV", "CFV", "DFV", "FV", "POPV")
        for side in ("left", "right")
    }
    assert drawn == expected
    assert {(s.code, s.side) for s in TREE} == expected


def test_segments_are_coloured_by_finding_and_severity():
    palette = {key: value for key, value, _ in LEGEND}
    root = parse(
        iliocaval_svg(
            findings=[
                *FINDINGS,
                DiagramFinding("EIV", "left", "compression", 30),
                DiagramFinding("CFV", "left", "stenosis", 85),
                DiagramFinding("POPV", "left", "stenosis"),
            ]
        )
    )
    assert colour(root, "IVC", "midline") == palette["occlusion"]
    assert colour(root, "EIV", "right") == palette["moderate"]
    assert colour(root, "EIV", "left") == palette["mild"]
    assert colour(root, "CFV", "left") == palette["severe"]
    assert colour(root, "POPV", "left") == palette["moderate"]  # not measured
    assert colour(root, "CFV", "right") == palette["normal"]
    assert colour(root, "FV", "left") == palette["thrombus"]
    assert colour(root, "DFV", "left") == palette["unknown"]


def test_severity_grades():
    assert severity(None) == "unknown"
    assert severity(DiagramFinding("CIV", "left", "stenosis", 49)) == "mild"
    assert severity(DiagramFinding("CIV", "left", "stenosis", 50)) == "moderate"
    assert severity(DiagramFinding("CIV", "left", "stenosis", 79)) == "moderate"
    assert severity(DiagramFinding("CIV", "left", "compression", 80)) == "severe"


def test_stents_are_drawn_with_their_sizes_and_the_inverted_y_is_marked():
    svg = iliocaval_svg(findings=FINDINGS, stents=STENTS, bilateral_extension=True)
    root = parse(svg)
    stents = root.findall(".//svg:g[@class='stent']", NS)
    assert {(g.get("data-segment"), g.get("data-side")) for g in stents} == {
        ("IVC", "midline"),
        ("CIV", "left"),
        ("CIV", "right"),
    }
    sizes = [t.text for t in root.findall(".//svg:text[@class='stent-size']", NS)]
    assert sorted(sizes) == ["Ø16×100", "Ø16×60", "Ø22×100"]
    # The drawn width follows the stent's diameter: the IVC stent is the widest.
    widths = {
        g.get("data-segment") + g.get("data-side"): float(
            g.findall("svg:line", NS)[0].get("stroke-width")
        )
        for g in stents
    }
    assert widths["IVCmidline"] > widths["CIVleft"]
    assert root.find(".//svg:g[@class='inverted-y']", NS) is not None
    assert "inverted-Y" in describe(FINDINGS, STENTS, bilateral_extension=True)
    assert "Planned stents: IVC 22 × 100 mm sinus-XL" in root.find("svg:desc", NS).text


def test_no_inverted_y_without_bilateral_extension():
    root = parse(iliocaval_svg(findings=FINDINGS, stents=STENTS[1:2]))
    assert root.find(".//svg:g[@class='inverted-y']", NS) is None


def test_access_sites_are_numbered_primary_first():
    access = [
        DiagramAccess("popliteal", "left"),
        DiagramAccess("femoral", "right"),
        DiagramAccess("jugular", "right"),
    ]
    root = parse(iliocaval_svg(findings=FINDINGS, access=access))
    markers = root.findall(".//svg:g[@class='access-site']", NS)
    assert [m.find("svg:text", NS).text for m in markers] == ["1", "2", "3"]
    assert markers[0].find("svg:title", NS).text == "Access 1: left popliteal vein"
    assert (
        "Access: 1. left popliteal vein; 2. right common femoral vein"
        in root.find("svg:desc", NS).text
    )


def test_text_is_escaped():
    svg = iliocaval_svg(
        findings=[],
        stents=[DiagramStent("CIV", "left", 16, 60, "<b>&x")],
        title='Case "1" <script>',
        id_prefix='a"b',
    )
    root = parse(svg)
    assert root.find("svg:title", NS).text == 'Case "1" <script>'
    assert "<script>" not in svg
    assert "<b>" not in svg
