"""The iliocaval diagram: an SVG of the deep venous tree from the IVC to the popliteal veins,
segments coloured by finding and severity, planned stents drawn with their diameters and
access sites marked (STYLE.md "pictures where people would rather look than read").

Pure Python: findings, stents and access sites in, an SVG string out. Every text is escaped
here, so the caller may mark the result safe. The picture is in the anatomical (radiological)
view: the patient's right is on the viewer's left. It carries ``role="img"`` with a
``<title>`` and a ``<desc>`` that says in words what the picture shows, for screen readers and
for anyone who prints in black and white.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from html import escape

__all__ = [
    "LEGEND",
    "DiagramAccess",
    "DiagramFinding",
    "DiagramStent",
    "describe",
    "iliocaval_svg",
    "severity",
]

WIDTH, HEIGHT = 440, 790
_MM = 1.3  # drawing units per millimetre of vessel or stent diameter


@dataclass(frozen=True)
class DiagramFinding:
    segment: str
    side: str  # left | right | midline
    finding: str  # thrombus | occlusion | stenosis | compression | normal
    area_reduction_pct: int | None = None


@dataclass(frozen=True)
class DiagramStent:
    segment: str
    side: str
    diameter_mm: float
    length_mm: int
    label: str = ""


@dataclass(frozen=True)
class DiagramAccess:
    site: str  # popliteal | femoral | femoral_midthigh | jugular | posterior_tibial
    side: str


@dataclass(frozen=True)
class _Segment:
    code: str
    side: str
    start: tuple[float, float]
    end: tuple[float, float]
    diameter_mm: float  # typical adult diameter, for the drawn width


def _mirror(x: float) -> float:
    return WIDTH - x


def _tree() -> list[_Segment]:
    # Right-sided coordinates (viewer's left); the left side mirrors them.
    right = [
        ("CIV", (210, 190), (158, 262), 15),
        ("IIV", (158, 262), (186, 336), 9),
        ("EIV", (158, 262), (132, 362), 13),
        ("CFV", (132, 362), (124, 424), 12),
        ("DFV", (124, 424), (86, 508), 6),
        ("FV", (124, 424), (132, 560), 8),
        ("POPV", (132, 560), (138, 640), 7),
    ]
    segments = [_Segment("IVC", "midline", (220, 40), (220, 196), 21)]
    for code, (x1, y1), (x2, y2), diameter in right:
        segments.append(_Segment(code, "right", (x1, y1), (x2, y2), diameter))
        segments.append(_Segment(code, "left", (_mirror(x1), y1), (_mirror(x2), y2), diameter))
    return segments


TREE = _tree()
_SEGMENT_NAMES = {
    "IVC": "inferior vena cava",
    "CIV": "common iliac vein",
    "IIV": "internal iliac vein",
    "EIV": "external iliac vein",
    "CFV": "common femoral vein",
    "DFV": "deep femoral vein",
    "FV": "femoral vein",
    "POPV": "popliteal vein",
}

# (key, colour, legend text), mildest first. Colours stay distinct in greyscale print too
# (lightness falls with severity); the desc and the labels carry the same information.
LEGEND = [
    ("unknown", "#e4e8ec", "Not recorded"),
    ("normal", "#b9dcb2", "Normal"),
    ("mild", "#f6d96b", "Narrowing < 50 %"),
    ("moderate", "#f0a04b", "Narrowing 50–79 % or unmeasured"),
    ("severe", "#d9542f", "Narrowing ≥ 80 %"),
    ("occlusion", "#8e1b2b", "Occlusion"),
    ("thrombus", "#6b4a9a", "Thrombus"),
]
_COLOUR = {key: colour for key, colour, _ in LEGEND}
_STENT = "#1c3d8f"
_OUTLINE = "#5b6b78"


def severity(finding: DiagramFinding | None) -> str:
    """Legend key of a finding: its kind, graded by IVUS area reduction for stenoses."""
    if finding is None:
        return "unknown"
    if finding.finding in ("normal", "occlusion", "thrombus"):
        return finding.finding
    area = finding.area_reduction_pct
    if area is None:
        return "moderate"
    if area >= 80:
        return "severe"
    return "moderate" if area >= 50 else "mild"


def _fmt(value: float) -> str:
    return f"{value:g}"


def _where(segment: str, side: str) -> str:
    return segment if side == "midline" else f"{side} {segment}"


def _finding_text(finding: DiagramFinding) -> str:
    text = f"{_where(finding.segment, finding.side)}: {finding.finding}"
    if finding.area_reduction_pct is not None and finding.finding != "normal":
        text += f" ({finding.area_reduction_pct} % area reduction)"
    return text


_ACCESS_TEXT = {
    "popliteal": "popliteal vein",
    "femoral": "common femoral vein",
    "femoral_midthigh": "mid-thigh femoral vein",
    "jugular": "internal jugular vein",
    "posterior_tibial": "posterior tibial vein",
}


def describe(
    findings: Collection[DiagramFinding],
    stents: Collection[DiagramStent] = (),
    access: Sequence[DiagramAccess] = (),
    bilateral_extension: bool = False,
) -> str:
    """The diagram in words (its ``<desc>``)."""
    diseased = [f for f in findings if f.finding != "normal"]
    parts = [
        "Findings: " + ("; ".join(_finding_text(f) for f in diseased) or "none recorded") + "."
    ]
    if stents:
        parts.append(
            "Planned stents: "
            + "; ".join(
                f"{_where(s.segment, s.side)} {_fmt(s.diameter_mm)} × {s.length_mm} mm"
                + (f" {s.label}" if s.label else "")
                for s in stents
            )
            + "."
        )
    if bilateral_extension:
        parts.append(
            "Bilateral extension: inverted-Y reconstruction of the IVC and both iliac axes."
        )
    if access:
        parts.append(
            "Access: "
            + "; ".join(
                f"{i}. {a.side} {_ACCESS_TEXT.get(a.site, a.site)}"
                for i, a in enumerate(access, start=1)
            )
            + "."
        )
    return " ".join(parts)


def _line(seg: _Segment, colour: str, width: float, extra: str = "") -> str:
    (x1, y1), (x2, y2) = seg.start, seg.end
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" '
        f'stroke-width="{width:.1f}" stroke-linecap="round"{extra}/>'
    )


def _mid(seg: _Segment, t: float = 0.5) -> tuple[float, float]:
    (x1, y1), (x2, y2) = seg.start, seg.end
    return x1 + (x2 - x1) * t, y1 + (y2 - y1) * t


def _access_point(site: str, side: str) -> tuple[float, float] | None:
    lookup = {(s.code, s.side): s for s in TREE}
    if site == "jugular":
        return 220, 14
    code, t = {
        "popliteal": ("POPV", 0.5),
        "femoral": ("CFV", 0.5),
        "femoral_midthigh": ("FV", 0.45),
        "posterior_tibial": ("POPV", 1.0),
    }.get(site, ("", 0))
    seg = lookup.get((code, side))
    if seg is None:
        return None
    x, y = _mid(seg, t)
    return (x, y + 14) if site == "posterior_tibial" else (x, y)


def iliocaval_svg(
    *,
    findings: Collection[DiagramFinding],
    stents: Collection[DiagramStent] = (),
    access: Sequence[DiagramAccess] = (),
    bilateral_extension: bool = False,
    id_prefix: str = "iliocaval",
    title: str = "Iliocaval diagram",
) -> str:
    """The SVG (see module docstring). ``id_prefix`` keeps ids unique when a page shows more
    than one diagram."""
    pid = escape(id_prefix, quote=True)
    by_site = {(f.segment, "midline" if f.segment == "IVC" else f.side): f for f in findings}
    stent_at = {(s.segment, "midline" if s.segment == "IVC" else s.side): s for s in stents}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" class="iliocaval" role="img" '
        f'aria-labelledby="{pid}-title {pid}-desc" font-family="sans-serif" font-size="12">',
        f'<title id="{pid}-title">{escape(title)}</title>',
        f'<desc id="{pid}-desc">'
        f"{escape(describe(findings, stents, access, bilateral_extension))}</desc>",
        '<text x="12" y="24" font-weight="bold" font-size="14">R</text>',
        f'<text x="{WIDTH - 22}" y="24" font-weight="bold" font-size="14">L</text>',
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle" fill="#555" '
        'font-size="10">anatomical view: patient\'s right on the left</text>',
        '<g class="vessels">',
    ]
    # Outlines first, then fills, so branches join without seams.
    for seg in TREE:
        out.append(_line(seg, _OUTLINE, seg.diameter_mm * _MM + 2.5))
    for seg in TREE:
        finding = by_site.get((seg.code, seg.side))
        key = severity(finding)
        tip = escape(
            f"{_where(seg.code, seg.side)} ({_SEGMENT_NAMES[seg.code]}): "
            + (_finding_text(finding).split(": ", 1)[1] if finding else "not recorded")
        )
        out.append(
            f'<g class="segment sev-{key}" data-segment="{seg.code}" data-side="{seg.side}">'
            f"<title>{tip}</title>{_line(seg, _COLOUR[key], seg.diameter_mm * _MM)}</g>"
        )
    out.append("</g>")
    # Segment labels.
    out.append('<g class="labels" fill="#222">')
    for seg in TREE:
        x, y = _mid(seg)
        if seg.side == "midline":
            lx, anchor = x - 22, "end"
        elif seg.side == "right":
            lx, anchor = x - seg.diameter_mm * _MM / 2 - 6, "end"
        else:
            lx, anchor = x + seg.diameter_mm * _MM / 2 + 6, "start"
        if seg.code in ("IIV", "FV"):  # inner side: the outer one belongs to the EIV / DFV
            offset = seg.diameter_mm * _MM / 2 + 6
            lx, anchor = (x + offset, "start") if seg.side == "right" else (x - offset, "end")
        out.append(f'<text x="{lx:.0f}" y="{y + 4:.0f}" text-anchor="{anchor}">{seg.code}</text>')
    out.append("</g>")
    # Stents: a tube as wide as the stent's diameter with a strut line, and the size.
    if stents:
        out.append('<g class="stents">')
        lookup = {(s.code, s.side): s for s in TREE}
        for site, stent in stent_at.items():
            drawn = lookup.get(site)
            if drawn is None:
                continue
            seg = drawn
            width = stent.diameter_mm * _MM
            inner = _COLOUR[severity(by_site.get(site))]
            tip = escape(
                f"Stent {_where(stent.segment, stent.side)}: {_fmt(stent.diameter_mm)} × "
                f"{stent.length_mm} mm {stent.label}".strip()
            )
            out.append(
                f'<g class="stent" data-segment="{seg.code}" data-side="{seg.side}">'
                f"<title>{tip}</title>"
                + _line(seg, _STENT, width + 3)
                + _line(seg, inner, max(width - 3, 2))
                + _line(seg, _STENT, 1.6, ' stroke-dasharray="5 3"')
                + "</g>"
            )
            x, y = _mid(seg)
            text = f"Ø{_fmt(stent.diameter_mm)}×{stent.length_mm}"
            if seg.side == "midline":
                tx, anchor = x + width / 2 + 8, "start"
            elif seg.side == "right":
                tx, anchor = x - width / 2 - 38, "end"
            else:
                tx, anchor = x + width / 2 + 38, "start"
            out.append(
                f'<text x="{tx:.0f}" y="{y + 4:.0f}" text-anchor="{anchor}" fill="{_STENT}" '
                f'font-weight="bold" class="stent-size">{escape(text)}</text>'
            )
        out.append("</g>")
    if bilateral_extension:
        out.append(
            '<g class="inverted-y">'
            f'<text x="220" y="262" text-anchor="middle" fill="{_STENT}" font-weight="bold">'
            "inverted-Y</text>"
            f'<text x="220" y="276" text-anchor="middle" fill="{_STENT}" font-size="10">'
            "bilateral extension</text></g>"
        )
    # Access sites: numbered markers, primary first.
    if access:
        out.append('<g class="access">')
        for number, item in enumerate(access, start=1):
            point = _access_point(item.site, item.side)
            if point is None:
                continue
            x, y = point
            dx = 26 if item.side == "right" else -26  # inner side, clear of the labels
            if item.site == "jugular":
                dx = 24 if number % 2 else -24
            tip = escape(f"Access {number}: {item.side} {_ACCESS_TEXT.get(item.site, item.site)}")
            out.append(
                f'<g class="access-site"><title>{tip}</title>'
                f'<line x1="{x + dx:.0f}" y1="{y:.0f}" x2="{x:.0f}" y2="{y:.0f}" '
                'stroke="#111" stroke-width="1.5"/>'
                f'<circle cx="{x + dx:.0f}" cy="{y:.0f}" r="8" fill="#fff" stroke="#111" '
                'stroke-width="1.5"/>'
                f'<text x="{x + dx:.0f}" y="{y + 4:.0f}" text-anchor="middle" font-size="10" '
                f'font-weight="bold">{number}</text></g>'
            )
        out.append("</g>")
    # Legend.
    top = HEIGHT - 116
    out.append(f'<g class="legend" font-size="10" transform="translate(10 {top})">')
    for i, (_key, colour, text) in enumerate(LEGEND):
        col, row = divmod(i, 4)
        x, y = col * 215, row * 16
        out.append(
            f'<rect x="{x}" y="{y}" width="14" height="10" fill="{colour}" stroke="{_OUTLINE}" '
            f'stroke-width="0.8"/><text x="{x + 19}" y="{y + 9}">{escape(text)}</text>'
        )
    x, y = 215, 48
    out.append(
        f'<rect x="{x}" y="{y}" width="14" height="10" fill="#fff" stroke="{_STENT}" '
        f'stroke-width="2"/><text x="{x + 19}" y="{y + 9}">Planned stent (Ø × length, mm)'
        "</text>"
    )
    out.append(
        '<circle cx="222" cy="69" r="6" fill="#fff" stroke="#111" stroke-width="1.2"/>'
        '<text x="234" y="73">Access site (1 = primary)</text>'
        '<text x="0" y="90" fill="#555">Narrowing: stenosis or extrinsic compression, graded '
        "by IVUS area reduction</text>"
    )
    out.append("</g></svg>")
    return "".join(out)
