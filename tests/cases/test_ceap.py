"""Tests for cases/ceap.py: CEAP 2020 parsing (Lurie 2020; docs/scores.md#ceap-2020,
docs/evaluation.md#ceap-classes).

Pure tests: no database, no Django. The vocabularies below are copied from CEAP 2020 rather
than imported, so a change to the module's vocabulary has to be a deliberate one.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.ceap import (
    EMPTY_MESSAGE,
    Ceap,
    CeapError,
    ClinicalPart,
    parse,
    parse_clinical,
    threshold_classes,
)

CEAP_2020_CLASSES = [
    "C0",
    "C1",
    "C2",
    "C2r",
    "C3",
    "C4",
    "C4a",
    "C4b",
    "C4c",
    "C5",
    "C6",
    "C6r",
]
CEAP_2020_ETIOLOGY = ["Ep", "Es", "Esi", "Ese", "Ec", "En"]
CEAP_2020_ANATOMY = ["As", "Ad", "Ap", "An"]
CEAP_2020_PATHOPHYSIOLOGY = ["Pr", "Po", "Pn"]
CEAP_2020_SEGMENTS = [
    "Tel",
    "Ret",
    "GSVa",
    "GSVb",
    "SSV",
    "AASV",
    "NSV",
    "IVC",
    "CIV",
    "IIV",
    "EIV",
    "PELV",
    "CFV",
    "DFV",
    "FV",
    "POPV",
    "TIBV",
    "ATV",
    "PTV",
    "PRV",
    "MUSV",
    "GAV",
    "SOV",
    "TPV",
    "CPV",
]
C_HINT = "use C0\u2013C6 (C4a/b/c, C2r, C6r)."


# --- C part -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", CEAP_2020_CLASSES)
@pytest.mark.parametrize(("subscript", "symptomatic"), [("", None), (",s", True), (",a", False)])
def test_parse_clinical_reads_every_class_and_subscript(
    code: str, subscript: str, symptomatic: bool | None
) -> None:
    part = parse_clinical(code + subscript)
    assert part.classes == frozenset({code})
    assert part.symptomatic is symptomatic
    assert part.canonical() == code + subscript


@pytest.mark.parametrize("code", CEAP_2020_CLASSES)
def test_parse_canonicalises_every_class_written_in_lower_case(code: str) -> None:
    ceap = parse(code.lower() + ",S")
    assert ceap.canonical() == code + ",s"
    assert (ceap.etiology, ceap.anatomy, ceap.pathophysiology, ceap.segments) == ((),) * 4


@pytest.mark.parametrize(
    ("text", "classes", "symptomatic"),
    [
        ("C3,4b,s", {"C3", "C4b"}, True),
        ("C3,C4b,s", {"C3", "C4b"}, True),
        ("C4b,s", {"C4b"}, True),
        ("c2r", {"C2r"}, None),
        ("C6r,s", {"C6r"}, True),
        ("C4", {"C4"}, None),
        ("C2,3,a", {"C2", "C3"}, False),
        ("C2", {"C2"}, None),
        ("C4b,s Es Ai,p Pr,o", {"C4b"}, True),
        ("C3, 4b , s Esi Ad Po", {"C3", "C4b"}, True),
        ("\tC5,6r,s (CIV)", {"C5", "C6r"}, True),
    ],
)
def test_parse_clinical_reads_only_the_c_part(
    text: str, classes: set[str], symptomatic: bool | None
) -> None:
    part = parse_clinical(text)
    assert part.classes == frozenset(classes)
    assert part.symptomatic is symptomatic


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", EMPTY_MESSAGE),
        ("X3", f"X3 is not a CEAP clinical class; {C_HINT}"),
        ("C7", f"C7 is not a CEAP clinical class; {C_HINT}"),
        ("C4d", f"C4d is not a CEAP clinical class; {C_HINT}"),
        ("C", f"C is not a CEAP clinical class; {C_HINT}"),
        ("s", f"s is not a CEAP clinical class; {C_HINT}"),
        ("C3,s,a", "A clinical class is either symptomatic (s) or asymptomatic (a), not both."),
        ("Esi Ad Po", "The C part must come first, e.g. C3,4b,s Esi Ad Po."),
    ],
)
def test_parse_clinical_rejects_unreadable_c_part(text: str, message: str) -> None:
    with pytest.raises(CeapError) as excinfo:
        parse_clinical(text)
    assert str(excinfo.value) == message


def test_clinical_part_highest_follows_clinical_order() -> None:
    assert parse_clinical("C3,4b,s").highest == "C4b"
    assert parse_clinical("C6,6r").highest == "C6r"
    assert parse_clinical("C2r,3").highest == "C3"
    assert parse("C4c,5,s Esi Ad Po").highest == "C5"


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        ({"C2r"}, {"C2"}),
        ({"C6r", "C5"}, {"C6", "C5"}),
        ({"C2r", "C2"}, {"C2"}),
        ({"C4"}, {"C4"}),
        ({"C4a", "C4b", "C4c"}, {"C4a", "C4b", "C4c"}),
        (set(), set()),
    ],
)
def test_threshold_classes_maps_recurrence_to_base_class(
    classes: set[str], expected: set[str]
) -> None:
    assert threshold_classes(classes) == frozenset(expected)


def test_threshold_classes_keeps_bare_c4_apart_from_c4b() -> None:
    assert "C4b" not in threshold_classes(parse_clinical("C4,s").classes)


# --- E, A, P and segments ---------------------------------------------------------------


@pytest.mark.parametrize("code", CEAP_2020_ETIOLOGY)
def test_parse_reads_every_etiology_code(code: str) -> None:
    ceap = parse(f"C3,s {code.lower()} Ad Po")
    assert ceap.etiology == (code,)
    assert ceap.canonical() == f"C3,s {code} Ad Po"


@pytest.mark.parametrize("code", CEAP_2020_ANATOMY)
def test_parse_reads_every_anatomy_code(code: str) -> None:
    ceap = parse(f"C3,s Esi {code.upper()} Po")
    assert ceap.anatomy == (code,)
    assert ceap.canonical() == f"C3,s Esi {code} Po"


@pytest.mark.parametrize("code", CEAP_2020_PATHOPHYSIOLOGY)
def test_parse_reads_every_pathophysiology_code(code: str) -> None:
    ceap = parse(f"C3,s Esi Ad {code}")
    assert ceap.pathophysiology == (code,)
    assert ceap.canonical() == f"C3,s Esi Ad {code}"


@pytest.mark.parametrize("segment", CEAP_2020_SEGMENTS)
def test_parse_reads_every_segment_abbreviation(segment: str) -> None:
    ceap = parse(f"C3,s Esi Ad Po ({segment.upper()})")
    assert ceap.segments == (segment,)
    assert ceap.canonical() == f"C3,s Esi Ad Po ({segment})"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("C3,4b,s Esi Ad Po (CIV,EIV,CFV)", "C3,4b,s Esi Ad Po (CIV,EIV,CFV)"),
        ("C6,s Esi Ad Po", "C6,s Esi Ad Po"),
        ("C2r,a Ep As Pr", "C2r,a Ep As Pr"),
        ("C0,a En An Pn", "C0,a En An Pn"),
        ("C3,C4b,s Esi Ad Po", "C3,4b,s Esi Ad Po"),
        ("C4b,3,s Esi Ad Po (CFV,CIV)", "C3,4b,s Esi Ad Po (CIV,CFV)"),
        ("C2 Ep As,Ap Pr,Po", "C2 Ep As,p Pr,o"),
        ("C4b,s Es Ad,p Pr,o", "C4b,s Es Ad,p Pr,o"),
        ("C2,3,a Ep,c As,d,p Po,r", "C2,3,a Ep,c As,d,p Pr,o"),
        ("C6,s Esi,se Ad Po", "C6,s Esi,se Ad Po"),
        ("C3,3,s Ep,p Ad,d Po,o (CIV,CIV)", "C3,s Ep Ad Po (CIV)"),
        ("C4b,s", "C4b,s"),
    ],
)
def test_parse_writes_combined_forms_canonically(text: str, canonical: str) -> None:
    assert parse(text).canonical() == canonical


@pytest.mark.parametrize(
    "text",
    [
        "  c3, C4B,S\tesi  ad,p  pr,PO ( civ , gsva ) ",
        "C3,4b,s\tEsi\t\tAd,p   Pr,o(CIV,GSVA)",
        "\nC3 ,4B, s ESI AD,AP PR,PO  (Civ, GSVa)\n",
    ],
)
def test_parse_tolerates_whitespace_and_case(text: str) -> None:
    assert parse(text).canonical() == "C3,4b,s Esi Ad,p Pr,o (GSVa,CIV)"


def test_parse_returns_structure_in_canonical_order() -> None:
    ceap = parse("C4b,3,s Esi Ap,d Po,r (CFV,EIV,CIV)")
    assert ceap == Ceap(
        clinical=ClinicalPart(frozenset({"C3", "C4b"}), symptomatic=True),
        etiology=("Esi",),
        anatomy=("Ad", "Ap"),
        pathophysiology=("Pr", "Po"),
        segments=("CIV", "EIV", "CFV"),
    )


def test_parse_accepts_basic_clinical_only_entry() -> None:
    ceap = parse("C4b,s")
    assert ceap.clinical == ClinicalPart(frozenset({"C4b"}), symptomatic=True)
    assert (ceap.etiology, ceap.anatomy, ceap.pathophysiology, ceap.segments) == ((),) * 4


@pytest.mark.parametrize(
    ("text", "message", "part"),
    [
        ("", EMPTY_MESSAGE, None),
        ("  \t\n", EMPTY_MESSAGE, None),
        ("C4b,s Es Ai,p Pr,o", "Ai is not a CEAP anatomy code; did you mean Ad?", "A"),
        ("C3 Ex Ad Po", "Ex is not a CEAP etiology code; did you mean Es?", "E"),
        ("C3,s Esi Ad Px", "Px is not a CEAP pathophysiology code; did you mean Pr?", "P"),
        ("C3 Esi Aqqq Po", "Aqqq is not a CEAP anatomy code; use As, Ad, Ap or An.", "A"),
        ("C3 E Ad Po", "The E part needs a code; use Ep, Es, Esi, Ese, Ec or En.", "E"),
        ("C7 Esi Ad Po", f"C7 is not a CEAP clinical class; {C_HINT}", "C"),
        ("C3,4d,s Esi Ad Po", f"C4d is not a CEAP clinical class; {C_HINT}", "C"),
        (
            "C3s Esi Ad Po",
            "C3s is not a CEAP clinical class; write the subscript after a comma, e.g. C3,s.",
            "C",
        ),
        (
            "C3,s,a Esi Ad Po",
            "A clinical class is either symptomatic (s) or asymptomatic (a), not both.",
            "C",
        ),
        ("C3,s,4b", "The subscript (s or a) must come last in the C part.", "C"),
        (
            "C0,3,s",
            "C0 means no visible or palpable signs of venous disease; "
            "it cannot be combined with another clinical class.",
            "C",
        ),
        (
            "C3 Ep Ad Po (XYZ)",
            "XYZ is not a CEAP 2020 anatomic segment abbreviation.",
            "segments",
        ),
        (
            "C3 Ep Ad Po (CIV,7)",
            "7 is not a CEAP 2020 anatomic segment abbreviation; "
            "since 2020 segment 7 is written CIV.",
            "segments",
        ),
        (
            "C3 Ep,n Ad Po",
            "En means no cause identified; it cannot be combined with another etiology code.",
            "E",
        ),
        (
            "C3 Ep Ad,n Po",
            "An means no venous location identified; "
            "it cannot be combined with another anatomy code.",
            "A",
        ),
        (
            "C3 Ep Ad Pn,r",
            "Pn means no pathophysiology identified; "
            "it cannot be combined with another pathophysiology code.",
            "P",
        ),
        ("C3 Ad Ep Po", "The A part must come after the E part.", "A"),
        ("C3 Ep Po Ad", "The P part must come after the A part.", "P"),
        ("C3 Ep Ep Ad Po", "The E part appears twice.", "E"),
        (
            "C3 Ep Po",
            "The A part is missing; give E, A and P together, or the C part alone.",
            "A",
        ),
        ("Esi Ad Po C3", "The C part must come first, e.g. C3,4b,s Esi Ad Po.", "C"),
        (
            "C3 C4b Esi Ad Po",
            "The C part appears twice; list all clinical classes in one C part, e.g. C3,4b,s.",
            "C",
        ),
        ("C3 s Esi Ad Po", "Write the subscript in the C part after a comma, e.g. C3,s.", "C"),
        (
            "C3 Ep Ad, Po",
            "Po is a CEAP pathophysiology code; separate the parts with spaces, "
            "e.g. C3,4b,s Esi Ad Po.",
            "A",
        ),
        (
            "C3 Esi Ad Po Xq",
            "Xq is not part of a CEAP classification; after the C part come E, A and P, "
            "e.g. C3,4b,s Esi Ad Po.",
            None,
        ),
        (
            "C3 Esi Ad Po CIV,EIV",
            "Put the segment list in parentheses at the end, e.g. (CIV,EIV,CFV).",
            "segments",
        ),
        (
            "C3,s (CIV)",
            "A segment list needs the E, A and P parts before it, "
            "e.g. C3,4b,s Esi Ad Po (CIV,EIV,CFV).",
            "segments",
        ),
        (
            "C3 Esi Ad Po ()",
            "The segment list is empty; name the segments, e.g. (CIV,EIV,CFV), "
            "or leave the parentheses out.",
            "segments",
        ),
        (
            "C3 Esi Ad Po (CIV,,EIV)",
            "Separate segment abbreviations with single commas, e.g. (CIV,EIV,CFV).",
            "segments",
        ),
        (
            "C3 Esi Ad Po (CIV",
            "The segment list needs a closing parenthesis, e.g. (CIV,EIV,CFV).",
            "segments",
        ),
        (
            "C3 Esi Ad Po CIV)",
            "The segment list needs an opening parenthesis, e.g. (CIV,EIV,CFV).",
            "segments",
        ),
        (
            "C3 Esi Ad Po (CIV) Pr",
            "Give one segment list, in parentheses at the end, e.g. (CIV,EIV,CFV).",
            "segments",
        ),
    ],
)
def test_parse_rejects_invalid_input_with_specific_message(
    text: str, message: str, part: str | None
) -> None:
    with pytest.raises(CeapError) as excinfo:
        parse(text)
    assert str(excinfo.value) == message
    assert excinfo.value.message == message
    assert excinfo.value.part == part


def test_ceap_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="did you mean Ad"):
        parse("C4b,s Es Ai,p Pr,o")


def test_ceap_constructor_enforces_the_same_rules_as_parse() -> None:
    clinical = ClinicalPart(frozenset({"C3"}), symptomatic=True)
    with pytest.raises(CeapError, match=r"^En means no cause identified"):
        Ceap(clinical, etiology=("Ep", "En"), anatomy=("Ad",), pathophysiology=("Po",))
    with pytest.raises(CeapError, match=r"^Ax is not a CEAP anatomy code"):
        Ceap(clinical, etiology=("Ep",), anatomy=("Ax",), pathophysiology=("Po",))
    with pytest.raises(CeapError, match=r"^The P part is missing"):
        Ceap(clinical, etiology=("Ep",), anatomy=("Ad",))
    with pytest.raises(CeapError, match=r"^C9 is not a CEAP clinical class"):
        ClinicalPart(frozenset({"C9"}))
    with pytest.raises(CeapError, match=r"^A CEAP classification needs at least one"):
        ClinicalPart(frozenset())


# --- describe ---------------------------------------------------------------------------


def test_describe_reads_advanced_ceap_in_plain_language() -> None:
    assert parse("C3,4b,s Esi Ad Po (CIV,EIV,CFV)").describe() == (
        "Clinical: oedema; lipodermatosclerosis or atrophie blanche \u2014 symptomatic. "
        "Etiology: secondary, intravenous (e.g. post-thrombotic). "
        "Anatomy: deep veins. "
        "Pathophysiology: obstruction. "
        "Segments: common iliac vein, external iliac vein, common femoral vein."
    )


def test_describe_reads_combined_codes_and_missing_subscript() -> None:
    assert parse("C2r,6r Ep,se As,p Pr,o").describe() == (
        "Clinical: recurrent varicose veins; recurrent active venous ulcer "
        "\u2014 symptom status not recorded. "
        "Etiology: primary; secondary, extravenous (e.g. extrinsic compression). "
        "Anatomy: superficial veins; perforator veins. "
        "Pathophysiology: reflux; obstruction."
    )


def test_describe_reads_basic_entry_as_clinical_only() -> None:
    assert parse("C0,a").describe() == (
        "Clinical: no visible or palpable signs of venous disease \u2014 asymptomatic."
    )


# --- properties -------------------------------------------------------------------------


def _codes(vocabulary: list[str]) -> st.SearchStrategy[tuple[str, ...]]:
    """Either the part's "nothing identified" code alone, or any mix of the other codes."""
    *codes, none_code = vocabulary
    return st.one_of(
        st.just((none_code,)),
        st.lists(st.sampled_from(codes), min_size=1, unique=True).map(tuple),
    )


