"""Running wrk and reading its figures, for ``bench/pages.py`` (no Django here).

wrk prints its summary through ``bench/pages.lua``: one ``BENCH key=value ...`` line with
the request count, the duration, the bytes read, the errors and the 50th, 95th and 99th
latency percentiles (microseconds).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().with_name("pages.lua")
_LINE = re.compile(r"^BENCH (?P<fields>.+)$", re.MULTILINE)
_DURATION = re.compile(r"^[1-9][0-9]*[smh]?$")


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed no summary line."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    bytes_read: int
    errors: Mapping[str, int]  # connect, read, write, status (not 2xx/3xx), timeout
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def bytes_per_response(self) -> float:
        """Headers and body, as read off the socket."""
        return self.bytes_read / self.requests if self.requests else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def parse(output: str) -> WrkResult:
    """The figures of wrk's output (``bench/pages.lua``'s summary line)."""
    match = _LINE.search(output)
    if match is None:
        raise WrkError(f"wrk printed no summary line:\n{output.strip()}")
    fields = dict(item.split("=", 1) for item in match["fields"].split())
    number = {key: float(value) for key, value in fields.items()}
    return WrkResult(
        requests=int(number["requests"]),
        seconds=number["duration_us"] / 1e6,
        bytes_read=int(number["bytes"]),
        errors={key: int(number[key]) for key in ("connect", "read", "write", "status", "timeout")},
        p50_ms=number["p50_us"] / 1000,
        p95_ms=number["p95_us"] / 1000,
        p99_ms=number["p99_us"] / 1000,
    )


def duration_valid(text: str) -> bool:
    """A wrk duration: seconds, or a number with s, m or h."""
    return bool(_DURATION.match(text))


def command(
    url: str,
    *,
    threads: int,
    connections: int,
    duration: str,
    timeout: str = "60s",
    headers: Sequence[str] = (),
) -> list[str]:
    """The wrk command line. The timeout is long: a request that times out has no latency in
    wrk's figures, so a short one would hide the slowest requests instead of counting them."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise WrkError("wrk is not installed (Debian: apt-get install -y wrk).")
    args = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}", f"--timeout={timeout}"]
    args += ["-s", str(LUA)]
    for header in headers:
        args += ["-H", header]
    return [*args, url]


def run(
    url: str,
    *,
    threads: int,
    connections: int,
    duration: str,
    timeout: str = "60s",
    headers: Sequence[str] = (),
    method: str = "GET",
    body_file: Path | None = None,
) -> WrkResult:
    env = dict(os.environ, BENCH_METHOD=method, BENCH_BODY_FILE=str(body_file or ""))
    args = command(
        url,
        threads=threads,
        connections=connections,
        duration=duration,
        timeout=timeout,
        headers=headers,
    )
    done = subprocess.run(  # noqa: S603 - wrk with arguments built above
        args, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}:\n{done.stderr or done.stdout}")
    return parse(done.stdout)


@dataclass(frozen=True)
class Row:
    """One route's line of the table: its run and the floor's run next to it (of the median
    round, when it was measured in rounds: ``round_ratios``)."""

    route: str
    request: str  # method, path and who asks, e.g. "GET /cases/ (clinician, session)"
    page: WrkResult
    floor: WrkResult
    body_bytes: int
    queries: int
    kept_queries: int | None = None  # a kept page's answer (venousapp/pagecache.py), if kept
    round_ratios: tuple[float, ...] = ()  # each round's ratio, in the order they ran

    @property
    def ratio(self) -> float:
        return self.page.rate / self.floor.rate if self.floor.rate else 0.0


HEADER = (
    "route",
    "request",
    "req/s",
    "floor req/s",
    "ratio",
    "rounds",
    "p50 ms",
    "p95 ms",
    "floor p95 ms",
    "p99 ms",
    "bytes",
    "SQL/req (kept)",
)

TEXT_COLUMNS = 2  # left-aligned; the numbers after them are right-aligned


def _rate(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def cells(row: Row) -> tuple[str, ...]:
    return (
        f"`{row.route}`",
        f"`{row.request}`",
        _rate(row.page.rate),
        _rate(row.floor.rate),
        f"{row.ratio:.2f}",
        " ".join(f"{ratio:.2f}" for ratio in row.round_ratios) or "1",
        _ms(row.page.p50_ms),
        _ms(row.page.p95_ms),
        _ms(row.floor.p95_ms),
        _ms(row.page.p99_ms),
        f"{row.body_bytes:,}",
        str(row.queries) if row.kept_queries is None else f"{row.queries} ({row.kept_queries})",
    )


def progress(row: Row) -> str:
    """One line per route while the run goes on."""
    return (
        f"{row.route:<22} {_rate(row.page.rate):>8} req/s  floor {_rate(row.floor.rate):>8}  "
        f"ratio {row.ratio:.2f}  p50 {_ms(row.page.p50_ms)} ms  p99 {_ms(row.page.p99_ms)} ms"
        + (f"  rounds {' '.join(f'{r:.2f}' for r in row.round_ratios)}" if row.round_ratios else "")
    )


def table(rows: Sequence[Row]) -> str:
    """A Markdown table, one line per route, numbers right-aligned."""
    lines = [HEADER, *(cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]

    def render(line: Sequence[str]) -> str:
        padded = [
            cell.ljust(width) if i < TEXT_COLUMNS else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (width + 1) + ("-" if i < TEXT_COLUMNS else ":") for i, width in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([render(HEADER), rule, *(render(line) for line in lines[1:])])


def median_round(rounds: Sequence[tuple[WrkResult, WrkResult]]) -> tuple[WrkResult, WrkResult]:
    """The (route, floor) runs of the round whose ratio is the median (the lower of the two
    middle ones for an even count)."""
    ordered = sorted(rounds, key=lambda pair: pair[0].rate / pair[1].rate if pair[1].rate else 0)
    return ordered[(len(ordered) - 1) // 2]
