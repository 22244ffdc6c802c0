"""Every screen speaks to clinicians: a walk of every page a persona can reach from the home
page (links followed as a person would, the PDFs read back as text) fails on the notation of
the former clinical reference (the section sign, "brief", the [V]/[S]/[M] tags) and on raw
snake_case codes in the visible text.

The walk reads the demo of ``make run`` (seed_demo and seed_patency_demo) on purpose: it is
the site a newcomer reads first, and its written notes, both centres and three years of
follow-up put text on every page that a handful of test cases would leave empty."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import deque
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command

from demo import cases as demo_cases

pytestmark = pytest.mark.django_db

# Pages of the same shape (ids replaced) are read at most this often per persona.
PER_SHAPE = 2
MAX_PAGES = 400
SKIP_PREFIXES = ("/admin/", "/api/", "/accounts/logout/", "/static/", "/healthz")
# Text users wrote or that names a person (usernames may contain "_") is data, not jargon.
USERNAMES = {u.username for u in demo_cases.USERS}
JARGON = [
    (re.compile("\N{SECTION SIGN}"), "section sign"),
    (re.compile(r"\bbrief\b", re.IGNORECASE), "the word 'brief'"),
    (re.compile(r"\[(?:V|S|M)\]"), "verification tag"),
    (re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"), "raw code"),
]


class VisibleText(HTMLParser):
    """The text a person sees or a screen reader reads: text nodes outside script, style and
    template, plus title, alt, placeholder and aria-label values; and the page's links.

    Three marked kinds of content are left out: machine-readable data (``data-code``: a rule
    definition or test-case facts as JSON), the maintainer notes that only guideline admins
    see (``data-maintainer``) and past values in an audit trail, shown exactly as they were
    recorded (``data-recorded``)."""

    HIDDEN = {"script", "style", "template"}
    MARKERS = {"data-code", "data-maintainer", "data-recorded"}
    READ_ATTRS = {"title", "alt", "placeholder", "aria-label"}
    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "col", "area", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0
        self._skipping: list[str] = []  # the open tags of a marked element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag in self.VOID:
            if not self._hidden and not self._skipping:
                self.parts += [v for k, v in attrs if k in self.READ_ATTRS and v]
            return
        if self._skipping or self.MARKERS & set(values):
            self._skipping.append(tag)
            return
        if tag in self.HIDDEN:
            self._hidden += 1
        if not self._hidden:
            self.parts += [v for k, v in attrs if k in self.READ_ATTRS and v]

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag in self._skipping:
                while self._skipping and self._skipping.pop() != tag:
                    pass
            return
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and not self._skipping:
            self.parts.append(data)


def _shape(path: str) -> str:
    """The page kind: path segments holding an id (digits, or a rule id in capitals) as N."""
    return "/".join("N" if re.search(r"[\dA-Z%]", part) else part for part in path.split("/"))


def _problems(text: str) -> list[str]:
    found = []
    for pattern, what in JARGON:
        for match in pattern.finditer(text):
            token = match.group(0)
            if token in USERNAMES:
                continue
            start = max(0, match.start() - 40)
            found.append(f"{what}: …{text[start : match.end() + 40]!r}…")
    return found


def _pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "page.pdf"
    path.write_bytes(content)
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext (poppler-utils) is needed to read the PDFs"
    return subprocess.run([tool, str(path), "-"], check=True, capture_output=True, text=True).stdout


def walk(client, tmp_path: Path) -> dict[str, list[str]]:
    """{page: problems} of every page reachable from the home page."""
    queue, seen_paths, per_shape = deque(["/"]), set(), {}
    problems: dict[str, list[str]] = {}
    pages = 0
    while queue and pages < MAX_PAGES:
        path = queue.popleft()
        if path in seen_paths:
            continue
        seen_paths.add(path)
        shape = _shape(urlsplit(path).path)
        if per_shape.get(shape, 0) >= PER_SHAPE:
            continue
        per_shape[shape] = per_shape.get(shape, 0) + 1
        response = client.get(path, follow=True)
        pages += 1
        assert response.status_code < 500, path
        kind = response.get("Content-Type", "")
        if kind.startswith("application/pdf"):
            found = _problems(_pdf_text(response.content, tmp_path))
        elif kind.startswith("text/html"):
            parser = VisibleText()
            parser.feed(response.content.decode())
            found = _problems(" ".join(parser.parts))
            for href in parser.links:
                target = urlsplit(urljoin(path, href))
                if target.scheme or target.netloc or not target.path.startswith("/"):
                    continue
                if target.path.startswith(SKIP_PREFIXES):
                    continue
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
        else:
            continue
        if found:
            problems[path] = found
    return problems


@pytest.fixture
def demo_world(monkeypatch):
    monkeypatch.delenv(demo_cases.PASSWORD_ENV, raising=False)
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    call_command("seed_patency_demo", stdout=StringIO(), stderr=StringIO())


@pytest.mark.parametrize(
    "username", ["clinician", "nurse", "guideline_admin", "clinician_b", "anonymous"]
)
def test_no_page_shows_reference_notation_or_raw_codes(demo_world, client, username, tmp_path):
    from venousapp.accounts.models import User

    if username != "anonymous":
        client.force_login(User.objects.get(username=username))
    problems = walk(client, tmp_path)
    report = "\n".join(f"{page}\n  " + "\n  ".join(found[:5]) for page, found in problems.items())
    assert not problems, f"{len(problems)} page(s) with jargon:\n{report}"


def _page_problems(client, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200, path
    parser = VisibleText()
    parser.feed(response.content.decode())
    return _problems(" ".join(parser.parts))


@pytest.mark.parametrize("username", ["clinician", "guideline_admin"])
def test_every_rule_page_and_every_case_page_reads_clinically(demo_world, client, username):
    """The walk reads two pages of each kind; these pages differ by their data, so all."""
    from cases.models import Case
    from guidelines.models import Rule
    from venousapp.accounts.models import User

    user = User.objects.get(username=username)
    client.force_login(user)
    paths = [
        f"/guidelines/rules/{rule_id}/"
        for rule_id in Rule.objects.values_list("rule_id", flat=True)
    ]
    paths += [
        f"/cases/{pk}/"
        for pk in Case.objects.filter(patient__centre=user.centre).values_list("pk", flat=True)
    ]
    problems = {path: found for path in paths if (found := _page_problems(client, path))}
    report = "\n".join(f"{page}\n  " + "\n  ".join(found[:5]) for page, found in problems.items())
    assert not problems, f"{len(problems)} page(s) with jargon:\n{report}"
