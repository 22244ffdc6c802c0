"""Parse, validate and explain CEAP 2020 classifications for one limb.

Source: Lurie F, Passman M, Meisner M, et al. The 2020 update of the CEAP classification
system and reporting standards. J Vasc Surg Venous Lymphat Disord 2020;8:342-352
(doi 10.1016/j.jvsv.2019.12.075). What the project decided where the classification leaves
the reading open: docs/scores.md#ceap-2020.

What changed in 2020, and why this parser knows about it:
- C4c (corona phlebectatica) was added as a third C4 subclass next to C4a and C4b.
- The modifier ``r`` marks recurrence: C2r (recurrent varicose veins) and C6r (recurrent
  active venous ulcer).
- Secondary etiology Es was split into Esi (intravenous, e.g. post-thrombotic wall/valve
  damage) and Ese (extravenous, e.g. extrinsic compression without wall/valve damage).
- Anatomic segments are written as abbreviations (CIV, EIV, CFV, ...) instead of the old
  numbers 1-18; an old number is answered with its abbreviation.

The app stores one canonical string per limb,
``C<classes>[,s|,a] E<codes> A<codes> P<codes> (<segments>)``, e.g.
``C3,4b,s Esi Ad Po (CIV,EIV,CFV)``. A basic, clinical-only entry such as ``C4b,s`` is also
accepted. Everything here is pure Python so the guideline engine can use it without a
database; every unreadable input raises :class:`CeapError` with a message a clinician can act
on.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ANATOMY",
    "CLINICAL_CLASSES",
    "EMPTY_MESSAGE",
    "ETIOLOGY",
    "PATHOPHYSIOLOGY",
    "SEGMENTS",
    "Ceap",
    "CeapError",
    "ClinicalPart",
    "parse",
    "parse_clinical",
    "threshold_classes",
]


class CeapError(ValueError):
    """Raised for any unreadable CEAP input; ``str(err)`` is a specific, human message.

    It subclasses ValueError so form and serializer code can treat it as bad input; ``part``
    names the CEAP part at fault ("C", "E", "A", "P", "segments") so a form can highlight it,
    or is None when the input as a whole is at fault.
    """

    def __init__(self, message: str, part: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.part = part


# Clinical classes in clinical order (Lurie 2020); the order sorts the canonical
# string and decides `highest`.
CLINICAL_CLASSES: dict[str, str] = {
    "C0": "no visible or palpable signs of venous disease",
    "C1": "telangiectasias or reticular veins",
    "C2": "varicose veins",
    "C2r": "recurrent varicose veins",
    "C3": "oedema",
    "C4": "skin and subcutaneous changes secondary to venous disease",
    "C4a": "pigmentation or eczema",
    "C4b": "lipodermatosclerosis or atrophie blanche",
    "C4c": "corona phlebectatica",
    "C5": "healed venous ulcer",
    "C6": "active venous ulcer",
    "C6r": "recurrent active venous ulcer",
}
_CLASS_RANK = {code: rank for rank, code in enumerate(CLINICAL_CLASSES)}
# "3", "4b", "2r" -> canonical code; the C is optional after the first class ("C3,C4b").
_CLASS_BY_SUFFIX = {code[1:].lower(): code for code in CLINICAL_CLASSES}
_SUBSCRIPTS = {"s": True, "a": False}
# CEAP 2020 treats the r modifier as a qualifier of C2/C6, so thresholds read the base class
# (docs/evaluation.md#ceap-classes).
_THRESHOLD_CLASS = {"C2r": "C2", "C6r": "C6"}

EMPTY_MESSAGE = "Enter a CEAP classification, e.g. C3,4b,s Esi Ad Po."
_C_FIRST_MESSAGE = "The C part must come first, e.g. C3,4b,s Esi Ad Po."
_COMMA = re.compile(r"\s*,\s*")


def _fold(text: str) -> str:
    """Lower-case ASCII only: Unicode case folding maps e.g. the long s to "s", which would
    let look-alike characters pass as CEAP codes."""
    return text.lower() if text.isascii() else text


def _unknown_class(display: str) -> CeapError:
    return CeapError(
        f"{display} is not a CEAP clinical class; use C0\u2013C6 (C4a/b/c, C2r, C6r).", "C"
    )


@dataclass(frozen=True)
class ClinicalPart:
    """The C part of CEAP: a set of clinical classes plus the symptom subscript.

    CEAP records every class present on the limb, not only the worst (Lurie 2020), so the
    classes are a set and rules test membership (docs/evaluation.md#ceap-classes).
    ``symptomatic`` is None when no subscript was written: the rules read that as *not*
    symptomatic by CEAP (docs/evaluation.md#symptoms), but the
    engine must be able to tell "not recorded" from "asymptomatic".
    """

    classes: frozenset[str]
    symptomatic: bool | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", frozenset(self.classes))
        if not self.classes:
            raise CeapError(
                "A CEAP classification needs at least one clinical class, e.g. C3,s.", "C"
            )
        for code in self.classes:
            if code not in CLINICAL_CLASSES:
                raise _unknown_class(code)
        # "No signs" contradicts any other class; an inference from the definitions (Lurie 2020).
        if "C0" in self.classes and len(self.classes) > 1:
            raise CeapError(
                "C0 means no visible or palpable signs of venous disease; "
                "it cannot be combined with another clinical class.",
                "C",
            )

    @property
    def ordered(self) -> tuple[str, ...]:
        """Classes in clinical order, C0 < C1 < C2 < C2r < ... < C6 < C6r."""
        return tuple(sorted(self.classes, key=_CLASS_RANK.__getitem__))

    @property
    def highest(self) -> str:
        """Highest clinical class, e.g. "C4b"."""
        return self.ordered[-1]

    def canonical(self) -> str:
        """CEAP-style C part: "C3,4b,s" (classes in clinical order, subscript last)."""
        text = "C" + ",".join(code[1:] for code in self.ordered)
        if self.symptomatic is not None:
            text += ",s" if self.symptomatic else ",a"
        return text

    def describe(self) -> str:
        """Plain-language reading, e.g. "oedema; pigmentation or eczema — symptomatic"."""
        text = "; ".join(CLINICAL_CLASSES[code] for code in self.ordered)
        if self.symptomatic is None:
            return text + " \u2014 symptom status not recorded"
        return text + (" \u2014 symptomatic" if self.symptomatic else " \u2014 asymptomatic")


def threshold_classes(classes: Iterable[str]) -> frozenset[str]:
    """Classes as guideline thresholds read them: C2r counts as C2 and C6r as C6.

    C4, C4a, C4b and C4c stay as they are: a bare C4 meets "C3-C6" or "C >= C3" but not a
    C4b-based criterion (docs/evaluation.md#ceap-classes).
    """
    return frozenset(_THRESHOLD_CLASS.get(code, code) for code in classes)


def _tokens(head: str) -> list[str]:
    """Whitespace-separated tokens, with spaces around commas removed so "C3, 4b, s" reads as
    one C part."""
    return _COMMA.sub(",", head.strip()).split()


def _items(token: str, letter: str) -> list[tuple[str, str, str]]:
    """Split a part such as "Ad,p" or "Ad,Ap" into (as written, display, lower-case code body)
    triples; the display adds the part letter where CEAP leaves it out ("p" -> "Ap").

    The part letter is written once in CEAP ("Pr,o") but people also repeat it ("Pr,Po");
    no code body starts with its own part letter, so dropping a repeated one is unambiguous.
    """
    items = []
    for index, raw in enumerate(token.split(",")):
        has_letter = index == 0 or _fold(raw[:1]) == letter.lower()
        body = _fold(raw[1:] if has_letter else raw)
        items.append((raw, raw if has_letter else letter + raw, body))
    return items


def _parse_clinical_token(token: str) -> ClinicalPart:
    if _fold(token[0]) != "c":
        if _fold(token[0]) in ("e", "a", "p"):
            raise CeapError(_C_FIRST_MESSAGE, "C")
        raise _unknown_class(token.split(",", 1)[0])
    classes: set[str] = set()
    subscripts: set[bool] = set()
    for index, (raw, display, body) in enumerate(_items(token, "C")):
        if index > 0 and body in _SUBSCRIPTS:
            subscripts.add(_SUBSCRIPTS[body])
            continue
        if subscripts:
            raise CeapError("The subscript (s or a) must come last in the C part.", "C")
        code = _CLASS_BY_SUFFIX.get(body)
        if code is None:
            base = _CLASS_BY_SUFFIX.get(body[:-1])
            if base is not None and body[-1:] in _SUBSCRIPTS:
                raise CeapError(
                    f"{display} is not a CEAP clinical class; write the subscript after a "
                    f"comma, e.g. {base},{body[-1]}.",
                    "C",
                )
            raise _misplaced(raw, "C") or _unknown_class(display)
        classes.add(code)
    if len(subscripts) > 1:
        raise CeapError(
            "A clinical class is either symptomatic (s) or asymptomatic (a), not both.", "C"
        )
    return ClinicalPart(frozenset(classes), next(iter(subscripts), None))


def parse_clinical(text: str) -> ClinicalPart:
    """Read only the C part, i.e. the first whitespace-separated token of ``text``.

    Lenient on purpose: the engine needs the clinical classes even when a later part of the
    string is wrong (the example "C4b,s Es Ai,p Pr,o" has an invalid A part but a readable
    C4b,s). Accepts "C3,4b,s", "C3,C4b,s", "c2r", "C2,3,a"; raises CeapError when the C part
    itself is unreadable, which the engine treats as "not recorded"
    (docs/evaluation.md#ceap-classes).
    """
    if not text.strip():
        raise CeapError(EMPTY_MESSAGE)
    tokens = _tokens(text.partition("(")[0])
    if not tokens:
        raise CeapError(_C_FIRST_MESSAGE, "C")
    return _parse_clinical_token(tokens[0])


@dataclass(frozen=True)
class _Part:
    """Vocabulary of one of the E, A and P parts (Lurie 2020)."""

    letter: str
    name: str
    codes: dict[str, str]  # code -> plain-language meaning, in canonical order
    # Misreadings with a suggestion of their own (docs/scores.md#ceap-2020), checked before
    # difflib's guess.
    slips: dict[str, str]

    @property
    def none_code(self) -> str:
        """En/An/Pn: "nothing identified", which excludes every other code of the part."""
        return self.letter + "n"

    def unknown(self, display: str) -> CeapError:
        folded = _fold(display)
        *rest, last = self.codes
        choices = f"{', '.join(rest)} or {last}"
        if folded == self.letter.lower():
            return CeapError(f"The {self.letter} part needs a code; use {choices}.", self.letter)
        suggestion = self.slips.get(folded)
        if suggestion is None:
            by_fold = {code.lower(): code for code in self.codes}
            matches = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=0.5)
            suggestion = by_fold[matches[0]] if matches else None
        if suggestion is None:
            return CeapError(
                f"{display} is not a CEAP {self.name} code; use {choices}.", self.letter
            )
        return CeapError(
            f"{display} is not a CEAP {self.name} code; did you mean {suggestion}?", self.letter
        )

    def parse(self, token: str) -> tuple[str, ...]:
        codes = []
        for raw, display, body in _items(token, self.letter):
            code = self.letter + body
            if code not in self.codes:
                raise _misplaced(raw, self.letter) or self.unknown(display)
            codes.append(code)
        return tuple(codes)

    def normalise(self, codes: Iterable[str]) -> tuple[str, ...]:
        """Known codes, deduplicated, in canonical order; "nothing identified" stands alone."""
        given = set(codes)
        for code in given:
            if code not in self.codes:
                raise self.unknown(code)
        if self.none_code in given and len(given) > 1:
            raise CeapError(
                f"{self.none_code} means {self.codes[self.none_code]}; it cannot be combined "
                f"with another {self.name} code.",
                self.letter,
            )
        return tuple(code for code in self.codes if code in given)

    def canonical(self, codes: tuple[str, ...]) -> str:
        """CEAP writes the letter once: ("Pr", "Po") -> "Pr,o"."""
        return self.letter + ",".join(code[1:] for code in codes)


ETIOLOGY = _Part(
    letter="E",
    name="etiology",
    codes={
        "Ep": "primary",
        "Es": "secondary",
        "Esi": "secondary, intravenous (e.g. post-thrombotic)",
        "Ese": "secondary, extravenous (e.g. extrinsic compression)",
        "Ec": "congenital",
        "En": "no cause identified",
    },
    slips={},
)
ANATOMY = _Part(
    letter="A",
    name="anatomy",
    codes={
        "As": "superficial veins",
        "Ad": "deep veins",
        "Ap": "perforator veins",
        "An": "no venous location identified",
    },
    # "Ai" (in an example string of the project's first specification) is answered with Ad,
    # an iliac, i.e. deep, reading; difflib alone ties all four codes and would pick As.
    slips={"ai": "Ad"},
)
PATHOPHYSIOLOGY = _Part(
    letter="P",
    name="pathophysiology",
    codes={"Pr": "reflux", "Po": "obstruction", "Pn": "no pathophysiology identified"},
    slips={},
)
_PARTS = (ETIOLOGY, ANATOMY, PATHOPHYSIOLOGY)
_PART_BY_LETTER = {part.letter.lower(): part for part in _PARTS}
_PART_BY_CODE = {code.lower(): part for part in _PARTS for code in part.codes}


def _misplaced(raw: str, letter: str) -> CeapError | None:
    """A valid code of another part inside this one, as in "Ad,Po": the space between the
    parts was lost, so say that instead of suggesting a look-alike code of the wrong part."""
    part = _PART_BY_CODE.get(_fold(raw))
    if part is None or part.letter == letter:
        return None
    return CeapError(
        f"{raw} is a CEAP {part.name} code; separate the parts with spaces, "
        "e.g. C3,4b,s Esi Ad Po.",
        letter,
    )


# CEAP 2020 anatomic segment abbreviations in anatomic order (Lurie 2020).
SEGMENTS: dict[str, str] = {
    "Tel": "telangiectasia",
    "Ret": "reticular veins",
    "GSVa": "great saphenous vein above the knee",
    "GSVb": "great saphenous vein below the knee",
    "SSV": "small saphenous vein",
    "AASV": "anterior accessory saphenous vein",
    "NSV": "non-saphenous vein",
    "IVC": "inferior vena cava",
    "CIV": "common iliac vein",
    "IIV": "internal iliac vein",
    "EIV": "external iliac vein",
    "PELV": "pelvic veins (gonadal, broad ligament, other)",
    "CFV": "common femoral vein",
    "DFV": "deep femoral vein",
    "FV": "femoral vein",
    "POPV": "popliteal vein",
    "TIBV": "crural (tibial) veins",
    "ATV": "anterior tibial vein",
    "PTV": "posterior tibial vein",
    "PRV": "peroneal vein",
    "MUSV": "muscular veins",
    "GAV": "gastrocnemius vein",
    "SOV": "soleal vein",
    "TPV": "thigh perforator vein",
    "CPV": "calf perforator vein",
}
_SEGMENT_BY_FOLD = {code.lower(): code for code in SEGMENTS}
# Pre-2020 segment numbers 1-18, so an old-style entry gets the abbreviation that replaced it.
_OLD_SEGMENT_NUMBERS = {
    "1": "Tel or Ret",
    "2": "GSVa",
    "3": "GSVb",
    "4": "SSV",
    "5": "NSV",
    "6": "IVC",
    "7": "CIV",
    "8": "IIV",
    "9": "EIV",
    "10": "PELV",
    "11": "CFV",
    "12": "DFV",
    "13": "FV",
    "14": "POPV",
    "15": "TIBV",
    "16": "MUSV",
    "17": "TPV",
    "18": "CPV",
}
_SEGMENT_LIST_EXAMPLE = "e.g. (CIV,EIV,CFV)"


def _unknown_segment(display: str) -> CeapError:
    message = f"{display} is not a CEAP 2020 anatomic segment abbreviation."
    old = _OLD_SEGMENT_NUMBERS.get(display)
    if old is not None:
        message = message[:-1] + f"; since 2020 segment {display} is written {old}."
    return CeapError(message, "segments")


def _normalise_segments(segments: Iterable[str]) -> tuple[str, ...]:
    given = set(segments)
    for segment in given:
        if segment not in SEGMENTS:
            raise _unknown_segment(segment)
    return tuple(segment for segment in SEGMENTS if segment in given)


@dataclass(frozen=True)
class Ceap:
    """One limb's CEAP 2020 classification, always valid and in canonical order.

    Construction normalises order and duplicates, so two equal classifications compare
    equal however they were written, and enforces the combination rules: En/An/Pn stand
    alone (Lurie 2020) and so does C0 (ClinicalPart), because "nothing found"
    contradicts any finding. E, A and P come together or not at all: a basic, clinical-only
    entry is allowed, a half-advanced one is not.
    """

    clinical: ClinicalPart
    etiology: tuple[str, ...] = ()
    anatomy: tuple[str, ...] = ()
    pathophysiology: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "etiology", ETIOLOGY.normalise(self.etiology))
        object.__setattr__(self, "anatomy", ANATOMY.normalise(self.anatomy))
        object.__setattr__(self, "pathophysiology", PATHOPHYSIOLOGY.normalise(self.pathophysiology))
        object.__setattr__(self, "segments", _normalise_segments(self.segments))
        given = [bool(codes) for _, codes in self._advanced_parts()]
        if any(given) and not all(given):
            missing = next(part for part, codes in self._advanced_parts() if not codes)
            raise CeapError(
                f"The {missing.letter} part is missing; give E, A and P together, "
                "or the C part alone.",
                missing.letter,
            )
        if self.segments and not any(given):
            raise CeapError(
                "A segment list needs the E, A and P parts before it, "
                "e.g. C3,4b,s Esi Ad Po (CIV,EIV,CFV).",
                "segments",
            )

    def _advanced_parts(self) -> tuple[tuple[_Part, tuple[str, ...]], ...]:
        return (
            (ETIOLOGY, self.etiology),
            (ANATOMY, self.anatomy),
            (PATHOPHYSIOLOGY, self.pathophysiology),
        )

    @property
    def highest(self) -> str:
        """Highest clinical class, e.g. "C4b"."""
        return self.clinical.highest

    def canonical(self) -> str:
        """The app's stored form, e.g. "C3,4b,s Esi Ad Po (CIV,EIV,CFV)"."""
        words = [self.clinical.canonical()]
        words += [part.canonical(codes) for part, codes in self._advanced_parts() if codes]
        if self.segments:
            words.append(f"({','.join(self.segments)})")
        return " ".join(words)

    def describe(self) -> str:
        """Plain-language reading for clinicians who do not read CEAP codes fluently."""
        sentences = [f"Clinical: {self.clinical.describe()}."]
        for part, codes in self._advanced_parts():
            if codes:
                meanings = "; ".join(part.codes[code] for code in codes)
                sentences.append(f"{part.name.capitalize()}: {meanings}.")
        if self.segments:
            names = ", ".join(SEGMENTS[segment] for segment in self.segments)
            sentences.append(f"Segments: {names}.")
        return " ".join(sentences)


def _split_segments(text: str) -> tuple[str, tuple[str, ...]]:
    """Separate "C3,s Esi Ad Po (CIV, EIV)" into the CEAP head and its segment list."""
    head, paren, rest = text.partition("(")
    if ")" in head:
        raise CeapError(
            f"The segment list needs an opening parenthesis, {_SEGMENT_LIST_EXAMPLE}.",
            "segments",
        )
    if not paren:
        return head, ()
    inner, close, tail = rest.partition(")")
    if not close:
        raise CeapError(
            f"The segment list needs a closing parenthesis, {_SEGMENT_LIST_EXAMPLE}.",
            "segments",
        )
    if tail.strip() or "(" in inner:
        raise CeapError(
            f"Give one segment list, in parentheses at the end, {_SEGMENT_LIST_EXAMPLE}.",
            "segments",
        )
    items = [item.strip() for item in inner.split(",")]
    if items == [""]:
        raise CeapError(
            f"The segment list is empty; name the segments, {_SEGMENT_LIST_EXAMPLE}, "
            "or leave the parentheses out.",
            "segments",
        )
    segments = []
    for item in items:
        if not item:
            raise CeapError(
                f"Separate segment abbreviations with single commas, {_SEGMENT_LIST_EXAMPLE}.",
                "segments",
            )
        segment = _SEGMENT_BY_FOLD.get(_fold(item))
        if segment is None:
            raise _unknown_segment(item)
        segments.append(segment)
    return head, tuple(segments)


def _check_placement(token: str, position: int, seen: dict[str, tuple[str, ...]]) -> _Part:
    """The part a token after the C part belongs to, or a message saying why it is misplaced."""
    if all(_fold(item) in _SEGMENT_BY_FOLD for item in token.split(",")):
        raise CeapError(
            f"Put the segment list in parentheses at the end, {_SEGMENT_LIST_EXAMPLE}.",
            "segments",
        )
    letter = _fold(token[0])
    if position == 1 and _fold(token) in _SUBSCRIPTS:
        raise CeapError("Write the subscript in the C part after a comma, e.g. C3,s.", "C")
    if letter == "c":
        raise CeapError(
            "The C part appears twice; list all clinical classes in one C part, e.g. C3,4b,s.",
            "C",
        )
    part = _PART_BY_LETTER.get(letter)
    if part is None:
        raise CeapError(
            f"{token} is not part of a CEAP classification; after the C part come E, A and P, "
            "e.g. C3,4b,s Esi Ad Po."
        )
    if part.letter in seen:
        raise CeapError(f"The {part.letter} part appears twice.", part.letter)
    for later in _PARTS[_PARTS.index(part) + 1 :]:
        if later.letter in seen:
            raise CeapError(
                f"The {later.letter} part must come after the {part.letter} part.", later.letter
            )
    return part


def parse(text: str) -> Ceap:
    """Parse and validate a one-limb CEAP 2020 string (Lurie 2020).

    Tolerates extra whitespace and letter case and always returns the canonical structure,
    so "c3, C4B,S  esi ad po (civ, eiv)" and "C3,4b,s Esi Ad Po (CIV,EIV)" are the same
    classification. Raises CeapError, and nothing else, for any unreadable str.
    """
    if not text.strip():
        raise CeapError(EMPTY_MESSAGE)
    head, segments = _split_segments(text)
    tokens = _tokens(head)
    if not tokens:
        raise CeapError(_C_FIRST_MESSAGE, "C")
    clinical = _parse_clinical_token(tokens[0])
    seen: dict[str, tuple[str, ...]] = {}
    for position, token in enumerate(tokens[1:], start=1):
        part = _check_placement(token, position, seen)
        seen[part.letter] = part.parse(token)
    return Ceap(
        clinical=clinical,
        etiology=seen.get("E", ()),
        anatomy=seen.get("A", ()),
        pathophysiology=seen.get("P", ()),
        segments=segments,
    )
