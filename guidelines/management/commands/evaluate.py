"""``manage.py evaluate [FILE|-]``: evaluate facts documents with the guideline engine.

Reads JSON from FILE, or from stdin when FILE is ``-`` or omitted: one facts document or a list
of documents. Prints the evaluation contract (docs/evaluation.md#evaluation-contract) with its
``warnings`` as JSON, indent 2: one result for one document, a list for a list. Each warning (a
value that was ignored, and why) is also printed on stderr, one line each. Exit status 2 with a
message on stderr for malformed JSON or an unreadable file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guidelines.engine import RuleSet, evaluate_with_warnings
from guidelines.ruleset import current_ruleset


class InputProblem(Exception):
    """The input cannot be read or parsed; the message is meant for the user."""


def read_source(source: str, stdin: TextIO) -> str:
    """Text of FILE, or of stdin for "-"."""
    if source == "-":
        try:
            return stdin.read()
        except (OSError, UnicodeDecodeError) as error:
            raise InputProblem(f"Cannot read standard input: {error}") from None
    try:
        with open(source, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise InputProblem(f"Cannot read {source}: {error}") from None


def evaluate_text(text: str, ruleset: RuleSet, warn: Callable[[str], object] | None = None) -> str:
    """Evaluate a JSON document (or list of documents); returns the results as JSON text and
    hands each warning to ``warn`` as a line ("Document 2: ulcer: ...", 0-based, for a list)."""
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputProblem(
            f"Malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise InputProblem("Malformed JSON: nested too deeply") from None
    if isinstance(document, list):
        result: Any = [evaluate_with_warnings(item, ruleset) for item in document]
        numbered = [(f"Document {index}: ", item) for index, item in enumerate(result)]
    else:
        result = evaluate_with_warnings(document, ruleset)
        numbered = [("", result)]
    if warn is not None:
        for prefix, item in numbered:
            for warning in item["warnings"]:
                where = f"{warning['field']}: " if warning["field"] else ""
                warn(f"{prefix}{where}{warning['message']}")
    return json.dumps(result, indent=2, ensure_ascii=False)


class Command(BaseCommand):
    help = (
        "Evaluate case facts (JSON from FILE or stdin; one document or a list) with the "
        "current guideline rule set and print the results as JSON."
    )
    # Reads only the published rule set; skipping checks keeps the command fast for scripts.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", nargs="?", default="-", help="JSON file to read; '-' or omitted: stdin"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            text = read_source(options["file"], sys.stdin)
            output = evaluate_text(text, current_ruleset(), warn=self.stderr.write)
        except InputProblem as problem:
            raise CommandError(str(problem), returncode=2) from None
        self.stdout.write(output)