clinical_parts = st.builds(
    ClinicalPart,
    classes=st.one_of(
        st.just(frozenset({"C0"})),
        st.frozensets(st.sampled_from(CEAP_2020_CLASSES[1:]), min_size=1),
    ),
    symptomatic=st.sampled_from([True, False, None]),
)


@st.composite
def ceaps(draw: st.DrawFn) -> Ceap:
    clinical = draw(clinical_parts)
    if draw(st.booleans()):
        return Ceap(clinical)
    return Ceap(
        clinical,
        etiology=draw(_codes(CEAP_2020_ETIOLOGY)),
        anatomy=draw(_codes(CEAP_2020_ANATOMY)),
        pathophysiology=draw(_codes(CEAP_2020_PATHOPHYSIOLOGY)),
        segments=tuple(draw(st.lists(st.sampled_from(CEAP_2020_SEGMENTS), unique=True))),
    )


@given(ceaps())
def test_canonical_round_trips_through_parse(ceap: Ceap) -> None:
    text = ceap.canonical()
    parsed = parse(text)
    assert parsed == ceap
    assert parsed.canonical() == text
    assert parse_clinical(text) == ceap.clinical


CEAPISH = (
    r"\s*[CcXx]?[0-9]{0,2}[abcrsABCRS]?(\s?,\s?[0-9a-zA-Z]{0,3}){0,4}"
    r"(\s+[EeAaPpCcs][a-zA-Z]{0,3}(,[a-zA-Z]{0,3}){0,3}){0,5}"
    r"\s*(\(?[A-Za-z0-9, ]{0,20}\)?)?\s*"
)


def _outcome(read: Callable[[str], object], text: str) -> object:
    """The parser's result, or the CeapError it raised; any other exception fails the test."""
    try:
        return read(text)
    except CeapError as error:
        return error


@settings(max_examples=300)
@given(st.one_of(st.text(), st.from_regex(CEAPISH, fullmatch=True)))
def test_parse_raises_only_ceap_error_for_any_text(text: str) -> None:
    ceap = _outcome(parse, text)
    clinical = _outcome(parse_clinical, text)
    if isinstance(ceap, Ceap):
        assert parse(ceap.canonical()) == ceap
        assert clinical == ceap.clinical
    else:
        assert isinstance(ceap, CeapError)
        assert ceap.message
    if isinstance(clinical, CeapError):
        assert clinical.part in {"C", None}
    else:
        assert isinstance(clinical, ClinicalPart)
