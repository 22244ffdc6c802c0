"""What a browser would submit for a rendered form, read from the HTML with the standard
library parser (no JavaScript: every section is visible, as in the app without scripts).

Used to check that a re-rendered form still holds every value the user typed, and to submit
a form the way a user would: load the page, change a few fields, post everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html.parser import HTMLParser

_TEXT_TYPES = {"text", "date", "number", "hidden", "search", "email", "password", "tel", "url"}


class _FormParser(HTMLParser):
    def __init__(self, form_id: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.in_form = False
        self.template_depth = 0
        self.pairs: list[tuple[str, str]] = []
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def _active(self) -> bool:
        return self.in_form and self.template_depth == 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form" and (self.form_id is None or a.get("id") == self.form_id):
            self.in_form = True
        elif tag == "template":
            self.template_depth += 1
        if not self._active() or "disabled" in a:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            name = a.get("name")
            if not name:
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((name, a.get("value", "on")))
            elif kind in _TEXT_TYPES:
                self.pairs.append((name, a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "multiple": "multiple" in a, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
            self._select["options"].append(self._option)
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"name": a["name"], "text": ""}

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.in_form:
            self.in_form = False
        elif tag == "template":
            self.template_depth -= 1
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            for option in options:
                if option["value"] is None:
                    option["value"] = option["text"].strip()
            chosen = [o["value"] for o in options if o["selected"]]
            if not chosen and not self._select["multiple"] and options:
                chosen = [options[0]["value"]]  # a browser submits the first option
            self.pairs += [(self._select["name"], value) for value in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._textarea["text"]
            # The HTML parser keeps the newline right after <textarea>; a browser drops it.
            self.pairs.append((self._textarea["name"], text.removeprefix("\n")))
            self._textarea = None


def form_pairs(html: str | bytes, form_id: str | None = None) -> list[tuple[str, str]]:
    """(name, value) pairs a browser would submit for the form (the first, or ``form_id``)."""
    if isinstance(html, bytes):
        html = html.decode()
    parser = _FormParser(form_id)
    parser.feed(html)
    parser.close()
    return parser.pairs


def form_data(html: str | bytes, form_id: str | None = None) -> dict[str, list[str]]:
    """The submission as a dict of lists, ready for ``client.post``."""
    data: dict[str, list[str]] = {}
    for name, value in form_pairs(html, form_id):
        data.setdefault(name, []).append(value)
    return data


def as_pairs(data: Mapping[str, str | Iterable[str]]) -> set[tuple[str, str]]:
    pairs = set()
    for name, value in data.items():
        values = [value] if isinstance(value, str) else list(value)
        pairs |= {(name, v) for v in values}
    return pairs


def lost_values(
    posted: Mapping[str, str | Iterable[str]], html: str | bytes, form_id: str | None = None
) -> set[tuple[str, str]]:
    """Posted (name, value) pairs the re-rendered form would not submit again."""
    rendered = set(form_pairs(html, form_id))
    ignore = {"csrfmiddlewaretoken"}
    return {(n, v) for n, v in as_pairs(posted) if n not in ignore} - rendered
