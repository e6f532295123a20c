"""`polywindow settle` on the fixture day, run as an operator would: it agrees with every recorded
outcome it can decide, and says UNDECIDABLE (with the missing tick) for the rest."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from connectors.fixture_files import FIXTURE_DAY, fixtures_dir
from tests.integration.cli import run_cli

DAY = fixtures_dir() / FIXTURE_DAY
MARKETS = DAY / "BTC-5m-markets-2026-06-08.jsonl.gz"
ORACLE = DAY / "BTCUSD-prices-2026-06-08.csv.gz"


def test_settle_agrees_with_every_recorded_outcome_it_can_decide():
    result = run_cli("settle", "--markets", str(MARKETS), "--oracle", str(ORACLE))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    rows, summary = lines[:-1], lines[-1]
    assert len(rows) == 292
    decided = [r for r in rows if "ours=UNDECIDABLE" not in r]
    # 13 windows lack a start or close tick (two cross midnight, the rest fall in feed gaps).
    assert len(decided) == 279
    assert all(r.endswith("  agree") for r in decided)
    assert not any("DISAGREE" in r for r in rows)
    assert all("(no btc/usd" in r for r in rows if "ours=UNDECIDABLE" in r)
    assert summary == (
        f"windows 292: decided {len(decided)}, agreeing {len(decided)}, disagreeing 0, "
        f"undecidable {292 - len(decided)}"
    )
    first = next(r for r in rows if r.startswith("btc-updown-5m-1780876800 "))
    assert "strike=63304.200301195075" in first and "ours=Down" in first and "recorded=Down" in first


def test_a_wrong_recorded_outcome_is_reported_and_fails(tmp_path: Path):
    with gzip.open(MARKETS, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    target = rows[1]
    target["outcome_prices"] = list(reversed(target["outcome_prices"]))
    flipped = tmp_path / "markets.jsonl.gz"
    with gzip.open(flipped, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)
    result = run_cli("settle", "--markets", str(flipped), "--oracle", str(ORACLE))
    assert result.returncode == 1
    assert f"{target['slug']} " in result.stdout
    assert any(r.startswith(target["slug"]) and r.endswith("DISAGREE") for r in result.stdout.splitlines())
    assert "disagreeing 1," in result.stdout.splitlines()[-1]


def test_an_oracle_file_of_another_stream_makes_every_window_undecidable():
    result = run_cli(
        "settle",
        "--markets",
        str(MARKETS),
        "--oracle",
        str(ORACLE),
        "--oracle-topic",
        "crypto_prices_twap_sixty",
    )
    assert result.returncode == 0
    assert (
        result.stdout.splitlines()[-1] == "windows 292: decided 0, agreeing 0, disagreeing 0, undecidable 292"
    )


def test_a_missing_file_is_a_clear_error(tmp_path: Path):
    result = run_cli("settle", "--markets", str(tmp_path / "nope.jsonl.gz"), "--oracle", str(ORACLE))
    assert result.returncode == 2
    assert "no such file" in result.stderr
