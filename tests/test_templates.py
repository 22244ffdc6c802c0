"""The templates' own rules, read from their source.

A page's stylesheets and scripts load in the head: ``base.html`` names the shared ones, and a
page adds its own in its ``head`` (stylesheets) and ``scripts`` blocks, which base.html places
in the head. A ``<link>`` or ``<script>`` in the body loads late, or again with every htmx
swap of the partial that carries it. Looks live in the stylesheets, never in ``style=``
attributes; e-mails are the exception, because mail clients ignore stylesheets.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = Path(settings.TEMPLATES[0]["DIRS"][0])
EMAILS = TEMPLATES / "emails"
BASE = TEMPLATES / "base.html"

ASSET_BLOCK = re.compile(
    r"{%\s*block\s+(?:head|scripts)\s*%}.*?{%\s*endblock(?:\s+(?:head|scripts))?\s*%}", re.S
)
HEAD = re.compile(r"<head>.*?</head>", re.S)
EXTENDS = re.compile(r"{%\s*extends\s")
ASSET = re.compile(r"<(?:link|script)\b", re.I)
INLINE_STYLE = re.compile(r"\sstyle\s*=", re.I)
STYLESHEET = re.compile(r"<link rel=\"stylesheet\" href=\"{% static '([^']+)' %}\">")


def _templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*") if p.is_file())


def _line(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


def _blank(match: re.Match[str]) -> str:
    """The matched region's line breaks only, so that later lines keep their numbers."""
    return "\n" * match[0].count("\n")


def misplaced_assets(source: str, *, is_base: bool = False) -> list[int]:
    """Lines of the ``<link>`` and ``<script>`` elements outside the head.

    The head is base.html's ``<head>`` and, in a page that extends another, its ``head`` and
    ``scripts`` blocks; the same blocks in a partial would be dropped when it is included.
    """
    if is_base:
        source = HEAD.sub(_blank, source)
    elif EXTENDS.search(source):
        source = ASSET_BLOCK.sub(_blank, source)
    return [_line(source, m.start()) for m in ASSET.finditer(source)]


@pytest.mark.parametrize(
    ("source", "is_base", "lines"),
    [
        ('{% extends "base.html" %}\n{% block head %}<link rel="x">{% endblock %}', False, []),
        (
            '{% extends "base.html" %}{% block scripts %}\n<script src="x"></script>\n'
            "{% endblock scripts %}",
            False,
            [],
        ),
        ('{% extends "base.html" %}\n{% block content %}<link rel="x">{% endblock %}', False, [2]),
        ('{% block head %}<link rel="x">{% endblock %}\n<script src="x"></script>', False, [1, 2]),
        ('<div><script src="x"></script></div>', False, [1]),
        ('<head>\n<script src="x"></script>\n</head>\n<body><link rel="x">', True, [4]),
    ],
)
def test_misplaced_assets_finds_what_lies_outside_the_head(source, is_base, lines):
    assert misplaced_assets(source, is_base=is_base) == lines


def test_the_templates_are_found():
    names = {p.relative_to(TEMPLATES).as_posix() for p in _templates()}
    assert {"base.html", "cases/case_detail.html", "emails/followup_digest.html"} <= names


def test_stylesheets_and_scripts_load_in_the_head():
    found = [
        f"{path.relative_to(TEMPLATES)}:{line}"
        for path in _templates()
        for line in misplaced_assets(path.read_text(), is_base=path == BASE)
    ]
    assert found == [], "a <link> or <script> outside the head (use the head/scripts blocks)"


def test_base_html_has_the_asset_blocks_in_its_head():
    head = HEAD.search(BASE.read_text())
    assert head is not None
    assert re.search(r"{%\s*block\s+head\s*%}", head[0])
    assert re.search(r"{%\s*block\s+scripts\s*%}", head[0])


def test_the_frame_loads_only_the_shared_stylesheets():
    """An app's stylesheet is loaded by the pages that use it, not by every page."""
    head = HEAD.search(BASE.read_text())
    assert head is not None
    assert STYLESHEET.findall(ASSET_BLOCK.sub("", head[0])) == [
        "vendor/pico-2.1.1.min.css",
        "css/app.css",
    ]


def test_no_inline_styles_outside_emails():
    found = [
        f"{path.relative_to(TEMPLATES)}:{_line(source, m.start())}"
        for path in _templates()
        if EMAILS not in path.parents
        for source in [path.read_text()]
        for m in INLINE_STYLE.finditer(source)
    ]
    assert found == [], "style= attributes (use a class in the app's stylesheet)"
