"""Citations a newcomer can follow from a clone.

Code, rule files and tests cite the primary source (society, year, recommendation, DOI) or a
page of the project's own ``docs/``; nothing cites sections of a document that is not in the
repository. Two checks over every file of the working tree (version-control and build
directories left out, binary files skipped):

- no file points into such a document: no section sign, no mention of the former clinical
  reference by its short name or its file name. In data migrations only comments and
  docstrings are read: their string literals are what the migration writes into a database,
  or recognises in one that was written earlier, and must stay as they were so that a fresh
  database and an upgraded one hold the same rows;
- every ``docs/<page>.md#<anchor>`` a file cites, and every relative link between the docs
  pages, leads to a page that exists and to a heading that produces that anchor.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SKIPPED_DIRS = {
    ".git",
    ".venv",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    "__pycache__",
    "node_modules",
    "staticfiles",
    "test-results",
    "var",
}
OUTSIDE_REFERENCES = [
    (re.compile("\N{SECTION SIGN}"), "a section sign"),
    (re.compile(r"\bthe\s+brief\b", re.IGNORECASE), "the former clinical reference by name"),
    (re.compile(r"\bCLINICAL_BRIEF\b"), "the former clinical reference by file name"),
]
# docs/<page>.md or docs/<page>.md#<anchor>, as code, rule files and tests cite a docs page.
DOCS_CITATION = re.compile(r"\bdocs/((?:[\w-]+/)*[\w-]+\.md)(?:#([\w-]+))?")
# [text](page.md#anchor), [text](#anchor): a relative link inside a docs page.
RELATIVE_LINK = re.compile(r"\]\((?![a-z]+:)((?:[\w-]+/)*[\w-]+\.md)?(?:#([\w-]+))?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _text_files() -> Iterator[tuple[Path, str]]:
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT)
        if any(part in SKIPPED_DIRS or part.endswith(".egg-info") for part in relative.parts):
            continue
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            yield relative, data.decode("utf-8")
        except UnicodeDecodeError:
            continue


def _is_data_migration(relative: Path) -> bool:
    return relative.suffix == ".py" and "migrations" in relative.parts


def _prose_of_migration(text: str) -> str:
    """The comments and docstrings of a migration module, one per line."""
    docstrings = [
        ast.get_docstring(node, clean=False) or ""
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    comments = [
        token.string
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type == tokenize.COMMENT
    ]
    return "\n".join(docstrings + comments)


def anchor(heading: str) -> str:
    """The anchor a Markdown heading gets on GitHub: lower case, punctuation dropped (hyphens
    and underscores kept), spaces as hyphens; inline code and link markup are left out."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {anchor(match.group(1)) for match in HEADING.finditer(page.read_text("utf-8"))}


def test_anchor_follows_the_markdown_renderer():
    assert anchor("Unknown facts") == "unknown-facts"
    assert anchor("Day 14 and other thresholds") == "day-14-and-other-thresholds"
    assert anchor("`bleeding_ok`: low risk") == "bleeding_ok-low-risk"
    assert anchor("Sources (with DOIs)") == "sources-with-dois"


def test_no_file_cites_a_document_outside_the_repository():
    problems = []
    for relative, text in _text_files():
        if _is_data_migration(relative):
            read = _prose_of_migration(text)
            where = f"{relative} (comment or docstring)"
            problems += [
                f"{where}: {what}: {read[max(0, m.start() - 40) : m.end() + 40]!r}"
                for pattern, what in OUTSIDE_REFERENCES
                for m in pattern.finditer(read)
            ]
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            problems += [
                f"{relative}:{number}: {what}: {line.strip()[:120]!r}"
                for pattern, what in OUTSIDE_REFERENCES
                if pattern.search(line)
            ]
    assert not problems, f"{len(problems)} citation(s) outside the repository:\n" + "\n".join(
        problems
    )


def test_every_cited_docs_page_and_anchor_exists():
    anchors: dict[Path, set[str]] = {}

    def missing(page: Path, name: str | None) -> str | None:
        if not page.is_file():
            return f"no page {page.relative_to(ROOT)}"
        if page not in anchors:
            anchors[page] = _anchors(page)
        if name and name not in anchors[page]:
            return f"no heading with the anchor #{name} in {page.relative_to(ROOT)}"
        return None

    problems = []
    cited = 0
    for relative, text in _text_files():
        for number, line in enumerate(text.splitlines(), start=1):
            for match in DOCS_CITATION.finditer(line):
                cited += 1
                problem = missing(DOCS / match.group(1), match.group(2))
                if problem:
                    problems.append(f"{relative}:{number}: {match.group(0)}: {problem}")
            if relative.parts[0] == "docs" and relative.suffix == ".md":
                for match in RELATIVE_LINK.finditer(line):
                    page = (ROOT / relative).parent / match.group(1) if match.group(1) else None
                    problem = missing(page or ROOT / relative, match.group(2))
                    if problem:
                        problems.append(f"{relative}:{number}: {match.group(0)}: {problem}")
    assert cited, "no file cites a docs page"
    assert not problems, "\n".join(problems)


def test_every_docs_page_has_unique_anchors():
    for page in sorted(DOCS.rglob("*.md")):
        found = [anchor(m.group(1)) for m in HEADING.finditer(page.read_text("utf-8"))]
        duplicates = sorted({name for name in found if found.count(name) > 1})
        assert not duplicates, f"{page.relative_to(ROOT)}: headings share anchors {duplicates}"
