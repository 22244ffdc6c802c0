"""The figures ``bench/pages.py`` prints: wrk's summary line read back, rates and the ratio to
the floor in the Markdown table (no wrk, no server)."""

from dataclasses import replace

import pytest

from bench import wrk

OUTPUT = """Running 15s test @ http://127.0.0.1:18100/cases/
  2 threads and 16 connections
BENCH requests=150 duration_us=15000000 bytes=7500000 connect=0 read=0 write=0 status=0 \
timeout=0 p50_us=1158000 p95_us=1800500 p99_us=2029000
"""
FLOOR = """BENCH requests=30000 duration_us=15000000 bytes=1470000000 connect=0 read=0 write=0 \
status=2 timeout=0 p50_us=7500 p95_us=12000 p99_us=15800
"""


def test_the_summary_line_gives_rate_latency_and_bytes():
    result = wrk.parse(OUTPUT)
    assert result.rate == 10
    assert (result.p50_ms, result.p95_ms, result.p99_ms) == (1158, 1800.5, 2029)
    assert result.bytes_per_response == 50_000
    assert result.error_count == 0
    assert wrk.parse(FLOOR).errors["status"] == 2


def test_output_without_the_summary_line_is_an_error():
    with pytest.raises(wrk.WrkError, match="no summary line"):
        wrk.parse("unable to connect to 127.0.0.1:18100 Connection refused")


def test_the_table_shows_the_ratio_to_the_floor():
    row = wrk.Row(
        "case-detail", "GET /cases/<case>/", wrk.parse(OUTPUT), wrk.parse(FLOOR), 47_676, 19
    )
    assert row.ratio == pytest.approx(0.005)
    lines = wrk.table([row]).splitlines()
    assert [cell.strip() for cell in lines[0].strip("|").split("|")] == list(wrk.HEADER)
    assert [cell.strip() for cell in lines[2].strip("|").split("|")] == [
        "`case-detail`",
        "`GET /cases/<case>/`",
        "10.0",
        "2,000",
        "0.01",
        "1",
        "1,158",
        "1,800",
        "12.0",
        "2,029",
        "47,676",
        "19",
    ]
    kept = replace(row, kept_queries=3)
    assert wrk.table([kept]).splitlines()[2].strip("|").split("|")[-1].strip() == "19 (3)"
    assert lines[1].endswith(":|")


def test_rounds_give_the_median_round_and_every_ratio():
    slow, fast = wrk.parse(OUTPUT), wrk.parse(FLOOR)
    rounds = [(fast, fast), (slow, fast), (fast, replace(fast, seconds=fast.seconds / 2))]
    page, floor = wrk.median_round(rounds)
    assert page.rate / floor.rate == pytest.approx(0.5)
    row = wrk.Row(
        "case-detail", "GET /cases/<case>/", page, floor, 47_676, 19, round_ratios=(1, 0.005, 0.5)
    )
    cells = wrk.table([row]).splitlines()[2].strip("|").split("|")
    assert [cell.strip() for cell in cells[4:6]] == ["0.50", "1.00 0.01 0.50"]
    assert "rounds 1.00 0.01 0.50" in wrk.progress(row)


@pytest.mark.parametrize(
    ("text", "valid"),
    [("15s", True), ("2m", True), ("30", True), ("0s", False), ("1.5s", False), ("s", False)],
)
def test_durations_are_those_wrk_takes(text, valid):
    assert wrk.duration_valid(text) is valid
